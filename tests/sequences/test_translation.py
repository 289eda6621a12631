import datetime as dt

import pytest
import torch
from rich.console import Console

from introdl.cli import main
from introdl.errors import UsageError
from introdl.sequences.attention import AdditiveAttention
from introdl.sequences.dates import CharVocab, make_pairs
from introdl.sequences.seq2seq import Seq2Seq


def test_pairs_are_deterministic_and_targets_are_the_iso_date():
    a, b = make_pairs(200, seed=3), make_pairs(200, seed=3)
    assert a == b and a != make_pairs(200, seed=4)
    for _, iso in a:
        d = dt.date.fromisoformat(iso)
        assert dt.date(1950, 1, 1) <= d <= dt.date(2049, 12, 31)


def test_excluded_inputs_are_never_drawn():
    train = make_pairs(3000, seed=0)
    seen = {s for s, _ in train}
    plain = make_pairs(1000, seed=10_000)
    assert any(s in seen for s, _ in plain)  # without exclusion, test inputs repeat training's
    test = make_pairs(1000, seed=10_000, exclude=seen)
    assert len(test) == 1000 and not any(s in seen for s, _ in test)
    # the same stream otherwise: only the colliding draws were replaced
    assert [p for p in plain if p[0] not in seen] == test[: len(plain) - sum(
        s in seen for s, _ in plain)]
    with pytest.raises(UsageError, match="fewer training pairs"):
        make_pairs(5, seed=0, exclude=_AllStrings())


class _AllStrings:
    def __contains__(self, item: object) -> bool:
        return True

    def __len__(self) -> int:
        return 10**9


def test_two_digit_years_follow_the_pivot_rule():
    for src, iso in make_pairs(2000, seed=1):
        parts = src.replace(".", "/").replace("-", "/").split("/")
        if len(parts) == 3 and len(parts[2]) == 2:  # short formats with a 2-digit year
            yy = int(parts[2])
            assert int(iso[:4]) == (1900 + yy if yy >= 50 else 2000 + yy), (src, iso)


def test_vocab_roundtrip_and_padding():
    v = CharVocab.build(["März 1987", "mars"])
    ids = v.encode(["März", "ma"], 6, eos=True)
    assert ids.shape == (2, 6) and ids[1, 3:].eq(0).all()
    assert v.decode(ids[0]) == "März" and v.decode(ids[1]) == "ma"


def test_additive_attention_matches_its_formula_and_respects_the_mask():
    torch.manual_seed(0)
    att = AdditiveAttention(5, 4, hidden=7).double()
    q, k = torch.randn(2, 5, dtype=torch.float64), torch.randn(2, 6, 4, dtype=torch.float64)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    c, a = att(q, k, mask)
    # e_j = v^T tanh(W_s s + W_h h_j); a = softmax over valid j; c = sum_j a_j h_j
    for b in range(2):
        n = int(mask[b].sum())
        e = torch.stack([att.v.weight[0] @ torch.tanh(att.w_s.weight @ q[b] + att.w_h.weight
                                                       @ k[b, j] + att.w_h.bias)
                         for j in range(n)])
        ref = torch.softmax(e, 0)
        torch.testing.assert_close(a[b, :n], ref)
        assert a[b, n:].abs().sum() == 0
        torch.testing.assert_close(c[b], ref @ k[b, :n])


def test_seq2seq_shapes_and_a_short_training_lowers_the_loss():
    torch.manual_seed(0)
    pairs = make_pairs(64, seed=0)
    sv, tv = CharVocab.build([s for s, _ in pairs]), CharVocab.build([t for _, t in pairs])
    X, Y = sv.encode([s for s, _ in pairs], 40), tv.encode([t for _, t in pairs], 11, eos=True)
    for attention in (False, True):
        m = Seq2Seq(len(sv), len(tv), emb=8, hidden=8, attention=attention)
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        losses = []
        for _ in range(15):
            logits = m(X, Y)
            assert logits.shape == (64, 11, len(tv))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(tv)), Y.reshape(-1),
                                                     ignore_index=0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.8 * losses[0]
        ids, attn = m.greedy(X[:3], 11)
        assert ids.shape == (3, 11)
        assert (attn is None) == (not attention)
        if attention:
            torch.testing.assert_close(attn.sum(-1), torch.ones(3, 11))


def test_translation_experiment_runs_end_to_end(tmp_path):
    from introdl.experiment import get
    from introdl.runner import run_experiment

    r = run_experiment(get("translation"), out=tmp_path / "t", quick=True, device="cpu",
                       sets=["n_train=3000", "n_test=300", "steps=5", "hidden=8"],
                       console=Console(quiet=True), progress=False)
    assert 0.0 <= r.metrics["acc_attention"] <= 1.0
    assert r.metrics["test_inputs_in_train"] == 0
    assert {"accuracy_by_length.png", "attention.png"} <= set(r.figures)


def test_translation_bad_sizes_are_one_line_exit_2(tmp_path, capsys):
    assert main(["run", "translation", "--quick", "--set", "n_test=0",
                 "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "n_test" in err and "Traceback" not in err
