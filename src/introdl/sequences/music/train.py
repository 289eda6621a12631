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

from introdl.engine.precision import autocast, autocast_dtype
from introdl.errors import TrainingDiverged
from introdl.sequences.music.model import MusicModel

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


def _detach(state: torch.Tensor | tuple[torch.Tensor, ...]
            ) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """The carried state without its graph: an LSTM's ``(h, c)``, or one tensor (a model
    whose state is a single tensor, e.g. the previous characters as context)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(s.detach() for s in state)


@torch.no_grad()
def bits_per_char(model: MusicModel, ids: torch.Tensor, batch: int = 16, seq_len: int = 256,
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


def unigram_bits_per_char(train_ids: torch.Tensor, ids: torch.Tensor, vocab_size: int,
                          batch: int = 16) -> float:
    """The trivial baseline: bits/char of a context-free character model on ``ids``.

    p(c) = (count of c in ``train_ids`` + 1) / (N + V) (add-one, so an unseen character
    costs finite bits), scored on exactly the positions :func:`bits_per_char` scores
    with the same ``batch`` (every lane's characters after its first).
    """
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1.0  # (V,)
    log2p = torch.log2(counts / counts.sum())
    targets = lanes(ids, batch)[:, 1:].flatten()  # what bits_per_char predicts
    return float(-log2p[targets].mean())


@dataclass
class TBPTTConfig:
    batch_size: int = 32  # parallel lanes
    seq_len: int = 128  # characters per window (gradient horizon)
    lr: float = 3e-3  # Adam learning rate
    clip_grad_norm: float = 1.0  # gradient-norm clip (exploding gradients, lecture 2)
    max_minutes: float = 18.0  # wall-clock training budget
    max_cpu_minutes: float = 0.0  # CPU-time budget of this process (0: none); see train_tbptt
    precision: str = "fp32"  # fp32 | bf16 | auto: forward and loss under bf16 autocast
    cosine: bool = True  # decay lr to 0 along the budget: lr * (1 + cos(pi * used)) / 2
    max_epochs: int = 100  # upper bound on passes over the training stream
    eval_every_s: float = 120.0  # seconds between validation checks
    max_steps: int = 0  # budget in updates instead of time (0: none); the first budget spent ends
    eval_every_steps: int = 0  # also check validation every N updates (0: only by time)


@dataclass
class TBPTTResult:
    steps: int
    chars: int
    seconds: float
    train_bpc: list[float]  # running mean per evaluation
    val_bpc: list[float]  # per evaluation
    elapsed: list[float]  # seconds at each evaluation
    best_val_bpc: float
    cpu_seconds: float = 0.0  # CPU time of this process during training (evaluations included)


def train_tbptt(model: MusicModel, train_ids: torch.Tensor, val_ids: torch.Tensor,
                cfg: TBPTTConfig, device: torch.device | str = "cpu",
                log: Callable[..., None] | None = None) -> TBPTTResult:
    """Adam on TBPTT windows until a budget ends; keeps the best-validation weights.

    Budgets: wall-clock ``max_minutes``, ``max_epochs`` and (optionally) ``max_steps``
    and ``max_cpu_minutes`` (CPU time of this process, ``time.process_time``: all its
    threads, so on a busy machine it measures the work done, not the waiting).
    With ``cosine`` the learning rate decays with the share of the budget used — elapsed
    time, CPU time or steps, whichever is furthest — reaching 0 when
    it ends (when ``max_epochs`` ends training first, the rate has not fully decayed). A
    step budget with ``eval_every_steps`` makes the result independent of the machine's
    speed, as long as the time budget is not reached first.

    The loop is the lecture's: forward, loss, backward, clip, step.
    """
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    budget = cfg.max_minutes * 60.0
    cpu_budget = cfg.max_cpu_minutes * 60.0
    device = torch.device(device)
    amp = autocast_dtype(cfg.precision, device)  # None: plain fp32
    t0, c0 = time.perf_counter(), time.process_time()

    def used() -> float:
        """Share of the budget spent: the furthest of wall time, CPU time and steps."""
        frac = (time.perf_counter() - t0) / budget
        if cpu_budget > 0:
            frac = max(frac, (time.process_time() - c0) / cpu_budget)
        if cfg.max_steps:
            frac = max(frac, steps / cfg.max_steps)
        return frac
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

    spent = False
    for _epoch in range(cfg.max_epochs):
        model.train()
        state = None
        for x, y in windows(train_ids, cfg.batch_size, cfg.seq_len):
            x, y = x.to(device), y.to(device)
            if cfg.cosine:  # the schedule follows the budget: the clocks, or the steps
                frac = min(used(), 1.0)
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * 0.5 * (1.0 + math.cos(math.pi * frac))
            with autocast(amp, device):
                logits, state = model(x, state)
                loss = loss_fn(logits.flatten(0, 1).float(), y.flatten())  # (B*T, V), (B*T,)
            state = _detach(state)  # truncate: no gradient beyond this window
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
            if used() >= 1.0:
                spent = True
                break
            if elapsed >= next_eval or (cfg.eval_every_steps
                                        and steps % cfg.eval_every_steps == 0):
                evaluate()
                next_eval = elapsed + cfg.eval_every_s
        if spent:
            break
    if run_n:
        evaluate()
    if best_state is not None:
        model.load_state_dict(best_state)
    res.steps, res.chars, res.seconds = steps, chars, time.perf_counter() - t0
    res.cpu_seconds = time.process_time() - c0
    return res
