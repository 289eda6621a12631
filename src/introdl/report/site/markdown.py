"""A small Markdown-to-HTML renderer for the project's own docs (no third-party package).

It covers what ``docs/*.md`` use: ATX headings (with GitHub-style ids), paragraphs,
fenced code, pipe tables, flat bullet and numbered lists, block quotes, and inline
code, links, images, bold and italics. Every piece of text is HTML-escaped; raw HTML
in the Markdown is shown as text. Link and image targets pass through ``resolve``,
which returns the href to use, or ``None`` to show the link text without a link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

Resolve = Callable[[str, bool], "str | None"]  # (target, is_image) -> href or None

_INLINE = re.compile(
    r"(?P<code>(?P<ticks>`+)(?P<codetext>.+?)(?P=ticks))"
    r"|(?P<img>!\[(?P<alt>[^\]]*)\]\((?P<isrc>[^)\s]+)\))"
    r"|(?P<link>\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\))"
    r"|(?P<bold>\*\*(?P<btext>.+?)\*\*)"
    r"|(?P<em>(?<![\w*])\*(?P<etext>[^\s*](?:.*?[^\s*])?)\*(?![\w*]))"
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    plain = re.sub(r"[`*_]", "", text).strip().lower()
    plain = re.sub(r"[^\w\- ]", "", plain)
    return plain.replace(" ", "-")


def plain(text: str) -> str:
    """Inline Markdown as plain text (for a ``<title>``): marks and link targets dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)\s]+\)", r"\1", text)
    return re.sub(r"`+|\*\*|(?<!\w)\*|\*(?!\w)", "", text)


def _keep(target: str, is_image: bool) -> str | None:
    return target


def inline(text: str, resolve: Resolve = _keep) -> str:
    """Render one line (or joined lines) of inline Markdown to escaped HTML."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        pos = m.end()
        if m["code"]:
            out.append(f"<code>{html.escape(m['codetext'].strip())}</code>")
        elif m["img"]:
            src = resolve(m["isrc"], True)
            alt = html.escape(m["alt"])
            out.append(f'<img src="{html.escape(src)}" alt="{alt}">' if src else alt)
        elif m["link"]:
            label = inline(m["text"], resolve)
            href = resolve(m["href"], False)
            out.append(f'<a href="{html.escape(href)}">{label}</a>' if href else label)
        elif m["bold"]:
            out.append(f"<strong>{inline(m['btext'], resolve)}</strong>")
        else:
            out.append(f"<em>{inline(m['etext'], resolve)}</em>")
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)]


def _table(lines: list[str], resolve: Resolve) -> str:
    aligns = []
    for c in _cells(lines[1]):
        right, left = c.endswith(":"), c.startswith(":")
        aligns.append("center" if left and right else "right" if right else "")
    def row(cells: list[str], tag: str) -> str:
        tds = []
        for i, c in enumerate(cells):
            a = aligns[i] if i < len(aligns) else ""
            style = f' style="text-align:{a}"' if a else ""
            tds.append(f"<{tag}{style}>{inline(c.replace(chr(92) + '|', '|'), resolve)}</{tag}>")
        return "<tr>" + "".join(tds) + "</tr>"
    body = "\n".join(row(_cells(r), "td") for r in lines[2:])
    return (f'<table class="md">\n<thead>{row(_cells(lines[0]), "th")}</thead>\n'
            f"<tbody>\n{body}\n</tbody></table>")


def render(text: str, resolve: Resolve = _keep) -> tuple[str, list[tuple[int, str, str]]]:
    """Markdown to HTML; also returns the headings as ``(level, text, id)``."""
    lines = text.splitlines()
    out: list[str] = []
    headings: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(fence):
                j += 1
            code = "\n".join(lines[i + 1:j])
            out.append(f"<pre><code>{html.escape(code)}</code></pre>")
            i = j + 1
        elif m := _HEADING.match(stripped):
            level, title = len(m[1]), m[2]
            base = slug(title)
            n = seen.get(base, 0)
            seen[base] = n + 1
            hid = base if n == 0 else f"{base}-{n}"
            headings.append((level, title, hid))
            out.append(f'<h{level} id="{html.escape(hid)}">{inline(title, resolve)}</h{level}>')
            i += 1
        elif (stripped.startswith("|") and i + 1 < len(lines)
              and _TABLE_SEP.match(lines[i + 1])):
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            out.append(_table([ln.strip() for ln in lines[i:j]], resolve))
            i = j
        elif stripped.startswith(">"):
            j = i
            quoted = []
            while j < len(lines) and lines[j].strip().startswith(">"):
                quoted.append(lines[j].strip()[1:].lstrip())
                j += 1
            inner, _ = render("\n".join(quoted), resolve)
            out.append(f"<blockquote>{inner}</blockquote>")
            i = j
        elif m := _BULLET.match(line):
            ordered = m[2][0].isdigit()
            items: list[str] = []
            j = i
            while j < len(lines):
                mj = _BULLET.match(lines[j])
                if mj and mj[2][0].isdigit() == ordered and len(mj[1]) <= len(m[1]):
                    items.append(mj[3])
                elif lines[j].strip() and (lines[j].startswith((" ", "\t")) or mj):
                    items[-1] += " " + lines[j].strip()  # continuation or nested item
                else:
                    break
                j += 1
            tag = "ol" if ordered else "ul"
            lis = "".join(f"<li>{inline(it, resolve)}</li>" for it in items)
            out.append(f"<{tag}>{lis}</{tag}>")
            i = j
        else:
            j = i
            para = []
            while j < len(lines) and lines[j].strip() and not _starts_block(lines, j):
                para.append(lines[j].strip())
                j += 1
            if not para:  # a block start the branches above did not take: show as text
                para, j = [stripped], i + 1
            out.append(f"<p>{inline(' '.join(para), resolve)}</p>")
            i = j
    return "\n".join(out), headings


def _starts_block(lines: list[str], j: int) -> bool:
    s = lines[j].strip()
    if s.startswith(("```", "~~~", ">")) or _HEADING.match(s) or _BULLET.match(lines[j]):
        return True
    return s.startswith("|") and j + 1 < len(lines) and bool(_TABLE_SEP.match(lines[j + 1]))
