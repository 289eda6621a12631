"""Lecture 2: the folk-tune corpus the music RNN learns from, as ABC text, one tune at a time.

The lecture's lab trains a character model on Irish folk tunes written in ABC
notation. The same kind of music ships, offline, inside music21's corpus:

- ``oneill``: O'Neill's *Music of Ireland* (1850 edition, about 2,000 tunes);
- ``ryan``: Ryan's *Mammoth Collection* (1883, about 1,000 reels, jigs, hornpipes);
- ``aird``: Aird's *Selection of Scotch, English, Irish and Foreign Airs* (about 1,100);
- ``lab``: the 6.S191 lab's own ``irish.abc``, through :mod:`introdl.data.download`
  (``$INTRODL_DATA/irish/irish.abc``, the cache, or a download), verified against the
  SHA-256 of the copy the course ships in its ``mitdeeplearning`` 0.7.5 package on PyPI.

A collection file holds many tunes; a tune starts at an ``X:`` line. Its header runs
from ``X:`` to the ``K:`` (key) line, its body (the notes) follows. Splitting a file
into tunes and a tune into header/body is done here as plain text; whether a tune is
well-formed ABC is decided by music21's ABC handler, never by a home-made parser.
A tune that music21 rejects (or that lacks ``X:``/``K:`` or notes) is *skipped and
counted* — one bad tune never stops training.

The collections hold copies: O'Neill prints some tunes twice (as a "2nd setting", under
another title), and Ryan's shares tunes with O'Neill's, re-transcribed, so a random
split would put copies on both sides. :func:`dedupe_tunes` drops them before any split.
It compares two normalised forms of the *body* (the music after ``K:``; headers such as
``X:`` and ``T:`` differ between copies and are ignored):

- the text (:func:`normalised_body`): the body as the model reads it, case-folded;
- the notes (:func:`music_only`): pitches, accidentals, octave marks, lengths, rests and
  bar lines only — no whitespace, chord symbols, grace notes, decorations, slurs or
  ties — case-folded.

A tune is dropped when either form equals that of an earlier kept tune or shares a
passage of :data:`DEDUP_PASSAGE` = 60 characters with it; the first occurrence in
reading order (O'Neill before Ryan) is kept. Of the 3,068 default tunes this drops 237
(147 of O'Neill's, 90 of Ryan's; 43 have notes identical to an earlier tune's), leaving
2,831, no two of which share 60 characters in either form — so no tune on one side of
a split shares 60 characters of body text the model reads with one on the other.
Sixty characters of notes are about three bars of a reel; shorter shared passages are
increasingly stock phrases — cadences, runs — of tunes that are otherwise different
(at 40 the rule would drop 359 tunes, at 80 only 141).

API::

    tunes, skipped = load_corpus(("oneill", "ryan"))
    tunes, dropped = dedupe_tunes(tunes)
    train, val, test = split_train_val_test(tunes, val_fraction=0.05, test_fraction=0.1)
    text = join_tunes(train)
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from introdl.config import closest
from introdl.data.download import RemoteFile, ensure_file
from introdl.data.registry import DatasetSpec, register
from introdl.errors import DataUnavailable, UsageError

log = logging.getLogger(__name__)

# collection name -> folder inside music21's corpus
COLLECTIONS: dict[str, str] = {"oneill": "oneills1850", "ryan": "ryansMammoth",
                               "aird": "airdsAirs"}
# The lab's data file. No checksum is published for it; this SHA-256 is of the bytes in
# the course's own PyPI release, mitdeeplearning-0.7.5.tar.gz (sdist SHA-256 56b1588e1574
# d17f3ff07a3d56e3b45f2f568f78a92855141f959f407084242b), member
# mitdeeplearning/data/irish.abc. A download that differs is refused, never used.
LAB_IRISH = RemoteFile(url="https://raw.githubusercontent.com/MITDeepLearning/"
                       "introtodeeplearning/master/mitdeeplearning/data/irish.abc",
                       sha256="df3782d5f7b5a2f4c66aa7c13f13008d5f48757b3f5f51620cd6c1ceb2c53023",
                       filename="irish.abc", size=197618)
register(DatasetSpec("irish", "the 6.S191 music lab's irish.abc (804 folk tunes in ABC)",
                     "download", None, files={"abc": LAB_IRISH}))
# header fields the model sees (others — source, notes, transcriber — are bibliography)
MODEL_FIELDS: tuple[str, ...] = ("X", "T", "R", "M", "L", "K")

_FIELD = re.compile(r"^([A-Za-z]):\s*(.*?)\s*$")
_TUNE_START = re.compile(r"(?m)^(?=X:)")
_SPACES = re.compile(r" {2,}")
_ORNAMENTS = re.compile(r'"[^"]*"|\{[^}]*\}|![^!]*!|\+[^+]*\+')  # chords, graces, decorations
_NOT_MUSIC = re.compile(r"[^A-Ga-gz0-9/|:^_=',]")  # what is left after pitches, lengths, bars
# Two tunes sharing this many characters of a normalised body are copies (module docstring).
DEDUP_PASSAGE = 60


class MalformedTune(ValueError):
    """A piece of text that is not a complete, well-formed ABC tune."""


@dataclass(frozen=True)
class Tune:
    """One ABC tune.

    Args:
        text: the tune's full ABC text, as found (header, body, comments).
        header: header fields, letter -> value (first occurrence wins), e.g.
            ``{"X": "1", "T": "The Enchanted Valley", "M": "2/4", "K": "Gm"}``.
        body: the music after the ``K:`` line, comment lines removed.
        source: where it came from (``"oneill"``, a file name, ...).
    """

    text: str
    header: dict[str, str]
    body: str
    source: str = ""
    title: str = field(init=False)
    rhythm: str | None = field(init=False)  # the R: field ("reel", "jig", ...), if any
    key: str = field(init=False)  # the K: field
    meter: str | None = field(init=False)  # the M: field

    def __post_init__(self) -> None:
        h = self.header
        object.__setattr__(self, "title", h.get("T", ""))
        object.__setattr__(self, "rhythm", h.get("R") or None)
        object.__setattr__(self, "key", h.get("K", ""))
        object.__setattr__(self, "meter", h.get("M") or None)

    def compact(self, number: int = 1) -> str:
        """The text the model trains on: musical header fields only, then the body.

        Bibliographic fields (B:, N:, Z:, S:, ...) and comments are dropped, runs of
        spaces become one, and ``X:`` is renumbered so the model does not learn the
        book's numbering.
        """
        lines = []
        for k in MODEL_FIELDS:
            if k == "X":
                lines.append(f"X:{number}")
            elif k in self.header and self.header[k]:
                lines.append(f"{k}:{self.header[k]}")
        return "\n".join(lines) + "\n" + self.model_body() + "\n"

    def model_body(self) -> str:
        """The body as the model reads it: runs of spaces made one (same music in ABC)."""
        return _SPACES.sub(" ", self.body.strip("\n"))


def split_tunes(text: str) -> list[str]:
    """Cut a collection's text into tunes at ``X:`` lines (text before the first is dropped)."""
    return [c.strip() + "\n" for c in _TUNE_START.split(text) if c.startswith("X:")]


