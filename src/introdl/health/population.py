"""A simulated patient population where cost is a biased proxy for health need.

The mechanism Obermeyer et al. (Science, 2019) found in a widely used care-management
algorithm: it predicted next year's *cost* as a stand-in for next year's *need*, and
because one group generated less cost at the same level of illness (unequal access to
care), the algorithm referred fewer of that group's patients, who were sicker at the
same score. This module simulates that mechanism from a stated model. The numbers it
produces demonstrate the mechanism; they are not estimates about any real population.

Generative model (every parameter is a field of :class:`PopulationModel`):

- group ``b`` with probability ``share_b`` (else ``a``); group membership is *not* a
  feature (as in the paper, the algorithm did not use race);
- latent illness burden ``z ~ Gamma(shape, scale)``, times ``burden_b`` in group b (b is
  sicker on average, as the paper found: at the same risk score Black patients had more
  active chronic illnesses);
- chronic conditions this year and next: ``C0, C1 ~ Poisson(rate * z)`` (independent draws
  around the same burden); **need** = ``C1``, next year's number of active chronic conditions
  (the paper's main measure of health);
- access to care: ``1`` for group a, ``access_b`` (< 1) for group b;
- costs this year and next: ``cost_t = access * (base + per_condition * C_t) * LogNormal(0,
  cost_noise)``, plus an acute event with probability ``acute_rate`` costing
  ``acute_cost * access``; **cost** = next year's cost;
- features (what the model sees): this year's cost, this year's visits
  ``Poisson(access * (1 + visit_rate * z))``, this year's condition count ``C0``, ``n_labs``
  lab values ``z * w_k + N(0, lab_noise)``, and age (``40 + 8 * z + N(0, 10)``).

Two things carry group information into the features without naming the group: this
year's cost and visits (both scaled by access). A model trained to predict cost learns
to use them; one trained to predict need leans on conditions and labs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("cost_this_year", "visits_this_year", "conditions_this_year", "age")


@dataclass(frozen=True)
class PopulationModel:
    """The stated parameters of the simulated population (see the module docstring)."""

    share_b: float = 0.12  # share of group b in the population
    access_b: float = 0.6  # group b's cost (and visits) per unit of need, relative to a
    burden_b: float = 1.2  # group b's burden scale relative to a (b is sicker on average)
    shape: float = 2.0  # Gamma shape of the illness burden z
    scale: float = 1.0  # Gamma scale of z
    rate: float = 1.2  # chronic conditions per unit of z (Poisson rate)
    base: float = 1500.0  # yearly cost with no chronic condition (access 1)
    per_condition: float = 2500.0  # cost per active chronic condition (access 1)
    cost_noise: float = 0.5  # sigma of the log-normal cost factor
    acute_rate: float = 0.05  # yearly probability of an acute event
    acute_cost: float = 20000.0  # its cost (access 1)
    visit_rate: float = 1.5  # doctor visits per unit of z (access 1)
    n_labs: int = 5  # lab values that measure z with noise
    lab_noise: float = 1.0  # their noise sigma


@dataclass
class Population:
    """One simulated population: features, both labels and the (hidden) group."""

    x: np.ndarray  # (n, d) float features, columns FEATURES + lab_1..lab_k
    cost: np.ndarray  # (n,) next year's cost (the proxy label)
    need: np.ndarray  # (n,) next year's active chronic conditions (the target of care)
    group_b: np.ndarray  # (n,) bool, never a feature
    burden: np.ndarray  # (n,) latent illness z

    @property
    def feature_names(self) -> list[str]:
        return [*FEATURES] + [f"lab_{k + 1}" for k in range(self.x.shape[1] - len(FEATURES))]

    def subset(self, idx: np.ndarray) -> Population:
        return Population(self.x[idx], self.cost[idx], self.need[idx], self.group_b[idx],
                          self.burden[idx])


def _yearly_cost(conditions, access, m: PopulationModel, rng) -> np.ndarray:
    chronic = (m.base + m.per_condition * conditions) * rng.lognormal(0.0, m.cost_noise,
                                                                      len(conditions))
    acute = (rng.random(len(conditions)) < m.acute_rate) * m.acute_cost
    return access * (chronic + acute)


def simulate_population(n: int, seed: int | np.random.Generator,
                        model: PopulationModel | None = None) -> Population:
    """``n`` patients drawn from ``model`` (default: the stated one); same seed, same data."""
    m = model or PopulationModel()
    rng = np.random.default_rng(seed)
    group_b = rng.random(n) < m.share_b
    z = rng.gamma(m.shape, m.scale, n) * np.where(group_b, m.burden_b, 1.0)
    access = np.where(group_b, m.access_b, 1.0)
    c0 = rng.poisson(m.rate * z)
    c1 = rng.poisson(m.rate * z)
    cost0 = _yearly_cost(c0, access, m, rng)
    cost1 = _yearly_cost(c1, access, m, rng)
    visits = rng.poisson(access * (1.0 + m.visit_rate * z))
    weights = rng.uniform(0.5, 1.5, m.n_labs)
    labs = z[:, None] * weights[None, :] + rng.normal(0.0, m.lab_noise, (n, m.n_labs))
    age = 40.0 + 8.0 * z + rng.normal(0.0, 10.0, n)
    x = np.column_stack([cost0, visits, c0, age, labs]).astype(np.float64)
    return Population(x=x, cost=cost1, need=c1.astype(np.float64), group_b=group_b, burden=z)


def top_share(score: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the top ``fraction`` by ``score`` (ties broken at random, seeded)."""
    n = max(1, round(fraction * len(score)))
    order = np.lexsort((rng.random(len(score)), -score))  # last key sorts first
    chosen = np.zeros(len(score), dtype=bool)
    chosen[order[:n]] = True
    return chosen
