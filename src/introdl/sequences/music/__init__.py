"""Lecture 2: music generation with a character-level LSTM over ABC folk tunes.

Modules: ``corpus`` (tunes from music21's ABC collections), ``model`` (Embedding ->
LSTM -> Linear), ``train`` (truncated BPTT), ``sample`` (temperature sampling and
checkpoint loading), ``quality`` (valid-tune share, novelty), ``audio`` (MIDI, WAV,
piano roll), ``generate`` (the ``introdl generate music`` command).
"""
