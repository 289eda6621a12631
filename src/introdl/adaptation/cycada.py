"""CyCADA's pixel level (Hoffman et al., ICML 2018): translate labelled source images to look
like the target, keeping their labels, then train the classifier on the translations.

Two generators ``G_st`` (source -> target) and ``G_ts`` (target -> source) and two PatchGAN
discriminators ``D_t``, ``D_s`` train together, CycleGAN style, with::

    L_G = LSGAN(D_t(G_st(x_s))) + LSGAN(D_s(G_ts(x_t)))                    fool D
        + l_cyc * (|G_ts(G_st(x_s)) - x_s| + |G_st(G_ts(x_t)) - x_t|)       round trip
        + l_id  * (|G_st(x_t) - x_t| + |G_ts(x_s) - x_s|)                   leave own domain
        + l_sem * (CE(f(G_st(x_s)), f(x_s)) + CE(f(G_ts(x_t)), f(x_t)))      keep the digit
    L_D = LSGAN_D(D_t; x_t, G_st(x_s)) + LSGAN_D(D_s; x_s, G_ts(x_t))

``f`` is the source-only classifier, fixed (the paper's ``f_S``). No target label is used:
``f(x_t)`` is the classifier's own guess. GAN training can blow up, so the loop saves a
checkpoint (:mod:`introdl.engine.checkpoint`, atomic) every ``checkpoint_every`` steps
while every loss is finite, and on the first NaN/inf stops with
:class:`~introdl.errors.TrainingDiverged`, reloading and keeping the last good weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from introdl.adaptation.networks import DigitNet
from introdl.adaptation.train import Budget, accuracy, train_source_only
from introdl.engine import checkpoint
from introdl.engine.last_good import LastGood
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches
from introdl.nn.discriminators import PatchDiscriminator
from introdl.nn.gan_losses import (
    cycle_loss,
    identity_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    mode_seeking_loss,
    semantic_consistency_loss,
)
from introdl.nn.generators import ResnetGenerator


@dataclass
class TranslatorConfig:
    steps: int = 600  # generator/discriminator updates
    batch_size: int = 32  # images per domain per step
    lr: float = 5e-4  # Adam, beta1 = 0.5 (CycleGAN: 2e-4; higher for a short budget)
    width: int = 16  # generator's first-layer filters
    blocks: int = 3  # generator's residual blocks
    residual: bool = True  # generators start as the identity (see ResnetGenerator)
    downsample: int = 1  # generator's stride-2 steps
    noise: int = 0  # noise channels of G_st's input (PixelDA; 0: deterministic)
    disc_width: int = 32  # PatchGAN's first-layer filters
    disc_layers: int = 2  # PatchGAN's stride-2 layers (3: 8x8 -> 4x4 patches of 38x38 pixels)
    lambda_cycle: float = 10.0  # CycleGAN's weight
    lambda_identity: float = 5.0  # CycleGAN's 0.5 * lambda_cycle
    lambda_semantic: float = 1.0  # CyCADA's weight
    lambda_mode_seeking: float = 0.0  # MSGAN's weight (needs noise > 0; 0: off)
    checkpoint_every: int = 50  # steps between saves of the last good weights


class Translator(nn.Module):
    """The four networks of CycleGAN/CyCADA: ``g_st``, ``g_ts``, ``d_t``, ``d_s``."""

    def __init__(self, cfg: TranslatorConfig) -> None:
        super().__init__()
        gen = dict(width=cfg.width, blocks=cfg.blocks, downsample=cfg.downsample,
                   residual=cfg.residual)
        self.g_st = ResnetGenerator(**gen, noise=cfg.noise)
        self.g_ts = ResnetGenerator(**gen)
        self.d_t = PatchDiscriminator(width=cfg.disc_width, layers=cfg.disc_layers)
        self.d_s = PatchDiscriminator(width=cfg.disc_width, layers=cfg.disc_layers)

    @torch.no_grad()
    def to_target(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """``G_st(x)`` in eval mode, batched: the translated (still labelled) source images."""
        was = self.training
        self.eval()
        g = torch.Generator().manual_seed(0)  # the same noise every call: reproducible output
        out = torch.cat([self.g_st(b, self.noise_like(b, g)) for b in x.split(batch_size)])
        self.train(was)
        return out

    def noise_like(self, x: torch.Tensor, generator: torch.Generator | None = None
                   ) -> torch.Tensor | None:
        """A noise input for ``g_st(x, z)``, from ``generator`` or torch's random state
        (None when ``g_st`` takes no noise)."""
        k = self.g_st.noise
        return torch.rand(len(x), k, *x.shape[2:], generator=generator) if k else None

    @torch.no_grad()
    def cycle(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(G_st(x), G_ts(G_st(x)))`` for the figure."""
        fake = self.to_target(x)
        was = self.training
        self.eval()
        rec = self.g_ts(fake)
        self.train(was)
        return fake, rec


