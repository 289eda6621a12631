"""Typed experiment configs: dataclass defaults, named presets and ``--set key=value`` overrides.

Overrides are parsed against each field's annotated type (int, float, bool, str,
Optional[...], Literal[...], tuple[...]) and never evaluated as code.

Every resolved config is then range-checked by :func:`validate` (so ``--set`` and the
Python API alike): by field-name convention (see :data:`RANGE_RULES`), every float
finite, every ``Literal`` field one of its choices, then the config class's own
``validate(self)`` method, if it has one, for what a name cannot say.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

from introdl.errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def closest(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ' (did you mean ...?)' hint, or '' when nothing is close."""
    near = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(near)}?)" if near else ""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def parse_value(text: str, tp: Any, key: str = "value") -> Any:
    """Convert ``text`` to type ``tp`` or raise UsageError naming the key and the expected type."""
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        for c in choices:
            if str(c) == text:
                return c
        raise UsageError(f"--set {key}={text}: must be one of {', '.join(map(str, choices))}")
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if text.lower() in ("none", "null") and len(args) < len(get_args(tp)):
            return None
        errors = []
        for a in args:
            try:
                return parse_value(text, a, key)
            except UsageError as e:
                errors.append(str(e))
        if (choices := _choices(tp)) is not None:  # Literal[...] | None: name every choice
            shown = ", ".join("none" if c is None else str(c) for c in choices)
            raise UsageError(f"--set {key}={text}: must be one of {shown}")
        raise UsageError(errors[0] if errors else f"--set {key}={text}: cannot parse")
    if origin in (tuple, list):
        args = get_args(tp)
        parts = [p.strip() for p in text.strip("()[]").split(",") if p.strip()]
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(parts) != len(args):
                raise UsageError(
                    f"--set {key}={text}: expected {len(args)} comma-separated values"
                )
            return tuple(parse_value(p, a, key) for p, a in zip(parts, args, strict=True))
        inner = args[0] if args else str
        vals = [parse_value(p, inner, key) for p in parts]
        return tuple(vals) if origin is tuple else vals
    if tp is bool:
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise UsageError(f"--set {key}={text}: expected true or false")
    if tp is int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"--set {key}={text}: expected an integer, e.g. {key}=10") from None
    if tp is float:
        try:
            return float(text)
        except ValueError:
            raise UsageError(f"--set {key}={text}: expected a number, e.g. {key}=0.01") from None
    if tp is str:
        return text
    raise UsageError(f"--set {key}: fields of type {_type_name(tp)} cannot be set from the CLI")


def field_types(cfg_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cfg_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cfg_cls)}


def apply_overrides(cfg: Any, pairs: dict[str, Any] | list[str] | None) -> Any:
    """Return a copy of dataclass ``cfg`` with overrides applied.

    ``pairs`` is either ``["key=value", ...]`` (strings parsed by type) or a dict of
    already-typed values (the quick preset).
    """
    if not pairs:
        return validate(cfg)
    types_ = field_types(type(cfg))
    changes: dict[str, Any] = {}
    items = pairs.items() if isinstance(pairs, dict) else (_split(p) for p in pairs)
    for key, value in items:
        if key not in types_:
            raise UsageError(
                f"unknown config key {key!r}{closest(key, list(types_))}; "
                f"valid keys: {', '.join(types_)}"
            )
        parse = isinstance(value, str) and types_[key] is not str
        changes[key] = parse_value(value, types_[key], key) if parse else value
    return validate(dataclasses.replace(cfg, **changes))


