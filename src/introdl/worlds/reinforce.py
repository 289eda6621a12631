"""REINFORCE for the categorical rule probabilities of a grammar, with a baseline.

Each rule ``r`` (e.g. "how many lanes", "how many cars in a lane", "building or not") is a
categorical distribution ``softmax(theta_r)`` over its ``K_r`` choices. A *group* of samples
(one scene, or a sub-batch of scenes sharing one reward) is summarised by how often it chose
each option of each rule, ``counts[r][g, k]``; its log-probability is
``log p(g) = sum_r sum_k counts[r][g, k] * log_softmax(theta_r)[k]``, so a rule used several
times in one scene (one cars-per-lane draw per lane) simply counts several times.

The score-function (REINFORCE) estimator of ``grad E[R]`` is
``mean_g (R_g - b_g) grad log p(g)``. The baseline ``b_g`` lowers its variance without
biasing it: ``"loo"`` is the mean reward of the *other* groups of the same step (leave one
out, so independent of group g), ``"ema"`` an exponential moving average of past rewards,
``"none"`` zero. With a reward that scores a whole sub-batch (e.g. minus an MMD between the
sub-batch and real data, as Meta-Sim2 does), the optimum is a distribution, not one choice.
Parameters are updated with Adam (gradient ascent on the reward).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import torch

Baseline = Literal["loo", "ema", "none"]


class CategoricalRules:
    """Learnable logits for named categorical rules, trained by REINFORCE."""

    def __init__(self, probs: Mapping[str, Sequence[float]], lr: float = 0.05,
                 baseline: Baseline = "loo", ema: float = 0.9, eps: float = 1e-6) -> None:
        if baseline not in ("loo", "ema", "none"):
            raise ValueError(f"baseline must be 'loo', 'ema' or 'none', not {baseline!r}")
        self.logits = {}
        for name, p in probs.items():
            p = np.asarray(p, dtype=np.float64)
            if p.ndim != 1 or len(p) < 2 or (p < 0).any() or p.sum() <= 0:
                raise ValueError(f"rule {name!r} needs >= 2 non-negative weights")
            p = np.maximum(p / p.sum(), eps)
            self.logits[name] = torch.nn.Parameter(torch.tensor(np.log(p / p.sum()),
                                                                dtype=torch.float64))
        self.optimizer = torch.optim.Adam(list(self.logits.values()), lr=lr)
        self.baseline, self.ema_decay = baseline, ema
        self._ema: float | None = None

    def probs(self) -> dict[str, np.ndarray]:
        """The current probabilities of every rule."""
        with torch.no_grad():
            return {k: torch.softmax(v, 0).numpy().copy() for k, v in self.logits.items()}

    def log_prob(self, counts: Mapping[str, np.ndarray | torch.Tensor]) -> torch.Tensor:
        """log p of each group (G,) given its choice counts per rule (G, K_r)."""
        total = None
        for name, theta in self.logits.items():
            c = torch.as_tensor(np.asarray(counts[name]), dtype=torch.float64)
            if c.ndim != 2 or c.shape[1] != theta.numel():
                raise ValueError(f"counts[{name!r}] must be (groups, {theta.numel()})")
            lp = c @ torch.log_softmax(theta, 0)
            total = lp if total is None else total + lp
        assert total is not None, "no rules"
        return total

    def advantages(self, rewards: np.ndarray) -> np.ndarray:
        """Rewards minus the baseline (see the module docstring); updates the EMA."""
        r = np.asarray(rewards, dtype=np.float64)
        if self.baseline == "loo":
            if len(r) < 2:
                raise ValueError("the leave-one-out baseline needs >= 2 groups per step")
            b = (r.sum() - r) / (len(r) - 1)
        elif self.baseline == "ema":
            b = np.full_like(r, r.mean() if self._ema is None else self._ema)
            m = float(r.mean())
            self._ema = m if self._ema is None else self.ema_decay * self._ema + \
                (1 - self.ema_decay) * m
        else:
            b = np.zeros_like(r)
        return r - b

    def surrogate(self, counts: Mapping[str, np.ndarray], advantages: np.ndarray) -> torch.Tensor:
        """The loss whose gradient is minus the REINFORCE estimate of grad E[R]."""
        a = torch.as_tensor(np.asarray(advantages), dtype=torch.float64)
        return -(a * self.log_prob(counts)).mean()

    def step(self, counts: Mapping[str, np.ndarray], rewards: np.ndarray) -> float:
        """One REINFORCE update from G groups' choice counts and rewards; returns mean reward."""
        adv = self.advantages(rewards)
        self.optimizer.zero_grad()
        self.surrogate(counts, adv).backward()
        self.optimizer.step()
        return float(np.mean(rewards))


def one_hot_counts(choices: np.ndarray, k: int) -> np.ndarray:
    """(G, n) choices in 0..k-1 -> (G, k) counts per group."""
    choices = np.atleast_2d(np.asarray(choices))
    out = np.zeros((len(choices), k))
    for g, row in enumerate(choices):
        out[g] = np.bincount(row, minlength=k)[:k]
    return out


def linear_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the linear kernel k(a, b) = a . b (the toy problem's reward):
    an unbiased estimate of ||E x - E y||^2."""
    def self_term(a: np.ndarray) -> float:  # mean of a_i . a_j over i != j, in O(n d)
        s = a.sum(0)
        return float((s @ s - (a * a).sum()) / (len(a) * (len(a) - 1)))

    return self_term(x) + self_term(y) - 2 * float(x.mean(0) @ y.mean(0))


def toy_grammar_fit(target: Mapping[str, Sequence[float]], start: Mapping[str, Sequence[float]],
                    steps: int = 300, groups: int = 8, group_size: int = 32, lr: float = 0.05,
                    baseline: Baseline = "loo", seed: int = 0) -> tuple[CategoricalRules,
                                                                         list[float]]:
    """Fit a toy grammar of independent rules (one draw of each per sample) to samples of
    ``target`` by REINFORCE with reward -MMD^2 (linear kernel on the one-hot choices) between
    each group of samples and a fixed set of target samples; returns the rules and rewards."""
    rng = np.random.default_rng(seed)
    names = list(target)
    sizes = [len(target[k]) for k in names]

    def draw(probs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        cols = [rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p)) for p in
                (probs[k] for k in names)]
        return np.stack(cols, 1)

    def feats(ch: np.ndarray) -> np.ndarray:
        return np.concatenate([np.eye(k)[ch[:, i]] for i, k in enumerate(sizes)], 1)

    real = feats(draw(target, 2000))
    rules = CategoricalRules(start, lr=lr, baseline=baseline)
    history = []
    for _ in range(steps):
        p = rules.probs()
        ch = draw(p, groups * group_size).reshape(groups, group_size, len(names))
        counts = {k: one_hot_counts(ch[..., i], sizes[i]) for i, k in enumerate(names)}
        rewards = np.array([-linear_mmd2(feats(g), real) for g in ch])
        history.append(rules.step(counts, rewards))
    return rules, history
