"""One-hot vs learned embedding: the lookup identity, the model, the windows, a tiny run."""

from __future__ import annotations

import json

import pytest
import torch
from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment
from introdl.sequences.char_lm import CharLM, OneHot, SequenceCrossEntropy
from introdl.sequences.experiments.embeddings import _windows, char_group
from introdl.sequences.vocab import CharVocab


def test_embedding_lookup_is_one_hot_times_a_matrix():
    emb = torch.nn.Embedding(11, 4)
    idx = torch.tensor([[0, 3, 10], [7, 7, 1]])
    torch.testing.assert_close(emb(idx), OneHot(11)(idx) @ emb.weight)


@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_char_lm_gives_next_token_logits(encoding):
    model = CharLM(20, encoding, embed_dim=5, hidden_size=12)
    logits = model(torch.randint(0, 20, (3, 9)))
    assert logits.shape == (3, 9, 20)
    d = 20 if encoding == "onehot" else 5
    expected = 4 * 12 * d + (20 * 5 if encoding == "embedding" else 0)
    assert model.input_parameters() == expected


def test_bad_encoding_is_refused():
    with pytest.raises(ValueError, match="encoding"):
        CharLM(5, "bag-of-words")


def test_sequence_cross_entropy_is_mean_over_positions():
    logits, y = torch.randn(2, 3, 4), torch.randint(0, 4, (2, 3))
    manual = -torch.log_softmax(logits, -1).gather(-1, y.unsqueeze(-1)).mean()
    torch.testing.assert_close(SequenceCrossEntropy()(logits, y), manual)


def test_windows_target_is_input_shifted_by_one():
    text = "X:1\nK:G\nGABc|d2e2|\n" * 5
    vocab = CharVocab.build([text])
    ds = _windows(text, vocab, 7)
    x, y = ds.tensors
    assert x.shape == y.shape == ((len(text) - 1) // 7, 7)  # the last target needs one more char
    assert torch.equal(x[:, 1:], y[:, :-1])  # next-step shift
    assert torch.equal(x.flatten()[1:], y.flatten()[:-1])  # windows continue each other


def test_abc_roles():
    assert [char_group(c) for c in "a G 2 / | : T ( ^".split()] == [
        "note", "note", "duration", "duration", "bar", "bar", "letter", "symbol", "symbol"]


def test_embeddings_experiment_runs_end_to_end(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("embeddings"), out=out, quick=True, device="cpu", progress=False,
                   console=Console(quiet=True),
                   sets=["train_chars=4000", "val_chars=1500", "test_chars=1500", "seq_len=40",
                         "epochs=2", "hidden_size=16", "min_count=5", "random_draws=20"])
    m = json.loads((out / "metrics.json").read_text())
    assert m["input_param_ratio"] < 1.0 and m["copies_dropped"] > 0  # O'Neill prints copies
    assert m["onehot_val_loss"] < 4.3 and m["embedding_val_loss"] < 4.3  # below uniform ln(V)
    assert m["onehot_test_loss"] < 4.3 and m["embedding_test_loss"] < 4.3
    assert m["test_loss_gap"] == pytest.approx(m["embedding_test_loss"] - m["onehot_test_loss"])
    assert -1.0 <= m["silhouette_learned"] <= 1.0
    assert (out / "embedding_pca.png").stat().st_size > 1000
    neighbours = json.loads((out / "nearest_neighbours.json").read_text())
    assert len(neighbours) == m["tokens_analysed"]
    assert m["silhouette_random_std"] > 0 and "silhouette_z" in m