def train_translator(xs: torch.Tensor, xt: torch.Tensor, classifier: nn.Module,
                     cfg: TranslatorConfig, seed: int, checkpoint_path: str | Path,
                     progress: bool = False, desc: str = "cycada translator",
                     monitor: Callable[[int, Translator], None] | None = None,
                     monitor_every: int = 0) -> tuple[Translator, dict[str, list[float]]]:
    """Train a :class:`Translator` on unlabelled source ``xs`` and target ``xt``.

    ``classifier`` (fixed, eval mode) supplies the semantic-consistency labels; source
    labels are not needed. Returns the translator and the per-step losses.
    ``monitor(steps_done, translator)``, if given, is called every ``monitor_every``
    steps; torch's random state is restored after it, so a monitored run trains exactly
    as an unmonitored one.

    Raises:
        ValueError: ``lambda_mode_seeking`` > 0 without a noise input.
        TrainingDiverged: a loss became NaN/inf; the translator at ``checkpoint_path``
            (and in memory) is the last one whose losses were all finite.
    """
    if cfg.lambda_mode_seeking > 0 and cfg.noise == 0:
        raise ValueError("lambda_mode_seeking needs a noise input: set noise to 1 or more")
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = Translator(cfg)
    gens = [*net.g_st.parameters(), *net.g_ts.parameters()]
    discs = [*net.d_t.parameters(), *net.d_s.parameters()]
    opt_g = torch.optim.Adam(gens, lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discs, lr=cfg.lr, betas=(0.5, 0.999))
    classifier.eval()
    for p in classifier.parameters():
        p.requires_grad_(False)
    guard = LastGood(net, checkpoint_path, cfg.checkpoint_every, cfg.steps, desc=desc,
                     hint="lower --set gan_lr=... and run again")
    seek = cfg.lambda_mode_seeking > 0
    keys = ("gan", "cycle", "identity", "semantic", *(("mode_seeking",) if seek else ()), "d")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    source = batches(xs, batch_size=cfg.batch_size, generator=g)
    target = batches(xt, batch_size=cfg.batch_size, generator=g)
    with ProgressBar(cfg.steps, desc=desc, enabled=progress) as bar:
        for step in range(cfg.steps):
            (x_s,), (x_t,) = next(source), next(target)
            # generators
            z = net.noise_like(x_s)
            fake_t, fake_s = net.g_st(x_s, z), net.g_ts(x_t)
            parts = {
                "gan": lsgan_generator_loss(net.d_t(fake_t))
                + lsgan_generator_loss(net.d_s(fake_s)),
                "cycle": cycle_loss(x_s, net.g_ts(fake_t))
                + cycle_loss(x_t, net.g_st(fake_s)),
                "identity": identity_loss(x_t, net.g_st(x_t))
                + identity_loss(x_s, net.g_ts(x_s)),
                "semantic": semantic_consistency_loss(classifier(fake_t), classifier(x_s))
                + semantic_consistency_loss(classifier(fake_s), classifier(x_t)),
            }
            loss_g = (parts["gan"] + cfg.lambda_cycle * parts["cycle"]
                      + cfg.lambda_identity * parts["identity"]
                      + cfg.lambda_semantic * parts["semantic"])
            if seek:  # a second noise draw for the same images must give other images
                z2 = net.noise_like(x_s)
                parts["mode_seeking"] = mode_seeking_loss(fake_t, net.g_st(x_s, z2), z, z2)
                loss_g = loss_g + cfg.lambda_mode_seeking * parts["mode_seeking"]
            # discriminators, on the generators' fakes as they were before this update
            parts["d"] = (lsgan_discriminator_loss(net.d_t(x_t), net.d_t(fake_t.detach()))
                          + lsgan_discriminator_loss(net.d_s(x_s), net.d_s(fake_s.detach())))
            guard.check(step, parts)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            opt_d.zero_grad(set_to_none=True)
            parts["d"].backward()
            opt_d.step()
            for k, v in parts.items():
                hist[k].append(v.item())
            guard.after_step(step)
            if monitor is not None and monitor_every and (step + 1) % monitor_every == 0:
                state = torch.get_rng_state()
                monitor(step + 1, net)
                torch.set_rng_state(state)
            if bar.due():
                bar.update(step + 1, loss=loss_g.item(), samples=(step + 1) * cfg.batch_size)
    return net, hist


def load_translator(path: str | Path, cfg: TranslatorConfig) -> tuple[Translator, int]:
    """The translator saved at ``path`` (weights-only) and the step it was saved at."""
    state = checkpoint.load(path)
    net = Translator(cfg)
    net.load_state_dict(state["translator"])
    return net, int(state["step"])


def domain_classifier_accuracy(a: torch.Tensor, b: torch.Tensor, seed: int, steps: int = 150,
                               batch_size: int = 64) -> float:
    """How well a small CNN tells images ``a`` from images ``b``: its held-out accuracy.

    A classifier two-sample test (Lopez-Paz & Oquab, 2017): the lecture CNN with two
    outputs trains on half of each set (balanced) and is scored on the other half. 0.5:
    the sets look alike to it; 1.0: it tells every image apart. Used to check, without
    any label, that translated source images took the target's look (they should be
    harder to tell from target images than the untranslated source).
    """
    g = torch.Generator().manual_seed(seed)
    n = min(len(a), len(b))
    a = a[torch.randperm(len(a), generator=g)[:n]]
    b = b[torch.randperm(len(b), generator=g)[:n]]
    h = n // 2
    x_fit, x_held = torch.cat([a[:h], b[:h]]), torch.cat([a[h:], b[h:]])
    d_fit = torch.cat([torch.zeros(h), torch.ones(h)]).long()
    d_held = torch.cat([torch.zeros(n - h), torch.ones(n - h)]).long()
    torch.manual_seed(seed)
    model = DigitNet(classes=2)
    train_source_only(model, x_fit, d_fit, Budget(steps, batch_size, 1e-3), seed,
                      desc="domain classifier")
    return accuracy(model, x_held, d_held)
