"""HYMOD, the conceptual rainfall-runoff model, calibrated with spotpy: the hydrologists' baseline.

HYMOD (Boyle 2001; spotpy's Python port, ``spotpy.examples.hymod_python.hymod``) turns daily
precipitation and potential evapotranspiration (mm/day) into runoff (mm/day) with a
probability-distributed soil store (``cmax``, ``bexp``), a split ``alpha`` between three quick
linear reservoirs (rate ``Kq``) and one slow reservoir (rate ``Ks``). It sees no discharge:
it *simulates* the hydrograph from the weather alone. No snow routine (the Fulda winters have
some snow; HYMOD ignores it, as in spotpy's example).

Calibration: spotpy's SCE-UA sampler (shuffled complex evolution, Duan et al. 1992) with a
stated number of repetitions minimises ``1 - NSE`` on the training years only; the model
runs continuously from the first warm-up day, so the test years start from the state the
weather produced, with no discharge information. Parameter ranges are spotpy's example's.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
import spotpy
from spotpy.examples.hymod_python.hymod import hymod
from spotpy.parameter import Uniform

from introdl.health.flood.nse import nse

PARAMETERS = ("cmax", "bexp", "alpha", "Ks", "Kq")
NGS, KSTOP = 7, 5  # SCE-UA complexes; stop after KSTOP loops improving < 0.01%


def simulate(prec: np.ndarray, pet: np.ndarray, params) -> np.ndarray:
    """Runoff depth (mm/day) of HYMOD with ``params`` (cmax, bexp, alpha, Ks, Kq)."""
    return np.asarray(hymod(list(map(float, prec)), list(map(float, pet)),
                            *map(float, params)), dtype=float)


class _Setup:
    """A spotpy setup: HYMOD over the whole series, scored on the training days."""

    cmax = Uniform(low=1.0, high=500, optguess=412.33)
    bexp = Uniform(low=0.1, high=2.0, optguess=0.1725)
    alpha = Uniform(low=0.1, high=0.99, optguess=0.8127)
    Ks = Uniform(low=0.001, high=0.10, optguess=0.0404)
    Kq = Uniform(low=0.1, high=0.99, optguess=0.5592)

    def __init__(self, prec, pet, q_mm, train: np.ndarray) -> None:
        self.prec, self.pet = list(map(float, prec)), list(map(float, pet))
        self.obs = np.asarray(q_mm, dtype=float)[train]
        self.train = train

    def simulation(self, x):
        return np.asarray(hymod(self.prec, self.pet, *x), dtype=float)[self.train]

    def evaluation(self):
        return self.obs

    def objectivefunction(self, simulation, evaluation, params=None):
        return 1.0 - nse(evaluation, simulation)  # SCE-UA minimises


@dataclass
class Calibration:
    params: np.ndarray  # best (cmax, bexp, alpha, Ks, Kq)
    train_nse: float
    runs: int  # model runs spotpy made


def calibrate(prec, pet, q_mm, train: np.ndarray, repetitions: int, seed: int) -> Calibration:
    """SCE-UA calibration of HYMOD on the ``train`` days (boolean mask over the series)."""
    setup = _Setup(prec, pet, q_mm, np.asarray(train, dtype=bool))
    sampler = spotpy.algorithms.sceua(setup, dbname="hymod", dbformat="ram",
                                      random_state=seed, save_sim=False)
    with contextlib.redirect_stdout(io.StringIO()):  # spotpy prints every loop
        sampler.sample(repetitions, ngs=NGS, kstop=KSTOP, pcento=1e-4, peps=1e-4)
    results = sampler.getdata()
    likes = np.asarray(results["like1"], dtype=float)
    best = int(np.nanargmin(likes))
    params = np.array([results[f"par{p}"][best] for p in PARAMETERS], dtype=float)
    return Calibration(params=params, train_nse=float(1 - likes[best]), runs=len(likes))
