"""Lecture 2: is a generated tune music, and is it new?

Two measures, computed on every run:

- **validity**: a tune counts as valid when (1) generation ended it (a blank line, not
  the length limit), (2) its header has ``X:``, ``T:``, ``M:`` and ``K:``, (3) its body
  has at least two bar lines, and (4) music21 parses it into a score with at least
  ``min_notes`` notes and can write it as MIDI (playable).
  ``valid_share`` = valid tunes / generated tunes.
- **novelty**: the longest run of characters the tune shares with the training text,
  max_{i,j} { j - i : tune[i:j] is a substring of train }.  Long runs mean memorised
  passages; a tune copied whole has a run as long as itself.

The longest copied run is found with the monotone window check: the answer only grows,
so for each start i we test whether ``tune[i : i+best+1]`` occurs in the training text
(CPython's fast substring search) and grow ``best`` while it does — at most
len(tune) + best searches in all.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from introdl.sequences.music.corpus import MalformedTune, parse_tune

REQUIRED_FIELDS = ("X", "T", "M", "K")


@dataclass
class TuneQuality:
    valid: bool
    reason: str  # "" when valid, else what failed first
    notes: int  # notes music21 found (0 when it could not parse)
    longest_copy: int  # longest run of characters also found in the training text
    length: int  # characters in the tune


def parse_score(text: str):  # -> music21.stream.Score
    """music21's full ABC -> score conversion (raises on malformed ABC)."""
    from music21 import converter

    return converter.parse(text, format="abc")


def check_tune(text: str, complete: bool = True, min_notes: int = 8) -> tuple[bool, str, int]:
    """``(valid, reason, notes)`` for one tune's ABC text, by the rules in the module doc."""
    from music21 import midi

    if not complete:
        return False, "cut off at the length limit", 0
    try:
        tune = parse_tune(text, validate=False)
    except MalformedTune as e:
        return False, str(e), 0
    missing = [f for f in REQUIRED_FIELDS if not tune.header.get(f)]
    if missing:
        return False, "header lacks " + ", ".join(f"{f}:" for f in missing), 0
    if len(re.findall(r"\|", tune.body)) < 2:
        return False, "fewer than two bar lines", 0
    try:
        score = parse_score(text)
        notes = len(score.flatten().notes)
    except Exception as e:  # music21 raises many types on bad ABC
        return False, f"music21 cannot parse it ({type(e).__name__})", 0
    try:
        midi.translate.streamToMidiFile(score)
    except Exception as e:
        return False, f"music21 cannot write it as MIDI ({type(e).__name__})", notes
    if notes < min_notes:
        return False, f"only {notes} notes", notes
    return True, "", notes


def longest_copy(tune: str, train_text: str) -> int:
    """Length of the longest substring of ``tune`` that occurs in ``train_text``."""
    best = 0
    for i in range(len(tune)):
        while i + best < len(tune) and tune[i : i + best + 1] in train_text:
            best += 1
    return best


def assess(texts: Sequence[str], complete: Sequence[bool], train_text: str,
           min_notes: int = 8) -> tuple[list[TuneQuality], dict[str, float]]:
    """Per-tune quality and the summary metrics (valid_share, copy lengths)."""
    per = []
    for text, done in zip(texts, complete, strict=True):
        ok, reason, notes = check_tune(text, done, min_notes)
        per.append(TuneQuality(ok, reason, notes, longest_copy(text, train_text), len(text)))
    copies = [q.longest_copy for q in per]
    summary = {
        "valid_share": sum(q.valid for q in per) / max(len(per), 1),
        "complete_share": sum(complete) / max(len(per), 1),
        "longest_copy_median": float(statistics.median(copies)) if copies else 0.0,
        "longest_copy_max": float(max(copies, default=0)),
        "copy_fraction_median": float(statistics.median(
            [q.longest_copy / max(q.length, 1) for q in per])) if per else 0.0,
    }
    return per, summary


def as_dicts(per: Sequence[TuneQuality]) -> list[dict]:
    return [asdict(q) for q in per]
