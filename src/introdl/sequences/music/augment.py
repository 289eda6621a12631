"""Lecture 2: more training tunes from the same ones — transposing ABC tunes to other keys.

A folk tune played in another key is the same tune; the character model, though, sees
other letters. Transposing each training tune into a few other keys gives the model
more (correct) music to learn from at no labelling cost — data augmentation.

In ABC a note is a letter (``C``..``B`` then ``c``..``b`` an octave up, ``'`` and ``,``
move octaves) with an optional accidental (``^`` sharp, ``_`` flat, ``=`` natural,
doubled for double ones); a note without one takes the key signature of the ``K:``
field (or an accidental earlier in the bar). Transposition here moves every note by
``k`` letter steps and the key's root by the same ``k`` letters and ``s`` semitones,
keeping the mode (``K:D`` -> ``K:G`` is k = 3, s = 5):

- a note without an accidental stays without one: the new key's signature gives it the
  right pitch, since the key moved by exactly (k, s);
- a note with one gets the accidental that makes its pitch exactly ``s`` semitones
  higher: a = (pitch + s) - natural pitch of the new letter, written as ``^^ ^ = _ __``.

So the transposed tune is the same melody ``s`` semitones away, and accidentals carried
through a bar carry the same way. Quoted text (annotations, fingerings), ``!...!`` and
``+...+`` decorations and comments are left as they are. A tune whose key this module
does not read (``K:HP``, ``K:Dmix=c``, key changes it cannot follow) is not transposed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from introdl.sequences.music.corpus import Tune

LETTERS = "CDEFGAB"
NATURAL = (0, 2, 4, 5, 7, 9, 11)  # semitones of C D E F G A B above C
_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}  # sharps of a major key
_MODES = {"": 0, "maj": 0, "ion": 0, "mix": -1, "dor": -2, "m": -3, "min": -3, "aeo": -3,
          "phr": -4, "loc": -5, "lyd": 1}  # fifths relative to the major key on the root
_KEY = re.compile(r"^\s*([A-G])([#b]?)\s*([A-Za-z]*)\s*$")
_ACC = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_ACC_TEXT = {v: k for k, v in _ACC.items()}
_TOKENS = re.compile(
    r'"[^"\n]*"'  # quoted annotation or chord symbol: left alone
    r"|![^!\n]*!|\+[^+\n]*\+"  # decorations
    r"|%[^\n]*"  # comment
    r"|(?P<inline>\[K:(?P<ikey>[^\]\n]*)\])|\[[A-Za-z]:[^\]\n]*\]"  # inline fields
    r"|(?m:^(?P<field>[A-Za-z]):(?P<value>[^\n]*))"  # a field line in the body
    r"|(?P<acc>\^\^|\^|__|_|=)?(?P<note>[A-Ga-g])(?P<oct>[,']*)"  # a note
)


class Key:
    """A key field ``root[#b] mode`` (``D``, ``Ador``, ``Bbm``, ``F# minor``), parsed."""

    def __init__(self, value: str) -> None:
        m = _KEY.match(value)
        if not m:
            raise ValueError(f"unsupported key {value!r}")
        self.letter, acc, self.mode_text = m.group(1), m.group(2), m.group(3)
        mode = self.mode_text.lower()
        mode = "m" if mode == "m" else mode[:3]  # "minor" -> "min", "Dorian" -> "dor"
        if mode not in _MODES:
            raise ValueError(f"unsupported mode {self.mode_text!r}")
        self.acc = {"#": 1, "b": -1, "": 0}[acc]
        self.fifths = _FIFTHS[self.letter] + 7 * self.acc + _MODES[mode]
        self.space = " " if re.match(r"^\s*[A-G][#b]?\s+\S", value) else ""

    def signature(self, letter: str) -> int:
        """The accidental (-1, 0, +1) this key gives a note letter (``C``..``B``)."""
        if self.fifths > 0:
            return int(letter in "FCGDAEB"[: self.fifths])
        return -int(letter in "BEADGCF"[: -self.fifths])

    def moved(self, k: int, s: int) -> Key:
        """The same mode, root moved ``k`` letters and ``s`` semitones."""
        i = LETTERS.index(self.letter)
        j = i + k
        acc = semis(i) + self.acc + s - semis(j)
        if acc not in (-1, 0, 1):
            raise ValueError("the moved root needs a double accidental")
        text = LETTERS[j % 7] + {1: "#", -1: "b", 0: ""}[acc] + self.space + self.mode_text
        return Key(text)

    def text(self) -> str:
        return (self.letter + {1: "#", -1: "b", 0: ""}[self.acc] + self.space
                + self.mode_text)


def semis(index: int) -> int:
    """Semitones above C of the ``index``-th letter step from C (7 = the C an octave up)."""
    return 12 * (index // 7) + NATURAL[index % 7]


def _note(letter: str, octave_marks: str) -> int:
    """Letter steps of a note above ``C`` (middle C; ``c`` is 7, ``C,`` is -7)."""
    i = LETTERS.index(letter.upper()) + (7 if letter.islower() else 0)
    return i + 7 * octave_marks.count("'") - 7 * octave_marks.count(",")


def _write(index: int) -> str:
    octave, letter = divmod(index, 7)
    if octave >= 1:
        return LETTERS[letter].lower() + "'" * (octave - 1)
    return LETTERS[letter] + "," * -octave


def transpose(text: str, k: int, s: int) -> str:
    """One ABC tune (header then body) moved ``k`` letter steps and ``s`` semitones.

    Raises:
        ValueError: a key field it cannot read, or a note or key that would need a
            triple accidental.
    """
    key: Key | None = None
    new_key: Key | None = None

    def change(value: str) -> str:
        nonlocal key, new_key
        comment = ""
        if "%" in value:
            value, comment = value.split("%", 1)
            comment = "%" + comment
        key = Key(value)
        new_key = key.moved(k, s)
        return new_key.text() + comment

    def sub(m: re.Match) -> str:
        if m.group("inline"):
            return "[K:" + change(m.group("ikey")) + "]"
        if m.group("field"):
            if m.group("field") == "K":
                return "K:" + change(m.group("value"))
            return m.group(0)
        if not m.group("note"):
            return m.group(0)
        if key is None or new_key is None:
            raise ValueError("a note before the K: field")
        i = _note(m.group("note"), m.group("oct"))
        j = i + k
        if m.group("acc") is None:
            acc = key.signature(LETTERS[i % 7])
            target = semis(i) + acc + s - semis(j)
            if target == new_key.signature(LETTERS[j % 7]):
                return _write(j)
            raise ValueError("the new key does not give this note its pitch")
        target = semis(i) + _ACC[m.group("acc")] + s - semis(j)
        if target not in _ACC_TEXT:
            raise ValueError("a note would need a triple accidental")
        return _ACC_TEXT[target] + _write(j)

    return _TOKENS.sub(sub, text)


def key_moves(key: str, fifths: tuple[int, int] = (-3, 4), max_steps: int = 3
              ) -> list[tuple[int, int]]:
    """The ``(k, s)`` moves (k != 0, |k| <= ``max_steps``) into keys with a signature of
    ``fifths[0]``..``fifths[1]`` sharps (negative: flats) — the common keys of the corpus."""
    try:
        src = Key(key)
    except ValueError:
        return []
    moves = []
    for k in range(-max_steps, max_steps + 1):
        if k == 0:
            continue
        i = LETTERS.index(src.letter)
        for acc in (-1, 0, 1):
            s = semis(i + k) + acc - semis(i) - src.acc
            try:
                dst = src.moved(k, s)
            except ValueError:
                continue
            if fifths[0] <= dst.fifths <= fifths[1]:
                moves.append((k, s))
    return moves


def transposed_tunes(tunes: Sequence[Tune], copies: int, seed: int = 0,
                     vocab: str | None = None) -> list[str]:
    """Each tune's compact text, then up to ``copies`` transpositions of it into other
    common keys (drawn without repeats), all shuffled together by tune.

    A tune whose key or notes :func:`transpose` cannot move keeps only its own text; with
    ``vocab``, a transposition using a character outside it is dropped.
    """
    rng = random.Random(seed)
    texts = []
    for tune in tunes:
        text = tune.compact()
        texts.append(text)
        moves = key_moves(tune.key)
        for k, s in rng.sample(moves, min(copies, len(moves))):
            try:
                moved = transpose(text, k, s)
            except ValueError:
                continue
            if vocab is None or not set(moved) - set(vocab):
                texts.append(moved)
    rng.shuffle(texts)
    return texts


def augmented_text(tunes: Sequence[Tune], copies: int, seed: int = 0,
                   vocab: str | None = None) -> str:
    """The training text with transposed copies, joined as :func:`corpus.join_tunes` does."""
    return "\n".join(transposed_tunes(tunes, copies, seed, vocab))
