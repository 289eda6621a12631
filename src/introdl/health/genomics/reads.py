"""Short-read simulator: reads from a diploid sample with a stated sequencing-error model.

Generative model (every parameter is a field of :class:`ErrorModel` or an argument):

- ``coverage`` x (genome length) / ``read_length`` single-end reads of ``read_length``
  bases; each picks one of the two haplotypes (1/2 each), a uniform start, and a strand
  (1/2 each; reverse reads are reverse-complemented, and sequencing cycles run 5' -> 3' of
  the read, so errors rise towards the read's 3' end on either strand);
- substitutions: at cycle ``i`` of ``L`` the expected error rate rises linearly,
  ``p_i = rate * (0.5 + i / (L - 1))`` (mean over the read = ``rate``); each base's own
  error probability is ``p_i`` times a log-normal factor with mean 1 (sd of its log
  ``quality_spread``), the base is wrong with that probability (one of the three other
  bases, uniformly), and its Phred quality is that probability, rounded
  (``Q = -10 log10 p``, clipped to 2..41): qualities are calibrated but noisy, as after
  recalibration;
- indel errors (polymerase slippage): at each cycle, with probability
  ``rate * indel_share * homopolymer_factor ** (h - 1)``, where ``h`` (capped at 8) is the
  length of the homopolymer run the template base belongs to, the base is duplicated or
  deleted (equally likely): indel errors concentrate in homopolymers, as on Illumina
  machines, so a context-blind caller mistakes some of them for variants;
- systematic, strand-specific motif errors (Illumina's GGC motif; Nakamura et al. 2011,
  *Nucleic Acids Research* 39:e90, found error rates of several % to tens of % at the base
  after GGC, on reads of one strand only, with lowered base quality): wherever the read, in
  its own 5' -> 3' sequencing direction, has just read ``motif`` (of its true template),
  the next base is misread with probability ``motif_rate`` as its transition partner
  (A <-> G, C <-> T: one fixed wrong base per site, so the errors at a site agree), and
  that base's quality is set to a uniform integer in ``motif_quality`` (10..20 by
  default) whether or not it is misread (lowered, but not to the calibrated Phred value).
  Because the motif is matched in read orientation, a site after GGC on the forward
  reference errs on forward reads only, and a site before GCC (GGC's reverse complement)
  on reverse reads only: the reads of the other strand there are never affected. Such a
  site looks like a low-fraction variant to a per-site allele count, but its supporting
  reads are all on one strand and of low quality, which a pileup image shows;
- mapping quality is left to the aligner.

Assumptions: no PCR duplicates, no GC bias, no adapters, a linear genome, uniform coverage;
every occurrence of the motif is equally error-prone (on real machines the rate varies
from one occurrence to another).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from introdl.health.genomics.mutate import Sample

CODES = np.frombuffer(b"ACGT", dtype=np.uint8)
_INDEX = np.full(256, 4, dtype=np.uint8)
_INDEX[CODES] = np.arange(4)
_SLACK = 16  # extra template bases drawn beyond the read, for deletion errors


def encode(seq: str) -> np.ndarray:
    """ACGT -> 0..3 (anything else -> 4)."""
    return _INDEX[np.frombuffer(seq.encode(), dtype=np.uint8)]


@dataclass(frozen=True)
class ErrorModel:
    rate: float = 0.01  # mean substitution probability per base (0.5x at cycle 0, 1.5x at end)
    indel_share: float = 0.05  # indel errors per base outside homopolymers = rate * indel_share
    quality_spread: float = 1.5  # sd of log(per-base error probability) around p_i
    homopolymer_factor: float = 2.0  # indel-error multiplier per extra base of a homopolymer
    motif: str = "GGC"  # systematic errors at the base after this (read orientation)
    motif_rate: float = 0.0  # probability that base is misread (0: no systematic errors)
    motif_quality: tuple[int, int] = (10, 20)  # Phred quality range given to that base


@dataclass(frozen=True)
class ReadSet:
    """Simulated reads (codes 0..3, Phred qualities) and where each came from."""

    seqs: np.ndarray  # (n, L) uint8 base codes, in read (sequencing) orientation
    quals: np.ndarray  # (n, L) uint8 Phred qualities
    haplotype: np.ndarray  # (n,) 0 or 1
    start: np.ndarray  # (n,) left-most haplotype position the read's template starts at
    reverse: np.ndarray  # (n,) bool
    substituted: np.ndarray  # (n, L) bool: a sequencing substitution at this cycle
    indel_error: np.ndarray  # (n,) bool: the read has at least one indel error
    motif_error: np.ndarray  # (n, L) bool: a systematic motif error at this cycle

    def __len__(self) -> int:
        return len(self.seqs)

    def write_fastq(self, path: Path | str, prefix: str = "r") -> Path:
        path = Path(path)
        letters = CODES[self.seqs]
        lines = []
        for i in range(len(self)):
            lines += [f"@{prefix}{i}", letters[i].tobytes().decode(), "+",
                      (self.quals[i] + 33).astype(np.uint8).tobytes().decode()]
        path.write_text("\n".join(lines) + "\n")
        return path


def homopolymer_runs(codes: np.ndarray) -> np.ndarray:
    """Length of the homopolymer run each base belongs to, row by row ((n, m) -> (n, m))."""
    n, m = codes.shape
    left = np.ones((n, m), dtype=np.int64)
    right = np.ones((n, m), dtype=np.int64)
    for j in range(1, m):
        same = codes[:, j] == codes[:, j - 1]
        left[:, j] = np.where(same, left[:, j - 1] + 1, 1)
    for j in range(m - 2, -1, -1):
        same = codes[:, j] == codes[:, j + 1]
        right[:, j] = np.where(same, right[:, j + 1] + 1, 1)
    return left + right - 1


def simulate_reads(sample: Sample, coverage: float, rng: np.random.Generator | int,
                   model: ErrorModel = ErrorModel(), read_length: int = 100) -> ReadSet:
    """Reads at ``coverage`` x from ``sample`` under ``model`` (see the module docstring)."""
    rng = np.random.default_rng(rng)
    L, E = read_length, _SLACK
    n = int(round(coverage * len(sample.reference) / L))
    haps = [encode(h) for h in sample.haplotypes]
    hap = rng.integers(0, 2, n)
    reverse = rng.random(n) < 0.5
    span = np.array([len(haps[h]) for h in hap])
    start = (E + rng.random(n) * (span - L - 2 * E)).astype(np.int64)
    offs = np.arange(L + E)
    templ = np.empty((n, L + E), dtype=np.uint8)
    for h in (0, 1):
        m = hap == h
        fwd_idx = start[m, None] + offs  # forward: hap[s : s+L+E]
        rev_idx = start[m, None] + L - 1 - offs  # reverse: revcomp(hap[s-E : s+L])
        idx = np.where(reverse[m, None], rev_idx, fwd_idx)
        t = haps[h][idx]
        templ[m] = np.where(reverse[m, None], 3 - t, t)
    # indel errors, applied to the template in sequencing order, more in homopolymers
    run = np.minimum(homopolymer_runs(templ), 8)[:, :L]
    p_indel = model.rate * model.indel_share * model.homopolymer_factor ** (run - 1.0)
    events = rng.random((n, L)) < p_indel
    indel_error = events.any(axis=1)
    for i in np.flatnonzero(indel_error):
        t = list(templ[i])
        for c in np.flatnonzero(events[i])[::-1]:
            if rng.random() < 0.5:
                t.insert(c, t[c])
            else:
                del t[c]
        templ[i] = np.array((t + [0] * E)[:L + E], dtype=np.uint8)
    seqs = templ[:, :L].copy()
    # substitutions with calibrated, noisy qualities
    cycle = np.arange(L)
    p_cycle = model.rate * (0.5 + cycle / max(L - 1, 1))
    s = model.quality_spread
    p = np.minimum(p_cycle * np.exp(s * rng.standard_normal((n, L)) - s * s / 2), 0.75)
    substituted = rng.random((n, L)) < p
    shift = rng.integers(1, 4, (n, L)).astype(np.uint8)
    seqs = np.where(substituted, (seqs + shift) % 4, seqs).astype(np.uint8)
    quals = np.clip(np.round(-10 * np.log10(np.maximum(p, 1e-6))), 2, 41).astype(np.uint8)
    # systematic errors after the motif, in read orientation (so one strand per site)
    after = after_motif(templ[:, :L], model.motif)
    motif_error = after & (rng.random((n, L)) < model.motif_rate)
    seqs = np.where(motif_error, (templ[:, :L] + 2) % 4, seqs).astype(np.uint8)
    lo, hi = model.motif_quality
    quals = np.where(after, rng.integers(lo, hi + 1, (n, L)), quals).astype(np.uint8)
    substituted = substituted | motif_error
    return ReadSet(seqs, quals, hap, start, reverse, substituted, indel_error, motif_error)


def after_motif(codes: np.ndarray, motif: str) -> np.ndarray:
    """Bases (row by row) that directly follow ``motif`` in ``codes``: (n, m) -> (n, m) bool."""
    k = len(motif)
    out = np.zeros(codes.shape, dtype=bool)
    if k == 0 or k >= codes.shape[1]:
        return out
    hit = np.ones((codes.shape[0], codes.shape[1] - k), dtype=bool)
    for i, c in enumerate(encode(motif)):
        hit &= codes[:, i:codes.shape[1] - k + i] == c
    out[:, k:] = hit
    return out


def motif_sites(seq: str, motif: str) -> tuple[np.ndarray, np.ndarray]:
    """Reference positions where the motif model errs: on forward reads (the base after
    ``motif``) and on reverse reads (the base before its reverse complement)."""
    codes = encode(seq)[None]
    fwd = np.flatnonzero(after_motif(codes, motif)[0])
    rc = "".join("TGCA"["ACGT".index(b)] for b in reversed(motif))
    before_rc = np.flatnonzero(after_motif(codes[:, ::-1], rc[::-1])[0])
    return fwd, np.sort(len(seq) - 1 - before_rc)
