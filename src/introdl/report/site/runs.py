"""Read run folders (``result.json``, ``config.json``, ...) into plain records.

Only files are read, never an experiment module: a site can be rebuilt anywhere the
run folders are. Older ``result.json`` files (without ``title``, ``status``,
``counts`` or ``facts``) and unreadable ones are handled, never fatal.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from introdl.errors import UsageError

STATUSES = ("pass", "fail", "error")
CLAIM_VERDICTS = ("pass", "fail", "not checked")
AUDIO = (".wav", ".ogg", ".mp3", ".flac", ".mid", ".midi")
PLAYABLE = (".wav", ".ogg", ".mp3", ".flac")  # a browser's <audio> plays these


@dataclass
class Claim:
    text: str
    metric: str | None  # None: an illustrated figure, not checked
    expected: str
    measured: float | None
    passed: bool | None

    @property
    def verdict(self) -> str:
        """``pass``, ``fail``, ``not checked`` or ``figure``."""
        if self.metric is None:
            return "figure"
        return {True: "pass", False: "fail", None: "not checked"}[self.passed]


@dataclass
class RunFolder:
    dir: Path
    experiment: str
    lecture: int | None
    title: str
    status: str  # pass | fail | error
    counts: dict[str, int]  # checked claims: pass / fail / not checked
    seconds: float | None
    error: str | None
    claims: list[Claim]
    facts: list[dict[str, Any]]
    figures: list[str]  # paths relative to dir, files that exist
    config: dict[str, Any] = field(default_factory=dict)  # config.json as written
    metrics: dict[str, Any] = field(default_factory=dict)  # metrics.json

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def quick(self) -> bool | None:
        q = self.config.get("quick")
        return q if isinstance(q, bool) else None

    @property
    def seed(self) -> int:
        s = self.config.get("seed")
        return s if isinstance(s, int) and not isinstance(s, bool) else 0

    @property
    def machine(self) -> str:
        return str(self.config.get("machine") or "")

    @property
    def resolved(self) -> dict[str, Any]:
        c = self.config.get("config")
        return c if isinstance(c, dict) else {}

    def audio(self) -> list[str]:
        """Generated audio (``.wav``, ``.mid``, ...) anywhere in the run folder."""
        return _files(self.dir, AUDIO)

    def command(self) -> str:
        """The command that reproduces this run (config defaults, plus --quick and seed)."""
        parts = ["introdl", "run", self.experiment]
        if self.quick:
            parts.append("--quick")
        parts += ["--seed", str(self.seed)]
        return " ".join(parts)


def find(course_dir: Path) -> tuple[list[RunFolder], bool]:
    """The run folders under ``course_dir`` and whether it is itself one run folder.

    A folder holding ``result.json`` is one run (``introdl run NAME --out DIR``);
    otherwise each direct subfolder holding ``result.json`` is a run of the course.
    """
    course_dir = Path(course_dir)
    if not course_dir.is_dir():
        raise UsageError(f"{course_dir} is not a folder; pass the --out folder of "
                         "'introdl course' or of 'introdl run NAME'")
    if (course_dir / "result.json").is_file():
        return [load(course_dir)], True
    dirs = sorted(p for p in course_dir.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and
                  (p / "result.json").is_file())
    if not dirs:
        raise UsageError(f"{course_dir} holds no run folder (no */result.json); run "
                         f"'introdl course --quick --out {course_dir}' first, or pass a folder "
                         "written by 'introdl course' or 'introdl run'")
    return [load(d) for d in dirs], False


def load(d: Path) -> RunFolder:
    """One run folder; a missing or unreadable ``result.json`` reads as an error."""
    problem = None
    try:
        res = _json(d / "result.json")
        if not isinstance(res, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        res, problem = {}, f"result.json could not be read: {e}"
    cfg = _object(d / "config.json")
    claims = [_claim(c) for c in res.get("claims") or [] if isinstance(c, dict)]
    error = res.get("error") if isinstance(res.get("error"), str) else problem
    checked = [c for c in claims if c.metric is not None]
    counts = res.get("counts")
    if not (isinstance(counts, dict) and all(isinstance(counts.get(k), int)
                                             for k in CLAIM_VERDICTS)):
        counts = {"pass": sum(c.passed is True for c in checked),
                  "fail": sum(c.passed is False for c in checked),
                  "not checked": sum(c.passed is None for c in checked)}
    status = res.get("status")
    if status not in STATUSES:
        if error:
            status = "error"
        elif any(c.passed is False for c in checked) or res.get("passed") is False:
            status = "fail"
        else:
            status = "pass"
    lecture = res.get("lecture", cfg.get("lecture"))
    figures = [f for f in res.get("figures") or [] if isinstance(f, str) and _inside(d, f)]
    figures += [f for f in _files(d, (".png", ".jpg", ".jpeg", ".gif", ".svg"))
                if f not in figures]
    seconds = res.get("seconds")
    return RunFolder(
        dir=d,
        experiment=str(res.get("experiment") or cfg.get("experiment") or d.name),
        lecture=lecture if isinstance(lecture, int) and not isinstance(lecture, bool) else None,
        title=str(res.get("title") or ""),
        status=status,
        counts={k: int(counts[k]) for k in CLAIM_VERDICTS},
        seconds=float(seconds) if _number(seconds) else None,
        error=error,
        claims=claims,
        facts=[f for f in res.get("facts") or [] if isinstance(f, dict)],
        figures=figures,
        config=cfg,
        metrics=_object(d / "metrics.json"),
    )


def _claim(c: dict[str, Any]) -> Claim:
    metric = c.get("metric")
    passed = c.get("passed")
    return Claim(text=str(c.get("text") or ""),
                 metric=metric if isinstance(metric, str) else None,
                 expected=str(c.get("expected") or ""),
                 measured=float(c["measured"]) if _number(c.get("measured")) else None,
                 passed=passed if isinstance(passed, bool) else None)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def fmt(x: Any) -> str:
    """A measured value for a table: 4 significant digits; NaN and infinities spelled."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "" if x is None else str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def _json(p: Path) -> Any:
    return json.loads(p.read_text(encoding="utf-8"))


def _object(p: Path) -> dict[str, Any]:
    try:
        obj = _json(p)
    except (OSError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _inside(d: Path, rel: str) -> bool:
    p = d / rel
    return ".." not in Path(rel).parts and not Path(rel).is_absolute() and p.is_file()


def _files(d: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Files under ``d`` with these suffixes (not in checkpoints/ or _site/), sorted."""
    found = []
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d)
        if rel.parts[0] in ("checkpoints", "_site") or any(s.startswith(".") for s in rel.parts):
            continue
        if p.suffix.lower() in suffixes and p.is_file():
            found.append(rel.as_posix())
    return found
