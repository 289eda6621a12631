"""Precision, recall and F1 of variant calls against a truth set, per variant type and region.

Matching is genotype-aware, as in hap.py's genotype level: a call is a true positive when
its left-normalised allele (position, ref, alt) is in the truth *with the same genotype*
(het or hom-alt). A call of the right allele with the wrong genotype counts as a false
positive and its truth variant as a false negative. Both sets are restricted to
``[start, end)`` (a held-out region) and to one type (SNP or indel).
"""

from __future__ import annotations

from dataclasses import dataclass

from introdl.health.genomics.variant import Kind, Variant


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 0.0


def in_region(variants, kind: Kind | None, start: int, end: int) -> list:
    return [v for v in variants if start <= v.pos < end and (kind is None or v.kind == kind)]


def score(calls: list[Variant], truth: list[Variant], kind: Kind | None = None,
          start: int = 0, end: int = 1 << 62) -> Score:
    """Genotype-aware TP/FP/FN of ``calls`` (genotype 1 or 2; 0s are ignored) vs ``truth``."""
    called = {(v.allele, v.genotype) for v in in_region(calls, kind, start, end)
              if v.genotype > 0}
    true = {(v.allele, v.genotype) for v in in_region(truth, kind, start, end)}
    tp = len(called & true)
    return Score(tp=tp, fp=len(called) - tp, fn=len(true) - tp)
