"""The course report: one HTML table row per experiment (claim, expected, measured, verdict)."""

from __future__ import annotations

import html
import os
import time
from collections.abc import Sequence
from pathlib import Path

from introdl import io
from introdl.runtime import machine_description


def _row(r, root: Path) -> str:
    e = r.experiment
    rel = os.path.relpath(r.dir, root)
    claims, expected, measured = [], [], []
    for c in r.claims:
        claims.append(html.escape(c.claim.text))
        expected.append(html.escape(c.expected))
        mark = {True: "✔", False: "✘", None: "·"}[c.passed]
        val = "—" if c.measured is None else f"{c.measured:.4g}"
        measured.append(f"{html.escape(val)} {mark}")
    if r.error:
        verdict = '<td class="fail">error</td>'
    else:
        verdict = f'<td class="{"pass" if r.passed else "fail"}">' \
                  f'{"pass" if r.passed else "fail"}</td>'
    figs = " ".join(
        f'<a href="{html.escape(rel)}/{html.escape(f)}">'
        f'<img src="{html.escape(rel)}/{html.escape(f)}" alt="{html.escape(f)}"></a>'
        for f in r.figures
    )
    return (
        f"<tr><td>{e.lecture}</td>"
        f'<td><a href="{html.escape(rel)}/result.md">{html.escape(e.name)}</a><br>'
        f"<small>{html.escape(e.title)}</small></td>"
        f"<td>{'<br>'.join(claims)}</td><td>{'<br>'.join(expected)}</td>"
        f"<td>{'<br>'.join(measured)}</td>{verdict}"
        f"<td>{r.seconds:.1f}</td><td class=figs>{figs}</td></tr>"
    )


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
