"""The attention alternative to the music LSTM: causal, its carried context, and the loop."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from introdl.sequences.music.attention_model import CharTransformer, CharTransformerConfig
from introdl.sequences.music.model import Vocab
from introdl.sequences.music.sample import sample_tunes
from introdl.sequences.music.train import (
    TBPTTConfig,
    bits_per_char,
    train_tbptt,
    unigram_bits_per_char,
)

TUNE = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:G\n|:GABc dedB|dedB dedB|c2ec B2dB|cAAG A2BA:|\n"


def tiny(**kw) -> CharTransformer:
    torch.manual_seed(0)
    cfg = dict(vocab_size=20, dim=16, layers=2, heads=2, context=8, window=8, dropout=0.0)
    return CharTransformer(CharTransformerConfig(**(cfg | kw))).eval()


def test_it_is_causal():
    model = tiny(window=16)
    x = torch.randint(0, 20, (2, 12))
    y = x.clone()
    y[:, 7] = (y[:, 7] + 1) % 20
    a, _ = model(x)
    b, _ = model(y)
    torch.testing.assert_close(a[:, :7], b[:, :7])  # the past does not see the future
    assert not torch.allclose(a[:, 7:], b[:, 7:])


def test_carried_context_gives_the_same_logits_as_one_pass():
    model = tiny(context=8, window=16)
    x = torch.randint(0, 20, (3, 14))
    whole, _ = model(x)
    first, state = model(x[:, :6])
    second, state = model(x[:, 6:], state)
    assert state.shape == (3, 8) and torch.equal(state, x[:, -8:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole)


def test_context_bounds_how_far_back_it_looks_and_long_inputs_are_chunked():
    model = tiny(context=4, window=4)
    x = torch.randint(0, 20, (1, 16))
    y = x.clone()
    y[:, 0] = (y[:, 0] + 1) % 20
    a, state = model(x)  # read as four windows of 4, each seeing the 4 before it
    b, _ = model(y)
    assert a.shape == (1, 16, 20) and state.shape == (1, 4)
    assert not torch.allclose(a[:, :8], b[:, :8])  # seen directly or as context
    torch.testing.assert_close(a[:, 8:], b[:, 8:])  # more than 4 characters back: forgotten


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="divide"):
        CharTransformerConfig(dim=10, heads=4)


def test_the_tbptt_loop_trains_it_and_it_samples():  # one thread: tests/conftest.py
    torch.manual_seed(0)
    text = TUNE * 30
    vocab = Vocab(text)
    ids = vocab.encode(text)
    model = CharTransformer(CharTransformerConfig(len(vocab), dim=32, layers=1, heads=2,
                                                  context=16, window=16, dropout=0.0))
    before = bits_per_char(model, ids, batch=4, seq_len=32)
    res = train_tbptt(model, ids, ids, TBPTTConfig(batch_size=4, seq_len=16, lr=1e-2,
                                                   max_epochs=3, eval_every_s=1e9))
    assert res.steps > 0 and res.best_val_bpc < before - 1.0
    assert res.best_val_bpc < unigram_bits_per_char(ids, ids, len(vocab)) - 1.0
    tunes = sample_tunes(model, vocab, n=2, max_chars=60, seed=0)
    assert all(t.text.startswith("X:1\nT:") for t in tunes)


def test_checkpoints_record_the_architecture_and_older_ones_load_as_the_lstm(tmp_path):
    from introdl.engine import checkpoint
    from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, load_model, save_model

    vocab = Vocab(TUNE)
    model = tiny(vocab_size=len(vocab))
    save_model(tmp_path / "a.pt", model, vocab)
    back, vocab2, _ = load_model(tmp_path / "a.pt")
    x = vocab.encode(TUNE)[None, :20]
    assert isinstance(back, CharTransformer) and vocab2.chars == vocab.chars
    torch.testing.assert_close(back(x)[0], model(x)[0])
    lstm = CharLSTM(CharLSTMConfig(len(vocab), emb=4, hidden=8)).eval()
    checkpoint.save(tmp_path / "old.pt", {"state_dict": lstm.state_dict(), "vocab": vocab.chars,
                                          "config": dataclasses.asdict(lstm.cfg), "extra": {}})
    old, _, _ = load_model(tmp_path / "old.pt")  # written before "arch" existed
    assert isinstance(old, CharLSTM)
    torch.testing.assert_close(old(x)[0], lstm(x)[0])


def test_the_music_experiment_trains_the_attention_model_and_generate_loads_it(tmp_path):
    from rich.console import Console

    from introdl.cli import main
    from introdl.experiment import get
    from introdl.runner import run_experiment
    from introdl.sequences.music.model import load_model

    sets = ["arch=attention", "max_tunes=30", "val_fraction=0.2", "seq_len=32",
            "max_steps=6", "max_minutes=1", "n_samples=1"]
    r = run_experiment(get("music"), out=tmp_path / "r", quick=True, device="cpu", sets=sets,
                       console=Console(quiet=True), progress=False)
    assert r.error is None, r.error
    assert r.metrics["test_bpc"] < r.metrics["untrained_test_bpc"]  # it learned something
    model, _, _ = load_model(r.dir)
    assert isinstance(model, CharTransformer) and model.cfg.context == 32
    assert main(["generate", "music", "--checkpoint", str(r.dir), "--n", "1"]) == 0
