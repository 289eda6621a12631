"""Typed experiment configs: dataclass defaults, named presets and ``--set key=value`` overrides.

Overrides are parsed against each field's annotated type (int, float, bool, str,
Optional[...], Literal[...], tuple[...]) and never evaluated as code.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
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
        return cfg
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
    return dataclasses.replace(cfg, **changes)


def _split(pair: str) -> tuple[str, str]:
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise UsageError(f"--set {pair!r}: expected key=value, e.g. --set lr=0.01")
    return key.strip(), value.strip()
