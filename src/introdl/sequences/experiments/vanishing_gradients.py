"""Lecture 2: vanishing and exploding gradients in RNNs, and the lecture's three fixes.

Backpropagation through time multiplies one Jacobian per step,
dL/dh_{t-k} = dL/dh_t * prod_{j} dh_j/dh_{j-1}, with dh_j/dh_{j-1} = diag(tanh'(.)) W_hh.
Factors below 1 shrink the gradient exponentially with the distance k (vanishing);
factors above 1 grow it (exploding). Three parts:

(a) ||dL/dh_{T-k}|| / ||dL/dh_T|| against distance k for a tanh RNN, a ReLU RNN with
    identity-initialised recurrence (IRNN, Le et al. 2015) and an LSTM, untrained and
    after training on (b) — measured with the from-scratch layers.
(b) The adding problem (:mod:`introdl.sequences.adding_problem`) at length T: the LSTM
    learns to carry a number across ~T steps; the tanh RNN stays at the chance MSE.
(c) Exploding gradients: a tanh RNN with a large recurrent init (W_hh ~ N(0, gain^2/H))
    trained by SGD with and without clipping the gradient norm, g <- g * min(1, c/||g||).

Training is a short hand-written loop because (c) needs every step's gradient norm and
must watch the unclipped run diverge, which ``introdl.engine.fit`` (rightly) refuses.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from introdl.experiment import Claim, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.sequences.adding_problem import LastStateRegressor, adding_problem
from introdl.sequences.lstm import LSTM
from introdl.sequences.rnn import RNN


@dataclass
class VanishingConfig:
    length: int = 100  # T: sequence length for (a) and the adding problem (b)
    hidden_size: int = 32  # H for every network
    batch_size: int = 64  # sequences per training step
    steps: int = 1500  # (b): training steps per network (fresh sequences every step)
    lr: float = 1e-2  # (b): Adam learning rate
    clip: float = 1.0  # (b): gradient-norm clip (both networks, so only the cell differs)
    test_size: int = 2000  # (b): held-out sequences for the final MSE
    probe_batch: int = 32  # (a): sequences averaged over for the gradient norms
    explode_length: int = 10  # (c): sequence length (short: explosion, not memory, is shown)
    explode_gain: float = 2.0  # (c): W_hh ~ N(0, gain^2 / H); gain > 1 makes gradients grow
    explode_lr: float = 0.1  # (c): plain SGD learning rate, the same with and without clipping
    explode_clip: float = 1.0  # (c): max gradient norm in the clipped run
    explode_steps: int = 1500  # (c): training steps per run


# -- training ----------------------------------------------------------------------------
def train_steps(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    length: int,
    cfg: VanishingConfig,
    steps: int,
    clip: float | None,
    gen: torch.Generator,
) -> tuple[list[float], list[float]]:
    """Train on fresh adding-problem batches; returns per-step (loss, pre-clip grad norm).

    Stops early (returning what it has) once the loss is no longer finite.
    """
    losses, norms = [], []
    for _ in range(steps):
        x, y = adding_problem(cfg.batch_size, length, gen)
        loss = nn.functional.mse_loss(model(x), y)  # forward, loss
        opt.zero_grad(set_to_none=True)
        loss.backward()  # backward through time
        # clip_grad_norm_ returns the norm before clipping; max_norm=inf only measures it
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip or math.inf)
        losses.append(loss.item())
        norms.append(float(norm))
        if not (math.isfinite(losses[-1]) and math.isfinite(norms[-1])):
            break
        opt.step()  # update
    return losses, norms


@torch.no_grad()
def _test_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float(nn.functional.mse_loss(model(x), y))


# -- (a) gradient norm against distance -------------------------------------------------
def grad_vs_distance(cell: RNN | LSTM, readout: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean over sequences of ||dL/dh_{T-k}|| / ||dL/dh_T|| for k = 0..T, L = sum_b v . h_T.

    Args:
        cell: a from-scratch :class:`RNN` or :class:`LSTM` (so each h_t is reachable).
        readout: (H,) the vector v reading the last state.
        x: (B, T, D) inputs.

    Returns: (T + 1,) ratios indexed by distance k (k = T is dL/dh_0), computed on a
    float64 copy so that ratios down to ~1e-300 do not underflow to 0.
    """
    cell, readout, x = copy.deepcopy(cell).double(), readout.double(), x.double()
    B, T, _ = x.shape
    h0 = x.new_zeros(B, cell.hidden_size, requires_grad=True)
    hs = [h0]
    if isinstance(cell, LSTM):
        state = (h0, x.new_zeros(B, cell.hidden_size))
        for t in range(T):
            state = cell.cell(x[:, t], state)
            hs.append(state[0])
    else:
        h = h0
        for t in range(T):
            h = cell.step(x[:, t], h)  # h_t = act(W_hh h_{t-1} + W_xh x_t + b)
            hs.append(h)
    loss = (hs[-1] @ readout).sum()
    grads = torch.autograd.grad(loss, hs)  # dL/dh_t for t = 0..T (total derivative)
    norms = torch.stack([g.norm(dim=1).mean() for g in grads]).flip(0)  # index k = T - t
    return (norms / norms[0]).detach()


