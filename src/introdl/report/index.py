"""The course report: one table block per experiment, a row per claim (expected, measured)."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Sequence
from pathlib import Path

from introdl import io
from introdl.runtime import machine_description

_MARK = {True: ("ok", "✔ pass"), False: ("bad", "✘ fail"), None: ("", "· not checked")}


def _row(r, root: Path) -> str:
    """One experiment: a table row per claim; name, verdict, time and figures span them."""
    e = r.experiment
    rel = html.escape(os.path.relpath(r.dir, root))
    claims = r.claims or []
    span = f' rowspan="{max(1, len(claims))}"'
    if r.error:
        verdict = f'<td class="fail"{span}>error</td>'
    else:
        word = "pass" if r.passed else "fail"
        verdict = f'<td class="{word}"{span}>{word}</td>'
    figs = " ".join(f'<a href="{rel}/{html.escape(f)}"><img src="{rel}/{html.escape(f)}" '
                    f'alt="{html.escape(f)}"></a>' for f in r.figures)
    cells = []
    for c in claims:
        cls, mark = _MARK[c.passed] if c.claim.metric else ("", "· figure")
        val = "" if c.measured is None else f"{c.measured:.4g}"
        cells.append(f"<td>{html.escape(c.claim.text)}</td><td>{html.escape(c.expected)}</td>"
                     f'<td class="{cls}">{html.escape(val)} {mark}</td>')
    head = (f"<td{span}>{e.lecture}</td>"
            f'<td{span}><a href="{rel}/result.md">{html.escape(e.name)}</a><br>'
            f"<small>{html.escape(e.title)}</small></td>")
    tail = f"{verdict}<td{span}>{r.seconds:.1f}</td><td class=figs{span}>{figs}</td>"
    first = cells[0] if cells else "<td></td><td></td><td></td>"
    rows = [f'<tr class="first">{head}{first}{tail}</tr>']
    rows += [f"<tr>{c}</tr>" for c in cells[1:]]
    return "\n".join(rows)


def render(results: Sequence, root: Path, quick: bool) -> str:
    n_pass = sum(r.passed for r in results)
    rows = "\n".join(_row(r, root) for r in results)
    mode = "quick" if quick else "default"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>introdl course report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 6px; vertical-align: top; font-size: 14px; }}
th {{ background: #f3f3f3; text-align: left; }}
.pass {{ background: #d9f5d9; }} .fail {{ background: #f8d4d4; }}
.ok {{ color: #186a18; }} .bad {{ color: #a01010; font-weight: bold; }}
tr.first td {{ border-top: 2px solid #888; }}
.figs img {{ height: 70px; margin: 2px; border: 1px solid #ddd; }}
</style></head><body>
<h1>introdl — MIT 6.S191 (2021) claims, measured</h1>
<p>{n_pass} of {len(results)} experiments pass ({mode} configs) ·
generated {time.strftime("%Y-%m-%d %H:%M")} on {html.escape(machine_description())}.</p>
<table>
<tr><th>Lecture</th><th>Experiment</th><th>Claim</th><th>Expected</th><th>Measured</th>
<th>Verdict</th><th>Seconds</th><th>Figures</th></tr>
{rows}
</table></body></html>
"""


def write_index(path: Path, results: Sequence, quick: bool = False) -> Path:
    path = Path(path)
    io.write_text(path, render(results, path.parent, quick))
    return path
