"""Labelled sequences from the folk-tune corpus: which dance (reel, jig, ...) is this tune?

The label is the tune's ``R:`` (rhythm) field, normalised ("double jig" -> jig,
"slipjig" -> slip jig). The input is the ABC *body* — the notes and bar lines, runs of
spaces made one — without the R: and T: fields; by default the M: (meter) line is left
out too, so the model must hear the dance in the note groupings, not read it off the
header.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from introdl.sequences.music.corpus import Tune

ALIASES = {"double jig": "jig", "single jig": "jig", "slipjig": "slip jig", "slip-jig": "slip jig"}


def dance(tune: Tune) -> str | None:
    """The normalised dance type, or None when the tune has no R: field."""
    if not tune.rhythm:
        return None
    r = " ".join(tune.rhythm.lower().replace(".", "").split())
    return ALIASES.get(r, r)


def labelled(tunes: Sequence[Tune], min_count: int = 40,
             include_meter: bool = False) -> tuple[list[str], list[int], list[str]]:
    """(texts, labels, class names) for dances with at least ``min_count`` tunes."""
    counts = Counter(d for d in map(dance, tunes) if d)
    classes = sorted(c for c, n in counts.items() if n >= min_count)
    index = {c: i for i, c in enumerate(classes)}
    texts, labels = [], []
    for t in tunes:
        d = dance(t)
        if d in index:
            head = f"M:{t.meter}\n" if include_meter and t.meter else ""
            texts.append(head + t.model_body())  # the body, runs of spaces made one
            labels.append(index[d])
    return texts, labels, classes
