"""Lecture 2 — Deep sequence modelling: RNNs, LSTMs, attention, and folk-music generation."""
