"""Run one experiment into a folder, or the whole course, and check the claims."""

from __future__ import annotations

import os
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from introdl import io
from introdl.config import apply_overrides
from introdl.engine import distributed
from introdl.errors import UsageError
from introdl.experiment import Claim, Experiment, load_all
from introdl.run import Run
from introdl.runtime import machine_description, resolve_device, seed_everything

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


def prepare_out(out: Path, *, force: bool, resume: bool) -> None:
    """Refuse to overwrite earlier output unless ``--force``; check the folder is writable."""
    existing = [n for n in _OUTPUTS if (out / n).exists()]
    if existing and not (force or resume):
        raise UsageError(
            f"{out} already holds a run ({existing[0]}); pass --force to overwrite, "
            "--resume to continue it, or --out DIR for a new folder"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"--out {out} is not writable ({e.strerror}); choose another folder") \
            from None
    if force and not resume:
        # Only what a run writes is cleared, never the user's other files.
        (out / "metrics.jsonl").unlink(missing_ok=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)


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
    cfg = apply_overrides(exp.make_config(quick), sets)
    dev = resolve_device(device)
    rank, _ = distributed.init_from_env(dev)
    dev = distributed.local_device(dev)
    if rank != 0:
        console, progress = Console(quiet=True), False
    out = Path(out)
    fresh_run_had_output = any((out / n).exists() for n in _OUTPUTS)
    if rank == 0:
        prepare_out(out, force=force, resume=resume)
    distributed.barrier()
    seed_everything(seed)
    run = Run(out, device=dev, seed=seed, quick=quick, resume=resume, console=console,
              progress=progress, main=rank == 0)
    if rank == 0:
        io.write_json(out / "config.json", {
            "experiment": exp.name, "lecture": exp.lecture, "quick": quick, "seed": seed,
            "device": str(dev), "config": asdict(cfg), "machine": machine_description(),
        })
    t0 = time.perf_counter()
    try:
        metrics = dict(exp.fn(cfg, run) or {})
    except UsageError:
        # e.g. data unavailable: the run never started, so leave no half-made run behind.
        if not fresh_run_had_output and rank == 0:
            (out / "config.json").unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - t0
    result = RunResult(exp, out, metrics, check_claims(exp, metrics, quick), seconds,
                       figures=sorted(set(run.figures)))
    if rank == 0:
        write_result(result)
    return result


def write_result(r: RunResult) -> None:
    io.write_json(r.dir / "metrics.json", r.metrics)
    io.write_json(r.dir / "result.json", {
        "experiment": r.experiment.name, "lecture": r.experiment.lecture,
        "passed": r.passed, "seconds": round(r.seconds, 2), "error": r.error,
        "figures": r.figures,
        "claims": [{"text": c.claim.text, "expected": c.expected,
                    "measured": c.measured, "passed": c.passed} for c in r.claims],
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
    from introdl.report.index import write_index

    console = console or Console(stderr=True)
    out = Path(out)
    if (out / "index.html").exists() and not force:
        raise UsageError(f"{out} already holds a course report; pass --force to overwrite "
                         "or --out DIR for a new folder")
    exps = load_all()
    if only:
        exps = {k: v for k, v in exps.items() if k in only}
    results: list[RunResult] = []
    for i, exp in enumerate(exps.values(), 1):
        console.rule(f"[{i}/{len(exps)}] Lecture {exp.lecture} · {exp.name}")
        d = out / exp.name
        try:
            r = run_experiment(exp, out=d, quick=quick, device=device, seed=seed, force=True,
                               console=console)
        except KeyboardInterrupt:
            raise
        except Exception:
            err = traceback.format_exc()
            console.print(f"[red]{exp.name} failed[/red]: {err.strip().splitlines()[-1]}")
            r = RunResult(exp, d, error=err, claims=[ClaimResult(c, None, False,
                                                                 c.expected_text(quick))
                                                     for c in exp.claims])
            d.mkdir(parents=True, exist_ok=True)
            write_result(r)
        verdict = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
        console.print(f"{exp.name}: {verdict} in {r.seconds:.1f} s")
        results.append(r)
    write_index(out / "index.html", results, quick=quick)
    return results
