"""Lecture 2: hearing and seeing a generated tune — MIDI, WAV and a piano roll.

ABC -> score and score -> MIDI are music21's. For WAV the MIDI file is rendered by
FluidSynth or TiMidity with a General MIDI soundfont when one is installed; otherwise
a small built-in synthesiser plays the notes as plucked strings (Karplus-Strong:
a burst of noise in a delay line of one period, N = sr / f0, averaged and damped on
each pass, y[n] = rho * (y[n-N] + y[n-N-1]) / 2), so audio is always produced.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from introdl import io

SAMPLE_RATE = 22050
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/default.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2")


def note_events(score) -> list[tuple[float, float, int]]:
    """``(start_s, duration_s, midi_pitch)`` for every sounding pitch, tempo applied."""
    events = []
    for item in score.flatten().secondsMap:
        el = item["element"]
        if not getattr(el, "isNote", False) and not getattr(el, "isChord", False):
            continue
        for p in el.pitches:
            events.append((float(item["offsetSeconds"]), float(item["durationSeconds"]),
                           int(p.midi)))
    return events


def write_midi(score, path: str | os.PathLike) -> Path:
    """music21's MIDI writer, written to a temp file and renamed into place."""
    path = Path(path)
    with io.atomic_open(path, "wb") as f:
        f.write(_midi_bytes(score))
    return path


def _midi_bytes(score) -> bytes:
    from music21 import midi

    mf = midi.translate.streamToMidiFile(score)
    return mf.writestr()


def pluck(freq: float, seconds: float, sr: int = SAMPLE_RATE, decay: float = 0.996,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """One Karplus-Strong plucked note, computed a period at a time (vectorised)."""
    rng = rng or np.random.default_rng(0)
    n_total = max(int(seconds * sr), 1)
    period = max(int(round(sr / freq - 0.5)), 2)  # the two-tap average adds half a sample
    buf = rng.uniform(-1.0, 1.0, period)
    buf -= buf.mean()  # no DC: averaging keeps the mean forever
    out = np.empty(n_total + period)
    for k in range(0, n_total, period):
        out[k : k + period] = buf
        buf = decay * 0.5 * (buf + np.roll(buf, 1))  # y[n] = rho (y[n-N] + y[n-N-1]) / 2
    return out[:n_total]


def synthesize(events: list[tuple[float, float, int]], sr: int = SAMPLE_RATE,
               tail: float = 0.5) -> np.ndarray:
    """Mix plucked notes into one mono float signal in [-1, 1]."""
    length = max((s + d for s, d, _ in events), default=0.0) + tail
    mix = np.zeros(int(length * sr) + 1)
    rng = np.random.default_rng(0)
    for start, dur, pitch in events:
        f0 = 440.0 * 2.0 ** ((pitch - 69) / 12)
        note = pluck(f0, dur + 0.15, sr, rng=rng)  # let each string ring a little
        i = int(start * sr)
        mix[i : i + note.size] += note[: mix.size - i]
    peak = np.abs(mix).max()
    return mix / peak * 0.8 if peak > 0 else mix


def write_wav(signal: np.ndarray, path: str | os.PathLike, sr: int = SAMPLE_RATE) -> Path:
    """16-bit mono PCM through the standard ``wave`` module, atomically."""
    path = Path(path)
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2")
    with io.atomic_open(path, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return path


def external_renderer() -> tuple[str, str] | None:
    """``(program, soundfont)`` for FluidSynth, or ``("timidity", "")``, when installed."""
    sf = next((s for s in SOUNDFONTS if Path(s).is_file()), None)
    if shutil.which("fluidsynth") and sf:
        return "fluidsynth", sf
    if shutil.which("timidity"):
        return "timidity", ""
    return None


def render_wav(score, midi_path: Path, wav_path: Path) -> str:
    """Write ``wav_path`` for ``score``; returns which renderer made it."""
    ext = external_renderer()
    if ext is not None:
        prog, sf = ext
        with tempfile.TemporaryDirectory(dir=wav_path.parent) as tmp:
            tmp_wav = Path(tmp) / "out.wav"
            cmd = (["fluidsynth", "-ni", "-F", str(tmp_wav), "-r", str(SAMPLE_RATE), sf,
                    str(midi_path)] if prog == "fluidsynth"
                   else ["timidity", "-Ow", "-o", str(tmp_wav), str(midi_path)])
            done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
            if done.returncode == 0 and tmp_wav.is_file() and tmp_wav.stat().st_size > 44:
                os.replace(tmp_wav, wav_path)
                return prog
    write_wav(synthesize(note_events(score)), wav_path)
    return "built-in Karplus-Strong"


def piano_roll(events_per_tune: list[list[tuple[float, float, int]]], titles: list[str],
               max_rows: int = 6):
    """One row per tune (the first ``max_rows``): notes as bars, time (s) across, pitch up."""
    from introdl.report.plots import figure

    events_per_tune, titles = events_per_tune[:max_rows], titles[:max_rows]
    n = max(len(events_per_tune), 1)
    fig, axes = figure(ncols=1, nrows=n, size=(10, 1.9), squeeze=False, layout="constrained")
    for ax, events, title in zip(axes[:, 0], events_per_tune, titles, strict=False):
        for start, dur, pitch in events:
            ax.broken_barh([(start, dur)], (pitch - 0.4, 0.8), color="tab:blue")
        if events:
            lo = min(p for _, _, p in events)
            hi = max(p for _, _, p in events)
            ax.set_ylim(lo - 2, hi + 2)
            ax.set_xlim(0, max(s + d for s, d, _ in events))
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel("MIDI pitch")
    axes[-1, 0].set_xlabel("time (s)")
    return fig
