"""The site's look: one stylesheet (written to ``_site/style.css``) and the page frame."""

from __future__ import annotations

import html

CSS_PATH = "_site/style.css"  # relative to the site root

CSS = """\
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --error: #8250df; --error-bg: #fbefff; --nc: #59636e; --nc-bg: #eef1f4; --link: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 1.6rem; margin: .6rem 0 .3rem; line-height: 1.25; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .25rem;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; }
nav { font-size: .9rem; margin-bottom: .4rem; }
code, pre { font: .88em/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--soft); padding: .1em .3em; border-radius: 4px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
  padding: .7rem .9rem; overflow-x: auto; }
pre code { background: none; padding: 0; }
pre.error { background: var(--error-bg); border-color: #d8b9ff; max-height: 24rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .35rem .55rem; vertical-align: top;
  text-align: left; font-size: .92rem; }
th { background: var(--soft); font-weight: 600; }
table.index { table-layout: fixed; }
table.index td { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody.run > tr:first-child > td { border-top: 2px solid #9aa5b1; }
.muted, small { color: var(--muted); }
.meta { color: var(--muted); font-size: .92rem; margin: .2rem 0; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px;
  font-size: .8rem; font-weight: 600; white-space: nowrap; }
.v-pass { color: var(--pass); background: var(--pass-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-error { color: var(--error); background: var(--error-bg); }
.v-nc, .v-figure { color: var(--nc); background: var(--nc-bg); font-weight: 500; }
.summary { display: flex; flex-wrap: wrap; gap: .6rem 1.6rem; padding: .8rem 1rem;
  border: 1px solid var(--line); border-radius: 8px; background: var(--soft); margin: .8rem 0; }
.summary div { min-width: 10rem; }
.summary b { display: block; font-size: .8rem; color: var(--muted); font-weight: 500;
  text-transform: uppercase; letter-spacing: .03em; }
.thumbs a { display: inline-block; margin: 0 .25rem .25rem 0; }
.thumbs img { height: 64px; max-width: 100%; object-fit: contain; border: 1px solid var(--line);
  border-radius: 4px; background: #fff; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-size: .85rem; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
  gap: .8rem; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: .3rem .4rem; }
.chart svg { width: 100%; height: auto; display: block; }
.chart svg text { font: 10px system-ui, sans-serif; fill: var(--muted); }
.chart svg .title { font-size: 11.5px; font-weight: 600; fill: var(--ink); }
.chart svg .axis { stroke: #9aa5b1; stroke-width: 1; }
.chart svg .grid { stroke: #eaeef2; stroke-width: 1; }
.chart svg .line { fill: none; stroke-width: 1.6; }
audio { width: 100%; max-width: 420px; height: 36px; }
details summary { cursor: pointer; color: var(--link); }
article.docs img { max-width: 100%; }
article.docs table { width: auto; }
footer { margin-top: 2.5rem; font-size: .85rem; color: var(--muted); }
"""


def page(title: str, body: str, *, css: str) -> str:
    """A whole HTML document: ``title`` is plain text, ``body`` is HTML, ``css`` an href."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{html.escape(css)}">
</head><body><main>
{body}
</main></body></html>
"""
