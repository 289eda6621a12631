"""Music RNN (lecture 2): ABC corpus, TBPTT windows, training, quality measures, synthesiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.errors import DataUnavailable, UsageError
from introdl.sequences.music.audio import SAMPLE_RATE, pluck
from introdl.sequences.music.corpus import (
    MalformedTune,
    Tune,
    load_corpus,
    parse_tune,
    split_by_tune,
    split_tunes,
)
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.quality import assess, check_tune, longest_copy
from introdl.sequences.music.train import TBPTTConfig, bits_per_char, train_tbptt, windows


@pytest.fixture
def one_thread():
    """Small LSTMs train fastest on one thread (and a busy 2-core CI stays responsive)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

GOOD = """X:1
T:Test Reel
R:reel
M:4/4
L:1/8
K:D
|:DFAd fdAF|GBdB AFD2:|
"""
GOOD2 = """X:2
T:Second Jig
% a comment line
M:6/8
L:1/8
K:G
|:GAB c2d|e3 d2B:|
"""
NO_KEY = """X:3
T:No key line
M:4/4
"""
MUSIC21_REJECTS = """X:4
T:No meter, no unit length
K:C
abc de|fg
"""


def test_corpus_skips_and_counts_malformed_tunes(tmp_path):
    f = tmp_path / "book.abc"
    f.write_text("header text before the first tune\n\n" + GOOD + "\n" + NO_KEY + "\n"
                 + MUSIC21_REJECTS + "\n" + GOOD2)
    tunes, skipped = load_corpus([f])
    assert skipped == 2
    assert [t.title for t in tunes] == ["Test Reel", "Second Jig"]
    t = tunes[0]
    assert (t.rhythm, t.key, t.meter, t.source) == ("reel", "D", "4/4", "book.abc")
    assert t.header["L"] == "1/8" and t.body == "|:DFAd fdAF|GBdB AFD2:|"
    assert tunes[1].rhythm is None and "comment" not in tunes[1].compact()
    with pytest.raises(MalformedTune, match="K:"):
        parse_tune(NO_KEY)


def test_music21_collections_load_offline():
    tunes, skipped = load_corpus(("oneill",), max_tunes=15)
    assert len(tunes) == 15 and skipped == 0
    assert all(isinstance(t, Tune) and t.key and t.meter for t in tunes)
    assert tunes[0].compact().startswith("X:1\nT:")


def test_lab_file_is_verified_before_use_and_bad_names_suggest(monkeypatch, tmp_path):
    import hashlib

    from introdl.data.download import RemoteFile
    from introdl.sequences.music import corpus

    monkeypatch.setenv("INTRODL_DATA", str(tmp_path))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "irish").mkdir()
    mirror = tmp_path / "irish" / "irish.abc"
    mirror.write_text(GOOD)  # not the lab's bytes: refused, never parsed
    with pytest.raises(DataUnavailable, match="checksum"):
        load_corpus(("lab",))
    digest = hashlib.sha256(mirror.read_bytes()).hexdigest()
    monkeypatch.setattr(corpus, "LAB_IRISH", RemoteFile(corpus.LAB_IRISH.url, digest,
                                                        "irish.abc"))
    tunes, skipped = load_corpus(("lab",))
    assert len(tunes) == 1 and skipped == 0 and tunes[0].source == "lab"
    with pytest.raises(UsageError, match="did you mean oneill"):
        load_corpus(("oneil",))


def test_split_by_tune_is_disjoint_and_deterministic():
    tunes = [parse_tune(GOOD.replace("Test Reel", f"Tune {i}"), validate=False)
             for i in range(50)]
    train, val = split_by_tune(tunes, 0.2, seed=3)
    assert len(val) == 10 and len(train) == 40
    assert not {t.title for t in train} & {t.title for t in val}
    assert [t.title for t in val] == [t.title for t in split_by_tune(tunes, 0.2, seed=3)[1]]
    assert [t.title for t in val] != [t.title for t in split_by_tune(tunes, 0.2, seed=4)[1]]


def test_split_tunes_cuts_at_x_lines():
    assert [c.splitlines()[0] for c in split_tunes("junk\n" + GOOD + GOOD2)] == ["X:1", "X:2"]


def test_windows_are_next_step_shifted_and_contiguous():
    ids = torch.arange(1000)
    ws = list(windows(ids, batch=4, seq_len=16))
    for x, y in ws:
        assert torch.equal(x[:, 1:], y[:, :-1])  # the lab's check: targets are inputs shifted
        assert torch.equal(y, x + 1)
    for (_, y0), (x1, _) in zip(ws, ws[1:], strict=False):
        assert torch.equal(x1[:, 0], y0[:, -1])  # the next window continues each lane
    assert sum(x.shape[1] for x, _ in ws) == 1000 // 4 - 1


def test_tiny_training_lowers_loss(one_thread):
    torch.manual_seed(0)
    text = (GOOD + "\n" + GOOD2 + "\n") * 20
    vocab = Vocab(text)
    ids = vocab.encode(text)
    model = CharLSTM(CharLSTMConfig(len(vocab), emb=16, hidden=32))
    before = bits_per_char(model, ids, batch=4, seq_len=32)
    res = train_tbptt(model, ids, ids, TBPTTConfig(batch_size=4, seq_len=32, lr=1e-2,
                                                   max_epochs=3, eval_every_s=1e9))
    assert res.steps > 0 and res.best_val_bpc == pytest.approx(bits_per_char(model, ids, 16, 256))
    assert res.best_val_bpc < before - 1.0


def test_quality_separates_valid_from_invalid_tunes():
    assert check_tune(GOOD) == (True, "", 15)
    assert check_tune(GOOD, complete=False)[1] == "cut off at the length limit"
    assert "M:" in check_tune(GOOD.replace("M:4/4\n", ""))[1]
    assert "bar" in check_tune(GOOD.replace("|", " "))[1]
    assert "music21 cannot parse" in check_tune(GOOD.replace("fdAF|", "fd[[AF|"))[1]
    assert "MIDI" in check_tune(GOOD.replace(":|", "|"))[1]  # unclosed repeat: not playable
    _, summary = assess([GOOD, GOOD2, GOOD.replace("|", " ")], [True, True, True], "")
    assert summary["valid_share"] == pytest.approx(2 / 3)


def test_longest_copy_finds_a_known_copy_and_matches_brute_force():
    train = "xx|:DFAd fdAF|yy"
    assert longest_copy("zz:DFAd fdAzz", train) == len(":DFAd fdA")
    assert longest_copy(GOOD, GOOD) == len(GOOD)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = "".join(rng.choice(list("abc"), 30))
        b = "".join(rng.choice(list("abc"), 60))
        brute = max((j - i for i in range(len(a)) for j in range(i + 1, len(a) + 1)
                     if a[i:j] in b), default=0)
        assert longest_copy(a, b) == brute


def test_karplus_strong_sounds_at_the_note_frequency():
    sig = pluck(440.0, 0.5)
    assert sig.shape == (int(0.5 * SAMPLE_RATE),) and abs(sig.mean()) < 1e-2
    spectrum = np.abs(np.fft.rfft(sig))
    freqs = np.fft.rfftfreq(sig.size, 1 / SAMPLE_RATE)
    fundamental = freqs[spectrum > 0.3 * spectrum.max()].min()  # lowest strong partial
    assert abs(fundamental - 440.0) < 440.0 * 0.02  # period rounded to whole samples
