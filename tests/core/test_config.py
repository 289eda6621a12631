from dataclasses import dataclass
from typing import Literal

import pytest

from introdl.config import apply_overrides, parse_value
from introdl.errors import UsageError


@dataclass
class Cfg:
    epochs: int = 3
    lr: float = 0.1
    name: str = "adam"
    use_bn: bool = False
    schedule: str | None = None
    mode: Literal["a", "b"] = "a"
    hidden: tuple[int, ...] = (8, 8)
    clip: float | None = None


def test_overrides_are_parsed_by_field_type():
    c = apply_overrides(Cfg(), ["epochs=5", "lr=1e-3", "use_bn=yes", "mode=b", "hidden=16,32,4",
                                "schedule=cosine", "clip=none", "name=sgd"])
    assert c == Cfg(epochs=5, lr=1e-3, name="sgd", use_bn=True, schedule="cosine", mode="b",
                    hidden=(16, 32, 4), clip=None)


def test_optional_float_accepts_number_and_none():
    assert apply_overrides(Cfg(), ["clip=2.5"]).clip == 2.5
    assert apply_overrides(Cfg(clip=1.0), ["clip=None"]).clip is None


def test_quick_preset_dict_is_applied_without_parsing():
    assert apply_overrides(Cfg(), {"epochs": 1, "hidden": (2,)}).hidden == (2,)


@pytest.mark.parametrize(
    "pair, fragment",
    [
        ("epochs=three", "expected an integer"),
        ("lr=fast", "expected a number"),
        ("use_bn=maybe", "expected true or false"),
        ("mode=c", "must be one of a, b"),
        ("epoch=3", "did you mean epochs"),
        ("epochs", "expected key=value"),
        ("hidden=1,x", "expected an integer"),
    ],
)
def test_bad_overrides_say_what_is_wrong(pair, fragment):
    with pytest.raises(UsageError, match=fragment):
        apply_overrides(Cfg(), [pair])


def test_parse_value_fixed_length_tuple():
    assert parse_value("1,2.5", tuple[int, float]) == (1, 2.5)
    with pytest.raises(UsageError, match="expected 2"):
        parse_value("1", tuple[int, float], "pair")
