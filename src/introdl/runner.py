"""Run one experiment into a folder, or the whole course, and check the claims."""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from introdl import io
from introdl.config import apply_overrides, check_seed
from introdl.engine import distributed
from introdl.errors import FolderInUse, UsageError
from introdl.experiment import Claim, Experiment, load_all
from introdl.run import Run
from introdl.runtime import fresh_state, machine_description, resolve_device

_OUTPUTS = ("config.json", "metrics.json", "metrics.jsonl", "result.md", "result.json")


@dataclass
class ClaimResult:
    claim: Claim
    measured: float | None
    passed: bool | None
    expected: str = ""  # the target as checked (a quick run may have its own)


@dataclass
class RunResult:
    experiment: Experiment
    dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    claims: list[ClaimResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    figures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed is not False for c in self.claims)

    @property
    def status(self) -> str:
        """``error``, ``fail`` (a checked claim failed), or ``pass``."""
        return "error" if self.error else ("pass" if self.passed else "fail")

    def counts(self) -> dict[str, int]:
        """Checked claims by verdict: pass, fail, not checked (figures are not counted);
        all "not run" when the experiment raised."""
        checked = [c for c in self.claims if c.claim.metric is not None]
        if self.error:  # the experiment raised: its claims were never measured
            return {"pass": 0, "fail": 0, "not checked": 0, "not run": len(checked)}
        return {"pass": sum(c.passed is True for c in checked),
                "fail": sum(c.passed is False for c in checked),
                "not checked": sum(c.passed is None for c in checked)}

    def facts(self) -> list[dict[str, Any]]:
        """The experiment's stated facts with their measured values (no verdict)."""
        out = []
        for f in self.experiment.facts:
            v = self.metrics.get(f.metric)
            out.append({"text": f.text, "metric": f.metric,
                        "value": float(v) if isinstance(v, (int, float)) else None})
        return out


def prepare_out(out: Path, *, force: bool, resume: bool,
                record: dict[str, Any] | None = None) -> io.FolderLock:
    """Create and lock ``out`` for this process, then check what it holds may be written.

    - The folder is locked first (``flock`` on ``out/.introdl.lock``, non-blocking), so a
      second process on the same folder is refused before it reads or clears anything.
    - A started run (results, ``metrics.jsonl`` or checkpoints; a lone ``config.json``
      from a run that failed before training does not count) needs ``--force`` (cleared
      here) or ``--resume``.
    - ``--resume`` needs a run of this experiment with checkpoints, started with the same
      config, seed and ``--quick`` as ``record`` (the config.json this run would write).

    Returns the held lock; release it when the run ends (process exit releases it too).
    """
    if resume and not out.is_dir():  # refused without making the folder
        raise UsageError(f"nothing to resume in {out}: no run was started there; "
                         "run without --resume")
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = io.lock_folder(out)
    except OSError as e:
        raise UsageError(f"--out {out} is not writable ({e.strerror}); choose another folder") \
            from None
    try:
        if resume:
            _check_resume(out, record)
        elif (started := _started(out)) and not force:
            raise UsageError(
                f"{out} already holds a run ({started[0]}); pass --force to overwrite, "
                "--resume to continue it, or --out DIR for a new folder"
            )
        try:
            probe = out / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as e:
            raise UsageError(f"--out {out} is not writable ({e.strerror}); choose another "
                             "folder") from None
        if force and not resume:
            # Only what a run writes is cleared, never the user's other files.
            (out / "metrics.jsonl").unlink(missing_ok=True)
            shutil.rmtree(out / "checkpoints", ignore_errors=True)
    except BaseException:
        lock.release()
        raise
    return lock


def _started(out: Path) -> list[str]:
    """What shows a run got going in ``out``: its result files, log lines, checkpoints."""
    names = [n for n in _OUTPUTS if n != "config.json" and (out / n).exists()]
    ckpts = out / "checkpoints"
    if ckpts.is_dir() and any(p.is_file() and not p.name.startswith(".")
                              for p in ckpts.rglob("*")):
        names.append("checkpoints/")
    return names


