"""Training curves from ``metrics.jsonl``, drawn as inline SVG (no JavaScript, no images).

Each record is one logged step or epoch. The x axis is ``epoch`` when a record has
one, else ``step``, else the record's position. String fields (``model``, ``run``,
``cell``...) name the line a record belongs to; every other numeric field is a
series, drawn as one small chart with a line per name.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

X_KEYS = ("epoch", "step")
SKIP = {"time", *X_KEYS}
COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#bf3989",
           "#6e7781", "#4d2d00", "#0550ae")
MAX_POINTS = 400  # per line; longer lines are thinned evenly
MAX_CHARTS = 24
MAX_LEGEND = 10

Line = tuple[str, list[float], list[float]]  # (label, xs, ys)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Records of a ``metrics.jsonl``; blank or broken lines (a run cut short) skipped."""
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def series(records: list[dict[str, Any]]) -> list[tuple[str, str, list[Line]]]:
    """``(metric, x label, lines)`` for every metric with a line of two or more points."""
    by_metric: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    xlabels: dict[str, dict[str, int]] = {}
    position: dict[str, int] = {}
    for rec in records:
        group = " · ".join(str(v) for k, v in rec.items() if isinstance(v, str))
        xkey = next((k for k in X_KEYS if _num(rec.get(k))), None)
        if xkey is None:
            position[group] = position.get(group, -1) + 1
            x, xkey = float(position[group]), "record"
        else:
            x = float(rec[xkey])
        for k, v in rec.items():
            if k in SKIP or not _num(v):
                continue
            xs, ys = by_metric.setdefault(k, {}).setdefault(group, ([], []))
            xs.append(x)
            ys.append(float(v))
            xlabels.setdefault(k, {})
            xlabels[k][xkey] = xlabels[k].get(xkey, 0) + 1
    out = []
    for metric, groups in by_metric.items():
        lines = [(g, xs, ys) for g, (xs, ys) in groups.items()]
        if max(len(xs) for _, xs, _ in lines) < 2:
            continue
        xlabel = max(xlabels[metric].items(), key=lambda kv: kv[1])[0]
        out.append((metric, xlabel, lines))
    return out[:MAX_CHARTS]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round numbers covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(v: float) -> str:
    """A tick label: short, and ``1.5e6`` style for very large or small values."""
    if abs(v) < 1e-12:
        return "0"
    text = f"{v:.3g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text


def _thin(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    if len(xs) <= MAX_POINTS:
        return xs, ys
    idx = sorted({round(i * (len(xs) - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)})
    return [xs[i] for i in idx], [ys[i] for i in idx]


def svg_chart(title: str, lines: list[Line], xlabel: str = "epoch") -> str:
    """One line chart as an ``<svg>`` element; log y when positive values span > 1000x."""
    W, H, L, R, T, B = 340, 200, 50, 10, 22, 34
    legend = [label for label, _, _ in lines][:MAX_LEGEND] if len(lines) > 1 else []
    rows = math.ceil(len(legend) / 2)
    H += 13 * rows  # legend rows under the x label, two to a row
    ys_all = [y for _, _, ys in lines for y in ys]
    xs_all = [x for _, xs, _ in lines for x in xs]
    if not ys_all:
        return ""
    logy = min(ys_all) > 0 and max(ys_all) / min(ys_all) > 1e3
    tf = math.log10 if logy else (lambda v: v)
    y0, y1 = tf(min(ys_all)), tf(max(ys_all))
    if y1 == y0:  # a constant (e.g. the learning rate): centre it
        d = abs(y0) * 0.5 or 1.0
        y0, y1 = y0 - d, y1 + d
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    x0, x1 = min(xs_all), max(xs_all)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1

    def px(x: float) -> float:
        return L + (x - x0) / (x1 - x0) * (W - L - R)

    def py(y: float) -> float:
        return T + (1 - (tf(y) - y0) / (y1 - y0)) * (H - T - B)

    B += 13 * rows
    parts = [f'<svg viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'aria-label="{html.escape(title)} against {html.escape(xlabel)}">',
             f'<text class="title" x="{L}" y="14">{html.escape(title)}'
             f'{" (log scale)" if logy else ""}</text>']
    if logy:
        yt = [10.0 ** e for e in range(math.ceil(y0), math.floor(y1) + 1)]
        if len(yt) > 6:
            yt = yt[::math.ceil(len(yt) / 6)]
    else:
        yt = _ticks(y0, y1)
    for v in yt:
        y = T + (1 - (tf(v) - y0) / (y1 - y0)) * (H - T - B)
        parts.append(f'<line class="grid" x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{L - 4}" y="{y + 3:.1f}" text-anchor="end">{_label(v)}</text>')
    for v in _ticks(x0, x1):
        x = px(v)
        parts.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{H - B}" '
                     f'y2="{H - B + 4}"/><text x="{x:.1f}" y="{H - B + 14}" '
                     f'text-anchor="middle">{_label(v)}</text>')
    parts.append(f'<line class="axis" x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}"/>'
                 f'<line class="axis" x1="{L}" x2="{L}" y1="{T}" y2="{H - B}"/>'
                 f'<text x="{(L + W - R) / 2}" y="{H - B + 28}" text-anchor="middle">'
                 f"{html.escape(xlabel)}</text>")
    for i, (label, xs, ys) in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        xs, ys = _thin(xs, ys)
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
        if len(xs) == 1:
            parts.append(f'<circle cx="{px(xs[0]):.1f}" cy="{py(ys[0]):.1f}" r="2.5" '
                         f'fill="{colour}"/>')
        else:
            parts.append(f'<polyline class="line" stroke="{colour}" points="{pts}"/>')
        if i < len(legend):
            lx, ly = L + (i % 2) * (W - L - R) / 2, H - B + 42 + 13 * (i // 2)
            parts.append(f'<rect x="{lx:.1f}" y="{ly - 7:.1f}" width="10" height="3" '
                         f'fill="{colour}"/><text x="{lx + 14:.1f}" y="{ly:.1f}">'
                         f"{html.escape(label[:38])}</text>")
    parts.append("</svg>")
    return "".join(parts)


def charts_html(path: Path) -> str:
    """Every chart for a ``metrics.jsonl`` as HTML (empty when there is nothing to draw)."""
    found = series(read_jsonl(path))
    return "\n".join(f'<div class="chart">{svg_chart(m, lines, xl)}</div>'
                     for m, xl, lines in found)
