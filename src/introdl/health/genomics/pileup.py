"""Candidate sites from a BAM and their pileup images, encoded as DeepVariant encodes them.

Reads come from pysam (primary alignments only). Candidates follow DeepVariant's
``make_examples`` defaults: a SNP where some non-reference base is seen in at least
``min_count`` (2) reads at base quality >= 10 and in at least ``snp_fraction`` (0.12) of
the reads; an indel (left-normalised, :func:`~.variant.normalize`) in at least 2 reads and
``indel_fraction`` (0.06) of them. Each candidate allele becomes one image of
``height`` rows x ``width`` columns (reference positions centred on the site) x 6 channels:

====  ===================  ================================================================
 ch   name                 value (0 = no read there)
====  ===================  ================================================================
 0    base                 A 0.25, C 0.5, G 0.75, T 1.0; a deleted base or N: 0.1
 1    base quality         min(Q, 40) / 40
 2    mapping quality      min(MAPQ, 60) / 60
 3    strand               forward 1.0, reverse 0.5
 4    supports alternate   the read carries the candidate allele: 1.0, otherwise 0.5
 5    differs from ref     the base (or an insertion after it) differs from the ref: 1.0,
                           otherwise 0.2
====  ===================  ================================================================

The first ``ref_rows`` rows hold the reference (base channel; quality channels full), the
rest one read each, in order of alignment start; deeper sites are downsampled at random
(seeded by the position, so images are reproducible), as DeepVariant does. Images are
stored as uint8 (value x 250) to save memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from introdl.health.genomics.reads import encode
from introdl.health.genomics.variant import Variant, normalize

CHANNELS = ("base", "base quality", "mapping quality", "strand", "supports alternate",
            "differs from reference")
BASE_VALUE = np.array([0.25, 0.5, 0.75, 1.0, 0.1, 0.1], dtype=np.float32)  # A C G T N del
DELETED = 5
SCALE = 250


@dataclass
class AlignedRead:
    start: int  # reference position of codes[0]
    codes: np.ndarray  # per reference position: 0..3 ACGT, 4 N, 5 deleted
    quals: np.ndarray  # base quality per reference position (0 where deleted)
    mapq: int
    reverse: bool
    insert_after: tuple[int, ...]  # reference positions followed by inserted bases
    indels: frozenset  # normalised (pos, ref, alt) indel alleles this read carries

    @property
    def end(self) -> int:
        return self.start + len(self.codes)


def read_alignments(bam: Path | str, ref_seq: str, contig: str | None = None) -> list:
    """The primary, mapped reads of ``bam`` projected onto reference coordinates."""
    import pysam

    out = []
    with pysam.AlignmentFile(str(bam)) as f:
        for r in f.fetch(contig) if contig else f.fetch():
            if r.is_unmapped or r.is_secondary or r.is_supplementary:
                continue
            out.append(_project(r, ref_seq))
    out.sort(key=lambda a: a.start)
    return out


def _project(r, ref_seq: str) -> AlignedRead:
    start, end = r.reference_start, r.reference_end
    q_codes = encode(r.query_sequence)
    q_quals = np.asarray(r.query_qualities, dtype=np.uint8)
    codes = np.full(end - start, DELETED, dtype=np.uint8)
    quals = np.zeros(end - start, dtype=np.uint8)
    ins, indels = [], set()
    rpos, qpos = start, 0
    for op, n in r.cigartuples:
        if op in (0, 7, 8):  # M, =, X
            codes[rpos - start:rpos - start + n] = q_codes[qpos:qpos + n]
            quals[rpos - start:rpos - start + n] = q_quals[qpos:qpos + n]
            rpos, qpos = rpos + n, qpos + n
        elif op == 1:  # insertion after rpos - 1
            if rpos > start:
                a = rpos - 1
                ins.append(a)
                indels.add(normalize(ref_seq, a, ref_seq[a], ref_seq[a] + r.query_sequence[
                    qpos:qpos + n]))
            qpos += n
        elif op in (2, 3):  # deletion / skip of n reference bases after rpos - 1
            if op == 2 and rpos > 0:
                a = rpos - 1
                indels.add(normalize(ref_seq, a, ref_seq[a:rpos + n], ref_seq[a]))
            rpos += n
        elif op == 4:  # soft clip
            qpos += n
    return AlignedRead(start, codes, quals, int(r.mapping_quality), bool(r.is_reverse),
                       tuple(ins), frozenset(indels))


@dataclass(frozen=True)
class Candidates:
    """Candidate alleles, their pileup images and the counts a threshold caller uses."""

    alleles: list  # Variant(pos, ref, alt, genotype=0) per candidate
    images: np.ndarray  # (n, 6, height, width) uint8 (value x 250)
    depth: np.ndarray  # (n,) reads covering the site
    support: np.ndarray  # (n,) reads carrying the candidate allele

    @property
    def allele_fraction(self) -> np.ndarray:
        return self.support / np.maximum(self.depth, 1)

    def is_snp(self) -> np.ndarray:
        return np.array([v.kind == "snp" for v in self.alleles], dtype=bool)

    def subset(self, mask: np.ndarray) -> Candidates:
        idx = np.flatnonzero(mask)
        return Candidates([self.alleles[i] for i in idx], self.images[idx], self.depth[idx],
                          self.support[idx])

    @staticmethod
    def concat(parts: list[Candidates]) -> Candidates:
        return Candidates([a for p in parts for a in p.alleles],
                          np.concatenate([p.images for p in parts]),
                          np.concatenate([p.depth for p in parts]),
                          np.concatenate([p.support for p in parts]))


def find_candidates(reads: list, ref_seq: str, min_count: int = 2, snp_fraction: float = 0.12,
                    indel_fraction: float = 0.06, min_base_quality: int = 10) -> list:
    """Candidate alleles (DeepVariant's ``make_examples`` rules), sorted by position."""
    n = len(ref_seq)
    counts = np.zeros((n, 4), dtype=np.int64)
    depth = np.zeros(n + 1, dtype=np.int64)
    indel_counts: Counter = Counter()
    for a in reads:
        depth[a.start] += 1
        depth[a.end] -= 1
        ok = (a.codes < 4) & (a.quals >= min_base_quality)
        pos = a.start + np.flatnonzero(ok)
        np.add.at(counts, (pos, a.codes[ok]), 1)
        indel_counts.update(a.indels)
    depth = np.cumsum(depth)[:n]
    ref = encode(ref_seq)
    alt_counts = counts.copy()
    valid = ref < 4
    alt_counts[np.flatnonzero(valid), ref[valid]] = 0
    best = alt_counts.argmax(axis=1)
    top = alt_counts[np.arange(n), best]
    keep = (top >= min_count) & (top >= snp_fraction * np.maximum(depth, 1)) & valid
    out = [Variant(int(p), ref_seq[p], "ACGT"[best[p]], 0) for p in np.flatnonzero(keep)]
    for (p, r, alt), c in indel_counts.items():
        if c >= min_count and c >= indel_fraction * max(depth[p], 1):
            out.append(Variant(p, r, alt, 0))
    out.sort()
    return out


def pileup_images(reads: list, ref_seq: str, alleles: list, height: int = 64, width: int = 25,
                  ref_rows: int = 4) -> Candidates:
    """One DeepVariant-style image per candidate allele (see the module docstring)."""
    starts = np.array([a.start for a in reads], dtype=np.int64)
    ends = np.array([a.end for a in reads], dtype=np.int64)
    max_len = int((ends - starts).max()) if len(reads) else 0
    ref = encode(ref_seq)
    half = width // 2
    images = np.zeros((len(alleles), 6, height, width), dtype=np.uint8)
    depth = np.zeros(len(alleles), dtype=np.int64)
    support = np.zeros(len(alleles), dtype=np.int64)
    for k, v in enumerate(alleles):
        lo, hi = v.pos - half, v.pos + half + 1
        img = np.zeros((6, height, width), dtype=np.float32)
        cols = np.arange(lo, hi)
        inside = (cols >= 0) & (cols < len(ref_seq))
        ref_win = np.full(width, 4, dtype=np.uint8)
        ref_win[inside] = ref[cols[inside]]
        img[0, :ref_rows] = BASE_VALUE[ref_win]
        img[1:4, :ref_rows] = 1.0
        first = np.searchsorted(starts, v.pos - max_len, side="left")
        last = np.searchsorted(starts, v.pos, side="right")
        over = [i for i in range(first, last) if ends[i] > v.pos]
        depth[k] = len(over)
        carries = [_supports(reads[i], v) for i in over]
        support[k] = sum(carries)
        rows = np.arange(len(over))
        if len(over) > height - ref_rows:
            rows = np.sort(np.random.default_rng(v.pos).choice(
                len(over), height - ref_rows, replace=False))
        for row, j in enumerate(rows, start=ref_rows):
            a = reads[over[j]]
            s, e = max(lo, a.start), min(hi, a.end)
            c0, r0 = s - lo, s - a.start
            codes = a.codes[r0:r0 + e - s]
            img[0, row, c0:c0 + e - s] = BASE_VALUE[codes]
            img[1, row, c0:c0 + e - s] = np.minimum(a.quals[r0:r0 + e - s], 40) / 40
            img[2, row, c0:c0 + e - s] = min(a.mapq, 60) / 60
            img[3, row, c0:c0 + e - s] = 0.5 if a.reverse else 1.0
            img[4, row, c0:c0 + e - s] = 1.0 if carries[j] else 0.5
            differs = codes != ref_win[c0:c0 + e - s]
            for p in a.insert_after:
                if s <= p < e:
                    differs[p - s] = True
            img[5, row, c0:c0 + e - s] = np.where(differs, 1.0, 0.2)
        images[k] = np.round(img * SCALE).astype(np.uint8)
    return Candidates(list(alleles), images, depth, support)


def _supports(a: AlignedRead, v: Variant) -> bool:
    if v.kind == "snp":
        return bool(a.codes[v.pos - a.start] == "ACGT".index(v.alt))
    return (v.pos, v.ref, v.alt) in a.indels


def label(cands: Candidates, truth: list) -> np.ndarray:
    """Class per candidate: the truth genotype of its allele (0 hom-ref when not a variant)."""
    gt = {v.allele: v.genotype for v in truth}
    return np.array([gt.get(v.allele, 0) for v in cands.alleles], dtype=np.int64)
