"""The experiment contract: a claim from a lecture, a typed config, and a function that measures it.

An experiment is registered with :func:`experiment`::

    @experiment(name="perceptron", lecture=1, title="...",
                claims=[Claim("sigma(-6) ~ 0.002", metric="output", expected=0.0025, tol=5e-4)],
                quick={"epochs": 1})
    def perceptron(cfg: PerceptronConfig, run: Run) -> dict[str, float]:
        ...

The function receives its config dataclass (the first parameter's annotation)
and a :class:`~introdl.run.Run`, and returns its metrics. The framework, not
the experiment, checks each claim against the returned metrics.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from introdl.config import closest
from introdl.errors import UsageError

Compare = Literal["approx", ">=", "<=", ">", "<", "true"]


@dataclass(frozen=True)
class Claim:
    """What the lecture says, and how to check it against one measured metric.

    Args:
        text: the claim in words, as the lecture puts it.
        metric: key in the experiment's returned metrics; ``None`` for a claim that is
            only illustrated (a figure), never checked.
        expected: the lecture's number (or the target).
        tol: absolute tolerance for ``compare="approx"``.
        compare: ``approx`` (|m - expected| <= tol), ``>=``/``<=``/``>``/``<`` against
            ``expected``, or ``true`` (metric must be truthy, e.g. 1.0).
        quick_expected: the target a ``--quick`` run is held to, where its small budget
            cannot reach the lecture's number (e.g. 80% instead of 88% accuracy); the
            report prints both, so a quick pass is never mistaken for the full claim.
        full_only: the claim needs the default budget (e.g. "a CNN beats an MLP" only
            shows with enough data); a quick run reports it as not checked, never as
            passed.
    """

    text: str
    metric: str | None = None
    expected: float | None = None
    tol: float = 0.0
    compare: Compare = "approx"
    quick_expected: float | None = None
    full_only: bool = False

    def target(self, quick: bool = False) -> float | None:
        return self.quick_expected if quick and self.quick_expected is not None \
            else self.expected

    def check(self, metrics: Mapping[str, Any], quick: bool = False) -> bool | None:
        """True/False when checkable, None when the claim names no metric."""
        if self.metric is None or (quick and self.full_only):
            return None
        if self.metric not in metrics:
            return False
        m = metrics[self.metric]
        try:
            m = float(m)
        except (TypeError, ValueError):
            return False
        if math.isnan(m):
            return False
        if self.compare == "true":
            return bool(m)
        assert self.expected is not None, f"claim {self.text!r} needs an expected value"
        e = float(self.target(quick))
        return {
            "approx": lambda: abs(m - e) <= self.tol,
            ">=": lambda: m >= e - self.tol,
            "<=": lambda: m <= e + self.tol,
            ">": lambda: m > e,
            "<": lambda: m < e,
        }[self.compare]()

    def expected_text(self, quick: bool = False) -> str:
        if self.metric is None:
            return "(figure)"
        if self.compare == "true":
            return f"{self.metric} holds" + (" (checked in the default run only)"
                                             if self.full_only and quick else "")
        e = self.target(quick)
        if self.compare == "approx":
            tol = f" ± {self.tol:g}" if self.tol else ""
            text = f"{self.metric} ≈ {e:g}{tol}"
        else:
            text = f"{self.metric} {self.compare} {e:g}"
            if self.tol and self.compare in (">=", "<="):  # the bound check() applies
                text += f" {'+' if self.compare == '<=' else '-'} {self.tol:g}"
        if self.quick_expected is not None:
            text += f" (quick run; full: {self.expected:g})" if quick \
                else f" (quick run: {self.quick_expected:g})"
        if self.full_only and quick:  # a quick run reports it as not checked: say why
            text += " (checked in the default run only)"
        return text


@dataclass(frozen=True)
class Fact:
    """A measured number stated beside the claims, never given a verdict.

    For what is true by construction (an embedding table has fewer weights than a
    one-hot input layer), so it is reported, not "checked".

    Args:
        text: what the number is, in words.
        metric: key in the experiment's returned metrics.
    """

    text: str
    metric: str


@dataclass
class Experiment:
    name: str
    lecture: int
    title: str
    claims: tuple[Claim, ...]
    config_cls: type
    quick: dict[str, Any]
    fn: Callable[..., Mapping[str, Any]]
    module: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    facts: tuple[Fact, ...] = field(default_factory=tuple)

    def make_config(self, quick: bool = False) -> Any:
        cfg = self.config_cls()
        if quick and self.quick:
            cfg = dataclasses.replace(cfg, **self.quick)
        return cfg


_REGISTRY: dict[str, Experiment] = {}


def experiment(
    *,
    name: str,
    lecture: int,
    title: str,
    claims: list[Claim] | tuple[Claim, ...] | Claim,
    quick: dict[str, Any] | None = None,
    facts: list[Fact] | tuple[Fact, ...] = (),
) -> Callable[[Callable], Callable]:
    """Register ``fn(cfg, run) -> metrics`` as experiment ``name``."""

    def deco(fn: Callable) -> Callable:
        params = list(inspect.signature(fn).parameters)
        hints = typing.get_type_hints(fn)
        cfg_cls = hints.get(params[0]) if params else None
        if cfg_cls is None or not dataclasses.is_dataclass(cfg_cls):
            raise TypeError(f"experiment {name}: annotate the first parameter with a dataclass")
        known = {f.name for f in dataclasses.fields(cfg_cls)}
        bad = set(quick or {}) - known
        if bad:
            raise TypeError(f"experiment {name}: quick preset names unknown fields {sorted(bad)}")
        claim_list = (claims,) if isinstance(claims, Claim) else tuple(claims)
        if not all(isinstance(c, Claim) for c in claim_list):
            raise TypeError(f"experiment {name}: claims= takes Claim objects; put a Fact "
                            "in facts=[...]")
        if not all(isinstance(f, Fact) for f in facts):
            raise TypeError(f"experiment {name}: facts= takes Fact objects")
        if name in _REGISTRY and _REGISTRY[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"experiment name {name!r} registered twice")
        _REGISTRY[name] = Experiment(
            name=name,
            lecture=lecture,
            title=title,
            claims=claim_list,
            config_cls=cfg_cls,
            quick=dict(quick or {}),
            fn=fn,
            module=fn.__module__,
            facts=tuple(facts),
        )
        return fn

    return deco


def load_all() -> dict[str, Experiment]:
    """Import every ``introdl.<topic>.experiments`` module (or package) so experiments register.

    Topic packages are discovered, not listed, so the core names no lecture. This imports
    all lecture code (seconds); to know what exists without that, use
    :mod:`introdl.catalogue`.
    """
    from introdl.catalogue import topic_modules

    for modname, _path in topic_modules("experiments"):
        importlib.import_module(modname)
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].lecture, kv[0])))


def known_names() -> list[str]:
    """Every experiment name, registered or on disk, without importing lecture code."""
    from introdl.catalogue import names

    return list(dict.fromkeys([*_REGISTRY, *names()]))


def check_name(name: str) -> None:
    """Raise UsageError (with the closest names) unless experiment ``name`` exists.

    Imports no lecture code, so bad input is reported at once.
    """
    if name in _REGISTRY:
        return
    _require(name, known_names())


def _require(name: str, names: list[str]) -> None:
    if name not in names:
        raise UsageError(
            f"unknown experiment {name!r}{closest(name, names)}; "
            "run 'introdl list' to see them all"
        )


def get(name: str) -> Experiment:
    """The experiment ``name``, importing only the module that defines it."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    from introdl.catalogue import build

    entries = build().entries
    _require(name, [*_REGISTRY, *entries])  # unknown: UsageError, with the closest names
    importlib.import_module(entries[name].module)
    if name not in _REGISTRY:  # the source and the registry disagree: import everything
        load_all()
    if name not in _REGISTRY:
        raise UsageError(f"experiment {name!r} is declared in {entries[name].module} but "
                         "did not register; run 'introdl list' to see them all")
    return _REGISTRY[name]
