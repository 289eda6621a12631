"""The rendered domain: ``syndigits``, house-number-like crops drawn in many typefaces."""

from __future__ import annotations

from introdl.adaptation.domains import SPLIT_SEED, Domain, builder, from_arrays

SYNDIGITS_N = 6000  # images generated (3,600 train, 1,200 adapt, 1,200 test)


@builder("syndigits")
def _syndigits(limit: int) -> Domain:
    from introdl.adaptation.domains.syndigits import render_syndigits

    images, labels = render_syndigits(SYNDIGITS_N, seed=SPLIT_SEED)
    return from_arrays("syndigits", images, labels, limit)
