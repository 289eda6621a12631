"""The genomics pipeline: truth set, read simulator, bowtie2 alignment, pileups, scoring."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from introdl.errors import DataUnavailable, UsageError
from introdl.health.genomics import align as align_mod
from introdl.health.genomics.caller import ThresholdCaller
from introdl.health.genomics.evaluate import score
from introdl.health.genomics.mutate import mutate
from introdl.health.genomics.pileup import (
    CHANNELS,
    SCALE,
    find_candidates,
    label,
    pileup_images,
    read_alignments,
)
from introdl.health.genomics.reads import (
    ErrorModel,
    encode,
    homopolymer_runs,
    motif_sites,
    simulate_reads,
)
from introdl.health.genomics.reference import LAMBDA_FASTA, Reference, load_lambda, read_fasta
from introdl.health.genomics.variant import Variant, normalize

needs_tools = pytest.mark.skipif(
    not (shutil.which("bowtie2") and shutil.which("samtools")),
    reason="bowtie2/samtools not installed (bash scripts/setup)")
needs_lambda = pytest.mark.skipif(not LAMBDA_FASTA.is_file(),
                                  reason="bowtie2-examples not installed")


def _random_reference(n: int = 6000, seed: int = 7) -> Reference:
    rng = np.random.default_rng(seed)
    return Reference("toy", "".join(rng.choice(list("ACGT"), n)))


@needs_lambda
def test_lambda_reference_is_the_48502_base_phage():
    ref = load_lambda()
    assert len(ref) == 48502 and ref.name.startswith("gi|9626243")
    assert set(ref.seq) <= set("ACGT")


def test_a_missing_reference_is_one_line(tmp_path):
    with pytest.raises(DataUnavailable, match="bowtie2-examples") as e:
        read_fasta(tmp_path / "absent.fa.gz")
    assert "\n" not in str(e.value)


def test_a_missing_tool_is_one_line(monkeypatch):
    monkeypatch.setattr(align_mod.shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match="scripts/setup") as e:
        align_mod.tool("bowtie2")
    assert "\n" not in str(e.value)


def test_normalize_shifts_indels_to_the_leftmost_anchor():
    seq = "GATTTTC"
    assert normalize(seq, 4, "TT", "T") == (1, "AT", "A")  # delete one T of the run
    assert normalize(seq, 5, "T", "TT") == (1, "A", "AT")  # insert one T
    assert normalize(seq, 0, "G", "C") == (0, "G", "C")  # SNPs untouched


def test_truth_set_rates_genotypes_and_haplotypes():
    ref = _random_reference(40000)
    s = mutate(ref, 3, snp_rate=0.004, indel_rate=0.002, hom_fraction=1 / 3)
    assert s.variants == mutate(ref, 3, snp_rate=0.004, indel_rate=0.002).variants  # seeded
    snps = [v for v in s.variants if v.kind == "snp"]
    indels = [v for v in s.variants if v.kind == "indel"]
    # spacing rejects a few proposals: counts a bit under rate x length, never over
    assert 0.75 * 0.004 * 40000 < len(snps) <= 1.15 * 0.004 * 40000
    assert 0.6 * 0.002 * 40000 < len(indels) <= 1.2 * 0.002 * 40000
    hom = np.mean([v.genotype == 2 for v in s.variants])
    assert 0.2 < hom < 0.47
    for v, carriers in zip(s.variants, s.carriers, strict=True):
        assert (v.genotype == 2) == (len(carriers) == 2)
    # the haplotype lengths differ from the reference by exactly the carried indels
    for h in (0, 1):
        delta = sum(len(v.alt) - len(v.ref) for v, c in zip(s.variants, s.carriers, strict=True)
                    if h in c)
        assert len(s.haplotypes[h]) == len(ref) + delta
    assert mutate(ref, 3, hom_fraction=1.0).haplotypes[0] == mutate(
        ref, 3, hom_fraction=1.0).haplotypes[1]


def _mismatch_by_cycle(sample, reads):
    """Observed substitution rate per cycle, from reads without indel errors."""
    haps = [encode(h) for h in sample.haplotypes]
    L = reads.seqs.shape[1]
    ok = ~reads.indel_error
    wrong = []
    for i in np.flatnonzero(ok):
        h, s = haps[reads.haplotype[i]], reads.start[i]
        true = 3 - h[s:s + L][::-1] if reads.reverse[i] else h[s:s + L]
        wrong.append(reads.seqs[i] != true)
    return np.array(wrong)


@pytest.mark.parametrize("rate", [0.01, 0.04])
def test_read_simulator_coverage_and_error_rate_match_their_settings(rate):
    ref = _random_reference(20000)
    sample = mutate(ref, 1)
    reads = simulate_reads(sample, 30, 2, ErrorModel(rate=rate), read_length=100)
    assert len(reads) * 100 / len(ref) == pytest.approx(30, rel=0.01)
    # per-position depth, from where each read starts: its mean is the coverage
    depth = np.zeros(len(ref) + 200)
    for s in reads.start:
        depth[s:s + 100] += 1
    assert depth[200:-300].mean() == pytest.approx(30, rel=0.05)
    wrong = _mismatch_by_cycle(sample, reads)
    assert wrong.mean() == pytest.approx(rate, rel=0.1)
    first, last = wrong[:, :20].mean(), wrong[:, -20:].mean()
    assert last > 2 * first  # errors rise along the read (0.5x -> 1.5x)
    # qualities carry information: errors sit on lower-quality bases
    q = reads.quals[~reads.indel_error]
    assert q[wrong].mean() < q[~wrong].mean() - 5
    assert np.array_equal(reads.seqs, simulate_reads(sample, 30, 2, ErrorModel(rate=rate)).seqs)


def test_indel_errors_concentrate_in_homopolymers():
    runs = homopolymer_runs(np.array([[0, 1, 1, 1, 2, 0, 0]]))
    assert runs.tolist() == [[1, 3, 3, 3, 1, 2, 2]]
    runs_of_4 = mutate(Reference("hp", "AAAACCCCGGGGTTTT" * 300), 0, snp_rate=0, indel_rate=0)
    no_runs = mutate(Reference("no", "ACGT" * 1200), 0, snp_rate=0, indel_rate=0)

    def indel_reads(sample, factor):
        model = ErrorModel(rate=0.02, homopolymer_factor=factor)
        return simulate_reads(sample, 60, 0, model).indel_error.mean()

    assert indel_reads(runs_of_4, 2.0) > 4 * indel_reads(no_runs, 2.0)  # 2 ** 3 = 8x per base
    assert indel_reads(runs_of_4, 1.0) == pytest.approx(indel_reads(no_runs, 1.0), rel=0.25)


def test_motif_errors_hit_the_stated_rate_on_one_strand_only():
    ref = _random_reference(8000, seed=5)
    sample = mutate(ref, 0, snp_rate=0, indel_rate=0)
    model = ErrorModel(rate=0.0, motif="GGC", motif_rate=0.25, motif_quality=(10, 20))
    reads = simulate_reads(sample, 40, 3, model)
    fwd, rev = motif_sites(ref.seq, "GGC")
    assert len(fwd) > 50 and len(rev) > 50
    site = np.zeros((2, len(ref)), dtype=bool)  # [forward, reverse] reads err here
    site[0, fwd], site[1, rev] = True, True
    ref_codes = encode(ref.seq)
    hits = np.zeros((2, 2, len(ref)))  # strand, (bases read, bases wrong), position
    for i in range(len(reads)):
        s, r = reads.start[i], int(reads.reverse[i])
        true = ref_codes[s:s + 100]
        seen = 3 - reads.seqs[i][::-1] if r else reads.seqs[i]
        hits[r, 0, s:s + 100] += 1
        hits[r, 1, s:s + 100] += seen != true
        wrong = np.flatnonzero(seen != true)
        assert site[r, s + wrong].all()  # every error is at a motif site of its strand
        transition = {0: 2, 2: 0, 1: 3, 3: 1}
        assert all(seen[w] == transition[int(true[w])] for w in wrong)
        q = reads.quals[i][::-1] if r else reads.quals[i]
        read_motif = site[r, s:s + 100] & ((np.arange(100) < 97) if r else (np.arange(100) >= 3))
        assert ((q[read_motif] >= 10) & (q[read_motif] <= 20)).all()  # (motif read in full)
    for r in (0, 1):
        only = site[r] & ~site[1 - r]
        assert hits[r, 1, only].sum() / hits[r, 0, only].sum() == pytest.approx(0.25, rel=0.1)
        assert hits[1 - r, 1, only].sum() == 0  # never on the other strand
    assert reads.motif_error.sum() == hits[:, 1].sum()
    plain = simulate_reads(sample, 40, 3, ErrorModel(rate=0.0))
    assert not plain.motif_error.any() and not plain.substituted.any()


@needs_tools
def test_pileup_of_an_inserted_snp_shows_it_in_the_right_channels(tmp_path):
    ref = _random_reference(3000, seed=11)
    pos = 1500
    alt = "ACGT"[("ACGT".index(ref.seq[pos]) + 1) % 4]
    hap = ref.seq[:pos] + alt + ref.seq[pos + 1:]
    from introdl.health.genomics.mutate import Sample
    sample = Sample(ref, (hap, hap), (Variant(pos, ref.seq[pos], alt, 2),), ((0, 1),))
    reads = simulate_reads(sample, 30, 0, ErrorModel(rate=0.005))
    index = align_mod.build_index(ref, tmp_path / "idx")
    bam = align_mod.align(index, [reads.write_fastq(tmp_path / "r.fq")], tmp_path / "r.bam")
    assert align_mod.alignment_rate(bam) > 0.95
    aligned = read_alignments(bam, ref.seq)
    alleles = find_candidates(aligned, ref.seq)
    snp = Variant(pos, ref.seq[pos], alt, 0)
    assert snp in alleles
    c = pileup_images(aligned, ref.seq, [snp], height=64, width=25)
    img = c.images[0].astype(float) / SCALE
    assert img.shape == (len(CHANNELS), 64, 25)
    centre, reads_rows = 12, img[:, 4:, 12] > 0
    rows = reads_rows[3]  # rows holding a read (strand set)
    base_value = {"A": 0.25, "C": 0.5, "G": 0.75, "T": 1.0}
    assert rows.sum() >= 15
    share_alt = np.mean(np.isclose(img[0, 4:, centre][rows], base_value[alt], atol=0.01))
    assert share_alt > 0.9  # base channel: the reads show the alternate base
    assert np.isclose(img[0, :4, centre], base_value[ref.seq[pos]], atol=0.01).all()  # ref rows
    assert np.mean(img[4, 4:, centre][rows] == 1.0) > 0.9  # supports-the-alternate channel
    assert np.mean(img[5, 4:, centre][rows] == 1.0) > 0.9  # differs-from-reference channel
    assert np.mean(img[5, 4:, centre - 3][rows] == 1.0) < 0.1  # ... but not next to it
    assert c.allele_fraction[0] > 0.9
    assert label(c, list(sample.variants)).tolist() == [2]


def test_scores_match_scikit_learn():
    truth = [Variant(10, "A", "C", 1), Variant(20, "G", "T", 2), Variant(30, "A", "AT", 1),
             Variant(40, "C", "G", 1)]
    calls = [Variant(10, "A", "C", 1), Variant(20, "G", "T", 1), Variant(50, "T", "G", 1),
             Variant(30, "A", "AT", 1)]
    got = score(calls, truth)
    keys = sorted({(v.allele, v.genotype) for v in truth + calls})
    y_true = [k in {(v.allele, v.genotype) for v in truth} for k in keys]
    y_pred = [k in {(v.allele, v.genotype) for v in calls} for k in keys]
    assert got.precision == pytest.approx(precision_score(y_true, y_pred))
    assert got.recall == pytest.approx(recall_score(y_true, y_pred))
    assert got.f1 == pytest.approx(f1_score(y_true, y_pred))
    assert score(calls, truth, kind="indel").f1 == 1.0
    assert score(calls, truth, start=35).tp == 0


def test_threshold_caller_follows_its_thresholds():
    from introdl.health.genomics.pileup import Candidates
    c = Candidates([Variant(i, "A", "C", 0) for i in range(4)], np.zeros((4, 6, 8, 5), np.uint8),
                   np.array([10, 10, 10, 10]), np.array([1, 3, 6, 9]))
    assert ThresholdCaller(0.2, 0.8, 2).predict(c).tolist() == [0, 1, 1, 2]
    assert ThresholdCaller(0.2, 0.8, 4).predict(c).tolist() == [0, 0, 1, 2]
