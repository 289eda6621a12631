"""The index page (every run by lecture) and one page per experiment, as HTML strings.

Every text from a run folder goes through ``html.escape``; every path through
``urllib.parse.quote``. Counts a test or a script may read are in ``data-*``
attributes of ``#summary`` (index) and ``#run`` (experiment page).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from introdl.catalogue import lecture_titles
from introdl.report.site.curves import charts_html
from introdl.report.site.docs import Section
from introdl.report.site.markdown import inline
from introdl.report.site.runs import PLAYABLE, RunFolder, fmt

_VERDICT_CLASS = {"pass": "v-pass", "fail": "v-fail", "error": "v-error",
                  "not checked": "v-nc", "figure": "v-figure"}
_COLS = ("<colgroup>" + "".join(f'<col style="width:{w}%">' for w in (19, 26, 18, 9, 10, 6, 12))
         + "</colgroup>")
e = html.escape


def badge(verdict: str) -> str:
    return f'<span class="badge {_VERDICT_CLASS[verdict]}">{e(verdict)}</span>'


def _seconds(s: float | None) -> str:
    if s is None:
        return ""
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def totals(runs: Sequence[RunFolder]) -> dict[str, int]:
    """Experiments by status and checked claims by verdict, summed over ``runs``."""
    t = {"experiments": len(runs)}
    for s in ("pass", "fail", "error"):
        t[f"experiments-{s}"] = sum(r.status == s for r in runs)
    for k in ("pass", "fail", "not checked"):
        t[f"claims-{k.replace(' ', '-')}"] = sum(r.counts[k] for r in runs)
    return t


def summary(runs: Sequence[RunFolder], mode: str, generated: str) -> str:
    """The block of counts, machine, mode and time at the top of the index."""
    t = totals(runs)
    data = " ".join(f'data-{k}="{v}"' for k, v in t.items())
    exp = (f'{t["experiments-pass"]} pass · {t["experiments-fail"]} fail · '
           f'{t["experiments-error"]} error')
    claims = (f'{t["claims-pass"]} pass · {t["claims-fail"]} fail · '
              f'{t["claims-not-checked"]} not checked')
    # Runs differ in load average only; the page of each run gives its own.
    machines = sorted({re.sub(r"load average [^;]*; ?", "", r.machine)
                       for r in runs if r.machine}) or ["not recorded"]
    secs = sum(r.seconds or 0 for r in runs)
    return (f'<section class="summary" id="summary" {data}>'
            f'<div><b>{t["experiments"]} experiments</b>{exp}</div>'
            f"<div><b>checked claims</b>{claims}</div>"
            f"<div><b>mode</b>{e(mode)} configs · {_seconds(secs)} of runs</div>"
            f"<div><b>generated</b>{e(generated)}</div>"
            f'<div style="flex-basis:100%"><b>machine</b>'
            f'{"<br>".join(e(m) for m in machines)}</div></section>')


def _thumbs(r: RunFolder, prefix: str) -> str:
    return "".join(f'<a href="{prefix}{quote(f)}"><img src="{prefix}{quote(f)}" '
                   f'alt="{e(f)}" title="{e(f)}"></a>' for f in r.figures)


def _index_rows(r: RunFolder) -> str:
    """One ``<tbody>`` per run: a row per claim; name, time and figures span them."""
    link = quote(r.name) + "/index.html"
    rows = [(c.text, c.expected, fmt(c.measured), c.verdict) for c in r.claims]
    if r.error:
        last = r.error.strip().splitlines()[-1] if r.error.strip() else "error"
        rows.insert(0, (f"the run stopped: {last}", "", "", "error"))
    rows = rows or [("(no claims)", "", "", "")]
    span = f' rowspan="{len(rows)}"'
    label = e(r.experiment) + (f" <small>({e(r.name)})</small>" if r.name != r.experiment
                               else "")
    head = (f'<td{span}><a href="{link}"><strong>{label}</strong></a> {badge(r.status)}'
            f"<br><small>{e(r.title)}</small></td>")
    tail = (f'<td class="num"{span}>{_seconds(r.seconds)}</td>'
            f'<td class="thumbs"{span}>{_thumbs(r, quote(r.name) + "/")}</td>')
    out = []
    for i, (text, expected, measured, verdict) in enumerate(rows):
        cells = (f"<td>{e(text)}</td><td>{e(expected)}</td><td class=num>{e(measured)}</td>"
                 f"<td>{badge(verdict) if verdict else ''}</td>")
        out.append(f'<tr class="first">{head}{cells}{tail}</tr>' if i == 0
                   else f"<tr>{cells}</tr>")
    return (f'<tbody class="run" data-run="{e(r.name)}" data-status="{r.status}">'
            + "\n".join(out) + "</tbody>")


def index_page(runs: Sequence[RunFolder], mode: str, generated: str) -> str:
    """The course index: the summary, then a table per lecture."""
    by_lecture: dict[int | None, list[RunFolder]] = {}
    for r in runs:
        by_lecture.setdefault(r.lecture, []).append(r)
    parts = ["<h1>introdl — MIT 6.S191 (2021): the lectures' claims, measured</h1>",
             '<p class="meta">Each experiment checks what a lecture says against a number it '
             "measures. Open an experiment for its figures, training curves, config and the "
             "command that reproduces it.</p>",
             summary(runs, mode, generated)]
    lectures = lecture_titles()  # from the topic packages' docstrings; nothing imported
    for lec in sorted(by_lecture, key=lambda x: (x is None, x or 0)):
        name = f"Lecture {lec}" if lec is not None else "Other runs"
        sub = f" — {lectures[lec]}" if lec in lectures else ""
        anchor = f"lecture-{lec}" if lec is not None else "lecture-other"
        body = "\n".join(_index_rows(r) for r in by_lecture[lec])
        parts.append(f'<h2 id="{anchor}">{e(name + sub)}</h2>'
                     f'<table class="index">{_COLS}<thead><tr><th>Experiment</th>'
                     "<th>Claim</th><th>Expected</th>"
                     "<th>Measured</th><th>Verdict</th><th>Time</th><th>Figures</th></tr>"
                     f"</thead>\n{body}</table>")
    parts.append("<footer>Written by <code>introdl course</code>; rebuild it from the run "
                 "folders with <code>introdl report DIR</code>.</footer>")
    return "\n".join(parts)


def _claims_table(r: RunFolder) -> str:
    rows = "".join(
        f"<tr><td>{e(c.text)}</td><td><code>{e(c.metric or '—')}</code></td>"
        f"<td>{e(c.expected)}</td><td class=num>{e(fmt(c.measured))}</td>"
        f"<td>{badge(c.verdict)}</td></tr>" for c in r.claims)
    if not rows:
        return "<p class=muted>No claims recorded.</p>"
    return ("<table><thead><tr><th>Claim</th><th>Metric</th><th>Expected</th><th>Measured</th>"
            f"<th>Verdict</th></tr></thead><tbody>{rows}</tbody></table>")


def _kv_table(items: dict, head: tuple[str, str], exact: bool = False) -> str:
    """A two-column table; ``exact`` shows values as written (config), else rounded."""
    show = (lambda v: v if isinstance(v, str) else json.dumps(v)) if exact else _value
    rows = "".join(f"<tr><td><code>{e(str(k))}</code></td><td class=num>{e(show(v))}</td>"
                   f"</tr>" for k, v in items.items())
    return (f"<table style='width:auto'><thead><tr><th>{head[0]}</th><th>{head[1]}</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _value(v: object) -> str:
    if isinstance(v, float):
        return fmt(v)
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v)
    return str(v)


def _audio(r: RunFolder) -> str:
    files = r.audio()
    if not files:
        return ""
    groups: dict[str, list[str]] = {}
    for f in files:
        groups.setdefault(str(Path(f).with_suffix("")), []).append(f)
    rows = []
    for stem, fs in groups.items():
        play = [f for f in fs if Path(f).suffix.lower() in PLAYABLE]
        player = "".join(f'<audio controls preload="none" src="{quote(f)}"></audio>'
                         for f in play[:1])
        links = " ".join(f'<a href="{quote(f)}">{e(Path(f).suffix.lstrip("."))}</a>' for f in fs)
        abc = r.dir / (stem + ".abc")
        score = (f"<details><summary>ABC</summary><pre>{e(_read(abc))}</pre></details>"
                 if abc.is_file() else "")
        rows.append(f"<tr><td>{e(stem)}</td><td>{player or '<span class=muted>MIDI only'}"
                    f"{'' if player else '</span>'}</td><td>{links}{score}</td></tr>")
    return ("<h2 id='audio'>Generated music</h2><table><thead><tr><th>Tune</th><th>Listen</th>"
            f"<th>Files</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _read(p: Path, limit: int = 20_000) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")[:limit]
    except OSError:
        return ""


def experiment_page(r: RunFolder, *, up: str | None, docs: Section | None,
                    docs_prefix: str, mode: str = "", generated: str = "") -> str:
    """One experiment. ``up``: href of the course index (None for a lone run folder);
    ``docs_prefix``: the site root seen from this page (``../`` or ``""``)."""
    t = totals([r])
    data = " ".join(f'data-{k}="{v}"' for k, v in t.items())
    nav = f'<nav><a href="{up}">&larr; course report</a></nav>' if up else ""
    lecture = f"Lecture {r.lecture}" if r.lecture is not None else "Lecture ?"
    parts = [nav, f"<h1>{e(r.experiment)} {badge(r.status)}</h1>",
             f'<p class="meta">{e(lecture)}{": " + e(r.title) if r.title else ""} · '
             f"run time {_seconds(r.seconds) or 'not recorded'} · folder "
             f"<code>{e(r.name)}/</code></p>"]
    if up is None:  # a lone run folder: this page is the site's index
        parts.append(summary([r], mode, generated))
    else:
        parts.append(f'<div id="run" hidden {data}></div>')
    if docs:
        parts.append(f'<p>Explained in <a href="{docs_prefix}{docs.href}">docs/{e(docs.file)}'
                     f" — {inline(docs.title)}</a>.</p>")
    if r.error:
        parts.append(f"<h2 id='error'>The run stopped with an error</h2>"
                     f"<pre class=error>{e(r.error.strip())}</pre>")
    parts += ["<h2 id='claims'>Claims</h2>", _claims_table(r)]
    if r.facts:
        rows = "".join(f"<tr><td>{e(str(f.get('text', '')))}</td><td><code>"
                       f"{e(str(f.get('metric', '')))}</code></td><td class=num>"
                       f"{e(fmt(f.get('value')))}</td></tr>" for f in r.facts)
        parts.append("<h3>Stated facts (measured, no verdict)</h3><table><thead><tr><th>Fact"
                     f"</th><th>Metric</th><th>Value</th></tr></thead><tbody>{rows}"
                     "</tbody></table>")
    if r.figures:
        parts.append("<h2 id='figures'>Figures</h2>")
        parts += [f'<figure><a href="{quote(f)}"><img src="{quote(f)}" alt="{e(f)}"></a>'
                  f"<figcaption>{e(f)}</figcaption></figure>" for f in r.figures]
    charts = charts_html(r.dir / "metrics.jsonl")
    if charts:
        parts.append("<h2 id='curves'>Training curves</h2><p class=meta>From "
                     '<a href="metrics.jsonl">metrics.jsonl</a>, one chart per logged '
                     f'value.</p><div class="charts">{charts}</div>')
    parts.append(_audio(r))
    parts.append("<h2 id='reproduce'>Reproduce</h2>"
                 f"<pre><code>{e(r.command())}</code></pre>"
                 "<p class=meta>The config the run resolved (the command above gives it when "
                 "the experiment's defaults are unchanged; change a field with "
                 "<code>--set key=value</code>):</p>")
    parts.append(_kv_table(r.resolved, ("field", "value"), exact=True) if r.resolved
                 else "<p class=muted>config.json not found.</p>")
    device = r.config.get("device")
    parts.append("<h2 id='machine'>Machine</h2>"
                 f"<p>{e(r.machine or 'not recorded')}"
                 f"{' · device ' + e(str(device)) if device else ''} · seed {r.seed}</p>")
    if r.metrics:
        parts.append("<details><summary>Final metrics (metrics.json)</summary>"
                     f"{_kv_table(r.metrics, ('metric', 'value'))}</details>")
    files = [n for n in ("result.md", "result.json", "config.json", "metrics.json",
                         "metrics.jsonl") if (r.dir / n).is_file()]
    parts.append("<footer>Files: " + " · ".join(f'<a href="{n}">{n}</a>' for n in files)
                 + "</footer>")
    return "\n".join(p for p in parts if p)
