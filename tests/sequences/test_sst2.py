"""SST-2 loads through the real download path, offline: a tiny zip served from file://."""

import hashlib
import zipfile

import pytest
from rich.console import Console

from introdl.data.download import RemoteFile
from introdl.errors import DataUnavailable
from introdl.sequences import sst2

POS = ["a gorgeous , witty film", "great fun", "moving and wise", "a triumph"]
NEG = ["dull and lifeless", "a mess", "tedious , tired", "not worth it"]


def _sentences():
    """GLUE-like files: 24 training sentences (one repeated, one also in dev), 8 dev ones."""
    pos = [POS[i] if i < 4 else f"{POS[i % 4]} ({i})" for i in range(12)]
    pos[11] = pos[5]  # a training sentence twice
    neg = [NEG[i] if i < 4 else f"{NEG[i % 4]} ({i})" for i in range(12)]
    dev_pos = [POS[0].upper()] + [f"{POS[i]} [dev]" for i in range(1, 4)]  # POS[0]: train too
    dev_neg = [f"{NEG[i]} [dev]" for i in range(4)]
    return {"SST-2/train.tsv": (pos, neg), "SST-2/dev.tsv": (dev_pos, dev_neg)}


def _zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        for member, (pos, neg) in _sentences().items():
            lines = ["sentence\tlabel"]
            for p, n in zip(pos, neg, strict=True):
                lines += [f"{p}\t1", f"{n}\t0"]
            zf.writestr(member, "\n".join(lines) + "\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def served(tmp_path, monkeypatch):
    src = tmp_path / "served" / "SST-2.zip"
    src.parent.mkdir()
    digest = _zip(src)
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("INTRODL_DATA", raising=False)
    monkeypatch.delenv("INTRODL_OFFLINE", raising=False)
    remote = RemoteFile(url=src.as_uri(), sha256=digest, filename="SST-2.zip",
                        size=src.stat().st_size)
    monkeypatch.setattr(sst2, "ARCHIVE", remote)
    return remote


def test_sst2_downloads_verifies_and_reads_both_splits(served, tmp_path):
    s, y = sst2.load_sst2("train")
    assert len(s) == 24 and sum(y) == 12 and s[0] == POS[0]
    s, y = sst2.load_sst2("test")
    assert len(s) == 8
    assert (tmp_path / "cache" / "sst2" / "SST-2.zip").is_file()


def test_sst2_with_wrong_checksum_is_refused(served, monkeypatch, tmp_path):
    monkeypatch.setattr(sst2, "ARCHIVE", RemoteFile(served.url, "0" * 64, "SST-2.zip"))
    with pytest.raises(DataUnavailable, match="checksum"):
        sst2.load_sst2("train")
    assert not (tmp_path / "cache" / "sst2" / "SST-2.zip").exists()


def test_sentiment_experiment_on_sst2(served, tmp_path):
    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("sentiment"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["dataset=sst2", "max_examples=None", "epochs=1", "hidden=4",
                             "min_count=1"],
                       console=Console(quiet=True), progress=False)
    m = r.metrics
    assert m["classes"] == 2 and m["majority_acc"] == pytest.approx(0.5, abs=0.2)
    # GLUE dev is the test set; the repeated and the dev-equal training sentences are gone
    assert m["n_test"] == 8 and m["copies_dropped"] == 2 and m["n_train"] + m["n_val"] == 22


def test_sst2_training_side_never_holds_a_test_sentence(served):
    from introdl.sequences.experiments.sentiment import _sst2, split_examples

    data = _sst2()
    tr, va, te = split_examples(data.labels, seed=0, test=data.test)
    assert sorted(te) == data.test and len(tr) + len(va) == len(data.texts) - 8
    test_keys = {data.texts[i].casefold() for i in te}
    train_keys = [data.texts[i].casefold() for i in [*tr, *va]]
    assert len(set(train_keys)) == len(train_keys) and not test_keys & set(train_keys)
