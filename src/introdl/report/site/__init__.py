"""The course report as a static website, built from run folders alone.

::

    COURSE_DIR/
      index.html             every run by lecture: claims, expected, measured, verdicts
      NAME/index.html        one page per experiment (beside its run's files)
      _site/style.css        the stylesheet
      _site/docs/*.html      the docs sections the pages link to, with their figures

Pages use relative links only, no JavaScript and no network, so the site works from
``file://`` and from ``python -m http.server``. A single run folder (from
``introdl run NAME --out DIR``) is a site of one page: ``DIR/index.html``.
This package reads files only; it imports neither torch nor any lecture module.
"""

from __future__ import annotations

import time
from pathlib import Path

from introdl import io
from introdl.report.site import docs as docs_mod
from introdl.report.site import pages, runs
from introdl.report.site.style import CSS, CSS_PATH, page

__all__ = ["write_site"]


def write_site(course_dir: Path, *, quick: bool | None = None) -> Path:
    """Write the site for the run folders in ``course_dir``; return its ``index.html``.

    Args:
        course_dir: a folder of run folders (``introdl course``), or one run folder
            (``introdl run``), which then gets a one-experiment site.
        quick: label the runs as quick or default configs; ``None`` reads it from the
            runs' ``config.json`` (``mixed`` when they differ).

    Raises:
        UsageError: ``course_dir`` is not a folder or holds no run folder.
    """
    course_dir = Path(course_dir)
    found, single = runs.find(course_dir)
    docs = docs_mod.Docs.load(docs_mod.docs_dir())
    sections = {r.name: docs.section(r.experiment) if docs else None for r in found}
    found.sort(key=lambda r: (r.lecture is None, r.lecture or 0,
                              sections[r.name].order if sections[r.name] else 1 << 30,
                              r.name))
    mode = _mode(found, quick)
    generated = time.strftime("%Y-%m-%d %H:%M %Z").strip()
    if docs:
        docs.write(course_dir, {s.file for s in sections.values() if s})
    io.write_text(course_dir / CSS_PATH, CSS)
    for r in found:
        prefix = "" if single else "../"
        body = pages.experiment_page(r, up=None if single else "../index.html",
                                     docs=sections[r.name], docs_prefix=prefix,
                                     mode=mode, generated=generated)
        title = f"{r.experiment} — introdl report"
        io.write_text(r.dir / "index.html", page(title, body, css=prefix + CSS_PATH))
    index = course_dir / "index.html"
    if not single:
        io.write_text(index, page("introdl course report",
                                  pages.index_page(found, mode, generated), css=CSS_PATH))
    return index


def _mode(found: list[runs.RunFolder], quick: bool | None) -> str:
    if quick is not None:
        return "quick" if quick else "default"
    flags = {r.quick for r in found if r.quick is not None}
    if len(flags) == 1:
        return "quick" if flags.pop() else "default"
    return "mixed" if flags else "unknown"
