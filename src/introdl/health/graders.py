"""Simulated graders and three ways to turn their reads into labels: one grader, majority, Delphi.

Grader model. A panel of ``G`` graders; grader ``g`` has a bias ``b_g`` (a systematic shift
of its perceived severity: an over- or under-caller), spread evenly from ``+bias`` (grader
1, the panel's over-caller) to ``-bias``, and a noise ``sigma_g = noise x U(0.8, 1.2)``
(some are steadier than others; seeded). Reading an image of latent severity ``s`` (see
:mod:`.fundus`), a grader perceives ``p = s + b_g + sigma_g e``, ``e ~ Normal(0, 1)`` drawn
afresh for every read, and grades it with the true rule's thresholds:
``grade = clip(floor(p), 0, 4)``. The defaults (``noise = 0.4``, ``bias = 0.3``, 5
graders) make two graders give the same grade about 60% of the time, as the lecture
reports for retina specialists (measured: 0.59-0.62 over panel seeds).

Labelling schemes (every scheme reads each image afresh):

- ``single``: grader 1 grades every image, as when one ophthalmologist labels a data set;
  its labels carry its habits (here a bias of ``+bias``), which no amount of data averages
  away;
- ``majority-k``: ``k`` distinct graders drawn at random per image; the label is the most
  common grade, a tie broken by the tied grade closest to the median, then the lower;
- ``delphi``: the whole panel, in rounds. Round 0 is each grader's independent read. Each
  round every grader sees the others' grades (anonymous), then moves its perceived
  severity toward the middle of the panel's median grade with weight ``weight``:
  ``p <- (1 - w) p + w (median + 0.5)``, and re-grades. It stops at consensus (all grades
  equal) or after ``rounds`` rounds; the label is the panel's final (lower) median grade.
  The median resists the outlying grader; the revision pulls the others toward it, so a
  panel that starts split ends on its middle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from introdl.health.fundus import GRADES

SCHEMES = ("single", "majority-3", "majority-5", "delphi")


@dataclass(frozen=True)
class Panel:
    """A panel of simulated graders: per-grader bias and noise on the latent severity."""

    bias: np.ndarray  # (G,)
    noise: np.ndarray  # (G,)

    @property
    def size(self) -> int:
        return len(self.bias)


def make_panel(graders: int = 5, noise: float = 0.4, bias: float = 0.3,
               seed: int | np.random.Generator = 0) -> Panel:
    """Draw ``graders`` graders (see the module docstring for the model)."""
    rng = np.random.default_rng(seed)
    return Panel(bias=bias * np.linspace(1, -1, graders),
                 noise=noise * rng.uniform(0.8, 1.2, size=graders))


def to_grade(perceived: np.ndarray) -> np.ndarray:
    """The grading rule applied to a perceived severity: thresholds 1, 2, 3, 4."""
    return np.clip(np.floor(perceived), 0, GRADES - 1).astype(np.int64)


def perceive(panel: Panel, severity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every grader's fresh perception of every image: ``(n, G)``."""
    s = np.asarray(severity, float)[:, None]
    return s + panel.bias[None] + panel.noise[None] * rng.normal(size=(len(s), panel.size))


def read_all(panel: Panel, severity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every grader's independent grade of every image: ``(n, G)`` int."""
    return to_grade(perceive(panel, severity, rng))


def vote(grades: np.ndarray) -> np.ndarray:
    """Per row: the most common grade; ties go to the tied grade nearest the median, then lower."""
    grades = np.asarray(grades)
    counts = np.stack([(grades == g).sum(axis=1) for g in range(GRADES)], axis=1)
    median = np.median(grades, axis=1)
    top = counts == counts.max(axis=1, keepdims=True)
    dist = np.abs(np.arange(GRADES)[None] - median[:, None]) + 1e-3 * np.arange(GRADES)[None]
    return np.where(top, dist, np.inf).argmin(axis=1).astype(np.int64)


def lower_median(grades: np.ndarray) -> np.ndarray:
    """Per row: the lower median of the grades (an actual grade, also for an even panel)."""
    g = np.sort(np.asarray(grades), axis=1)
    return g[:, (g.shape[1] - 1) // 2].astype(np.int64)


@dataclass
class DelphiResult:
    label: np.ndarray  # (n,) final median grade
    rounds: np.ndarray  # (n,) rounds used (0 = unanimous at once)
    consensus: np.ndarray  # (n,) bool: all graders agreed at the end
    first: np.ndarray  # (n, G) round-0 grades


def delphi(panel: Panel, severity: np.ndarray, rng: np.random.Generator, rounds: int = 3,
           weight: float = 0.5) -> DelphiResult:
    """Delphi adjudication of every image by the whole panel (rule in the module docstring)."""
    p = perceive(panel, severity, rng)
    grades = to_grade(p)
    first = grades.copy()
    used = np.zeros(len(p), dtype=np.int64)
    for r in range(1, rounds + 1):
        open_ = (grades != grades[:, :1]).any(axis=1)
        if not open_.any():
            break
        target = lower_median(grades[open_])[:, None] + 0.5
        p[open_] = (1 - weight) * p[open_] + weight * target
        grades[open_] = to_grade(p[open_])
        used[open_] = r
    consensus = ~(grades != grades[:, :1]).any(axis=1)
    return DelphiResult(label=lower_median(grades), rounds=used, consensus=consensus,
                        first=first)


def label(scheme: str, panel: Panel, severity: np.ndarray, rng: np.random.Generator,
          rounds: int = 3, weight: float = 0.5) -> np.ndarray:
    """Labels for images of latent ``severity`` under one of :data:`SCHEMES`."""
    n = len(severity)
    if scheme == "delphi":
        return delphi(panel, severity, rng, rounds, weight).label
    grades = read_all(panel, severity, rng)
    if scheme == "single":
        return grades[:, 0].astype(np.int64)
    k = int(scheme.split("-")[1])
    if not 1 <= k <= panel.size:
        raise ValueError(f"{scheme}: needs {k} graders, the panel has {panel.size}")
    # k distinct graders per image, chosen at random (a random permutation per row)
    who = np.argsort(rng.uniform(size=(n, panel.size)), axis=1)[:, :k]
    chosen = np.take_along_axis(grades, who, axis=1)
    return vote(chosen)
