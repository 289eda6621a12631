"""A small variant record (VCF-style alleles) and left-normalisation of indels.

Coordinates are 0-based reference positions. A SNP has one-base ``ref``/``alt``; an indel
is anchored on the base before it, as in VCF: a deletion of ``k`` bases after position ``p``
is ``ref = R[p:p+k+1], alt = R[p]``, an insertion of ``S`` after ``p`` is ``ref = R[p],
alt = R[p] + S``. In a repeat the same haplotype can be written at several anchors, so truth
and calls are both shifted to the left-most one (as ``bcftools norm`` does) before matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["snp", "indel"]
GENOTYPES = ("hom-ref", "het", "hom-alt")  # class 0, 1, 2 (alt-allele copies)


@dataclass(frozen=True, order=True)
class Variant:
    pos: int
    ref: str
    alt: str
    genotype: int = 1  # alt copies in the diploid sample: 1 het, 2 hom-alt (0 = hom-ref)

    @property
    def kind(self) -> Kind:
        return "snp" if len(self.ref) == len(self.alt) == 1 else "indel"

    @property
    def allele(self) -> tuple[int, str, str]:
        """The site and alleles, without the genotype (what a candidate is)."""
        return (self.pos, self.ref, self.alt)


def normalize(seq: str, pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Left-most equivalent anchor of an indel on reference ``seq`` (SNPs are returned as is)."""
    if len(ref) == len(alt):
        return pos, ref, alt
    if len(ref) > len(alt):  # deletion of ref[1:]
        gone = ref[1:]
        while pos > 0 and seq[pos] == gone[-1]:
            gone = seq[pos] + gone[:-1]
            pos -= 1
        return pos, seq[pos] + gone, seq[pos]
    ins = alt[1:]
    while pos > 0 and seq[pos] == ins[-1]:
        ins = seq[pos] + ins[:-1]
        pos -= 1
    return pos, seq[pos], seq[pos] + ins
