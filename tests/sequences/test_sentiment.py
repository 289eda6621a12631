import numpy as np
import torch
from rich.console import Console

from introdl.sequences.classifier import SequenceClassifier
from introdl.sequences.experiments.sentiment import SentimentConfig, _data, split_examples
from introdl.sequences.music.corpus import parse_tune, passages
from introdl.sequences.tune_types import dance, labelled


def _tune(rhythm: str | None, meter: str = "6/8") -> object:
    r = f"R:{rhythm}\n" if rhythm else ""
    return parse_tune(f"X:1\nT:Test\n{r}M:{meter}\nL:1/8\nK:G\nGAB cde|d2B G3|]\n",
                      validate=False)


def test_dance_names_are_normalised():
    assert dance(_tune("Double Jig")) == "jig"
    assert dance(_tune("slipjig")) == "slip jig"
    assert dance(_tune(None)) is None


def test_labelled_input_hides_rhythm_title_and_by_default_meter():
    tunes = [_tune("reel", "4/4")] * 3 + [_tune("jig")] * 3 + [_tune("air")]
    texts, labels, classes = labelled(tunes, min_count=2)
    assert classes == ["jig", "reel"] and sorted(labels) == [0, 0, 0, 1, 1, 1]
    assert all("R:" not in t and "T:" not in t and "M:" not in t for t in texts)
    texts, _, _ = labelled(tunes, min_count=2, include_meter=True)
    assert texts[0].startswith("M:4/4")


def test_classifier_ignores_padding():
    torch.manual_seed(0)
    m = SequenceClassifier(vocab=10, classes=3, emb=4, hidden=5).eval()
    x = torch.tensor([[3, 4, 5, 0, 0, 0]])
    torch.testing.assert_close(m(x), m(x[:, :3]))
    assert m(torch.randint(1, 10, (7, 12))).shape == (7, 3)


def test_sentiment_experiment_runs_end_to_end(tmp_path):
    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("sentiment"), out=tmp_path / "s", quick=True, device="cpu",
                       sets=["max_examples=200", "epochs=1", "max_len=60", "hidden=8"],
                       console=Console(quiet=True), progress=False)
    assert r.metrics["classes"] >= 3 and 0.0 <= r.metrics["test_acc"] <= 1.0
    assert r.metrics["copies_dropped"] > 0
    assert r.metrics["n_train"] + r.metrics["n_val"] + r.metrics["n_test"] == 200
    assert 0.2 < r.metrics["majority_acc"] < 0.6
    assert {"loss.png", "confusion.png"} <= set(r.figures)


def test_split_examples_is_disjoint_stratified_and_keeps_a_fixed_test_set():
    labels = [0] * 60 + [1] * 40
    tr, va, te = split_examples(labels, seed=0)
    assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
    assert len(tr) + len(va) + len(te) == 100 and len(te) == 20
    assert sum(labels[i] for i in te) == 8  # stratified: 40% of the test set is class 1
    fixed = list(range(90, 100))
    tr, va, te = split_examples(labels, seed=0, test=fixed, max_examples=50)
    assert list(te) == fixed and len(tr) + len(va) == 50 and not set(fixed) & {*tr, *va}


def test_tune_splits_share_no_60_character_passage():
    data = _data(SentimentConfig())
    assert data.copies > 0 and data.test is None
    tr, va, te = split_examples(data.labels, seed=0)
    train = set().union(*(passages(data.texts[i].casefold(), 60) for i in tr))
    shared = [i for i in np.r_[va, te] if not passages(data.texts[i].casefold(), 60)
              .isdisjoint(train)]
    assert shared == []
