"""An LSTM that forecasts tomorrow's discharge from the past weeks of weather and discharge.

Forecast of day ``t+1`` (lead time 1 day) from a window of ``lookback`` days:

- discharge (runoff depth, mm/day) of days ``t-lookback+1 .. t`` (observed up to today);
- the forcing (precipitation, potential evapotranspiration) of days ``t-lookback+2 .. t+1``:
  the forecast day's observed weather stands in for a perfect weather forecast, the same
  forcing HYMOD gets for that day (HYMOD sees no discharge at all).

The network predicts the change from today's discharge (in units of the training standard
deviation), so an untrained net starts at persistence; the loss is the mean squared error of
discharge, the quantity NSE scores. Inputs are scaled with training-period statistics only
(log1p for discharge and precipitation). Early stopping keeps the weights with the best
validation NSE; the test period is scored once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from introdl.engine.progress import ProgressBar
from introdl.engine.steps import EarlyStopping
from introdl.health.flood.nse import nse


class DischargeLSTM(nn.Module):
    """One LSTM layer over the window, a linear head on its last state -> change in q."""

    def __init__(self, n_features: int, hidden: int = 32) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


def windows(prec: np.ndarray, pet: np.ndarray, q: np.ndarray, lookback: int,
            stats: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, lookback, 3) for every target day ``t+1 >= lookback``, and their indices."""
    lq = (np.log1p(q) - stats["lq_mean"]) / stats["lq_std"]
    lp = (np.log1p(prec) - stats["lp_mean"]) / stats["lp_std"]
    ev = (pet - stats["pet_mean"]) / stats["pet_std"]
    targets = np.arange(lookback, len(q))
    idx = targets[:, None] + np.arange(-lookback, 0)[None, :]  # discharge days t-L+1 .. t
    x = np.stack([lq[idx], lp[idx + 1], ev[idx + 1]], axis=-1)  # forcing days shifted by one
    return x.astype(np.float32), targets


def train_stats(prec, pet, q) -> dict[str, float]:
    """Scaling statistics from the training period (only)."""
    lq, lp = np.log1p(q), np.log1p(prec)
    return {"lq_mean": lq.mean(), "lq_std": lq.std(), "lp_mean": lp.mean(), "lp_std": lp.std(),
            "pet_mean": pet.mean(), "pet_std": pet.std() + 1e-9, "q_std": q.std()}


@dataclass
class Forecast:
    val_nse: float
    test_nse: float
    test_pred: np.ndarray  # forecast discharge (mm/day) on the test targets
    test_days: np.ndarray  # their indices in the series
    epochs: int
    history: list[float] = field(default_factory=list)  # validation NSE per epoch


def fit_forecaster(prec, pet, q, train: np.ndarray, val: np.ndarray, test: np.ndarray, *,
                   lookback: int, hidden: int, epochs: int, patience: int, lr: float,
                   batch_size: int, seed: int, progress: bool = False) -> Forecast:
    """Train on targets in ``train``, early-stop on ``val`` NSE, score ``test`` once.

    Masks are boolean over days; a window belongs to the split of its target day.
    """
    prec, pet, q = (np.asarray(a, dtype=float) for a in (prec, pet, q))
    stats = train_stats(prec[train], pet[train], q[train])
    x, targets = windows(prec, pet, q, lookback, stats)
    ok = ~np.isnan(x).any(axis=(1, 2)) & ~np.isnan(q[targets])
    scale = stats["q_std"]

    def split(mask):
        keep = ok & mask[targets]
        t = targets[keep]
        return (torch.from_numpy(x[keep]), torch.tensor(q[t - 1], dtype=torch.float32),
                torch.tensor(q[t], dtype=torch.float32), t)

    tr, va, te = split(train), split(val), split(test)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DischargeLSTM(x.shape[-1], hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def predict(part) -> np.ndarray:
        model.eval()
        with torch.no_grad():
            return (part[1] + scale * model(part[0])).numpy()

    stop, history = EarlyStopping(patience), []
    n = len(tr[0])
    with ProgressBar(epochs, desc="LSTM", enabled=progress) as bar:
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            for i in range(0, n, batch_size):
                b = order[i:i + batch_size]
                loss = ((tr[1][b] + scale * model(tr[0][b]) - tr[2][b]) / scale).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            score = nse(va[2].numpy(), predict(va))
            history.append(score)
            bar.update(epoch + 1, loss=loss.item(), samples=(epoch + 1) * n, val=score)
            if stop.step(score, model):
                break
    stop.restore(model)
    pred = predict(te)
    return Forecast(val_nse=float(stop.best), test_nse=nse(te[2].numpy(), pred), test_pred=pred,
                    test_days=te[3], epochs=len(history), history=history)


def persistence_nse(q: np.ndarray, test: np.ndarray) -> float:
    """NSE of 'tomorrow = today' on the test targets (the first test day uses the day before)."""
    q = np.asarray(q, dtype=float)
    days = np.flatnonzero(test)
    days = days[days >= 1]
    return nse(q[days], q[days - 1])
