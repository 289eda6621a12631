"""Train the simulator as GameGAN does: reconstruction + adversarial losses on rollouts.

Generator loss per batch of clips: the mean (over clips and steps) of the squared error
summed over a frame's pixels, plus ``adv_weight`` times the non-saturating GAN loss of the
action-conditioned discriminator on (previous generated frame, generated frame, action).
The discriminator sees real (x_t, x_t+1, a_t) triples against generated ones. Ours, not
GameGAN's: ``dynamic_weight`` times the same squared error of the renderer's dynamic part
alone, so the moving pieces are learned even while the blending mask is still shut (without
it, whether the agent was ever drawn in a 200-step run depended on the seed).
Two more terms of ours, because the agent is a few pixels of a 32 x 32 frame and plain
squared error is lowest for a simulator that paints the static map and drops the agent
(what earlier runs did after two or three open-loop steps): pixels that change between the
true frames ``x_t`` and ``x_t+1`` (where the agent, the ghosts and eaten food are) weigh
``1 + change_weight`` (5) in both squared errors; and, when the training clips' true agent
cells are given, ``cell_weight`` times the cross-entropy of the agent's cell from a 1x1 head
on the dynamics state plus ``-log alpha`` at that cell (GameGAN learns its memory location
``alpha`` without this label; here the recorded game supplies it for training clips only,
never for the held-out ones).
Scheduled sampling: the real frame is shown every step for the first ``teacher_until`` share
of the steps, then with a chance falling linearly to 0 at ``open_loop_from``; the rest is
open-loop (as the evaluation). (Starting the fall at step 0 left the agent undrawn in some
seeds' runs: the simulator was shown its own agent-less frames before it had learned one.)

Adam's beta2 is 0.99, not 0.999: the first steps' large errors (a grey frame against a black
board) otherwise inflate its second-moment estimate for ~1000 steps and stall learning the
small moving agent (a restart of Adam un-stalled it).

A NaN/inf loss stops training with one line (:class:`~introdl.errors.TrainingDiverged`);
the checkpoint saved at the last good ``save_every`` step is kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import batches
from introdl.errors import TrainingDiverged
from introdl.worlds.game.discriminator import ActionDiscriminator
from introdl.worlds.game.model import GameSimulator, save_simulator


@dataclass
class TrainConfig:
    steps: int = 300
    batch_size: int = 16
    lr: float = 2e-3
    adv_weight: float = 0.05  # 0 = reconstruction only
    dynamic_weight: float = 0.5  # the dynamic part's own reconstruction loss
    teacher_until: float = 0.4  # share of the steps that always show the real frame
    open_loop_from: float = 0.7  # share of the steps after which training is open-loop
    save_every: int = 50
    d_pairs: int = 2  # (frame, next frame) pairs per clip the discriminator sees per step
    change_weight: float = 5.0  # extra weight of pixels that change between true frames
    cell_weight: float = 1.0  # cross-entropy of the agent's cell (state head and alpha)


def train_simulator(model: GameSimulator, frames: torch.Tensor, actions: torch.Tensor,
                    cfg: TrainConfig, seed: int, checkpoint: str | os.PathLike | None = None,
                    progress: bool = False, extra: dict | None = None,
                    agent: torch.Tensor | None = None) -> list[float]:
    """Train in place on clips ``frames`` (N, T+1, 3, H, W), ``actions`` (N, T); returns the
    reconstruction loss per step. ``agent`` (N, T+1, 2), the true agent cells of the training
    clips, enables the cell loss (``cell_weight``). ``checkpoint`` (with ``extra`` stored
    beside the weights) is written every ``save_every`` steps and at the end."""
    gen = torch.Generator().manual_seed(seed)
    disc = ActionDiscriminator(model.cfg.actions, frames.shape[-1], model.cfg.pixels)
    opt_g = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
    g = model.cfg.size
    cell = (agent[..., 0] * g + agent[..., 1]) if agent is not None else actions.new_zeros(
        actions.shape[0], actions.shape[1] + 1)
    stream = batches(frames, actions, cell, batch_size=cfg.batch_size, generator=gen)
    losses: list[float] = []
    model.train()
    with ProgressBar(cfg.steps, "game-sim", enabled=progress) as bar:
        for step in range(cfg.steps):
            x, a, where = next(stream)
            frac = step / cfg.steps
            ramp = max(cfg.open_loop_from - cfg.teacher_until, 1e-9)
            p_real = min(1.0, max(0.0, (cfg.open_loop_from - frac) / ramp))
            out = model.rollout(x[:, 0], a, real=x, p_real=p_real, generator=gen)
            fake, target = out.frames, x[:, 1:]
            recon = ((fake - target) ** 2).sum((2, 3, 4)).mean()
            changed = ((target - x[:, :-1]).abs().amax(2, keepdim=True) > 0.01).float()
            weight = 1 + cfg.change_weight * changed
            loss = (weight * (fake - target) ** 2).sum((2, 3, 4)).mean()
            loss = loss + cfg.dynamic_weight * (weight * (out.dynamic - target) ** 2
                                                ).sum((2, 3, 4)).mean()
            if agent is not None and cfg.cell_weight > 0:
                true = where[:, 1:]
                ce = F.cross_entropy(out.where.flatten(0, 1), true.flatten())
                if model.memory is not None:  # GameGAN's alpha: "where the agent is"
                    at = out.alphas.flatten(2).gather(2, true[..., None])
                    ce = ce + (-torch.log(at.clamp_min(1e-6))).mean()
                loss = loss + cfg.cell_weight * ce
            if cfg.adv_weight > 0:  # on d_pairs random (clip, step) pairs per clip
                pick = torch.randint(a.numel(), (cfg.d_pairs * len(a),), generator=gen)
                onehot = F.one_hot(a, model.cfg.actions).float().flatten(0, 1)[pick]
                prev = torch.cat([x[:, :1], fake[:, :-1]], 1).flatten(0, 1)[pick]
                fake_pairs = fake.flatten(0, 1)[pick]
                logits = disc(prev, fake_pairs, onehot)
                loss = loss + cfg.adv_weight * F.softplus(-logits).mean()
            if not torch.isfinite(loss):
                where = f" (last good checkpoint kept: {checkpoint})" if checkpoint else ""
                raise TrainingDiverged(f"game-sim: the loss became {loss.item()} at step "
                                       f"{step}{where}; lower --set lr=... and run again")
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            if cfg.adv_weight > 0:
                real_logits = disc(x[:, :-1].flatten(0, 1)[pick], x[:, 1:].flatten(0, 1)[pick],
                                   onehot)
                fake_logits = disc(prev.detach(), fake_pairs.detach(), onehot)
                d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
            losses.append(recon.item())
            if checkpoint is not None and (step + 1) % cfg.save_every == 0:
                save_simulator(checkpoint, model, {**(extra or {}), "step": step + 1})
            if bar.due():
                bar.update(step + 1, loss=recon.item(), samples=(step + 1) * cfg.batch_size)
    model.eval()
    if checkpoint is not None:
        save_simulator(checkpoint, model, {**(extra or {}), "step": cfg.steps})
    return losses
