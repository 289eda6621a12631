from dataclasses import dataclass
from typing import Literal

import pytest

from introdl.config import apply_overrides, parse_value, validate
from introdl.errors import UsageError
from introdl.experiment import load_all


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


# -- range checks (issue section 5) ---------------------------------------------------------

@dataclass
class Ranged:
    epochs: int = 3
    train_steps: int = 10
    batch_size: int = 8
    probe_batch: int = 4
    n_val: int = 100
    test_size: int = 0
    max_tunes: int = 0
    lr: float = 1e-3
    adam_lr: float = 0.3
    lrs: tuple[float, ...] = (0.1, 0.3)
    batch_sizes: tuple[int, ...] = (0, 8)
    dropout: float = 0.5
    val_fraction: float = 0.1
    temperature: float = 0.8
    budget_seconds: float = 1.0
    clip: float | None = None
    momentum: float = 0.9
    offset: float = -2.0  # no convention: any finite number
    mode: Literal["a", "b"] | None = "a"
    width: int = 4

    def validate(self) -> None:
        from introdl.config import require

        require(self, "width", self.width % 4 == 0, "must be a multiple of 4")


@pytest.mark.parametrize(
    "pair, fragment",
    [
        ("epochs=0", "epochs=0 is out of range: must be at least 1"),
        ("epochs=-3", "must be at least 1"),
        ("epochs=1000001", "must be at most 1,000,000"),
        ("train_steps=0", "train_steps=0 is out of range"),
        ("batch_size=0", "batch_size=0 is out of range: must be at least 1"),
        ("probe_batch=0", "probe_batch=0"),
        ("n_val=-10", "n_val=-10 is out of range: must be 0 or more"),
        ("test_size=-1", "test_size=-1"),
        ("max_tunes=-1", "max_tunes=-1"),
        ("lr=0", "lr=0.0 is out of range: must be above 0"),
        ("lr=-0.1", "must be above 0"),
        ("lr=nan", "must be a finite number"),
        ("lr=inf", "must be a finite number"),
        ("adam_lr=0", "adam_lr=0.0"),
        ("lrs=0.1,0", "lrs=0.1,0.0 is out of range"),
        ("batch_sizes=8,-1", "batch_sizes=8,-1"),
        ("dropout=1", "must be at least 0 and below 1"),
        ("val_fraction=-0.1", "val_fraction"),
        ("temperature=0", "temperature=0.0"),
        ("budget_seconds=0", "budget_seconds=0.0"),
        ("clip=0", "clip=0.0 is out of range: must be above 0"),
        ("momentum=-0.5", "must be 0 or more"),
        ("offset=nan", "offset=nan is out of range: must be a finite number"),
        ("width=6", "width=6 is out of range: must be a multiple of 4"),
    ],
)
def test_out_of_range_values_are_one_line_usage_errors(pair, fragment):
    with pytest.raises(UsageError, match="^--set ") as e:
        apply_overrides(Ranged(), [pair])
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_values_at_the_edges_of_their_ranges_are_accepted():
    c = apply_overrides(Ranged(), ["epochs=1", "epochs=1000000", "batch_size=1", "n_val=0",
                                   "dropout=0", "momentum=0", "clip=none", "offset=-1e9",
                                   "batch_sizes=0", "mode=none", "width=8"])
    assert (c.epochs, c.batch_size, c.n_val, c.clip, c.mode) == (10**6, 1, 0, None, None)


def test_the_python_api_is_checked_too():
    """Typed values (the quick preset, run_experiment(sets={...})) skip parsing, not checks."""
    with pytest.raises(UsageError, match="n_val=-10 is out of range"):
        apply_overrides(Ranged(), {"n_val": -10})
    with pytest.raises(UsageError, match="mode=c: must be one of a, b, none"):
        apply_overrides(Ranged(), {"mode": "c"})
    with pytest.raises(UsageError, match="epochs=0"):  # no overrides: still validated
        apply_overrides(Ranged(epochs=0), None)
    with pytest.raises(UsageError, match="width=2"):  # the class's own validate() hook
        validate(Ranged(width=2))


def test_every_experiments_default_and_quick_config_pass_validation():
    exps = load_all()
    assert len(exps) >= 18
    for e in exps.values():
        for quick in (False, True):
            cfg = e.make_config(quick)
            assert validate(cfg) is cfg, (e.name, quick)
            assert apply_overrides(cfg, None) == cfg, (e.name, quick)


@pytest.mark.parametrize(
    "name, pair, fragment",
    [
        ("mlp", "n_val=-10", "n_val=-10 is out of range: must be 0 or more"),
        ("mlp", "epochs=0", "epochs=0 is out of range"),
        ("mlp", "batch_size=0", "batch_size=0 is out of range"),
        ("mlp", "lr=nan", "lr=nan is out of range: must be a finite number"),
        ("mlp", "epochs=99999999", "must be at most 1,000,000"),
        ("mlp", "schedule=cosin", "must be one of cosine, step, exponential, none"),
        ("mlp", "hidden=256,0", "hidden=256,0 is out of range"),
        ("minibatch", "dataset=cifar10", "dataset=cifar10: must be one of fashion-mnist, digits"),
        ("regularization", "n_val=0", "early stopping watches the validation set"),
        ("from-scratch", "activation=gelu", "must be one of relu, tanh, sigmoid"),
        ("convolution", "photo=moon", "must be one of camera, astronaut"),
        ("cnn-classifier", "dataset=cifar10", "must be one of fashion-mnist, mnist"),
        ("segmentation", "size=50", "must be a multiple of 4"),
        ("driving", "k=0", "k=0 is out of range"),
        ("detection", "faster_steps=0", "faster_steps=0 is out of range"),
        ("gradient-descent", "adam_lr=0", "adam_lr=0.0 is out of range"),
    ],
)
def test_real_experiments_reject_bad_values_before_anything_runs(name, pair, fragment):
    from introdl.experiment import get

    exp = get(name)
    with pytest.raises(UsageError) as e:
        apply_overrides(exp.make_config(quick=True), [pair])
    assert fragment in str(e.value) and "\n" not in str(e.value)
