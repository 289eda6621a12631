"""FUNIT / COCO-FUNIT: the style data, the AdaIN pieces, the two style encoders, the NaN guard
that keeps the last good translator, and a tiny run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rich.console import Console

import introdl.adaptation.funit.train as funit_train
from introdl.adaptation.funit.evaluate import colour_adain, few_shot_tasks
from introdl.adaptation.funit.networks import MultiTaskDiscriminator, Translator
from introdl.adaptation.funit.styles import StyleSetConfig, make_styles, render_style, style_part
from introdl.adaptation.funit.train import FunitConfig, load_funit, train_funit
from introdl.errors import TrainingDiverged, UsageError
from introdl.experiment import get
from introdl.nn.adain import channel_stats
from introdl.nn.adain_blocks import AdaINParams, AdaINResBlock
from introdl.runner import run_experiment

SMALL = StyleSetConfig(train_styles=3, test_styles=2)
TINY = FunitConfig(steps=4, batch_size=4, width=4, code=8, disc_width=4, checkpoint_every=1)


def test_styles_are_deterministic_distinct_and_split_by_typeface():
    a, b = make_styles(SMALL), make_styles(SMALL)
    assert a == b and len(a) == 5
    assert len({s.font for s in a}) == 5  # unseen styles never share a training typeface
    other = make_styles(StyleSetConfig(train_styles=3, test_styles=2, data_seed=7))
    assert [s.fg for s in other] != [s.fg for s in a]
    pairs = np.array([[*s.fg, *s.bg] for s in a])
    dist = np.linalg.norm(pairs[:, None] - pairs[None], axis=-1)[np.triu_indices(5, 1)]
    assert dist.min() >= SMALL.min_distance
    x1, d1 = render_style(a[0], 6, 1, SMALL)
    x2, d2 = render_style(a[0], 6, 1, SMALL)
    assert np.array_equal(x1, x2) and np.array_equal(d1, d2)
    part = style_part(a, "train", 4, SMALL)
    assert part.x.shape == (20, 3, 32, 32) and 0 <= part.x.min() and part.x.max() <= 1
    assert not torch.equal(part.x, style_part(a, "test", 4, SMALL).x)  # parts differ


def test_stated_noise_and_jitter_parameters_act_as_stated():
    clean = StyleSetConfig(train_styles=3, test_styles=2, jitter=0.0, noise=0.0)
    style = next(s for s in make_styles(clean) if s.pattern in ("flat", "gradient", "stripes",
                                                                  "checker"))
    x, _ = render_style(style, 4, 0, clean)
    noisy, _ = render_style(style, 4, 0, StyleSetConfig(train_styles=3, test_styles=2,
                                                        jitter=0.0, noise=20.0))
    # the corner pixel is background: without noise it is the same in every image
    # (flat/gradient/stripes) or takes at most two values (checker)
    corners = {tuple(c) for c in x[:, 0, 0]}
    assert len(corners) <= (2 if style.pattern == "checker" else 1) or style.pattern == "stripes"
    assert np.abs(noisy.astype(float) - x).mean() > 5


def test_adain_params_start_as_instance_norm_and_the_block_takes_the_asked_statistics():
    params = AdaINParams(code=8, channels=6, count=2)
    torch.nn.init.zeros_(params.mlp[-1].weight)
    torch.nn.init.zeros_(params.mlp[-1].bias)
    (m1, s1), (m2, s2) = params(torch.randn(3, 8))
    assert m1.shape == (3, 6) and torch.equal(m1, torch.zeros(3, 6))
    assert torch.equal(s1, torch.ones(3, 6))
    block = AdaINResBlock(6)
    x = torch.randn(3, 6, 8, 8)
    mean, std = torch.rand(3, 6) * 4 - 2, torch.rand(3, 6) + 0.5
    residual = block(x, (m1, s1), (mean, std)) - x  # the second AdaIN's output
    got_mean, got_std = channel_stats(residual)
    torch.testing.assert_close(got_mean.flatten(2).squeeze(-1), mean, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got_std.flatten(2).squeeze(-1), std, atol=1e-3, rtol=1e-3)


def test_coco_style_code_depends_on_the_content_and_funits_does_not():
    torch.manual_seed(0)
    examples = torch.rand(2, 3, 3, 32, 32)
    a, b = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    funit = Translator(width=4, code=8, coco=False)
    coco = Translator(width=4, code=8, coco=True)
    torch.testing.assert_close(funit.style_code(examples, a), funit.style_code(examples, b))
    assert (coco.style_code(examples, a) - coco.style_code(examples, b)).abs().max() > 1e-4
    # FUNIT's class code is the mean of the K examples' codes
    each = torch.stack([funit.style_code(examples[:, i:i + 1], a) for i in range(3)], 1)
    torch.testing.assert_close(funit.style_code(examples, a), each.mean(1))
    assert coco(a, examples).shape == (2, 3, 32, 32)
    logits, feats = MultiTaskDiscriminator(styles=5, width=4).score(a, torch.tensor([0, 4]))
    assert logits.shape == (2, 8, 8) and feats.shape == (2, 8)


def test_few_shot_tasks_pair_every_content_with_k_examples_of_each_style():
    content, digit = torch.rand(3, 3, 32, 32), torch.tensor([1, 2, 3])
    pools = {5: torch.zeros(6, 3, 32, 32), 7: torch.ones(6, 3, 32, 32)}
    t = few_shot_tasks(content, digit, pools, k=2, seed=0)
    assert t.examples.shape == (6, 2, 3, 32, 32)
    assert torch.equal(t.style, torch.tensor([5, 5, 5, 7, 7, 7]))
    assert torch.equal(t.examples[t.style == 7], torch.ones(3, 2, 3, 32, 32))
    assert torch.equal(t.digit, torch.tensor([1, 2, 3, 1, 2, 3]))


def test_colour_adain_gives_the_examples_pixel_statistics():
    x = torch.rand(2, 3, 8, 8) * 0.2 + 0.4
    ex = torch.rand(2, 4, 3, 8, 8) * 0.2 + 0.4  # narrow ranges: nothing is clipped
    out = colour_adain(x, ex)
    pooled = ex.permute(0, 2, 1, 3, 4).flatten(2)
    torch.testing.assert_close(out.mean((2, 3)), pooled.mean(2), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out.std((2, 3), unbiased=False), pooled.std(2, unbiased=False),
                               atol=1e-3, rtol=1e-3)


def _data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(12, 3, 32, 32, generator=g), torch.arange(12) % 3


def test_translator_trains_reloads_and_repeats_with_the_seed(tmp_path):
    x, s = _data()
    a, hist = train_funit(x, s, 3, True, TINY, 0, tmp_path / "a.pt")
    assert all(len(v) == TINY.steps and np.isfinite(v).all() for v in hist.values())
    b, _ = train_funit(x, s, 3, True, TINY, 0, tmp_path / "b.pt")
    again, step = load_funit(tmp_path / "a.pt", TINY, coco=True)
    assert step == TINY.steps
    ex = x[:4, None]
    torch.testing.assert_close(a.translate(x[:4], ex), b.translate(x[:4], ex))
    torch.testing.assert_close(again.translate(x[:4], ex), a.translate(x[:4], ex))


def test_divergence_stops_in_one_line_and_keeps_the_last_good_translator(tmp_path, monkeypatch):
    x, s = _data()
    real = funit_train.lsgan_generator_loss
    calls = {"n": 0}

    def poisoned(logits):
        calls["n"] += 1  # one call per step: steps 0, 1, 2 are finite, step 3 is NaN
        return real(logits) * (float("nan") if calls["n"] > 3 else 1.0)

    monkeypatch.setattr(funit_train, "lsgan_generator_loss", poisoned)
    path = tmp_path / "t.pt"
    with pytest.raises(TrainingDiverged, match=r"^FUNIT: the GAN diverged \(gan loss became "
                       r"NaN/inf at step 3\); kept the last good translator \(step 2\)") as e:
        train_funit(x, s, 3, False, TINY, 0, path, desc="FUNIT")
    assert "\n" not in str(e.value)
    kept, step = load_funit(path, TINY, coco=False)
    # the weights after 3 updates gave the NaN, so the kept ones are those after 2
    assert step == 2 and all(torch.isfinite(p).all() for p in kept.parameters())
    monkeypatch.setattr(funit_train, "lsgan_generator_loss", real)
    ok, _ = train_funit(x, s, 3, False, FunitConfig(**{**TINY.__dict__, "steps": 2}), 0,
                        tmp_path / "ok.pt")
    torch.testing.assert_close(kept.translate(x[:2], x[:2, None]),
                               ok.translate(x[:2], x[:2, None]))


def test_tiny_run_writes_results_figures_and_metrics_by_k(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("funit"), out=out, quick=True, device="cpu",
                   sets=["train_styles=3", "test_styles=2", "train_per_style=8",
                         "judge_per_style=8", "example_per_style=5", "test_per_style=4",
                         "judge_steps=2", "steps=2", "width=4", "code=8", "batch_size=4"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for model in ("funit", "coco", "content_baseline", "example_baseline",
                  "colour_adain_baseline"):
        for k in (1, 2, 5):
            for key in ("content_acc", "style_acc", "feature_dist"):
                assert np.isfinite(m[f"{model}_{key}_k{k}"])
    mean = np.mean([m[f"coco_content_acc_k{k}"] - m[f"funit_content_acc_k{k}"] for k in (1, 2, 5)])
    assert m["coco_minus_funit_content"] == pytest.approx(mean)
    assert m["content_baseline_style_acc_k1"] <= 0.5  # content images are of training styles
    assert "COCO-FUNIT" in (out / "results.md").read_text()
    for name in ("grid.png", "metrics-by-k.png"):
        assert (out / name).stat().st_size > 5_000


@pytest.mark.parametrize("sets, match", [
    (["example_per_style=3"], "at least 5"),
    (["train_styles=1"], "at least 2"),
    (["lr=0"], "lr=0.0 is out of range"),
    (["data_seed=-1"], "must be >= 0"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("funit"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