def _check_resume(out: Path, record: dict[str, Any] | None) -> None:
    """Refuse ``--resume`` when there is nothing to resume or the command changes the run."""
    try:
        stored = json.loads((out / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"nothing to resume in {out}: no run was started there; "
                         "run without --resume") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot resume {out}: its config.json is unreadable "
                         f"({type(e).__name__}); start over with --force") from None
    if not isinstance(stored, dict):
        raise UsageError(f"cannot resume {out}: its config.json is not a run's config; "
                         "start over with --force")
    if record is None:
        return
    if stored.get("experiment") != record["experiment"]:
        raise UsageError(f"cannot resume {out}: it holds a run of {stored.get('experiment')!r}, "
                         f"not {record['experiment']!r}; use --out DIR for a new folder")
    if "checkpoints/" not in _started(out):
        raise UsageError(f"nothing to resume in {out}: the run left no checkpoints "
                         f"({record['experiment']} writes none, or it stopped before the "
                         "first); start it over with --force")
    differ, fix = [], []
    if bool(stored.get("quick")) != bool(record["quick"]):
        on = {True: "with --quick", False: "without --quick"}
        differ.append(f"quick (stored: {on[bool(stored.get('quick'))]})")
        fix.append(on[bool(stored.get("quick"))])
    else:
        now = json.loads(json.dumps(record["config"], default=io._jsonable))
        was = stored.get("config") or {}
        for k in sorted(set(now) | set(was)):
            if now.get(k, "<absent>") != was.get(k, "<absent>"):
                differ.append(f"{k} (stored {_shown(was, k)}, now {_shown(now, k)})")
                fix.append(f"--set {k}")
    if stored.get("seed") != record["seed"]:
        differ.append(f"seed (stored {stored.get('seed')}, now {record['seed']})")
        fix.append(f"--seed {stored.get('seed')}")
    if differ:
        raise UsageError(f"--resume uses the stored config of {out}, and this command differs "
                         f"in {'; '.join(differ)}; resume without changing it "
                         f"({', '.join(fix)}), or start a new run with --out DIR")


def _shown(cfg: dict[str, Any], key: str) -> str:
    if key not in cfg:
        return "absent"
    v = cfg[key]
    return ",".join(map(str, v)) if isinstance(v, list) else "none" if v is None else str(v)


def check_claims(exp: Experiment, metrics: dict[str, Any],
                 quick: bool = False) -> list[ClaimResult]:
    results = []
    for c in exp.claims:
        m = metrics.get(c.metric) if c.metric else None
        measured = float(m) if isinstance(m, (int, float, bool)) else None
        results.append(ClaimResult(c, measured, c.check(metrics, quick),
                                   c.expected_text(quick)))
    return results


def run_experiment(
    exp: Experiment,
    *,
    out: str | os.PathLike,
    quick: bool = False,
    device: str = "auto",
    seed: int = 0,
    sets: list[str] | dict[str, Any] | None = None,
    resume: bool = False,
    force: bool = False,
    console: Console | None = None,
    progress: bool = True,
) -> RunResult:
    """Resolve the config, run ``exp`` into ``out``, check its claims and write the results.

    Exceptions from the experiment propagate (the course runner catches them).
    Under torchrun every process runs the experiment (``fit`` shards the batches and
    DDP averages the gradients); only rank 0 writes outputs and prints.
    """
    check_seed(seed)
    cfg = apply_overrides(exp.make_config(quick), sets)  # range-checked (config.validate)
    dev = resolve_device(device)
    rank, _ = distributed.init_from_env(dev)
    dev = distributed.local_device(dev)
    if rank != 0:
        console, progress = Console(quiet=True), False
    out = Path(out)
    record = {"experiment": exp.name, "lecture": exp.lecture, "quick": quick, "seed": seed,
              "device": str(dev), "config": asdict(cfg)}
    # Held for the whole run by rank 0 (the only writer); freed on return or process exit.
    lock = prepare_out(out, force=force, resume=resume, record=record) if rank == 0 else None
    try:
        distributed.barrier()
        run = Run(out, device=dev, seed=seed, quick=quick, resume=resume, console=console,
                  progress=progress, main=rank == 0)
        wrote_config = rank == 0 and not resume  # --resume keeps the stored config.json
        t0 = time.perf_counter()
        try:
            # The same starting state (threads, dtype, seeds) however the run is reached.
            with fresh_state(seed):
                if wrote_config:  # the machine line records the run's own thread count
                    io.write_json(out / "config.json",
                                  {**record, "machine": machine_description()})
                metrics = dict(exp.fn(cfg, run) or {})
        except BaseException:
            # Failed before training wrote anything (e.g. data unavailable, Ctrl-C while
            # loading): leave no config.json behind, so a plain rerun needs no --force.
            if wrote_config and not _started(out):
                (out / "config.json").unlink(missing_ok=True)
            raise
        seconds = time.perf_counter() - t0
        result = RunResult(exp, out, metrics, check_claims(exp, metrics, quick), seconds,
                           figures=sorted(set(run.figures)))
        if rank == 0:
            write_result(result)
        return result
    finally:
        if lock is not None:
            lock.release()


