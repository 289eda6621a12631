"""CyCADA: the NaN guard keeps the last good translator; a tiny run end to end; bad pairs."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from rich.console import Console
from torch import nn

from introdl.adaptation.cycada import (
    TranslatorConfig,
    domain_classifier_accuracy,
    load_translator,
    train_translator,
)
from introdl.errors import TrainingDiverged, UsageError
from introdl.experiment import get
from introdl.runner import run_experiment

TINY = TranslatorConfig(steps=6, batch_size=4, width=4, blocks=1, disc_width=4,
                        checkpoint_every=1)


class Flat(nn.Module):
    """A 10-class linear classifier that returns NaN after ``good_calls`` calls."""

    def __init__(self, good_calls: int = 10**9) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the same classifier every time
            self.lin = nn.Linear(3 * 16 * 16, 10)
        self.calls, self.good_calls = 0, good_calls

    def forward(self, x):
        self.calls += 1
        out = self.lin(x.flatten(1))
        return out * float("nan") if self.calls > self.good_calls else out


def images(seed: int, n: int = 12, shift: float = 0.0) -> torch.Tensor:
    return (torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 0.5
            + shift).clamp(0, 1)


def test_translator_trains_and_its_checkpoint_reloads(tmp_path):
    path = tmp_path / "t.pt"
    net, hist = train_translator(images(0), images(1, shift=0.4), Flat(), TINY, 0, path)
    assert all(len(v) == TINY.steps for v in hist.values())
    assert all(torch.isfinite(torch.tensor(v)).all() for v in hist.values())
    again, step = load_translator(path, TINY)
    assert step == TINY.steps
    x = images(2)
    torch.testing.assert_close(again.to_target(x), net.to_target(x))
    assert (net.to_target(x) - x).abs().mean() > 1e-4  # the residual generator has moved


def test_same_seed_same_translator(tmp_path):
    a, _ = train_translator(images(0), images(1), Flat(), TINY, 3, tmp_path / "a.pt")
    b, _ = train_translator(images(0), images(1), Flat(), TINY, 3, tmp_path / "b.pt")
    torch.testing.assert_close(a.to_target(images(2)), b.to_target(images(2)))


def test_monitor_is_called_on_schedule_and_does_not_change_training(tmp_path):
    seen = []

    def monitor(step, net):
        torch.rand(100)  # a monitor may draw random numbers (domain_classifier_accuracy does)
        seen.append((step, net.to_target(images(2))))

    cfg = replace(TINY, noise=2)  # training draws noise from torch's random state
    a, _ = train_translator(images(0), images(1), Flat(), cfg, 3, tmp_path / "a.pt",
                            monitor=monitor, monitor_every=2)
    b, _ = train_translator(images(0), images(1), Flat(), cfg, 3, tmp_path / "b.pt")
    assert [s for s, _ in seen] == [2, 4, 6]
    torch.testing.assert_close(a.to_target(images(2)), b.to_target(images(2)))
    torch.testing.assert_close(seen[-1][1], b.to_target(images(2)))


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "t.pt"
    # the classifier is called 4 times per step: steps 0, 1, 2 are finite, step 3 is NaN;
    # the weights after 3 updates gave the NaN, so the kept ones are those after 2
    with pytest.raises(TrainingDiverged, match=r"diverged \(semantic loss became NaN/inf at "
                       r"step 3\); kept the last good translator \(step 2\)"):
        train_translator(images(0), images(1), Flat(good_calls=12), TINY, 0, path)
    kept, step = load_translator(path, TINY)
    assert step == 2
    assert all(torch.isfinite(p).all() for p in kept.parameters())
    # the same 2 steps without a NaN give the same weights as the kept checkpoint
    ok, _ = train_translator(images(0), images(1), Flat(),
                             TranslatorConfig(**{**TINY.__dict__, "steps": 2}), 0,
                             tmp_path / "ok.pt")
    torch.testing.assert_close(kept.to_target(images(2)), ok.to_target(images(2)))


def test_tiny_run_writes_table_figures_and_every_methods_accuracy(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("cycada"), out=out, quick=True, device="cpu",
                   sets=["source=uci-digits", "target=mnist5k", "steps=5", "adapt_steps=3",
                         "gan_steps=3", "gan_batch=4", "width=4", "blocks=1", "c2st_steps=3"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    k = "uci_digits_to_mnist5k"
    for key in (f"source_only_acc_{k}", f"feature_acc_{k}", f"pixel_acc_{k}",
                f"pixel_feature_acc_{k}", f"ceiling_acc_{k}", f"gap_closed_pixel_{k}",
                f"c2st_source_{k}", f"c2st_translated_{k}"):
        assert key in m and m[key] == m[key]
    assert 0.0 <= m[f"c2st_translated_{k}"] <= 1.0
    assert m["c2st_drop"] == pytest.approx(m[f"c2st_source_{k}"] - m[f"c2st_translated_{k}"])
    assert m["pixel_gain_over_source_only"] == pytest.approx(
        m[f"pixel_acc_{k}"] - m[f"source_only_acc_{k}"])
    assert "uci-digits->mnist5k" in (out / "table.md").read_text()
    for name in ("accuracy.png", "translations.png"):
        assert (out / name).stat().st_size > 5_000


@pytest.mark.parametrize("sets, match", [
    (["source=mnist5k", "target=mnist5k"], "both 'mnist5k'"),
    (["source=syndigits", "target="], "set both"),
    (["source=mnist5k", "target=mnist-n"], "unknown domain"),
    (["gan_steps=0"], "at least 1"),
    (["noise=-1"], "no noise input"),
    (["disc_layers=5"], "at most 4"),
    (["noise=0", "lambda_mode_seeking=1"], "needs a noise input"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("cycada"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)


def test_noise_input_varies_the_translation_and_to_target_is_reproducible(tmp_path):
    cfg = TranslatorConfig(**{**TINY.__dict__, "noise": 2, "residual": False})
    net, _ = train_translator(images(0), images(1, shift=0.4), Flat(), cfg, 0, tmp_path / "n.pt")
    x = images(2)
    z1, z2 = torch.rand(len(x), 2, 16, 16), torch.rand(len(x), 2, 16, 16)
    net.eval()
    with torch.no_grad():
        assert (net.g_st(x, z1) - net.g_st(x, z2)).abs().mean() > 1e-4  # noise matters
        torch.testing.assert_close(net.g_st(x, z1), net.g_st(x, z1))
    torch.testing.assert_close(net.to_target(x), net.to_target(x))  # fixed noise seed
    again, _ = load_translator(tmp_path / "n.pt", cfg)
    torch.testing.assert_close(again.to_target(x), net.to_target(x))


def test_mode_seeking_is_logged_and_makes_the_noise_matter_more(tmp_path):
    base = {**TINY.__dict__, "noise": 2, "residual": False, "steps": 8}
    x, z1, z2 = images(2), torch.rand(12, 2, 16, 16), torch.rand(12, 2, 16, 16)
    spread = {}
    for lam in (0.0, 1.0):
        cfg = TranslatorConfig(**{**base, "lambda_mode_seeking": lam})
        net, hist = train_translator(images(0), images(1, shift=0.4), Flat(), cfg, 0,
                                     tmp_path / f"m{lam}.pt")
        assert ("mode_seeking" in hist) == (lam > 0)
        net.eval()
        with torch.no_grad():
            spread[lam] = (net.g_st(x, z1) - net.g_st(x, z2)).abs().mean().item()
    assert spread[1.0] > spread[0.0]
    with pytest.raises(ValueError, match="needs a noise input"):  # not a silent no-op
        train_translator(images(0), images(1), Flat(),
                         TranslatorConfig(**{**base, "noise": 0, "lambda_mode_seeking": 1.0}),
                         0, tmp_path / "x.pt")


def test_domain_classifier_tells_different_sets_apart_and_not_alike_ones():
    g = torch.Generator().manual_seed(0)
    dark = torch.rand(120, 3, 32, 32, generator=g) * 0.3
    light = 0.7 + torch.rand(120, 3, 32, 32, generator=g) * 0.3
    also_dark = torch.rand(120, 3, 32, 32, generator=g) * 0.3
    assert domain_classifier_accuracy(dark, light, seed=0, steps=15, batch_size=16) > 0.95
    assert domain_classifier_accuracy(dark, also_dark, seed=0, steps=15, batch_size=16) < 0.7


def test_ceiling_trains_as_long_as_the_continued_floor(monkeypatch):
    from introdl.adaptation.domains import Domain
    from introdl.adaptation.experiments import cycada as exp
    from introdl.adaptation.protocol import source_only
    from introdl.adaptation.train import Budget, accuracy, train_source_only

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(64, 3, 32, 32, generator=g), torch.randint(0, 10, (64,), generator=g)
    tgt = Domain("t", x[:48], y[:48], x[:8], x[48:], y[48:])
    budget, adapt = Budget(4, 16, 1e-3), Budget(3, 16, 1e-3)
    two_stage = source_only(tgt, budget, 0)
    train_source_only(two_stage, tgt.x_train, tgt.y_train, adapt, 0)
    assert exp._ceiling(tgt, budget, adapt, 0, False) == accuracy(two_stage, tgt.x_test,
                                                                  tgt.y_test)
    steps = []
    monkeypatch.setattr(exp, "source_only",
                        lambda d, b, *a, **k: steps.append(b.steps) or source_only(d, b, *a, **k))
    monkeypatch.setattr(exp, "train_source_only", lambda m, xx, yy, b, *a, **k:
                        steps.append(b.steps) or train_source_only(m, xx, yy, b, *a, **k))
    exp._ceiling(tgt, budget, adapt, 0, False)
    assert sum(steps) == budget.steps + adapt.steps == 7  # the floor's steps + adapt_steps
