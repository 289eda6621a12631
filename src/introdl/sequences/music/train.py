"""Lecture 2: training the music RNN with truncated backpropagation through time (TBPTT).

The training text is one long character stream. It is cut into ``B`` parallel lanes
(contiguous pieces), and each step reads the next window of ``T`` characters of every
lane. The LSTM state is carried from one window to the next but *detached*, so the
gradient flows back at most ``T`` steps:

    x = lanes[:, s : s+T],   y = lanes[:, s+1 : s+T+1]     (next-step targets)
    loss = CE(model(x, state), y),   state <- state.detach()

Validation bits per character run the same way over the held-out tunes' stream,
without gradients: bpc = mean_t -log2 p(y_t | x_{<=t}).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from introdl.errors import TrainingDiverged
from introdl.sequences.music.model import CharLSTM

LN2 = math.log(2.0)


def lanes(ids: torch.Tensor, batch: int) -> torch.Tensor:
    """Cut a (N,) stream into (batch, N // batch) contiguous lanes (the tail is dropped)."""
    n = ids.numel() // batch
    if n < 2:
        raise ValueError(f"stream of {ids.numel()} characters is too short for {batch} lanes")
    return ids[: n * batch].view(batch, n)  # (B, N/B)


def windows(ids: torch.Tensor, batch: int, seq_len: int
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive TBPTT windows ``(x, y)``, each (batch, <=seq_len), with y = x shifted by one."""
    data = lanes(ids, batch)
    for s in range(0, data.shape[1] - 1, seq_len):
        t = min(seq_len, data.shape[1] - 1 - s)
        yield data[:, s : s + t], data[:, s + 1 : s + 1 + t]


def _detach(state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return state[0].detach(), state[1].detach()


@torch.no_grad()
def bits_per_char(model: CharLSTM, ids: torch.Tensor, batch: int = 16, seq_len: int = 256,
                  device: torch.device | str = "cpu") -> float:
    """Mean -log2 p(next char) over a stream, state carried across windows."""
    model.eval()
    total, count, state = 0.0, 0, None
    for x, y in windows(ids, batch, seq_len):
        logits, state = model(x.to(device), state)
        total += nn.functional.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(),
                                             reduction="sum").item()
        count += y.numel()
    return total / count / LN2


@dataclass
class TBPTTConfig:
    batch_size: int = 32  # parallel lanes
    seq_len: int = 128  # characters per window (gradient horizon)
    lr: float = 3e-3  # Adam learning rate
    clip_grad_norm: float = 1.0  # gradient-norm clip (exploding gradients, lecture 2)
    max_minutes: float = 18.0  # wall-clock training budget
    cosine: bool = True  # decay lr to 0 along the time budget: lr * (1 + cos(pi t / budget)) / 2
    max_epochs: int = 100  # upper bound on passes over the training stream
    eval_every_s: float = 120.0  # seconds between validation checks


@dataclass
class TBPTTResult:
    steps: int
    chars: int
    seconds: float
    train_bpc: list[float]  # running mean per evaluation
    val_bpc: list[float]  # per evaluation
    elapsed: list[float]  # seconds at each evaluation
    best_val_bpc: float


def train_tbptt(model: CharLSTM, train_ids: torch.Tensor, val_ids: torch.Tensor,
                cfg: TBPTTConfig, device: torch.device | str = "cpu",
                log: Callable[..., None] | None = None) -> TBPTTResult:
    """Adam on TBPTT windows until the time or epoch budget ends; keeps the best-val weights.

    With ``cosine`` the learning rate decays with elapsed time, reaching 0 at the budget
    (when ``max_epochs`` ends training first, the rate has not fully decayed).

    The loop is the lecture's: forward, loss, backward, clip, step.
    """
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    budget = cfg.max_minutes * 60.0
    t0 = time.perf_counter()
    next_eval = cfg.eval_every_s
    steps = chars = 0
    run_loss, run_n = 0.0, 0
    res = TBPTTResult(0, 0, 0.0, [], [], [], float("inf"))
    best_state = None

    def evaluate() -> None:
        nonlocal best_state, run_loss, run_n
        vb = bits_per_char(model, val_ids, device=device)
        now = time.perf_counter() - t0
        tb = run_loss / max(run_n, 1) / LN2
        res.val_bpc.append(vb)
        res.train_bpc.append(tb)
        res.elapsed.append(now)
        if vb < res.best_val_bpc:
            res.best_val_bpc = vb
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if log:
            log(step=steps, chars=chars, seconds=round(now, 1), train_bpc=tb, val_bpc=vb)
        run_loss, run_n = 0.0, 0
        model.train()

    out_of_time = False
    for _epoch in range(cfg.max_epochs):
        model.train()
        state = None
        for x, y in windows(train_ids, cfg.batch_size, cfg.seq_len):
            x, y = x.to(device), y.to(device)
            if cfg.cosine:  # the schedule follows the clock, since the budget is time
                frac = min((time.perf_counter() - t0) / budget, 1.0)
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1.0 + math.cos(math.pi * frac))
            logits, state = model(x, state)
            state = _detach(state)  # truncate: no gradient beyond this window
            loss = loss_fn(logits.flatten(0, 1), y.flatten())  # (B*T, V) vs (B*T,)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad_norm)
            opt.step()
            lv = loss.item()
            if not math.isfinite(lv):
                raise TrainingDiverged(f"loss became {lv} at step {steps}; lower --set lr")
            run_loss += lv
            run_n += 1
            steps += 1
            chars += y.numel()
            elapsed = time.perf_counter() - t0
            if elapsed >= budget:
                out_of_time = True
                break
            if elapsed >= next_eval:
                evaluate()
                next_eval = elapsed + cfg.eval_every_s
        if out_of_time:
            break
    if run_n:
        evaluate()
    if best_state is not None:
        model.load_state_dict(best_state)
    res.steps, res.chars, res.seconds = steps, chars, time.perf_counter() - t0
    return res