def parse_tune(text: str, source: str = "", validate: bool = True) -> Tune:
    """Split one tune into header fields and body; check it with music21.

    Raises:
        MalformedTune: no ``X:`` or ``K:`` field, no notes, or music21 rejects it.
    """
    header: dict[str, str] = {}
    body_lines: list[str] = []
    in_body = False
    for line in text.splitlines():
        if line.lstrip().startswith("%"):
            continue  # ABC comment
        if not in_body:
            m = _FIELD.match(line)
            if m:
                header.setdefault(m.group(1), m.group(2))
                in_body = m.group(1) == "K"
            continue
        body_lines.append(line.rstrip())
    body = "\n".join(body_lines).strip("\n")
    if "X" not in header:
        raise MalformedTune("no X: line")
    if "K" not in header:
        raise MalformedTune("no K: (key) line ending the header")
    if not re.search(r"[A-Ga-gz]", body):
        raise MalformedTune("no notes after the K: line")
    tune = Tune(text=text, header=header, body=body, source=source)
    if validate:
        check_abc(tune.compact())
    return tune


def check_abc(text: str) -> None:
    """Raise MalformedTune unless music21's ABC handler tokenises and processes ``text``.

    This is music21's own tokenizer and token processor (about 2 ms a tune); the full
    conversion to a score (``converter.parse``, ~40 ms) is used where it matters, on
    generated tunes (see :mod:`introdl.sequences.music.quality`).
    """
    from music21.abcFormat import ABCHandler

    try:
        ABCHandler().process(text)
    except Exception as e:  # music21 raises several exception types for bad ABC
        raise MalformedTune(f"music21: {type(e).__name__}: {str(e)[:120]}") from e


