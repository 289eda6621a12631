"""Music RNN (lecture 2): key transposition, the CPU-time budget, weight drop, OOV dropping."""

from __future__ import annotations

import time

import pytest
import torch

from introdl.sequences.music.augment import Key, augmented_text, key_moves, transpose
from introdl.sequences.music.corpus import check_abc, parse_tune
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.quality import parse_score
from introdl.sequences.music.train import TBPTTConfig, train_tbptt

# accidentals inside and across bars, octave marks, a grace note, an annotation with
# letters in it, a decoration, a chord, and a key change in the middle
TUNE = """X:1
T:Test Jig
M:6/8
L:1/8
K:G
|:"^Fine" GAB ^cd=f|B,2 _b !trill!a^g c|{g}e2 [Gd] z2 B,,|
K:Em
E^DE ^d2 e'|=c'Bc e2 E:|
"""


def pitches(text: str) -> list[int]:
    """MIDI numbers of every note music21 reads (chords flattened)."""
    return [p.midi for n in parse_score(text).flatten().notes for p in n.pitches]


@pytest.mark.parametrize("k, s", key_moves("G"))
def test_transposition_is_valid_abc_and_moves_every_pitch_by_s(k, s):
    moved = transpose(TUNE, k, s)
    check_abc(moved)
    assert pitches(moved) == [p + s for p in pitches(TUNE)]
    assert '"^Fine"' in moved and "!trill!" in moved  # annotations and decorations kept


def test_transposition_spells_keys_and_accidentals():
    moved = transpose(TUNE, 3, 5)  # G -> C: up a fourth
    assert "K:C\n" in moved and "K:Am\n" in moved
    assert "|:\"^Fine\" cde ^fg_b|E2 _e' !trill!d'^c' f|{c'}a2 [cg] z2 E,|" in moved
    assert "A^GA ^g2 a'|=f'ef a2 A:|" in moved  # in A minor: D# -> G#, natural c -> f
    assert parse_tune(moved).key == "C"
    assert transpose("X:1\nT:t\nM:2/4\nL:1/8\nK:Dmix\nfc|\n", -1, -2) == \
        "X:1\nT:t\nM:2/4\nL:1/8\nK:Cmix\neB|\n"


def test_keys_and_the_moves_that_keep_them_common():
    assert Key("D").fifths == 2 and Key("Ador").fifths == 1 and Key("Bb").fifths == -2
    assert Key("F# minor").fifths == 3 and Key("Gm").signature("B") == -1
    assert Key("D").moved(3, 5).text() == "G" and Key("A Dor").moved(-1, -2).text() == "G Dor"
    for k, s in key_moves("D"):
        assert -3 <= Key("D").moved(k, s).fifths <= 4 and k != 0
    assert key_moves("HP") == [] and key_moves("Dmix=c") == []
    with pytest.raises(ValueError):
        transpose("X:1\nT:t\nK:HP\nab|\n", 1, 2)


def test_augmented_text_holds_the_tunes_and_their_transpositions():
    tune = parse_tune(TUNE)
    texts = augmented_text([tune], copies=2, seed=0).split("\n\n")
    assert len(texts) == 3 and tune.compact().rstrip("\n") in [t.rstrip("\n") for t in texts]
    for t in texts:
        check_abc(t)
    assert augmented_text([tune], copies=2, seed=0, vocab="X") == tune.compact()  # OOV: dropped


def test_a_cpu_time_budget_ends_training():
    text = TUNE * 200
    vocab = Vocab(text)
    model = CharLSTM(CharLSTMConfig(len(vocab), emb=8, hidden=16))
    c0 = time.process_time()
    res = train_tbptt(model, vocab.encode(text), vocab.encode(TUNE * 4),
                      TBPTTConfig(batch_size=4, seq_len=16, max_minutes=1e9,
                                  max_cpu_minutes=0.3 / 60, eval_every_s=1e9))
    assert 0.3 <= res.cpu_seconds <= time.process_time() - c0
    assert res.steps > 0 and res.chars < 200 * len(TUNE)  # stopped before one pass ended


def test_weight_drop_masks_recurrent_weights_in_training_only():
    torch.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(10, emb=4, hidden=8, weight_drop=0.5))
    x = torch.randint(0, 10, (2, 5))
    a, b = model(x)[0], model(x)[0]
    assert not torch.allclose(a, b)  # a new mask each call
    a.sum().backward()
    assert model.lstm.weight_hh_l0.grad is not None  # the raw weights still learn
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])


def test_encode_known_drops_characters_outside_the_vocabulary():
    vocab = Vocab("abc|")
    ids, dropped = vocab.encode_known("ab!c|Z!")
    assert vocab.decode(ids) == "abc|" and dropped == 3


def test_bf16_autocast_trains_close_to_fp32():
    text = TUNE * 20
    vocab = Vocab(text)
    bpc = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = CharLSTM(CharLSTMConfig(len(vocab), emb=8, hidden=16))
        res = train_tbptt(model, vocab.encode(text), vocab.encode(TUNE * 2),
                          TBPTTConfig(batch_size=4, seq_len=16, max_minutes=1e9, max_steps=30,
                                      eval_every_s=1e9, precision=precision))
        assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32
        bpc[precision] = res.best_val_bpc
    assert bpc["bf16"] == pytest.approx(bpc["fp32"], rel=0.05)
    assert bpc["bf16"] != bpc["fp32"]  # it did compute in bf16
