"""``introdl generate music``: files written from a tiny checkpoint, and one-line errors."""

from __future__ import annotations

import wave

import pytest
import torch

from introdl.cli import main
from introdl.sequences.music.generate import TRAIN_TEXT_NAME, generate_music
from introdl.sequences.music.model import (
    CHECKPOINT_NAME,
    CharLSTM,
    CharLSTMConfig,
    Vocab,
    load_model,
    save_model,
)
from introdl.sequences.music.train import TBPTTConfig, train_tbptt

TUNE = "X:1\nT:Test Reel\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|GBdB AFD2:|\n"


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    """A checkpoint that has memorised one tune (so sampling at low temperature replays it)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    text = "\n".join([TUNE] * 12)  # tunes separated by a blank line, as in training
    vocab = Vocab(text)
    model = CharLSTM(CharLSTMConfig(len(vocab), emb=16, hidden=64))
    ids = vocab.encode(text)
    train_tbptt(model, ids, ids, TBPTTConfig(batch_size=2, seq_len=64, lr=2e-2,
                                             max_epochs=30, eval_every_s=1e9))
    torch.set_num_threads(n)
    d = tmp_path_factory.mktemp("music_run")
    save_model(d / CHECKPOINT_NAME, model, vocab)
    (d / TRAIN_TEXT_NAME).write_text(text)
    return d


def test_checkpoint_loads_with_weights_only(ckpt_dir):
    state = torch.load(ckpt_dir / CHECKPOINT_NAME, weights_only=True)
    assert set(state) >= {"state_dict", "vocab", "config"}
    model, vocab, _ = load_model(ckpt_dir)
    assert vocab.chars == Vocab(TUNE).chars and model.cfg.hidden == 64


def test_generate_writes_abc_midi_wav_and_piano_roll(ckpt_dir, tmp_path):
    g = generate_music(ckpt_dir, n=2, temperature=0.05, start="X:1\nT:Test", out=tmp_path)
    assert g.tunes[0] == TUNE  # memorised tune replayed and ended at the blank line
    for name in ("tune_01.abc", "tune_01.mid", "tune_01.wav", "tune_02.wav", "piano_roll.png",
                 "quality.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "tune_01.mid").read_bytes()[:4] == b"MThd"
    with wave.open(str(tmp_path / "tune_01.wav")) as w:
        assert w.getnframes() > w.getframerate()  # more than a second of music
    assert g.metrics["valid_share"] == 1.0
    assert g.metrics["longest_copy_max"] == len(TUNE)  # a verbatim copy, and we see it


def test_cli_generate_music(ckpt_dir, tmp_path, capsys):
    out = tmp_path / "gen"
    argv = ["generate", "music", "--checkpoint", str(ckpt_dir), "--n", "1", "--temperature",
            "0.05", "--start", "X:1\\nT:Test", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "tune_01.abc").read_text() == TUNE


@pytest.mark.parametrize("extra, fragment", [
    (["--start", "X:1\\nT:Été"], "'É', 'é'"),
    (["--temperature", "0"], "--temperature must be > 0"),
    (["--n", "0"], "--n must be at least 1"),
])
def test_bad_generate_input_is_one_line_exit_2(ckpt_dir, tmp_path, capsys, extra, fragment):
    assert main(["generate", "music", "--checkpoint", str(ckpt_dir), "--out",
                 str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert fragment in err


def test_missing_or_invalid_checkpoint_is_one_line_exit_2(tmp_path, capsys):
    assert main(["generate", "music", "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "no music checkpoint" in capsys.readouterr().err
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    assert main(["generate", "music", "--checkpoint", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a valid music checkpoint" in err


def test_music_experiment_tiny_run_writes_checkpoint_that_generate_loads(tmp_path, capsys):
    from rich.console import Console

    from introdl.experiment import get
    from introdl.runner import run_experiment

    sets = ["max_tunes=30", "val_fraction=0.2", "hidden=32", "emb=16", "max_minutes=0.05",
            "n_samples=2"]
    r = run_experiment(get("music"), out=tmp_path / "r", quick=True, device="cpu", sets=sets,
                       console=Console(quiet=True), progress=False)
    assert r.error is None, r.error
    m = r.metrics
    kept = 30 - m["copies_dropped"]
    assert m["n_val_tunes"] == round(0.2 * kept) and m["n_test_tunes"] == round(0.1 * kept)
    assert m["n_train_tunes"] + m["n_val_tunes"] + m["n_test_tunes"] == kept
    assert m["test_bpc"] < m["untrained_test_bpc"]  # it learned something
    assert m["bits_below_unigram"] == pytest.approx(m["unigram_test_bpc"] - m["test_bpc"])
    assert 0.0 <= m["valid_share"] <= 1.0 and m["longest_copy_max"] >= 1
    assert (r.dir / "bits_per_char.png").exists() and (r.dir / "samples" / "quality.json").exists()
    assert main(["generate", "music", "--checkpoint", str(r.dir), "--n", "1"]) == 0
    assert (r.dir / "generated" / "tune_01.abc").read_text().startswith("X:1\nT:")


@pytest.mark.parametrize("sets, fragment", [
    (["val_fraction=0.6", "test_fraction=0.5"], "below 1"),
    (["test_fraction=0"], "test_fraction=0.0 is out of range"),
    (["max_tunes=2"], "at least 3 tunes"),
    (["threads=1"], "threads"),  # the runner sets torch's threads, not the experiment
    (["max_minutes=0"], "max_minutes=0.0 is out of range"),
    (["max_steps=0"], "max_steps=0 is out of range"),
    (["key_copies=-1"], "key_copies=-1 is out of range"),
    (["max_cpu_minutes=-1"], "max_cpu_minutes=-1"),
])
def test_music_bad_split_settings_are_one_line_exit_2(tmp_path, capsys, sets, fragment):
    argv = ["run", "music", "--quick", "--out", str(tmp_path / "r")]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and fragment in err