def _scratch_copy(model: LastStateRegressor) -> RNN | LSTM:
    """The trained torch layer's weights in the from-scratch layer (equal by the parity tests)."""
    rnn = model.rnn
    if isinstance(rnn, nn.LSTM):
        return LSTM(rnn.input_size, rnn.hidden_size).load_torch(rnn)
    return RNN(rnn.input_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity).load_torch(rnn)


# -- the experiment ----------------------------------------------------------------------
@experiment(
    name="vanishing-gradients", lecture=2,
    title="Vanishing gradients in tanh RNNs vs IRNN and LSTM; the adding problem; clipping",
    claims=[
        Claim("(a) tanh RNN: multiplying many small Jacobians makes dL/dh_0 vanish "
              "(||dL/dh_0|| / ||dL/dh_T|| at distance T)", metric="tanh_init_grad_ratio",
              expected=1e-6, compare="<="),
        Claim("(a) fix 1+2: ReLU with W_hh initialised to the identity keeps dL/dh_0 from "
              "vanishing", metric="irnn_init_grad_ratio", expected=0.1, compare=">="),
        Claim("(a) fix 3: a gated cell (trained LSTM) passes gradient back over T steps "
              "far better than the trained tanh RNN (ratio of their dL/dh_0 ratios, log10)",
              metric="lstm_vs_tanh_trained_log10", expected=3.0, compare=">="),
        Claim("(b) the LSTM learns the long-range dependency: test MSE / chance MSE",
              metric="lstm_mse_over_chance", expected=0.1, compare="<="),
        Claim("(b) the tanh RNN stays at chance on the same task", metric="tanh_mse_over_chance",
              expected=0.9, compare=">="),
        Claim("(c) without clipping, large recurrent weights make the gradients explode and "
              "the loss blow up", metric="unclipped_blew_up", compare="true"),
        Claim("(c) with gradient clipping the same run trains: final loss / chance MSE",
              metric="clipped_loss_over_chance", expected=1.0, compare="<"),
    ],
    quick={"length": 30, "steps": 400, "test_size": 500, "explode_steps": 400},
)
def vanishing_gradients(cfg: VanishingConfig, run: Run) -> dict[str, float]:
    gen = torch.Generator().manual_seed(run.seed)
    H, T = cfg.hidden_size, cfg.length
    metrics: dict[str, float] = {}

    # (b) the adding problem first: its trained networks feed (a).
    x_test, y_test = adding_problem(cfg.test_size, T, gen)
    x_train_mean = adding_problem(cfg.test_size, T, gen)[1].mean()  # what "learned nothing" says
    chance = float(((y_test - x_train_mean) ** 2).mean())
    metrics["chance_mse"] = chance
    trained, curves_b = {}, {}
    for cell in ("tanh", "lstm"):
        model = LastStateRegressor(cell, H)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        losses, _ = train_steps(model, opt, T, cfg, cfg.steps, cfg.clip, gen)
        mse = _test_mse(model, x_test, y_test)
        metrics[f"{cell}_test_mse"] = mse
        metrics[f"{cell}_mse_over_chance"] = mse / chance
        run.log(part="b", cell=cell, test_mse=mse, chance=chance)
        run.print(f"(b) T={T} {cell:4s}: test MSE {mse:.4f} (chance {chance:.4f})")
        trained[cell], curves_b[cell] = model, losses

    # (a) gradient norm against distance, untrained and trained.
    torch.manual_seed(run.seed)
    x_probe, _ = adding_problem(cfg.probe_batch, T, gen)
    v = nn.functional.normalize(torch.randn(H), dim=0)  # read-out for the untrained cells
    ratios = {
        "tanh_init": grad_vs_distance(RNN(2, H), v, x_probe),
        "irnn_init": grad_vs_distance(RNN(2, H, nonlinearity="relu", identity_init=True),
                                      v, x_probe),
        "lstm_init": grad_vs_distance(LSTM(2, H), v, x_probe),
    }
    for cell, model in trained.items():
        ratios[f"{cell}_trained"] = grad_vs_distance(_scratch_copy(model),
                                                     model.head.weight[0].detach(), x_probe)
    for name, r in ratios.items():
        metrics[f"{name}_grad_ratio"] = float(r[-1])
        run.print(f"(a) {name:12s} ||dL/dh_0|| / ||dL/dh_T|| = {float(r[-1]):.3e}")
    metrics["lstm_vs_tanh_trained_log10"] = _log10_ratio(metrics["lstm_trained_grad_ratio"],
                                                         metrics["tanh_trained_grad_ratio"])

    # (c) exploding gradients, with and without clipping.
    curves_c = {}
    for name, clip in (("unclipped", None), ("clipped", cfg.explode_clip)):
        torch.manual_seed(run.seed)  # both runs start from the same weights
        model = LastStateRegressor("tanh", H)
        with torch.no_grad():
            model.rnn.weight_hh_l0.normal_(0.0, cfg.explode_gain / math.sqrt(H))
        opt = torch.optim.SGD(model.parameters(), lr=cfg.explode_lr)
        g = torch.Generator().manual_seed(run.seed + 1)  # the same batches in both runs
        losses, norms = train_steps(model, opt, cfg.explode_length, cfg, cfg.explode_steps,
                                    clip, g)
        curves_c[name] = (losses, norms)
        finite = [n for n in norms if math.isfinite(n)]
        metrics[f"{name}_max_grad_norm"] = max(finite) if finite else math.inf
        metrics[f"{name}_steps_run"] = float(len(losses))
        run.print(f"(c) {name:9s}: {len(losses)} steps, max grad norm "
                  f"{metrics[f'{name}_max_grad_norm']:.3g}, last loss {losses[-1]:.3g}")
    un_losses = curves_c["unclipped"][0]
    first = un_losses[0]
    metrics["unclipped_blew_up"] = float(any(not math.isfinite(x) or x > 1e3 * first
                                             for x in un_losses))
    tail = curves_c["clipped"][0][-max(1, len(curves_c["clipped"][0]) // 10):]
    metrics["clipped_final_loss"] = sum(tail) / len(tail)  # mean over the last 10% of steps
    metrics["clipped_loss_over_chance"] = metrics["clipped_final_loss"] / (1.0 / 6.0)

    run.save_figure(_grad_figure(ratios, T), "grad_vs_distance.png")
    run.save_figure(_adding_figure(curves_b, chance, T), "adding_problem.png")
    run.save_figure(_clipping_figure(curves_c, cfg), "clipping.png")
    return metrics


def _log10_ratio(a: float, b: float) -> float:
    """log10(a / b) computed safely when b underflows to 0 (then capped at 300)."""
    if b <= 0.0:
        return 300.0 if a > 0 else 0.0
    return math.log10(max(a, 1e-300) / b)


# -- figures -----------------------------------------------------------------------------
_STYLE = {"tanh": ("tab:red", "tanh RNN"), "irnn": ("tab:green", "IRNN (ReLU, W_hh = I)"),
          "lstm": ("tab:blue", "LSTM")}


def _grad_figure(ratios: dict[str, torch.Tensor], T: int):
    fig, ax = figure(size=(5.6, 3.8))
    for name, r in ratios.items():
        cell, when = name.split("_")
        color, label = _STYLE[cell]
        k = torch.arange(len(r))
        keep = r > 0  # log axis: an underflowed 0 cannot be drawn
        ax.semilogy(k[keep], r[keep], color=color, ls="-" if when == "trained" else "--",
                    label=f"{label}, {when}")
    ax.set_xlabel("distance k (steps back from the loss)")
    ax.set_ylabel(r"$\|\partial L/\partial h_{T-k}\| \,/\, \|\partial L/\partial h_T\|$")
    ax.set_title(f"Gradient vs distance (T = {T})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _smooth(xs: list[float], w: int = 25) -> list[float]:
    out, acc = [], 0.0
    for i, x in enumerate(xs):
        acc += x - (xs[i - w] if i >= w else 0.0)
        out.append(acc / min(i + 1, w))
    return out


def _adding_figure(curves: dict[str, list[float]], chance: float, T: int):
    fig, ax = figure(size=(5.6, 3.8))
    for cell, losses in curves.items():
        color, label = _STYLE[cell]
        ax.semilogy(_smooth(losses), color=color, label=f"{label} (train MSE, smoothed)")
    ax.axhline(chance, color="k", ls=":", label="chance (predict the mean)")
    ax.set_xlabel("training step")
    ax.set_ylabel("MSE")
    ax.set_title(f"Adding problem, T = {T}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _clipping_figure(curves: dict[str, tuple[list[float], list[float]]], cfg: VanishingConfig):
    fig, axes = figure(ncols=2, size=(4.8, 3.6))
    colors = {"unclipped": "tab:red", "clipped": "tab:blue"}
    for name, (losses, norms) in curves.items():
        for ax, ys in zip(axes, (losses, norms), strict=True):
            steps = list(range(1, len(ys) + 1))
            ax.semilogy(steps, [y if math.isfinite(y) else float("nan") for y in ys],
                        color=colors[name], lw=1, label=name)
            if not math.isfinite(ys[-1]) or len(ys) < cfg.explode_steps:
                ax.axvline(len(ys), color=colors[name], ls=":", lw=1)
                ax.annotate("non-finite: stopped", (len(ys), 1), fontsize=7,
                            color=colors[name], xytext=(4, 0), textcoords="offset points",
                            xycoords=("data", "axes fraction"), va="top")
    axes[0].axhline(1 / 6, color="k", ls=":", lw=1, label="chance MSE")
    axes[0].set_ylim(top=1e4)  # the unclipped loss leaves the plot on its way to inf
    axes[0].set_ylabel("training loss (MSE)")
    axes[1].axhline(cfg.explode_clip, color="k", ls=":", lw=1, label="clip threshold")
    axes[1].set_ylabel("gradient norm (before clipping)")
    for ax in axes:
        ax.set_xlabel("SGD step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(f"tanh RNN, W_hh ~ N(0, {cfg.explode_gain:g}²/H), SGD lr {cfg.explode_lr:g}")
    fig.tight_layout()
    return fig