def collection_paths(name: str) -> list[Path]:
    """The ABC files of a named music21 collection, sorted."""
    if name not in COLLECTIONS:
        names = [*COLLECTIONS, "lab"]
        raise UsageError(f"unknown ABC collection {name!r}{closest(name, names)}; "
                         f"use one of {', '.join(names)} or a path to .abc files")
    from music21 import corpus

    folder = COLLECTIONS[name]
    paths = sorted(Path(p) for p in corpus.getPaths(fileExtensions=["abc"])
                   if Path(p).parent.name == folder)
    if not paths:
        raise DataUnavailable(f"music21's corpus has no {folder}/ ABC files; "
                              "reinstall music21 (pip install music21) to get its corpus")
    return paths


def _resolve(collection: str | os.PathLike) -> tuple[str, list[Path]]:
    """A collection name, an .abc file or a folder of them -> (source label, files)."""
    if str(collection) == "lab":
        return "lab", [ensure_file("irish", LAB_IRISH)]
    if str(collection) in COLLECTIONS:
        return str(collection), collection_paths(str(collection))
    p = Path(collection)
    if p.is_dir():
        files = sorted(p.glob("*.abc"))
        if not files:
            raise UsageError(f"no .abc files in {p}; give a folder of ABC files")
        return p.name, files
    if p.is_file():
        return p.name, [p]
    return str(collection), collection_paths(str(collection))  # raises with a suggestion


def load_corpus(collections: Sequence[str | os.PathLike] = ("oneill", "ryan"), *,
                validate: bool = True, max_tunes: int | None = None) -> tuple[list[Tune], int]:
    """Read ABC collections into tunes; malformed tunes are skipped and counted.

    Args:
        collections: names from :data:`COLLECTIONS`, ``"lab"``, ``.abc`` files, or folders.
        validate: check each tune with music21's ABC handler (about 2 ms a tune).
        max_tunes: stop after this many good tunes (for quick runs and tests).

    Returns:
        ``(tunes, skipped)``: the well-formed tunes in file order, and how many were not.
    """
    tunes: list[Tune] = []
    skipped = 0
    for collection in collections:
        source, paths = _resolve(collection)
        for path in paths:
            for chunk in split_tunes(path.read_text(encoding="utf-8", errors="replace")):
                if max_tunes is not None and len(tunes) >= max_tunes:
                    break
                try:
                    tunes.append(parse_tune(chunk, source=source, validate=validate))
                except MalformedTune as e:
                    skipped += 1
                    first = chunk.splitlines()[0] if chunk else ""
                    log.info("skipped malformed tune %r in %s: %s", first, path.name, e)
    if skipped:
        log.warning("skipped %d malformed tune(s) of %d", skipped, skipped + len(tunes))
    return tunes, skipped


def split_by_tune(tunes: Sequence[Tune], val_fraction: float = 0.1,
                  seed: int = 0) -> tuple[list[Tune], list[Tune]]:
    """Shuffle whole tunes with a fixed seed and cut off a validation share.

    Splitting by tune (not by character window) keeps every validation tune unseen
    in training — provided copies were dropped first (:func:`dedupe_tunes`). For a
    separate test set, use :func:`split_train_val_test`.
    """
    if not 0.0 < val_fraction < 1.0:
        raise UsageError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    order = list(range(len(tunes)))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(tunes) * val_fraction)) if len(tunes) > 1 else 0
    val = [tunes[i] for i in sorted(order[:n_val])]
    train = [tunes[i] for i in sorted(order[n_val:])]
    return train, val


def normalised_body(tune: Tune) -> str:
    """The tune's body as the model reads it (:meth:`Tune.model_body`), case-folded.

    Headers (``X:`` numbers, titles, sources) differ between copies of one tune and are
    left out. Case-folding also matches a copy written an octave apart (``c`` vs ``C``),
    which is the same tune; copies that differ in spacing are :func:`music_only`'s job.
    """
    return tune.model_body().casefold()


