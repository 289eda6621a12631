"""Lecture 2: ``introdl generate music`` — sample tunes from a trained music RNN and write them out.

For each generated tune: ``tune_NN.abc`` always; ``tune_NN.mid`` (music21) and
``tune_NN.wav`` (FluidSynth/TiMidity, else the built-in synthesiser) when music21 can
read the tune; one ``piano_roll.png`` for all of them; ``quality.json`` with the
validity and novelty measures of :mod:`introdl.sequences.music.quality`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from introdl import io
from introdl.sequences.music import audio, quality
from introdl.sequences.music.model import load_model
from introdl.sequences.music.sample import DEFAULT_START, sample_tunes

TRAIN_TEXT_NAME = "train.abc"  # the training text, kept beside the checkpoint for novelty
log = logging.getLogger(__name__)


@dataclass
class Generated:
    out: Path
    tunes: list[str]
    files: list[Path] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    renderer: str = ""


def write_tunes(texts: list[str], complete: list[bool], out: Path, train_text: str | None,
                render_audio: bool = True) -> Generated:
    """Write .abc (+ .mid, .wav where music21 reads the tune), piano roll, quality.json."""
    out.mkdir(parents=True, exist_ok=True)
    res = Generated(out=out, tunes=texts)
    per, summary = quality.assess(texts, complete, train_text or "")
    if train_text is None:  # no training text: novelty cannot be measured
        summary = {k: v for k, v in summary.items() if "copy" not in k}
    rolls, titles = [], []
    for i, (text, q) in enumerate(zip(texts, per, strict=True), start=1):
        stem = out / f"tune_{i:02d}"
        io.write_text(stem.with_suffix(".abc"), text)
        res.files.append(stem.with_suffix(".abc"))
        try:
            score = quality.parse_score(text)
            events = audio.note_events(score)
        except Exception as e:  # music21 cannot read this tune: .abc only
            log.info("tune %d: no MIDI/WAV (%s)", i, type(e).__name__)
            continue
        if not events:
            continue
        try:
            mid = audio.write_midi(score, stem.with_suffix(".mid"))
        except Exception as e:  # music21's MIDI writer rejects some odd scores
            log.info("tune %d: no MIDI (%s: %s)", i, type(e).__name__, e)
            continue
        res.files.append(mid)
        if render_audio:
            res.renderer = audio.render_wav(score, mid, stem.with_suffix(".wav"))
            res.files.append(stem.with_suffix(".wav"))
        rolls.append(events)
        title = text.split("T:", 1)[1].split("\n", 1)[0] if "T:" in text else "(no title)"
        titles.append(f"tune {i:02d}: {title[:60]}  [{'valid' if q.valid else q.reason}]")
    if rolls:
        fig = audio.piano_roll(rolls, titles)
        with io.atomic_open(out / "piano_roll.png", "wb") as f:
            fig.savefig(f, format="png", dpi=90, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        res.files.append(out / "piano_roll.png")
    io.write_json(out / "quality.json", {"summary": summary, "tunes": quality.as_dicts(per),
                                         "renderer": res.renderer})
    res.metrics = summary
    return res


def generate_music(checkpoint: str | os.PathLike, n: int = 5, temperature: float = 0.8,
                   start: str = DEFAULT_START, out: str | os.PathLike | None = None,
                   seed: int = 0, max_chars: int = 1500,
                   device: str | torch.device = "cpu") -> Generated:
    """Load a checkpoint (file or run folder), sample ``n`` tunes, write them to ``out``.

    Raises:
        UsageError: missing/invalid checkpoint, bad start string, bad n or temperature.
    """
    model, vocab, _extra = load_model(checkpoint, device)
    folder = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    out = Path(out) if out is not None else folder / "generated"
    samples = sample_tunes(model, vocab, n=n, start=start, temperature=temperature,
                           max_chars=max_chars, seed=seed, device=device)
    train_path = folder / TRAIN_TEXT_NAME
    train_text = train_path.read_text(encoding="utf-8") if train_path.is_file() else None
    return write_tunes([s.text for s in samples], [s.complete for s in samples], out,
                       train_text)
