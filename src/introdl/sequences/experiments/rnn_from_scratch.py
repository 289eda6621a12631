"""Lecture 2: an RNN and an LSTM written from their equations compute what torch.nn does.

Copies the weights of ``torch.nn.RNN`` / ``torch.nn.LSTM`` into the from-scratch
:class:`~introdl.sequences.rnn.RNN` and :class:`~introdl.sequences.lstm.LSTM`, runs both
in float64 on the same sequences, backpropagates the same random loss through time, and
reports the largest absolute and relative differences in outputs and gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from introdl.experiment import Claim, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.sequences.lstm import LSTM
from introdl.sequences.rnn import RNN


@dataclass
class RNNFromScratchConfig:
    batch: int = 16  # sequences compared at once
    steps: int = 100  # sequence length T (backprop through all of it)
    input_size: int = 8  # D
    hidden_size: int = 32  # H
    units_plotted: int = 3  # hidden units drawn in the trajectory figure
    steps_plotted: int = 40  # time steps drawn in the trajectory figure


def _errors(ours: list[torch.Tensor], ref: list[torch.Tensor]) -> tuple[float, float]:
    """Largest |a - b| over all tensors, and that divided by the largest |b|."""
    ours, ref = [a.detach() for a in ours], [b.detach() for b in ref]
    abs_err = max(float((a - b).abs().max()) for a, b in zip(ours, ref, strict=True))
    scale = max(float(b.abs().max()) for b in ref)
    return abs_err, abs_err / max(scale, 1e-300)


def _compare(ours: nn.Module, ref: nn.Module, x: torch.Tensor, lstm: bool):
    """Forward and backward through both; return (out errors, grad errors, trajectories)."""
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, _ = ours(x1)
    y2, _ = ref(x2)
    w = torch.randn_like(y2)  # a random linear loss touches every output
    (y1 * w).sum().backward()
    (y2 * w).sum().backward()
    if lstm:
        mine = [ours.cell.weight_ih, ours.cell.weight_hh, ours.cell.bias]
    else:
        mine = [ours.W_xh.weight, ours.W_hh.weight, ours.W_xh.bias]
    theirs = [ref.weight_ih_l0, ref.weight_hh_l0, ref.bias_ih_l0]  # dL/db = dL/db_ih
    grads_ours = [x1.grad] + [p.grad for p in mine]
    grads_ref = [x2.grad] + [p.grad for p in theirs]
    return _errors([y1], [y2]), _errors(grads_ours, grads_ref), (y1.detach(), y2.detach())


@experiment(
    name="rnn-from-scratch", lecture=2,
    title="RNN (h_t = tanh(W_hh h_{t-1} + W_xh x_t)) and LSTM gates from scratch vs torch.nn",
    claims=[
        Claim("the RNN recurrence h_t = tanh(W_hh h_{t-1} + W_xh x_t + b) is what nn.RNN "
              "computes (outputs)", metric="rnn_out_max_abs_err", expected=1e-6, compare="<="),
        Claim("backpropagation through time gives nn.RNN's gradients",
              metric="rnn_grad_max_abs_err", expected=1e-6, compare="<="),
        Claim("the LSTM's forget/input/output gates and cell update are what nn.LSTM computes",
              metric="lstm_out_max_abs_err", expected=1e-6, compare="<="),
        Claim("BPTT through the LSTM gives nn.LSTM's gradients",
              metric="lstm_grad_max_abs_err", expected=1e-6, compare="<="),
        Claim("relative errors are as small", metric="max_rel_err", expected=1e-6,
              compare="<="),
    ],
    quick={"batch": 4, "steps": 30},
)
def rnn_from_scratch(cfg: RNNFromScratchConfig, run: Run) -> dict[str, float]:
    D, H = cfg.input_size, cfg.hidden_size
    x = torch.randn(cfg.batch, cfg.steps, D, dtype=torch.float64)  # (B, T, D)

    ref_rnn = nn.RNN(D, H, batch_first=True).double()
    rnn = RNN(D, H).double().load_torch(ref_rnn)
    rnn_out, rnn_grad, rnn_traj = _compare(rnn, ref_rnn, x, lstm=False)

    ref_lstm = nn.LSTM(D, H, batch_first=True).double()
    lstm = LSTM(D, H).double().load_torch(ref_lstm)
    lstm_out, lstm_grad, lstm_traj = _compare(lstm, ref_lstm, x, lstm=True)

    metrics = {
        "rnn_out_max_abs_err": rnn_out[0], "rnn_out_max_rel_err": rnn_out[1],
        "rnn_grad_max_abs_err": rnn_grad[0], "rnn_grad_max_rel_err": rnn_grad[1],
        "lstm_out_max_abs_err": lstm_out[0], "lstm_out_max_rel_err": lstm_out[1],
        "lstm_grad_max_abs_err": lstm_grad[0], "lstm_grad_max_rel_err": lstm_grad[1],
    }
    metrics["max_rel_err"] = max(v for k, v in metrics.items() if "rel" in k)
    for k, v in metrics.items():
        run.print(f"{k:24s} {v:.2e}")
    run.save_figure(_trajectories(rnn_traj, lstm_traj, cfg.units_plotted,
                                  cfg.steps_plotted), "trajectories.png")
    return metrics


def _trajectories(rnn_traj, lstm_traj, units: int, steps: int):
    """Hidden-state trajectories of sequence 0: from scratch (lines) over torch (dots)."""
    fig, axes = figure(ncols=2, size=(5.0, 3.4))
    for ax, (ours, ref), name in zip(axes, (rnn_traj, lstm_traj), ("RNN", "LSTM"), strict=True):
        ours, ref = ours[:, :steps], ref[:, :steps]
        t = range(1, ours.shape[1] + 1)
        for u in range(units):
            line, = ax.plot(t, ours[0, :, u], lw=1.6, label=f"unit {u}: from scratch")
            ax.plot(t, ref[0, :, u], ".", ms=3.5, color=line.get_color(), label=f"unit {u}: torch")
        ax.set_xlabel("time step t")
        ax.set_ylabel("$h_t$")
        ax.set_title(f"{name}: from scratch (lines) vs torch.nn (dots)")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    return fig