def _split(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise UsageError(f"--set {pair!r}: expected key=value, e.g. --set lr=0.01")
    return key.strip(), value.strip()


# -- range checks ------------------------------------------------------------------------

MAX_ITERATIONS = 10**6  # epochs or steps: more is a typo, not a plan (hours per epoch here)
SEED_MAX = 2**32 - 1  # NumPy's legacy seed range, which every run seeds


def check_seed(seed: object) -> None:
    """A one-line UsageError unless ``seed`` is a whole number in 0..SEED_MAX (``--seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise UsageError(f"--seed {seed} is out of range: use a whole number from 0 to "
                         f"{SEED_MAX}")


def _ends(name: str, *suffixes: str) -> bool:
    return any(name == s.lstrip("_") or name.endswith(s) for s in suffixes)


def _iterations(v: float) -> str | None:
    if v < 1:
        return "must be at least 1"
    if v > MAX_ITERATIONS:
        return f"must be at most {MAX_ITERATIONS:,} (ask for fewer)"
    return None


def _at_least(lo: float, strict: bool = False) -> Callable[[float], str | None]:
    def check(v: float) -> str | None:
        bad = v <= lo if strict else v < lo
        if not bad:
            return None
        return f"must be above {lo:g}" if strict else \
            "must be 0 or more" if lo == 0 else f"must be at least {lo:g}"
    return check


def _unit_interval(v: float) -> str | None:
    return None if 0 <= v < 1 else "must be at least 0 and below 1"


# (which field names, the check for each number in them); the first rule that names a
# field decides. Numbers inside tuples are checked one by one.
RANGE_RULES: list[tuple[Callable[[str], bool], Callable[[float], str | None]]] = [
    (lambda n: _ends(n, "_epochs", "_steps"), _iterations),  # epochs, mnist_epochs, steps
    (lambda n: _ends(n, "_batch", "_batch_size"), _at_least(1)),  # batch_size, probe_batch
    (lambda n: n == "seed", lambda v: None if 0 <= v <= SEED_MAX
     else f"must be from 0 to {SEED_MAX}"),
    (lambda n: "lr" in n.split("_") or n == "lrs", _at_least(0, strict=True)),  # lr, adam_lr
    (lambda n: _ends(n, "_dropout", "_fraction", "_smoothing"), _unit_interval),
    (lambda n: _ends(n, "_temperature", "_seconds", "_minutes", "_s"),
     _at_least(0, strict=True)),
    (lambda n: _ends(n, "_clip", "clip_grad_norm"), _at_least(0, strict=True)),
    (lambda n: _ends(n, "_momentum", "_weight_decay", "_patience"), _at_least(0)),
    (lambda n: n.startswith(("n_", "max_")) or _ends(n, "_size", "_sizes", "_scenes",
                                                     "_episodes", "_chars"), _at_least(0)),
]


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, (tuple, list)) else (value,)
    return [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _show(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)


def range_problem(name: str, value: Any) -> str | None:
    """Why ``name=value`` is out of range by the naming conventions, or None."""
    for v in _numbers(value):
        if isinstance(v, float) and not math.isfinite(v):
            return "must be a finite number"
        for names, check in RANGE_RULES:
            if names(name):
                if (why := check(v)) is not None:
                    return why
                break
    return None


def _choices(tp: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` (or ``Literal[...] | None``) annotation."""
    if get_origin(tp) is Literal:
        return get_args(tp)
    if get_origin(tp) in (Union, types.UnionType):
        lits = [a for a in get_args(tp) if get_origin(a) is Literal]
        if lits and all(get_origin(a) is Literal or a is type(None) for a in get_args(tp)):
            return tuple(c for a in lits for c in get_args(a)) + (None,)
    return None


def validate(cfg: Any) -> Any:
    """Range-check dataclass ``cfg`` and return it; raise a one-line UsageError otherwise.

    Checks, in order: every ``Literal`` field holds one of its choices; every float is
    finite; the naming conventions of :data:`RANGE_RULES` (``epochs``/``*_steps`` from 1
    to 10^6, ``batch_size`` >= 1, ``n_*``/``*_size``/``max_*`` >= 0, ``lr``/``*_lr`` > 0,
    ``dropout`` in [0, 1), ...); then ``cfg.validate()`` when the class defines it (it
    raises UsageError itself, e.g. for a width that must be divisible by 4).
    """
    for key, tp in field_types(type(cfg)).items():
        value = getattr(cfg, key)
        choices = _choices(tp)
        if choices is not None and value not in choices:
            shown = ", ".join("none" if c is None else str(c) for c in choices)
            raise UsageError(f"--set {key}={_show(value)}: must be one of {shown}")
        if (why := range_problem(key, value)) is not None:
            raise UsageError(f"--set {key}={_show(value)} is out of range: {why}")
    hook = getattr(cfg, "validate", None)
    if callable(hook):
        hook()
    return cfg


def require(cfg: Any, key: str, ok: bool, why: str) -> None:
    """For ``validate`` hooks: raise the usual one-line error for ``key`` unless ``ok``."""
    if not ok:
        raise UsageError(f"--set {key}={_show(getattr(cfg, key))} is out of range: {why}")
