"""Music RNN (lecture 2): ABC corpus, TBPTT windows, training, quality measures, synthesiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.errors import DataUnavailable, UsageError
from introdl.sequences.music import corpus
from introdl.sequences.music.audio import SAMPLE_RATE, pluck
from introdl.sequences.music.corpus import (
    MalformedTune,
    Tune,
    dedupe_tunes,
    load_corpus,
    music_only,
    normalised_body,
    parse_tune,
    passages,
    split_by_tune,
    split_train_val_test,
    split_tunes,
)
from introdl.sequences.music.model import CharLSTM, CharLSTMConfig, Vocab
from introdl.sequences.music.quality import assess, check_tune, longest_copy
from introdl.sequences.music.train import (
    TBPTTConfig,
    bits_per_char,
    lanes,
    train_tbptt,
    unigram_bits_per_char,
    windows,
)


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


REEL = ("|:DFAd fdAF|GBdB AFD2|DFAd fdAF|GBAG FDD2:|\n"
        "|:fdfa fdAF|GBdB AFD2|fgaf gfed|cABc d4:|")


def _with_body(body: str, title: str = "A Tune") -> Tune:
    return parse_tune(f"X:7\nT:{title}\nM:4/4\nL:1/8\nK:D\n{body}\n", validate=False)


def test_dedupe_drops_copies_and_near_copies_and_keeps_the_first():
    first = _with_body(REEL, "The Reel")
    other = _with_body("|:e2ce a2ce|f2df g2fg|e2ce a2ce|B2GB c4:|\n|:zzzz|]", "Another")
    tunes = [
        first,
        _with_body(REEL.upper(), "Reel, The"),  # same text, an octave apart, new title
        _with_body(REEL.replace("|", " | ").replace("DFAd", "~D(FA)d"), "Ornamented"),
        _with_body("|:zzzz " + REEL[:60] + "|z8|]", "Shares 60"),  # a 60-character passage
        other,
        _with_body("|:zzzz " + REEL[:59] + "z|z8|]", "Shares 59"),  # one character short
    ]
    assert normalised_body(first) == REEL.casefold()
    # the ornamented, re-spaced copy shares no 60 characters of text, only of notes
    assert passages(normalised_body(tunes[2])).isdisjoint(passages(normalised_body(first)))
    assert music_only(tunes[2]) == music_only(first)
    kept, dropped = dedupe_tunes(tunes)
    assert [t.title for t in kept] == ["The Reel", "Another", "Shares 59"] and dropped == 3
    assert [t.title for t in dedupe_tunes(tunes[::-1])[0]][-1] == "Ornamented"  # order decides
    with pytest.raises(UsageError, match="at least 1"):
        dedupe_tunes(tunes, passage=0)


def test_dedupe_confirms_hash_hits_on_the_text(monkeypatch):
    monkeypatch.setattr(corpus, "hash", lambda s: 0, raising=False)  # every passage collides
    tunes = [_with_body(REEL, "The Reel"),
             _with_body("|:e2ce a2ce|f2df g2fg|e2ce a2ce|B2GB c4:|\n|:gggg|]", "Another"),
             _with_body(REEL.upper(), "Copy")]
    assert [t.title for t in dedupe_tunes(tunes)[0]] == ["The Reel", "Another"]


def _shared(part: list[Tune], against: list[Tune], form) -> list[str]:
    """Titles of tunes in ``part`` sharing a 60-character passage of ``form`` with ``against``."""
    seen = set().union(*(passages(form(t), 60) for t in against))
    return [t.title for t in part if not passages(form(t), 60).isdisjoint(seen)]


def test_default_corpus_splits_are_disjoint_and_share_no_60_character_passage():
    tunes, _ = load_corpus(("oneill", "ryan"), validate=False)
    # without deduplication a split does put copies on both sides: the check has teeth
    train, _, test = split_train_val_test(tunes, 0.05, 0.1, seed=0)
    assert _shared(test, train, Tune.model_body)
    kept, dropped = dedupe_tunes(tunes)
    assert dropped > 0 and len(kept) + dropped == len(tunes)
    for seed in (0, 1):
        train, val, test = split_train_val_test(kept, 0.05, 0.1, seed=seed)
        ids = [{id(t) for t in part} for part in (train, val, test)]
        assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
        assert sum(map(len, ids)) == len(kept) and len(test) == round(0.1 * len(kept))
        assert not {normalised_body(t) for t in test} & {normalised_body(t) for t in train}
        # the text the model reads (case kept) and the notes alone
        for form in (Tune.model_body, music_only):
            assert _shared(test, train, form) == []
            assert _shared(val, train, form) == []


def test_split_train_val_test_is_deterministic_and_refuses_bad_fractions():
    tunes = [_with_body(REEL, f"Tune {i}") for i in range(40)]
    train, val, test = split_train_val_test(tunes, 0.1, 0.2, seed=3)
    assert (len(train), len(val), len(test)) == (28, 4, 8)
    again = split_train_val_test(tunes, 0.1, 0.2, seed=3)
    assert [t.title for t in test] == [t.title for t in again[2]]
    assert [t.title for t in test] != [t.title for t in split_train_val_test(tunes, 0.1, 0.2,
                                                                           seed=4)[2]]
    for val_f, test_f, msg in ((0.0, 0.1, "val_fraction"), (0.1, 1.5, "test_fraction"),
                               (0.5, 0.5, "below 1")):
        with pytest.raises(UsageError, match=msg):
            split_train_val_test(tunes, val_f, test_f)
    with pytest.raises(UsageError, match="at least 3 tunes"):
        split_train_val_test(tunes[:2], 0.1, 0.1)


def test_unigram_baseline_is_the_smoothed_frequency_on_the_scored_positions():
    train = torch.tensor([0, 0, 0, 1])  # counts + 1 over V = 3: 4, 2, 1 of 7
    ids = torch.tensor([2, 0, 1, 0, 2, 1])
    p = torch.tensor([4 / 7, 2 / 7, 1 / 7])
    for batch in (1, 2):
        targets = lanes(ids, batch)[:, 1:].flatten()
        expected = float(-torch.log2(p[targets]).mean())
        assert unigram_bits_per_char(train, ids, 3, batch=batch) == pytest.approx(expected)
    assert unigram_bits_per_char(train, ids, 3, batch=1) != pytest.approx(
        unigram_bits_per_char(train, ids, 3, batch=2))


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
    assert res.best_val_bpc < unigram_bits_per_char(ids, ids, len(vocab)) - 1.0


def test_a_step_budget_ends_training_and_makes_it_repeatable(one_thread):
    text = (GOOD + "\n" + GOOD2 + "\n") * 20
    vocab = Vocab(text)
    ids = vocab.encode(text)
    cfg = TBPTTConfig(batch_size=4, seq_len=16, lr=1e-2, max_steps=10, eval_every_steps=5,
                      eval_every_s=1e9, max_epochs=100)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = CharLSTM(CharLSTMConfig(len(vocab), emb=8, hidden=16))
        runs.append(train_tbptt(model, ids, ids, cfg))
    assert runs[0].steps == 10 and runs[0].chars == 10 * 4 * 16
    assert len(runs[0].val_bpc) == 2  # after steps 5 and 10, however long each step took
    assert runs[0].val_bpc == runs[1].val_bpc


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