def write_result(r: RunResult) -> None:
    io.write_json(r.dir / "metrics.json", r.metrics)
    io.write_json(r.dir / "result.json", {
        "experiment": r.experiment.name, "lecture": r.experiment.lecture,
        "title": r.experiment.title, "status": r.status, "counts": r.counts(),
        "passed": r.passed, "seconds": round(r.seconds, 2), "error": r.error,
        "figures": r.figures,
        "claims": [{"text": c.claim.text, "metric": c.claim.metric, "expected": c.expected,
                    "measured": c.measured, "passed": c.passed} for c in r.claims],
        "facts": r.facts(),
    })
    io.write_text(r.dir / "result.md", result_markdown(r))


def result_markdown(r: RunResult) -> str:
    e = r.experiment
    lines = [f"# {e.name} — Lecture {e.lecture}: {e.title}", ""]
    if r.error:
        lines += ["**Failed:**", "", "```", r.error.strip(), "```", ""]
    lines += ["| claim | expected | measured | verdict |", "|---|---|---|---|"]
    for c in r.claims:
        verdict = {True: "pass", False: "FAIL", None: "not checked"}[c.passed]
        measured = "—" if c.measured is None else f"{c.measured:.4g}"
        lines.append(f"| {c.claim.text} | {c.expected} | {measured} | {verdict} |")
    if r.experiment.facts:
        lines += ["", "Stated facts (measured, true by construction, no verdict):", ""]
        lines += [f"- {f['text']}: {_fmt(f['value'])}" for f in r.facts()]
    lines += ["", f"Run time: {r.seconds:.1f} s", ""]
    if r.metrics:
        lines += ["## Metrics", ""]
        lines += [f"- `{k}`: {_fmt(v)}" for k, v in sorted(r.metrics.items())]
        lines.append("")
    if r.figures:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in r.figures] + [""]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def run_course(
    *,
    out: str | os.PathLike,
    quick: bool = False,
    device: str = "auto",
    seed: int = 0,
    force: bool = False,
    only: list[str] | None = None,
    console: Console | None = None,
) -> list[RunResult]:
    """Run every registered experiment (continuing past failures) and write ``index.html``."""
    from introdl.report.site import write_site

    console = console or Console(stderr=True)
    out = Path(out)
    if (out / "index.html").exists() and not force:
        raise UsageError(f"{out} already holds a course report; pass --force to overwrite "
                         "or --out DIR for a new folder")
    exps = load_all()
    if only:
        exps = {k: v for k, v in exps.items() if k in only}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out} cannot be created ({e.strerror}); choose another "
                         "folder") from None
    with io.lock_folder(out):  # a second course into the same folder is refused at once
        results = _run_all(exps, out, quick=quick, device=device, seed=seed, console=console)
        write_site(out, quick=quick)
    return results


def _run_all(exps: dict[str, Experiment], out: Path, *, quick: bool, device: str, seed: int,
             console: Console) -> list[RunResult]:
    results: list[RunResult] = []
    for i, exp in enumerate(exps.values(), 1):
        console.rule(f"[{i}/{len(exps)}] Lecture {exp.lecture} · {exp.name}")
        d = out / exp.name
        try:
            r = run_experiment(exp, out=d, quick=quick, device=device, seed=seed, force=True,
                               console=console)
        except (KeyboardInterrupt, FolderInUse):
            raise
        except Exception:
            err = traceback.format_exc()
            console.print(f"[red]{exp.name} failed[/red]: {err.strip().splitlines()[-1]}")
            r = RunResult(exp, d, error=err, claims=[ClaimResult(c, None, False,
                                                                 c.expected_text(quick))
                                                     for c in exp.claims])
            d.mkdir(parents=True, exist_ok=True)
            write_result(r)
        verdict = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]",
                   "error": "[red]error[/red]"}[r.status]
        console.print(f"{exp.name}: {verdict} in {r.seconds:.1f} s")
        results.append(r)
    return results

