"""Link each experiment to its section of the project's docs, rendered into the site.

The docs (``docs/*.md`` in a source checkout) are turned into HTML pages under
``_site/docs/`` with the figures they show, so a link works from ``file://`` and
from ``python -m http.server`` alike. An installed package has no docs folder: then
the pages carry no docs link at all rather than a broken one.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from introdl import io
from introdl.report.site import markdown
from introdl.report.site.style import page

DOCS_OUT = "_site/docs"  # relative to the site root


def docs_dir() -> Path | None:
    """``docs/`` of the source checkout this package was imported from, if any."""
    import introdl

    d = Path(introdl.__file__).resolve().parents[2] / "docs"
    return d if d.is_dir() else None


@dataclass
class Section:
    file: str  # e.g. "lecture1a.md"
    anchor: str  # heading id, "" for the top of the file
    title: str  # heading text (Markdown)
    order: int  # position across the docs, for sorting experiments as the docs do

    @property
    def href(self) -> str:
        """Path of the rendered section relative to the site root."""
        name = f"{DOCS_OUT}/{quote(Path(self.file).stem)}.html"
        return f"{name}#{quote(self.anchor)}" if self.anchor else name


@dataclass
class Docs:
    root: Path
    texts: dict[str, str] = field(default_factory=dict)  # file name -> Markdown
    # every heading in reading order: (file, level, text, id)
    headings: list[tuple[str, int, str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path | None) -> Docs | None:
        if root is None:
            return None
        files = sorted(root.glob("*.md"), key=lambda p: (not p.name.startswith("lecture"),
                                                         p.name))
        texts = {}
        for p in files:
            try:
                texts[p.name] = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        if not texts:
            return None
        heads = [(f, lvl, t, hid) for f, text in texts.items()
                 for lvl, t, hid in markdown.render(text)[1]]
        return cls(root, texts, heads)

    def section(self, name: str) -> Section | None:
        """The heading that names ``name`` in backticks, else the file that runs it most."""
        for order, (fname, level, title, hid) in enumerate(self.headings):
            if level >= 2 and f"`{name}`" in title:
                return Section(fname, hid, title, order)
        run = re.compile(rf"introdl run {re.escape(name)}(?![\w-])")
        best = max(self.texts.items(), key=lambda kv: len(run.findall(kv[1])), default=None)
        if best is None or not run.search(best[1]):
            return None
        fname = best[0]
        order, title = next(((i, h[2]) for i, h in enumerate(self.headings) if h[0] == fname),
                            (len(self.headings), fname))
        return Section(fname, "", title, order)

    def write(self, site: Path, wanted: set[str]) -> set[str]:
        """Render ``wanted`` docs files (and the docs they link to) under the site.

        Returns the rendered file names. Figures they show are copied beside them.
        """
        todo, done = sorted(wanted), set()
        while todo:
            fname = todo.pop()
            if fname in done or fname not in self.texts:
                continue
            done.add(fname)
            for target in re.findall(r"\]\(([^)\s#]+\.md)(?:#[^)\s]*)?\)", self.texts[fname]):
                if "/" not in target and target in self.texts and target not in done:
                    todo.append(target)
        for fname in sorted(done):
            self._write_one(site, fname, done)
        return done

    def _write_one(self, site: Path, fname: str, rendered: set[str]) -> None:
        out_dir = site / DOCS_OUT

        def resolve(target: str, is_image: bool) -> str | None:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
                return target
            if target.startswith("#"):
                return target
            path, _, frag = target.partition("#")
            rel = Path(unquote(path))
            if ".." in rel.parts or rel.is_absolute():
                return None  # outside docs/ (source files, README): shown as text
            if rel.suffix == ".md":
                if str(rel) not in rendered:
                    return None
                return quote(rel.stem) + ".html" + (f"#{frag}" if frag else "")
            src = self.root / rel
            if not src.is_file():
                return None
            _copy(src, out_dir / rel)
            return quote(rel.as_posix()) + (f"#{frag}" if frag else "")

        body, headings = markdown.render(self.texts[fname], resolve)
        title = markdown.plain(headings[0][1]) if headings else fname
        nav = ('<nav><a href="../../index.html">&larr; course report</a> · '
               f"<span class=muted>docs/{html.escape(fname)}</span></nav>")
        io.write_text(out_dir / f"{Path(fname).stem}.html",
                      page(title, nav + f'<article class="docs">{body}</article>',
                           css="../style.css"))


def _copy(src: Path, dst: Path) -> None:
    if dst.is_file() and dst.stat().st_size == src.stat().st_size \
            and dst.stat().st_mtime >= src.stat().st_mtime:
        return
    with io.atomic_open(dst, "wb") as f:
        f.write(src.read_bytes())
