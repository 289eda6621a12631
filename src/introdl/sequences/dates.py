"""Human-written dates -> ISO 8601: a translation task the project generates.

A date between 1950-01-01 and 2049-12-31 is written by babel's CLDR locale data in
one of several languages and styles ("12. März 1987", "jeudi 12 mars 1987",
"3/12/87" is left out because US month/day order would clash with the day/month
order of the other locales) and the target is "1987-03-12". Two-digit years follow
the pivot rule yy >= 50 -> 19yy, else 20yy, which the model must learn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
from babel.dates import format_date

from introdl.errors import UsageError
from introdl.sequences.vocab import CharVocab  # noqa: F401  (re-exported for callers)

LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
STYLES = ("short", "medium", "long", "full")
START, DAYS = dt.date(1950, 1, 1), (dt.date(2049, 12, 31) - dt.date(1950, 1, 1)).days + 1


def make_pairs(n: int, seed: int = 0, exclude: Collection[str] = ()
               ) -> list[tuple[str, str]]:
    """``n`` (human date, ISO date) pairs drawn uniformly over dates, locales and styles.

    Args:
        exclude: input strings never to produce (e.g. the training inputs, so a test set
            holds only inputs the model has not seen); a draw that hits one is redrawn.

    Raises:
        UsageError: ``exclude`` leaves too few strings to draw ``n`` new ones.
    """
    rng = np.random.default_rng(seed)
    pairs: list[tuple[str, str]] = []
    redrawn = 0
    while len(pairs) < n:
        d = START + dt.timedelta(days=int(rng.integers(DAYS)))
        loc, style = LOCALES[rng.integers(len(LOCALES))], STYLES[rng.integers(len(STYLES))]
        if loc == "en_US" and style == "short":
            continue
        src = format_date(d, format=style, locale=loc)
        if src in exclude:
            redrawn += 1
            if redrawn > 20 * n + 1000:
                raise UsageError(f"could not draw {n} dates outside the {len(exclude):,} "
                                 "excluded inputs; use fewer training pairs")
            continue
        pairs.append((src, d.isoformat()))
    return pairs
