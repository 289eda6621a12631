"""The attention alternative to the music LSTM: causal, its carried context, and the loop."""

from __future__ import annotations

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
