"""The static catalogue (read from source, no imports) equals the imported registry."""

from __future__ import annotations

import sys
import textwrap

import pytest

from introdl import catalogue
from introdl.experiment import Claim, Fact, load_all


def test_static_catalogue_equals_the_registry_built_by_importing_every_module():
    cat = catalogue.build()
    assert cat.imported == []  # every shipped module is readable without importing it
    registry = {n: e for n, e in load_all().items() if e.module.startswith("introdl.")}
    assert list(cat.entries) == list(registry)  # same names, same (lecture, name) order
    for name, e in registry.items():
        s = cat.entries[name]
        assert (s.lecture, s.title, s.module) == (e.lecture, e.title, e.module), name
        assert s.claims == e.claims, name
        assert s.facts == e.facts, name
        assert s.quick == e.quick, name
    assert len(registry) >= 18
    assert any(e.facts for e in registry.values())  # the comparison covers facts too


def test_reads_literals_claims_facts_and_a_single_claim():
    src = textwrap.dedent('''
        @experiment(name="a", lecture=2, title="t " "joined",
                    claims=Claim("c", metric="m", expected=-6.0, tol=1e-9),
                    facts=[Fact("f", metric="g")],
                    quick={"n": 1_000, "sizes": (1, 2), "flag": True, "x": None})
        def a(cfg: C, run: Run):
            return {}

        def not_an_experiment():
            pass
    ''')
    (e,) = catalogue.read_source(src, "pkg.mod")
    assert (e.name, e.lecture, e.title, e.module) == ("a", 2, "t joined", "pkg.mod")
    assert e.claims == (Claim("c", metric="m", expected=-6.0, tol=1e-9),)
    assert e.facts == (Fact("f", metric="g"),)
    assert e.quick == {"n": 1000, "sizes": (1, 2), "flag": True, "x": None}


@pytest.mark.parametrize("quick", [
    "{'epochs': N}",
    "{'epochs': __import__('os').getpid()}",
    "{**BASE}",
    "{'lr': 1 / 3}",
    "dict(epochs=1)",
])
def test_anything_but_a_literal_is_refused_not_evaluated(quick):
    src = f"@experiment(name='a', lecture=1, title='t', claims=[], quick={quick})\ndef a(): ...\n"
    with pytest.raises(catalogue.NotLiteral):
        catalogue.read_source(src, "pkg.mod")


def test_a_module_it_cannot_read_is_imported_instead(tmp_path, monkeypatch):
    """Listing stays right (only slower) when a decorator argument is not a literal."""
    from introdl import experiment as registry

    exps = tmp_path / "fakeintro" / "topic" / "experiments"
    exps.mkdir(parents=True)
    for d in (tmp_path / "fakeintro", tmp_path / "fakeintro" / "topic", exps):
        (d / "__init__.py").write_text("")
    (exps / "dynamic.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass
        from introdl.experiment import Claim, experiment
        EPOCHS = 3

        @dataclass
        class Cfg:
            epochs: int = 10

        @experiment(name="fake-dynamic", lecture=9, title="computed preset",
                    claims=[Claim("x", metric="x", expected=1.0)], quick={"epochs": EPOCHS})
        def dynamic(cfg: Cfg, run):
            return {"x": 1.0}
    '''))
    (exps / "static.py").write_text(
        "@experiment(name='fake-static', lecture=9, title='t', claims=[Claim('y')])\n"
        "def s(cfg, run): ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = dict(registry._REGISTRY)
    try:
        cat = catalogue.build("fakeintro")
        assert cat.imported == ["fakeintro.topic.experiments.dynamic"]
        assert cat.entries["fake-dynamic"].quick == {"epochs": 3}
        assert cat.entries["fake-static"].claims == (Claim("y"),)
        assert "fakeintro.topic.experiments.static" not in sys.modules  # read, not imported
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(before)
        for m in [m for m in sys.modules if m.startswith("fakeintro")]:
            del sys.modules[m]


def test_topic_modules_finds_experiments_and_commands_on_disk():
    exps = dict(catalogue.topic_modules("experiments"))
    assert "introdl.foundations.experiments.perceptron" in exps
    assert "introdl.vision.experiments.detection" in exps
    assert all(p.is_file() for p in exps.values())
    commands = dict(catalogue.topic_modules("commands"))
    assert "introdl.sequences.commands" in commands


def test_lecture_titles_come_from_the_topic_docstrings_without_importing_them():
    import subprocess
    import sys

    code = ("import sys; from introdl.catalogue import lecture_titles; t = lecture_titles(); "
            "print(t[2]); print(any(m.startswith(('torch', 'introdl.sequences')) "
            "for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "Deep sequence modelling"
    assert out[1] == "False"
