"""FUNIT's training loop (Liu et al., 2019), the same for FUNIT and COCO-FUNIT::

    x (style s), y (another training style t)        one example of t per content image (K=1)
    x_bar = G(x, {y})                                  translation into t
    L_G = LSGAN(D_t(x_bar))                            fool t's output of the discriminator
        + l_rec * |G(x, {x}) - x|                      own style: give x back
        + l_fm  * |feat(x_bar) - feat(y)|               feature matching to t's example
    L_D = LSGAN_D(D_s(x), D_t(x_bar)) + LSGAN_D(D_t(y), .)   reals scored by their own style

``D_s`` is the multi-task discriminator's output for style ``s``; ``feat`` its trunk's
pooled features. FUNIT uses a hinge GAN loss and a gradient penalty; we reuse the
least-squares loss of :mod:`introdl.nn.gan_losses` (CycleGAN's), which trained steadily at
this size. GAN training can blow up: as in :mod:`introdl.adaptation.cycada`, the weights are
saved (atomically) every ``checkpoint_every`` steps while every loss is finite, and the first
NaN/inf stops training with :class:`~introdl.errors.TrainingDiverged` (one line), the last
good weights reloaded and kept on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from introdl.adaptation.funit.networks import MultiTaskDiscriminator, Translator
from introdl.engine import checkpoint
from introdl.engine.last_good import LastGood
from introdl.engine.progress import ProgressBar
from introdl.nn.gan_losses import lsgan_discriminator_loss, lsgan_generator_loss


@dataclass
class FunitConfig:
    steps: int = 2000  # generator/discriminator updates
    batch_size: int = 16  # content images per step
    lr: float = 1e-3  # Adam, beta1 = 0.5
    width: int = 8  # first-layer filters of the encoders and decoder
    code: int = 32  # style-code width
    disc_width: int = 32  # discriminator's first-layer filters
    lambda_rec: float = 5.0  # reconstruction weight
    lambda_fm: float = 5.0  # feature-matching weight
    checkpoint_every: int = 100  # steps between saves of the last good weights


def _pick_other(style: torch.Tensor, n_styles: int, g: torch.Generator) -> torch.Tensor:
    """A uniformly drawn style different from each row's own."""
    shift = torch.randint(1, n_styles, (len(style),), generator=g)
    return (style + shift) % n_styles


def _draw(index: list[torch.Tensor], styles: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One random image index of each requested style."""
    return torch.stack([index[int(s)][torch.randint(len(index[int(s)]), (1,), generator=g)[0]]
                        for s in styles])


def train_funit(x: torch.Tensor, style: torch.Tensor, n_styles: int, coco: bool,
                cfg: FunitConfig, seed: int, checkpoint_path: str | Path,
                progress: bool = False, desc: str = "funit") -> tuple[Translator, dict]:
    """Train a translator on images ``x`` of training styles ``style`` (0 .. n_styles - 1).

    Returns the translator and the per-step losses. Same ``seed``, same data: same weights.

    Raises:
        TrainingDiverged: a loss became NaN/inf; the translator in memory and at
            ``checkpoint_path`` is the last one whose losses were all finite.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    net = Translator(cfg.width, cfg.code, coco=coco)
    disc = MultiTaskDiscriminator(n_styles, cfg.disc_width)
    opt_g = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    index = [(style == s).nonzero().flatten() for s in range(n_styles)]
    guard = LastGood(net, checkpoint_path, cfg.checkpoint_every, cfg.steps, desc=desc,
                     hint="lower --set lr=... and run again")
    hist: dict[str, list[float]] = {k: [] for k in ("gan", "rec", "fm", "d")}
    with ProgressBar(cfg.steps, desc=desc, enabled=progress) as bar:
        for step in range(cfg.steps):
            idx = torch.randint(len(x), (cfg.batch_size,), generator=g)
            xb, sb = x[idx], style[idx]
            tb = _pick_other(sb, n_styles, g)
            yb = x[_draw(index, tb, g)]
            fake, rec = net.translate_and_reconstruct(xb, yb[:, None])
            logit_fake, feat_fake = disc.score(fake, tb)
            parts = {"gan": lsgan_generator_loss(logit_fake),
                     "rec": (rec - xb).abs().mean(),
                     "fm": (feat_fake - disc.features(yb).detach()).abs().mean()}
            loss_g = parts["gan"] + cfg.lambda_rec * parts["rec"] + cfg.lambda_fm * parts["fm"]
            real_x, _ = disc.score(xb, sb)
            real_y, _ = disc.score(yb, tb)
            parts["d"] = lsgan_discriminator_loss(torch.cat([real_x, real_y]),
                                                  disc.score(fake.detach(), tb)[0])
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
            if bar.due():
                bar.update(step + 1, loss=loss_g.item(), samples=(step + 1) * cfg.batch_size)
    return net, hist


def load_funit(path: str | Path, cfg: FunitConfig, coco: bool) -> tuple[Translator, int]:
    """The translator saved at ``path`` (weights-only) and the step it was saved at."""
    state = checkpoint.load(path)
    net = Translator(cfg.width, cfg.code, coco=coco)
    net.load_state_dict(state["translator"])
    return net, int(state["step"])
