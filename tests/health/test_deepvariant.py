"""End to end: the deepvariant experiment simulates, aligns, trains, scores and draws."""

from __future__ import annotations

import json
import shutil

import pytest
from rich.console import Console

from introdl.errors import DataUnavailable, UsageError
from introdl.experiment import get
from introdl.health.genomics import reference
from introdl.health.genomics.reference import LAMBDA_FASTA
from introdl.runner import run_experiment

ready = pytest.mark.skipif(
    not (shutil.which("bowtie2") and shutil.which("samtools") and LAMBDA_FASTA.is_file()),
    reason="bowtie2, samtools or bowtie2-examples missing (bash scripts/setup)")


@ready
def test_tiny_run_scores_both_callers_and_draws(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("deepvariant"), out=out, quick=True, device="cpu",
                   sets=["coverages=8,12", "error_rates=0.03", "train_samples=1",
                         "test_samples=1", "epochs=2"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for caller in ("cnn", "threshold"):
        for kind in ("snp", "indel"):
            for cov in (8, 12):
                assert 0 <= m[f"{caller}_{kind}_{cov}x_err0p03_f1"] <= 1
    assert m["cnn_minus_threshold_f1"] == pytest.approx(
        m["cnn_f1_mean"] - m["threshold_f1_mean"])
    assert m["threshold_f1_mean"] > 0.5  # the baseline finds most variants even at 8-12x
    assert m["candidate_recall"] > 0.8
    # the systematic GGC-motif errors (on by default) make hom-ref candidates at motif sites
    assert m["motif_sites"] >= 5
    assert 0 <= m["cnn_motif_fp"] <= m["motif_sites"]
    assert 0 <= m["threshold_motif_fp"] <= m["motif_sites"]
    text = (out / "results.md").read_text()
    assert "Simulated" in text and "| 8x | 0.03 | snp |" in text
    for name in ("pileups.png", "f1_vs_coverage.png"):
        assert (out / name).stat().st_size > 5_000


@pytest.mark.parametrize("bad", ["split=0.95", "width=24", "coverages=1",
                                 "error_rates=0.5", "train_samples=0", "motif_rate=1.5",
                                 "motif=GGN"])
def test_bad_settings_are_refused_in_one_line(tmp_path, bad):
    with pytest.raises(UsageError) as e:
        run_experiment(get("deepvariant"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=[bad], console=Console(quiet=True), progress=False)
    assert "\n" not in str(e.value)


def test_missing_example_reads_are_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(reference, "LAMBDA_READS", (tmp_path / "a.fq.gz", tmp_path / "b.fq.gz"))
    with pytest.raises(DataUnavailable, match="bowtie2-examples") as e:
        reference.lambda_reads()
    assert "\n" not in str(e.value)
