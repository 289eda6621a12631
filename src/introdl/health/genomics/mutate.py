"""A diploid truth set: the reference with known SNPs and small indels, het and hom-alt.

Generative model (every parameter is an argument of :func:`mutate`):

- sites: ``snp_rate`` SNPs and ``indel_rate`` indels per reference base (binomial counts),
  at uniform positions at least ``min_gap`` bases apart and ``margin`` bases from the ends
  (so no two variants overlap and the reads' edge effects are avoided);
- a SNP changes the base to one of the other three, uniformly;
- an indel is an insertion or a deletion (equally likely) of 1..``max_indel`` bases
  (uniform), inserted bases uniform over ACGT; each indel is left-normalised;
- genotype: hom-alt with probability ``hom_fraction`` (both haplotypes carry it), otherwise
  het on one haplotype picked at random. (Human genomes: about 1 SNP per 1,000 bases and a
  het:hom-alt ratio near 2:1; the default rates here are higher, to get enough variants
  from a 48.5 kb genome.)

Assumptions: no multi-allelic sites, no structural variants, no copy-number change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from introdl.health.genomics.reference import Reference
from introdl.health.genomics.variant import Variant, normalize

BASES = "ACGT"


@dataclass(frozen=True)
class Sample:
    """A simulated diploid genome: its two haplotypes and the variants that made them."""

    reference: Reference
    haplotypes: tuple[str, str]
    variants: tuple[Variant, ...]  # sorted by position
    carriers: tuple[tuple[int, ...], ...]  # which haplotypes carry each variant


def mutate(ref: Reference, rng: np.random.Generator | int, snp_rate: float = 0.004,
           indel_rate: float = 0.001, hom_fraction: float = 1 / 3, max_indel: int = 4,
           min_gap: int = 12, margin: int = 120) -> Sample:
    """Simulate a diploid sample from ``ref`` (see the module docstring for the model)."""
    rng = np.random.default_rng(rng)
    seq, n = ref.seq, len(ref.seq)
    n_snp = rng.binomial(n - 2 * margin, snp_rate)
    n_indel = rng.binomial(n - 2 * margin, indel_rate)
    proposals: list[Variant] = []
    for kind in ["snp"] * n_snp + ["indel"] * n_indel:
        pos = int(rng.integers(margin, n - margin))
        if kind == "snp":
            alt = rng.choice([b for b in BASES if b != seq[pos]])
            proposals.append(Variant(pos, seq[pos], str(alt)))
            continue
        k = int(rng.integers(1, max_indel + 1))
        if rng.random() < 0.5:  # deletion of the k bases after pos
            p, r, a = normalize(seq, pos, seq[pos:pos + k + 1], seq[pos])
        else:
            ins = "".join(rng.choice(list(BASES), size=k))
            p, r, a = normalize(seq, pos, seq[pos], seq[pos] + ins)
        if p >= margin:
            proposals.append(Variant(p, r, a))
    order = rng.permutation(len(proposals))
    kept: list[Variant] = []
    taken = np.zeros(n + min_gap, dtype=bool)
    for i in order:  # keep each proposal whose span (plus the gap) is still free
        v = proposals[i]
        lo, hi = max(v.pos - min_gap, 0), v.pos + len(v.ref) + min_gap
        if not taken[lo:hi].any():
            taken[lo:hi] = True
            kept.append(v)
    kept.sort()
    variants, carriers = [], []
    for v in kept:
        hom = rng.random() < hom_fraction
        variants.append(Variant(v.pos, v.ref, v.alt, 2 if hom else 1))
        carriers.append((0, 1) if hom else (int(rng.integers(0, 2)),))
    haps = []
    for h in (0, 1):
        parts, at = [], 0
        for v, c in zip(variants, carriers, strict=True):
            if h in c:
                parts += [seq[at:v.pos], v.alt]
                at = v.pos + len(v.ref)
        parts.append(seq[at:])
        haps.append("".join(parts))
    return Sample(ref, (haps[0], haps[1]), tuple(variants), tuple(carriers))
