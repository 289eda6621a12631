"""DeepVariant's idea: call variants by classifying pileup images with a CNN (Lecture 12 B).

Truth set (simulated, :mod:`introdl.health.genomics.mutate`): diploid samples made from the
real lambda phage genome (Debian ``bowtie2-examples``) with SNPs and small indels at stated
rates, het and hom-alt. Reads are simulated from each sample (:mod:`...reads`: 100-base
single-end reads, substitutions rising along the read, indel errors in homopolymers,
calibrated noisy base qualities, and *systematic* errors: the base after a GGC motif, in
the read's sequencing direction, misread with probability ``motif_rate`` at a lowered
quality, so at each such site on one strand only, as Nakamura et al. 2011 found on Illumina
machines) at each ``coverages`` x ``error_rates`` setting and aligned to the *unmodified*
reference with the real bowtie2 (one thread) into a real sorted, indexed BAM. Candidate
sites and their 6-channel pileup images come from the BAM via pysam (:mod:`...pileup`).

Held out: ``train_samples`` independent training genomes contribute only candidates left of
``split`` x genome length; ``test_samples`` other genomes are scored only right of it, so
no test variant, read or region is used for training or for choosing a threshold. One CNN
per variant type (SNP, indel) is trained on the training candidates of every setting; the
allele-fraction threshold caller's three thresholds are chosen per setting and variant
type by F1 on the same training candidates (it counts every read that carries the allele;
it has no base-quality or strand-bias filter, as the lecture's baseline has none). Both are
scored (genotype-aware precision/recall/F1, :mod:`...evaluate`) on the test genomes'
held-out region, per setting and type. The systematic errors are what the comparison is
about: an allele fraction cannot tell a one-strand, low-quality motif error at 15-30% from
a het SNP at low coverage, while the pileup image shows strand and quality.

The bowtie2 example reads (``reads_1/2.fq.gz``: 10,000 pairs that bowtie2's authors made
with their ``simulate.pl`` from a haploid lambda with random SNPs) go through the same
pipeline and the trained CNN; with no truth for them, what it calls is reported as facts.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from introdl.config import require
from introdl.engine.progress import ProgressBar
from introdl.experiment import Claim, Fact, experiment
from introdl.health.genomics.align import align, alignment_rate, build_index
from introdl.health.genomics.caller import (
    calls,
    fit_thresholds,
    predict_cnn,
    train_cnn,
)
from introdl.health.genomics.evaluate import Score, score
from introdl.health.genomics.mutate import mutate
from introdl.health.genomics.pileup import (
    CHANNELS,
    SCALE,
    Candidates,
    find_candidates,
    label,
    pileup_images,
    read_alignments,
)
from introdl.health.genomics.reads import ErrorModel, motif_sites, simulate_reads
from introdl.health.genomics.reference import lambda_reads, load_lambda
from introdl.report.plots import figure
from introdl.run import Run

KINDS = ("snp", "indel")
CALLERS = ("cnn", "threshold")


@dataclass
class DeepVariantConfig:
    coverages: tuple[int, ...] = (10, 20, 30, 50)  # mean read depth of each setting
    error_rates: tuple[float, ...] = (0.01, 0.04)  # mean substitution rate per base
    motif: str = "GGC"  # systematic errors at the base after it, on one strand per site
    motif_rate: float = 0.3  # probability of that systematic error (0: none)
    train_samples: int = 6  # independent training genomes (their left part only)
    test_samples: int = 2  # independent test genomes (their right part only)
    split: float = 0.6  # training region = [0, split x length); test = the rest
    snp_rate: float = 0.004  # truth SNPs per base
    indel_rate: float = 0.002  # truth indels per base (1-4 bases, insertion or deletion)
    hom_fraction: float = 1 / 3  # share of variants that are hom-alt (the rest het)
    read_length: int = 100
    height: int = 64  # pileup rows (4 reference rows + up to 60 reads)
    width: int = 25  # pileup columns (reference positions centred on the site)
    epochs: int = 12  # CNN training epochs (fixed; no early stopping)
    real_reads: bool = True  # also call the bowtie2 example reads with the trained CNN

    def validate(self) -> None:
        require(self, "coverages", len(self.coverages) >= 1 and min(self.coverages) >= 2,
                "give one or more depths >= 2, e.g. --set coverages=10,30")
        require(self, "error_rates", len(self.error_rates) >= 1
                and all(0 <= e <= 0.2 for e in self.error_rates),
                "give substitution rates in [0, 0.2], e.g. --set error_rates=0.01,0.04")
        require(self, "motif", 1 <= len(self.motif) <= 6 and set(self.motif) <= set("ACGT"),
                "give 1-6 bases of ACGT, e.g. --set motif=GGC")
        require(self, "motif_rate", 0 <= self.motif_rate <= 1, "must be in [0, 1]")
        require(self, "train_samples", self.train_samples >= 1, "must be at least 1")
        require(self, "test_samples", self.test_samples >= 1, "must be at least 1")
        require(self, "split", 0.2 <= self.split <= 0.8, "must be in [0.2, 0.8]")
        require(self, "snp_rate", 0 <= self.snp_rate <= 0.02, "must be in [0, 0.02]")
        require(self, "indel_rate", 0 <= self.indel_rate <= 0.01, "must be in [0, 0.01]")
        require(self, "hom_fraction", 0 <= self.hom_fraction <= 1, "must be in [0, 1]")
        require(self, "read_length", 50 <= self.read_length <= 250, "must be in [50, 250]")
        require(self, "height", self.height >= 12, "must be at least 12 rows")
        require(self, "width", self.width >= 5 and self.width % 2 == 1,
                "must be an odd number >= 5 (the site is the centre column)")
        require(self, "epochs", self.epochs >= 1, "must be at least 1")


def _tag(cov: int, err: float) -> str:
    return f"{cov}x_err{err:g}".replace(".", "p")


def _examples(cfg, sample, cov, err, seed, index, folder: Path, ref_seq: str):
    """Simulate, align and encode one sample at one setting: its candidates (all sites)."""
    model = ErrorModel(rate=err, motif=cfg.motif, motif_rate=cfg.motif_rate)
    reads = simulate_reads(sample, cov, seed, model, cfg.read_length)
    fq = reads.write_fastq(folder / "reads.fq")
    bam = align(index, [fq], folder / "reads.bam", threads=1, seed=seed % (1 << 31))
    aligned = read_alignments(bam, ref_seq)
    alleles = find_candidates(aligned, ref_seq)
    return pileup_images(aligned, ref_seq, alleles, cfg.height, cfg.width), alignment_rate(bam)


@experiment(
    name="deepvariant", lecture=12,
    title="DeepVariant: variant calling as pileup-image classification (lambda phage, "
          "simulated truth)",
    claims=[
        Claim("The lecture's comparison: a CNN on DeepVariant-style pileup images genotypes "
              "variants better than an allele-fraction threshold caller with training-tuned "
              "thresholds: F1 gain, mean over coverages, error rates and SNP/indel (simulated "
              "reads with strand-specific GGC-motif errors, real bowtie2 alignments, held-out "
              "genome region; needs the default run's training set)",
              metric="cnn_minus_threshold_f1", expected=0.02, compare=">=", full_only=True),
        Claim("On SNPs, the variant type the simulated systematic (GGC-motif, one-strand, "
              "low-quality) errors imitate, the CNN's genotype F1 beats the tuned threshold "
              "caller's: gain, mean over settings",
              metric="cnn_minus_threshold_f1_snp", expected=0.02, compare=">=",
              quick_expected=0.005),
        Claim("At the simulated systematic-error sites (hom-ref candidates after GGC / before "
              "GCC) the CNN makes far fewer false SNP calls than the threshold caller: "
              "CNN false calls / threshold false calls there (test region, all settings)",
              metric="motif_fp_ratio", expected=0.7, compare="<="),
        Claim("The CNN's advantage is largest at low coverage: its F1 gain at the lowest "
              "coverage minus its gain at the highest (needs the default run's settings)",
              metric="gain_low_minus_high", expected=0.0, compare=">", full_only=True),
        Claim("pileup images (6 channels) of a het SNP, a hom-alt SNP, a systematic "
              "(GGC-motif) error site and a random sequencing-error site; F1 vs coverage per "
              "caller (figures)"),
    ],
    facts=[
        Fact("the CNN's F1 gain at the highest random-error rate minus its gain at the lowest "
             "(the lecture: largest at high error rates; here the systematic errors that the "
             "CNN exploits do not scale with the random error rate, so this stays small)",
             metric="gain_high_minus_low_error"),
        Fact("CNN F1 (mean over settings and types)", metric="cnn_f1_mean"),
        Fact("threshold caller F1 (same mean)", metric="threshold_f1_mean"),
        Fact("CNN minus threshold F1 on SNPs only (mean over settings)",
             metric="cnn_minus_threshold_f1_snp"),
        Fact("... on indels only (their errors concentrate in homopolymers, a context the "
             "pileup shows and an allele fraction does not)",
             metric="cnn_minus_threshold_f1_indel"),
        Fact("hom-ref SNP candidates at systematic-error sites (test region, all settings)",
             metric="motif_sites"),
        Fact("... called as variants by the CNN", metric="cnn_motif_fp"),
        Fact("... called as variants by the threshold caller", metric="threshold_motif_fp"),
        Fact("truth variants found among the candidates (test region, mean over settings)",
             metric="candidate_recall"),
        Fact("bowtie2 example reads (no truth): SNPs the CNN calls hom-alt",
             metric="real_snp_hom"),
        Fact("... SNPs called het", metric="real_snp_het"),
        Fact("... indels called (het + hom-alt; simulate.pl inserts none)",
             metric="real_indel"),
        Fact("... the threshold caller (thresholds of the highest-coverage, high-error "
             "setting) calls this many SNPs", metric="real_threshold_snp"),
        Fact("... and this many indels", metric="real_threshold_indel"),
        Fact("... median allele fraction of the SNPs called hom-alt", metric="real_hom_af"),
        Fact("... overall bowtie2 alignment rate of the example pairs",
             metric="real_alignment_rate"),
    ],
    quick={"coverages": (10, 30), "error_rates": (0.04,), "train_samples": 3, "epochs": 10,
           "real_reads": False},
)
def deepvariant(cfg: DeepVariantConfig, run: Run) -> dict[str, float]:
    t0 = time.process_time()
    ref = load_lambda()
    n, cut = len(ref), int(cfg.split * len(ref))
    roles = [("test", i) for i in range(cfg.test_samples)] + [
        ("train", i) for i in range(cfg.train_samples)]
    genome = {r: mutate(ref, run.seed * 1000 + k, cfg.snp_rate, cfg.indel_rate,
                        cfg.hom_fraction) for k, r in enumerate(roles)}
    settings = [(c, e) for c in cfg.coverages for e in cfg.error_rates]
    data: dict[tuple, dict[str, list]] = {}  # setting -> role -> [(candidates, truth)]
    rates, cand_recall = [], []
    with tempfile.TemporaryDirectory(prefix="deepvariant-") as tmp:
        folder = Path(tmp)
        index = build_index(ref, folder / "index")
        with ProgressBar(len(settings) * len(roles), "simulate+align", run.progress) as bar:
            for si, s in enumerate(settings):
                data[s] = {"train": [], "test": []}
                for k, role in enumerate(roles):
                    seed = run.seed * 100_000 + si * 100 + k
                    c, rate = _examples(cfg, genome[role], *s, seed, index, folder, ref.seq)
                    rates.append(rate)
                    pos = np.array([v.pos for v in c.alleles])
                    truth = list(genome[role].variants)
                    if role[0] == "test":
                        found = {v.allele for v in c.alleles}
                        cand_recall += [v.allele in found for v in truth if v.pos >= cut]
                    keep = pos >= cut if role[0] == "test" else pos < cut
                    data[s][role[0]].append((c.subset(keep), truth))
                    bar.update(si * len(roles) + k + 1, loss=float("nan"), samples=0)
        train = [pair for s in settings for pair in data[s]["train"]]
        models = {}
        for kind in KINDS:  # one CNN per variant type, as the threshold caller has
            x = np.concatenate([c.subset(_is(c, kind)).images for c, _ in train])
            y = np.concatenate([label(c, t)[_is(c, kind)] for c, t in train])
            run.print(f"simulated: {len(y)} {kind} training candidates (hom-ref/het/hom-alt "
                      f"{np.bincount(y, minlength=3).tolist()}) from {cfg.train_samples} "
                      f"genomes x {len(settings)} settings")
            with ProgressBar(cfg.epochs, f"train {kind} CNN", run.progress) as bar:
                models[kind] = train_cnn(x, y, seed=run.seed, epochs=cfg.epochs,
                                         width=cfg.width, progress=_ticker(bar, len(y)))
        run.print(f"bowtie2 aligned {np.mean(rates):.1%} of the simulated reads")
        results: dict[tuple, dict] = {}
        motif = _motif_positions(ref.seq, cfg.motif) if cfg.motif_rate > 0 else np.zeros(0, int)
        for s in settings:
            res: dict = {}
            for kind in KINDS:
                test = [(c.subset(_is(c, kind)), t) for c, t in data[s]["test"]]
                thr = fit_thresholds(data[s]["train"], 0, cut, kind)
                res[("thr", kind)] = thr
                for caller in CALLERS:
                    pred = [_classes(models[kind], c) if caller == "cnn" else thr.predict(c)
                            for c, _ in test]
                    res[(caller, kind)] = _total([score(calls(c, g), t, kind, cut, n)
                                                  for (c, t), g in zip(test, pred, strict=True)])
                    res[(caller, kind, "motif_fp")] = sum(
                        int(((g > 0) & (label(c, t) == 0) & np.isin(_pos(c), motif)).sum())
                        for (c, t), g in zip(test, pred, strict=True))
                res[("motif_sites", kind)] = sum(
                    int(((label(c, t) == 0) & np.isin(_pos(c), motif)).sum()) for c, t in test)
            results[s] = res
        thr = {k: results[(max(cfg.coverages), max(cfg.error_rates))][("thr", k)]
               for k in KINDS}
        real = _real_reads(cfg, models, thr, ref, index, folder) if cfg.real_reads else {}
    metrics = _metrics(results, cfg, settings)
    metrics["candidate_recall"] = float(np.mean(cand_recall))
    metrics["train_candidates"] = float(len(y))
    metrics |= real
    table = _table(results, settings)
    run.print(table)
    metrics["cpu_seconds"] = time.process_time() - t0
    run.save_text("results.md", "Simulated truth: mutated lambda phage genomes, simulated "
                  f"reads, real bowtie2 alignments; {cfg.train_samples} training genomes "
                  f"(region [0, {cut})), scored on {cfg.test_samples} test genomes' held-out "
                  f"region [{cut}, {n}).\n\n{table}\n" + _real_text(real))
    run.save_figure(_f1_figure(results, cfg), "f1_vs_coverage.png")
    s = (min(cfg.coverages, key=lambda c: abs(c - 20)), cfg.error_rates[-1])  # ~20x, high error
    cands, truth = data[s]["test"][0]
    cands = cands.subset(_is(cands, "snp"))
    run.save_figure(_pileup_figure(cands, truth, predict_cnn(models["snp"], cands.images), s,
                                   motif, cfg.motif), "pileups.png")
    return metrics


def _pos(c: Candidates) -> np.ndarray:
    return np.array([v.pos for v in c.alleles], dtype=np.int64)


def _motif_positions(seq: str, motif: str) -> np.ndarray:
    """Reference positions where the simulated motif errors fall (either strand)."""
    return np.union1d(*motif_sites(seq, motif))


def _is(c: Candidates, kind: str) -> np.ndarray:
    return c.is_snp() if kind == "snp" else ~c.is_snp()


def _classes(model, c: Candidates) -> np.ndarray:
    return predict_cnn(model, c.images).argmax(1) if len(c.alleles) else np.zeros(0, int)


def _ticker(bar: ProgressBar, n: int):
    epoch = [0]

    def tick(loss: float) -> None:
        epoch[0] += 1
        bar.update(epoch[0], loss=loss, samples=epoch[0] * n)

    return tick


def _total(parts: list[Score]) -> Score:
    return Score(sum(p.tp for p in parts), sum(p.fp for p in parts), sum(p.fn for p in parts))


def _real_reads(cfg, models, thr, ref, index, folder: Path) -> dict[str, float]:
    """The bowtie2 example pairs through the same pipeline and the trained CNNs."""
    bam = align(index, list(lambda_reads()), folder / "real.bam", threads=1)
    aligned = read_alignments(bam, ref.seq)
    cands = pileup_images(aligned, ref.seq, find_candidates(aligned, ref.seq), cfg.height,
                          cfg.width)
    cls = np.zeros(len(cands.alleles), dtype=int)
    by_af = np.zeros(len(cands.alleles), dtype=int)
    for kind in KINDS:
        sub = cands.subset(_is(cands, kind))
        cls[_is(cands, kind)] = _classes(models[kind], sub)
        by_af[_is(cands, kind)] = thr[kind].predict(sub)
    snp = cands.is_snp()
    af = cands.allele_fraction
    hom, het = snp & (cls == 2), snp & (cls == 1)
    return {
        "real_candidates": float(len(cands.alleles)),
        "real_snp_hom": float(hom.sum()),
        "real_snp_het": float(het.sum()),
        "real_indel": float((~snp & (cls > 0)).sum()),
        "real_indel_af": float(np.median(af[~snp & (cls > 0)])) if (~snp & (cls > 0)).any()
        else float("nan"),
        "real_threshold_snp": float((snp & (by_af > 0)).sum()),
        "real_threshold_indel": float((~snp & (by_af > 0)).sum()),
        "real_hom_af": float(np.median(af[hom])) if hom.any() else float("nan"),
        "real_het_af": float(np.median(af[het])) if het.any() else float("nan"),
        "real_alignment_rate": alignment_rate(bam),
        "real_depth": float(np.median(cands.depth)) if len(cands.alleles) else 0.0,
    }


def _real_text(real: dict) -> str:
    if not real:
        return ""
    return (f"\nbowtie2 example reads (made by bowtie2's simulate.pl: haploid, no truth "
            f"shipped): {real['real_alignment_rate']:.1%} aligned; the CNN calls "
            f"{real['real_snp_hom']:.0f} hom-alt SNPs (median allele fraction "
            f"{real['real_hom_af']:.2f}), {real['real_snp_het']:.0f} het SNPs, "
            f"{real['real_indel']:.0f} indels (median allele fraction "
            f"{real['real_indel_af']:.2f}), among {real['real_candidates']:.0f} candidates; the "
            f"threshold caller calls {real['real_threshold_snp']:.0f} SNPs and "
            f"{real['real_threshold_indel']:.0f} indels.\n")


def _metrics(results, cfg, settings) -> dict[str, float]:
    m: dict[str, float] = {}
    for (cov, err), res in results.items():
        for caller in CALLERS:
            for kind in KINDS:
                sc = res[(caller, kind)]
                t = f"{caller}_{kind}_{_tag(cov, err)}"
                m[f"{t}_f1"], m[f"{t}_precision"], m[f"{t}_recall"] = (sc.f1, sc.precision,
                                                                       sc.recall)
    for caller in CALLERS:
        m[f"{caller}_f1_mean"] = float(np.mean([results[s][(caller, k)].f1
                                                for s in settings for k in KINDS]))
    m["cnn_minus_threshold_f1"] = m["cnn_f1_mean"] - m["threshold_f1_mean"]
    for k in KINDS:
        m[f"cnn_minus_threshold_f1_{k}"] = float(np.mean([
            results[s][("cnn", k)].f1 - results[s][("threshold", k)].f1 for s in settings]))

    def gain(cov):
        return float(np.mean([results[(cov, e)][("cnn", k)].f1
                              - results[(cov, e)][("threshold", k)].f1
                              for e in cfg.error_rates for k in KINDS]))

    lo, hi = min(cfg.coverages), max(cfg.coverages)
    m["gain_lowest_coverage"], m["gain_highest_coverage"] = gain(lo), gain(hi)
    m["gain_low_minus_high"] = gain(lo) - gain(hi)

    def gain_at_error(err):
        return float(np.mean([results[(c, err)][("cnn", k)].f1
                              - results[(c, err)][("threshold", k)].f1
                              for c in cfg.coverages for k in KINDS]))

    e_lo, e_hi = min(cfg.error_rates), max(cfg.error_rates)
    m["gain_high_minus_low_error"] = (gain_at_error(e_hi) - gain_at_error(e_lo)
                                      if e_hi > e_lo else float("nan"))
    for caller in CALLERS:
        m[f"{caller}_motif_fp"] = float(sum(results[s][(caller, "snp", "motif_fp")]
                                            for s in settings))
    m["motif_sites"] = float(sum(results[s][("motif_sites", "snp")] for s in settings))
    m["motif_fp_ratio"] = (m["cnn_motif_fp"] / m["threshold_motif_fp"]
                           if m["threshold_motif_fp"] else float("nan"))
    return m


def _table(results, settings) -> str:
    rows = ["| coverage | error rate | type | CNN P / R / F1 | threshold P / R / F1 "
            "| thresholds (het, hom, min reads) |", "|---|---|---|---|---|---|"]
    for cov, err in settings:
        res = results[(cov, err)]
        for kind in KINDS:
            c, t, thr = res[("cnn", kind)], res[("threshold", kind)], res[("thr", kind)]
            rows.append(f"| {cov}x | {err:g} | {kind} | {c.precision:.3f} / {c.recall:.3f} / "
                        f"**{c.f1:.3f}** | {t.precision:.3f} / {t.recall:.3f} / "
                        f"**{t.f1:.3f}** | {thr.het:g}, {thr.hom:g}, {thr.min_support} |")
    return "\n".join(rows)


def _f1_figure(results, cfg):
    fig, axes = figure(2, 1, size=(3.6, 3.0), squeeze=False)
    for ax, kind in zip(axes[0], KINDS, strict=True):
        for j, err in enumerate(cfg.error_rates):
            for caller, style in (("cnn", "o-"), ("threshold", "s--")):
                ax.plot(cfg.coverages, [results[(c, err)][(caller, kind)].f1
                                        for c in cfg.coverages], style, color=f"C{j}",
                        label=f"{'CNN' if caller == 'cnn' else 'AF threshold'}, error {err:g}")
        ax.set_title(f"{kind.upper()}s (held-out region)", fontsize=9)
        ax.set_xlabel("coverage (x)")
        ax.set_xticks(list(cfg.coverages))
    axes[0, 0].set_ylabel("genotype F1")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("simulated reads of mutated lambda genomes, bowtie2 alignments", fontsize=8)
    fig.tight_layout()
    return fig


def _pileup_figure(cands: Candidates, truth, probs, setting, motif: np.ndarray, name: str):
    y = label(cands, truth)
    snp = cands.is_snp()
    at_motif = np.isin(_pos(cands), motif)
    picks = []
    af = cands.allele_fraction
    for cls, what, typical, where in (
            (1, "het SNP", 0.5, snp), (2, "hom-alt SNP", 1.0, snp),
            (0, f"systematic error\n(after {name}, one strand)", 0.3, snp & at_motif),
            (0, "random sequencing error", 0.2, snp & ~at_motif)):
        idx = np.flatnonzero(where & (y == cls))  # the example nearest the class's typical AF
        if len(idx):
            picks.append((int(idx[np.argmin(np.abs(af[idx] - typical))]), what))
    fig, axes = figure(len(CHANNELS), max(len(picks), 1), size=(1.3, 2.6), squeeze=False)
    for r, (i, what) in enumerate(picks):
        v = cands.alleles[i]
        for ch, ax in enumerate(axes[r]):
            ax.imshow(cands.images[i, ch], cmap="viridis", vmin=0, vmax=250,
                      aspect="auto", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(CHANNELS[ch], fontsize=7)
        centre = cands.images[i, :, 4:, cands.images.shape[-1] // 2]  # read rows, the site
        alt = centre[4] == SCALE  # rows whose read supports the allele
        fwd, rev = int((alt & (centre[3] == SCALE)).sum()), int((alt & (centre[3] == SCALE // 2)
                                                                 ).sum())
        axes[r, 0].set_ylabel(f"{what}\n{v.ref}>{v.alt} at {v.pos}\nAF "
                              f"{cands.allele_fraction[i]:.2f} (alt reads fwd/rev {fwd}/{rev})"
                              f"\nCNN p(het/hom) {probs[i, 1]:.2f}/{probs[i, 2]:.2f}",
                              fontsize=6)
    fig.suptitle(f"pileup images (rows: 4 reference rows, then reads; centre column = site); "
                 f"simulated {setting[0]}x, error {setting[1]:g}", fontsize=7)
    fig.tight_layout()
    return fig

