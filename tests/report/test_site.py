"""The course website without a browser: escaping, old files, errors, curves, docs links."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from runfolders import failing_config, failing_result, old_result, write_run

from introdl.errors import UsageError
from introdl.report.site import curves as curves_mod
from introdl.report.site import docs as docs_mod
from introdl.report.site import markdown, runs, write_site


def _summary(index: Path) -> dict[str, int]:
    tag = re.search(r'<section class="summary" id="summary"([^>]*)>', index.read_text())
    assert tag, "no #summary on the page"
    return {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', tag[1])}


def test_course_site_has_an_index_and_a_page_per_run(course):
    index = write_site(course)
    assert index == course / "index.html"
    assert (course / "toy-fail" / "index.html").is_file()
    assert (course / "toy-error" / "index.html").is_file()
    assert (course / "_site" / "style.css").is_file()
    assert _summary(index) == {"experiments": 2, "experiments-pass": 0, "experiments-fail": 1,
                               "experiments-error": 1, "claims-pass": 1, "claims-fail": 2,
                               "claims-not-checked": 1}
    page = (course / "toy-fail" / "index.html").read_text()
    assert "introdl run toy-fail --quick --seed 3" in page
    assert '<audio controls preload="none" src="samples/tune_01.wav">' in page
    assert page.count("<svg") == 2  # train_loss and val_acc, a line per model
    assert "&lt;memory&gt; &amp; time" in (course / "toy-error" / "index.html").read_text()


def test_text_from_run_folders_is_escaped(tmp_path):
    bad = "<script>alert('x')</script> & <b>"
    res = failing_result(name="evil", text=bad)
    res["title"] = "<img src=x onerror=alert(1)>"
    cfg = failing_config("evil")
    cfg["machine"] = "<i>machine</i>"
    write_run(tmp_path / "evil", res, cfg)
    write_site(tmp_path)
    for page in (tmp_path / "index.html", tmp_path / "evil" / "index.html"):
        text = page.read_text()
        assert "<script>" not in text and "<img src=x" not in text and "<i>machine" not in text
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in text
        assert "&lt;i&gt;machine&lt;/i&gt;" in text


def test_old_result_json_without_status_counts_title_or_facts(tmp_path):
    write_run(tmp_path / "old-style", old_result())  # no config.json either
    ok = old_result("old-pass")
    ok["passed"], ok["claims"][0]["passed"] = True, True
    write_run(tmp_path / "old-pass", ok)
    write_run(tmp_path / "old-error", {"experiment": "old-error", "lecture": 1,
                                       "error": "Traceback\nValueError: boom", "claims": []})
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "result.json").write_text("{not json")
    found = {r.name: r for r in runs.find(tmp_path)[0]}
    assert found["old-style"].status == "fail"
    assert found["old-style"].counts == {"pass": 0, "fail": 1, "not checked": 0}
    assert found["old-pass"].status == "pass"
    assert found["old-error"].status == "error"
    assert found["broken"].status == "error" and "result.json" in found["broken"].error
    index = write_site(tmp_path)
    assert _summary(index)["experiments-fail"] == 1
    page = (tmp_path / "old-style" / "index.html").read_text()
    assert "introdl run old-style --seed 0" in page and "config.json not found" in page


@pytest.mark.parametrize("make", ["empty", "missing", "no-result"])
def test_no_run_folder_is_a_one_line_usage_error(tmp_path, make):
    target = tmp_path / "runs"
    if make != "missing":
        target.mkdir()
    if make == "no-result":
        (target / "perceptron").mkdir()
        (target / "perceptron" / "config.json").write_text("{}")
    with pytest.raises(UsageError) as e:
        write_site(target)
    msg = str(e.value)
    assert "\n" not in msg and str(target) in msg and "introdl" in msg
    assert not (target / "index.html").exists()


def test_a_single_run_folder_is_a_site_of_one_page(course, tmp_path):
    single = tmp_path / "single"
    shutil.copytree(course / "toy-fail", single)
    index = write_site(single)
    assert index == single / "index.html"
    text = index.read_text()
    assert "course report" not in text.split("<h1>")[0]  # no link up to a missing index
    assert _summary(index)["experiments-fail"] == 1
    assert 'href="_site/style.css"' in text


def test_the_site_reads_files_only_no_torch(course):
    code = ("import sys; from introdl.report.site import write_site; "
            f"write_site({str(course)!r}); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib') "
            "or '.experiments' in m]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_series_groups_by_string_fields_and_picks_the_x_axis(tmp_path):
    p = tmp_path / "metrics.jsonl"
    lines = [{"time": 0.1, "epoch": e, "model": m, "loss": 1 / e, "lr": 0.1}
             for m in ("a", "b") for e in (1, 2, 3)]
    lines += [{"time": 1.0, "step": s, "grad": float(s)} for s in (10, 20)]
    lines += [{"time": 2.0, "epoch": 4, "model": "a", "loss": float("nan")}]
    p.write_text("\n".join(json.dumps(x) for x in lines) + '\n{"epoch": 5, "lo')
    found = {m: (xl, ls) for m, xl, ls in curves_mod.series(curves_mod.read_jsonl(p))}
    assert set(found) == {"loss", "lr", "grad"}  # time and the x keys are not series
    xl, lines_ = found["loss"]
    assert xl == "epoch" and [g for g, _, _ in lines_] == ["a", "b"]
    assert lines_[0][1] == [1.0, 2.0, 3.0]  # the NaN record is left out
    assert found["grad"][0] == "step"


def test_svg_chart_is_valid_svg_with_a_line_per_group():
    svg = curves_mod.svg_chart("val <loss>", [("m&1", [1, 2, 3], [3.0, 2.0, 1.5]),
                                              ("m2", [1, 2, 3], [2.5, 1.5, 1.0])])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert len(root.findall(f"{ns}polyline")) == 2
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "val <loss>" in texts and "m&1" in texts
    log = curves_mod.svg_chart("loss", [("", [0, 1, 2], [1e3, 1.0, 1e-3])], "step")
    assert "(log scale)" in log
    flat = ET.fromstring(curves_mod.svg_chart("lr", [("", [1, 2], [0.1, 0.1])]))
    assert flat.find(f"{ns}polyline") is not None


def test_curves_are_empty_without_metrics(tmp_path):
    assert curves_mod.charts_html(tmp_path / "missing.jsonl") == ""
    (tmp_path / "m.jsonl").write_text('{"time": 1, "epoch": 1, "loss": 1}\n')
    assert curves_mod.charts_html(tmp_path / "m.jsonl") == ""  # one point is not a curve


def test_markdown_escapes_and_resolves_links():
    body, heads = markdown.render(
        "# Title\n\n## `perceptron` — the example\n\nSee [b](b.md#x), [src](../src/a.py),"
        " `<tag>` and <script>.\n\n| a | b |\n|---|--:|\n| `x` | **1** |\n\n```\n# no\n```\n",
        lambda target, img: None if target.startswith("..") else target)
    assert heads == [(1, "Title", "title"), (2, "`perceptron` — the example",
                                             "perceptron--the-example")]
    assert '<a href="b.md#x">b</a>' in body and "src</a>" not in body
    assert "&lt;script&gt;" in body and "<code>&lt;tag&gt;</code>" in body
    assert '<td style="text-align:right"><strong>1</strong></td>' in body
    assert "<pre><code># no</code></pre>" in body


def test_docs_section_for_an_experiment(tmp_path):
    d = tmp_path / "docs"
    (d / "figures").mkdir(parents=True)
    (d / "figures" / "p.png").write_bytes(b"png")
    (d / "lecture1a.md").write_text("# L1\n\n## `perceptron` — worked\n\n![p](figures/p.png)"
                                    " [next](lecture2b.md) [code](../src/x.py)\n")
    (d / "lecture2b.md").write_text("# Music\n\n`introdl run music` and "
                                    "`introdl run music --quick`\n")
    (d / "data.md").write_text("# Data\n\n`introdl run music-extra`\n")
    docs = docs_mod.Docs.load(d)
    s = docs.section("perceptron")
    assert (s.file, s.anchor) == ("lecture1a.md", "perceptron--worked")
    assert s.href == "_site/docs/lecture1a.html#perceptron--worked"
    m = docs.section("music")
    assert (m.file, m.anchor) == ("lecture2b.md", "")
    assert docs.section("nothing") is None
    site = tmp_path / "site"
    assert docs.write(site, {"lecture1a.md"}) == {"lecture1a.md", "lecture2b.md"}
    page = (site / "_site" / "docs" / "lecture1a.html").read_text()
    assert 'id="perceptron--worked"' in page and 'href="lecture2b.html"' in page
    assert '<img src="figures/p.png"' in page and "../src" not in page
    assert (site / "_site" / "docs" / "figures" / "p.png").read_bytes() == b"png"


def test_no_docs_folder_means_no_docs_link(course, monkeypatch):
    monkeypatch.setattr(docs_mod, "docs_dir", lambda: None)
    write_site(course)
    assert "_site/docs" not in (course / "toy-fail" / "index.html").read_text()
    assert not (course / "_site" / "docs").exists()