def music_only(tune: Tune) -> str:
    """The tune's notes alone, for finding re-transcribed copies, case-folded.

    Keeps pitches, accidentals, octave marks, durations, rests and bar lines; drops
    whitespace, chord symbols and annotations (``"Am"``), grace notes (``{g}``),
    decorations (``~``, ``!trill!``), slurs, ties and broken-rhythm marks, in which two
    editions of one tune most often differ.
    """
    return _NOT_MUSIC.sub("", _ORNAMENTS.sub("", tune.body)).casefold()


def passages(text: str, length: int = DEDUP_PASSAGE) -> set[str]:
    """Every substring of ``length`` characters (none when the text is shorter)."""
    return {text[i : i + length] for i in range(len(text) - length + 1)}


class _Seen:
    """Normalised bodies already kept, and hashes of all their ``length``-char passages."""

    def __init__(self, length: int) -> None:
        self.length, self.bodies, self.texts = length, set(), []
        self.hashes: set[int] = set()

    def grams(self, body: str) -> dict[int, str]:
        """hash -> passage, for every ``length``-character passage of ``body``."""
        n = self.length
        return {hash(g): g for g in (body[i : i + n] for i in range(len(body) - n + 1))}

    def copies(self, body: str, grams: dict[int, str]) -> bool:
        if body in self.bodies:
            return True
        # a hash hit is confirmed on the text, so a hash collision never drops a tune
        return any(grams[h] in t for h in grams.keys() & self.hashes for t in self.texts)

    def add(self, body: str, grams: dict[int, str]) -> None:
        self.bodies.add(body)
        self.texts.append(body)
        self.hashes.update(grams)


def dedupe_tunes(tunes: Sequence[Tune], passage: int = DEDUP_PASSAGE
                 ) -> tuple[list[Tune], int]:
    """Drop copies of earlier tunes, keeping the first occurrence (reading order).

    A tune is a copy when its :func:`normalised_body` or its :func:`music_only` notes
    equal those of an earlier kept tune or share a ``passage``-character substring
    with them. Afterwards no two kept tunes share ``passage`` characters of either
    form, so any split of them has no copies across its parts.

    Returns:
        ``(kept, dropped)``: the kept tunes in their order, and how many were dropped.
    """
    if passage < 1:
        raise UsageError(f"the duplicate passage length must be at least 1, got {passage}")
    forms = ((normalised_body, _Seen(passage)), (music_only, _Seen(passage)))
    kept: list[Tune] = []
    for tune in tunes:
        found = [(seen, body, seen.grams(body)) for form, seen in forms
                 for body in (form(tune),)]
        if any(seen.copies(body, grams) for seen, body, grams in found):
            continue
        kept.append(tune)
        for seen, body, grams in found:
            seen.add(body, grams)
    return kept, len(tunes) - len(kept)


def split_train_val_test(tunes: Sequence[Tune], val_fraction: float = 0.05,
                         test_fraction: float = 0.1, seed: int = 0
                         ) -> tuple[list[Tune], list[Tune], list[Tune]]:
    """Shuffle whole tunes with a fixed seed into train / validation / test.

    Validation is for choosing (the checkpoint, when to stop); test is only measured.
    Each part keeps the tunes' original order. Deduplicate first
    (:func:`dedupe_tunes`) so no part holds a copy of a tune in another.
    """
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < f < 1.0:
            raise UsageError(f"{name} must be between 0 and 1, got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise UsageError(f"val_fraction + test_fraction must be below 1 to leave tunes to "
                         f"train on, got {val_fraction} + {test_fraction}")
    if len(tunes) < 3:
        raise UsageError(f"need at least 3 tunes for train/validation/test, got {len(tunes)}; "
                         "raise max_tunes or add collections")
    order = list(range(len(tunes)))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(tunes) * val_fraction))
    n_test = max(1, round(len(tunes) * test_fraction))
    if n_val + n_test >= len(tunes):
        raise UsageError(f"{len(tunes)} tunes leave none to train on with val_fraction "
                         f"{val_fraction} and test_fraction {test_fraction}")
    parts = (order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test])
    train, val, test = ([tunes[i] for i in sorted(p)] for p in parts)
    return train, val, test


def join_tunes(tunes: Iterable[Tune]) -> str:
    """The training text: compact tunes separated by a blank line, as in ABC files."""
    return "\n".join(t.compact() for t in tunes)
