"""The ``introdl`` command: thin — parses, calls the library, prints.

Exit codes: 0 success; 1 a checked claim failed (``run``), an experiment failed or
raised (``course``), or training diverged; 2 bad input (one line on stderr); 130 Ctrl-C.

Starting is fast: this module imports neither torch nor lecture code. ``list``,
``--help`` and bad input read the experiments' metadata from source
(:mod:`introdl.catalogue`); ``run NAME`` imports only NAME's module. Topic packages add
their own commands: ``introdl/<topic>/commands.py`` defining ``register(commands)``
(see :class:`Commands`), discovered on disk, with handlers that import heavy code only
when they run.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from introdl.errors import TrainingDiverged, UsageError

# Idle OpenMP threads sleep instead of spinning. Set before torch is first imported (this
# module never imports it): with spinning threads, two torch threads on a 2-core machine
# that another job shares ran music's training at 0.3-10k chars/s instead of 25-36k, so a
# budgeted quick run could fail on load alone. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# The same as introdl.runtime.DEVICES (a test checks), kept here so that parsing the
# command line does not import torch.
DEVICES = ("auto", "cpu", "cuda", "mps")

# Groups several topics add to (``introdl generate music``, ``introdl generate ...``).
SHARED_GROUPS = {"generate": "sample from a trained model"}

Handler = Callable[[argparse.Namespace, Console, Console], int]  # (args, stdout, stderr)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


class Commands:
    """What a topic's ``register(commands)`` adds its subcommands to.

    ``commands.add("generate music", help=..., handler=fn)`` adds ``introdl generate
    music`` (creating the shared ``generate`` group on first use) and returns its
    parser for the topic to add arguments to. ``fn(args, stdout, stderr) -> exit code``
    runs only when the command is chosen, so it is where heavy imports belong.
    """

    devices = DEVICES

    def __init__(self, sub: argparse._SubParsersAction) -> None:
        self._sub = sub
        self._groups: dict[str, argparse._SubParsersAction] = {}
        self._top: dict[str, str] = {}  # top-level word -> "command" or "group"
        self._taken: set[tuple[str, ...]] = set()

    def add(self, path: str, *, help: str, handler: Handler) -> argparse.ArgumentParser:
        words = tuple(path.split())
        if not 1 <= len(words) <= 2:
            raise ValueError(f"command {path!r}: use 'name' or 'group name'")
        kind = "command" if len(words) == 1 else "group"
        if words in self._taken or self._top.setdefault(words[0], kind) != kind:
            raise ValueError(f"command {path!r} is registered twice")
        self._taken.add(words)
        sub = self._sub if len(words) == 1 else self._group(words[0])
        p = sub.add_parser(words[-1], help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    def _group(self, name: str) -> argparse._SubParsersAction:
        if name not in self._groups:
            g = self._sub.add_parser(name, help=SHARED_GROUPS.get(name, f"{name} commands"))
            self._groups[name] = g.add_subparsers(dest=f"{name}_cmd", required=True,
                                                  metavar="COMMAND", parser_class=_Parser)
        return self._groups[name]


def topic_command_modules() -> list[str]:
    """``introdl.<topic>.commands`` modules that define ``register`` (found without importing).

    A ``commands.py`` without ``register`` (e.g. :mod:`introdl.data.commands`, the core's
    own) is not a topic's command module.
    """
    from introdl.catalogue import topic_modules

    found = []
    for module, path in topic_modules("commands"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body):
            found.append(module)
    return found


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="introdl",
                description="The MIT 6.S191 (2021) lectures as experiments: list them, run "
                            "them, and check each lecture's claims against measurements.",
                epilog="exit codes: 0 success, 1 a checked claim failed or an experiment "
                       "errored, 2 bad input")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND", parser_class=_Parser)
    commands = Commands(sub)

    commands.add("list", help="experiments by lecture, with the claim each checks",
                 handler=cmd_list)

    r = commands.add("run", help="run one experiment (exit 1 if a checked claim fails)",
                     handler=cmd_run)
    r.add_argument("name")
    _common(r)
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable), e.g. --set epochs=3")
    r.add_argument("--resume", action="store_true", help="continue from the run's checkpoints")

    c = commands.add("course", help="run every experiment, then write index.html "
                     "(exit 1 if any fails)", handler=cmd_course)
    _common(c)
    c.add_argument("--only", nargs="+", metavar="NAME", help="run just these experiments")

    d = commands.add("data", help="list, fetch or verify datasets", handler=cmd_data)
    dsub = d.add_subparsers(dest="data_cmd", required=True, parser_class=_Parser)
    dsub.add_parser("list", help="datasets, their sources and whether they are here")
    f = dsub.add_parser("fetch", help="download (or copy from INTRODL_DATA) and verify")
    f.add_argument("name")
    v = dsub.add_parser("verify", help="check SHA-256 of cached files")
    v.add_argument("name", nargs="?")

    rep = commands.add("report", help="write the HTML report of a folder of runs",
                       handler=cmd_report)
    rep.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                     help="a run folder, or a folder of runs (e.g. runs/course-quick)")

    import importlib

    for module in topic_command_modules():
        importlib.import_module(module).register(commands)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small config: seconds to a minute on CPU")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--out", type=Path, help="output folder (default runs/NAME[-quick])")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite earlier output")


def cmd_list(a: argparse.Namespace, out: Console, err: Console) -> int:
    from introdl.catalogue import build
    from introdl.experiment import _REGISTRY

    # Read from source (no lecture code imported); experiments registered in this
    # process (e.g. by a test) are listed too.
    rows = {**build().entries, **_REGISTRY}
    table = Table(title="introdl experiments (MIT 6.S191, 2021)", show_lines=True)
    for col in ("lecture", "name", "what it shows", "claim checked"):
        table.add_column(col)
    for e in sorted(rows.values(), key=lambda e: (e.lecture, e.name)):
        claims = "\n".join(f"{c.text} [{c.expected_text()}]" for c in e.claims)
        table.add_row(str(e.lecture), e.name, escape(e.title), escape(claims))
    out.print(table)
    return 0


def cmd_run(a: argparse.Namespace, out: Console, err: Console) -> int:
    from introdl.experiment import get

    exp = get(a.name)  # an unknown name fails here, before torch is imported

    from introdl.runner import run_experiment

    folder = a.out or Path("runs") / (exp.name + ("-quick" if a.quick else ""))
    r = run_experiment(exp, out=folder, quick=a.quick, device=a.device, seed=a.seed,
                       sets=a.sets, resume=a.resume, force=a.force, console=err)
    _print_claims(r, err)
    n = r.counts()
    later = " (need the default run)" if a.quick and n["not checked"] else ""
    err.print(f"checked claims: {n['pass']} pass, {n['fail']} fail, {n['not checked']} not "
              f"checked{later} · results in {r.dir}/ (result.md, metrics.json, figures)",
              highlight=False, soft_wrap=True)
    return 1 if r.status != "pass" else 0


_VERDICT = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "not checked"}


def _print_claims(r, console: Console) -> None:
    t = Table(title=f"{r.experiment.name}: lecture {r.experiment.lecture} claim vs measured")
    for col in ("claim", "expected", "measured", "verdict"):
        t.add_column(col)
    for c in r.claims:
        t.add_row(escape(c.claim.text), escape(c.expected),
                  "—" if c.measured is None else f"{c.measured:.4g}",
                  "—" if c.claim.metric is None else _VERDICT[c.passed])  # a figure: shown
    console.print(t)
    facts = r.facts()
    if facts:
        console.print("stated facts (measured, true by construction, no verdict):")
        for f in facts:
            value = "—" if f["value"] is None else f"{f['value']:.4g}"
            console.print(f"  {escape(f['text'])}: {value}", highlight=False)


def course_summary(results: list, report: Path, quick: bool) -> tuple[Table, str]:
    """The per-experiment table and the closing line of ``introdl course``."""
    t = Table(title="course summary")
    for col in ("lecture", "experiment", "verdict", "claims pass", "fail", "not checked",
                "seconds"):
        t.add_column(col, justify="right" if col not in ("experiment", "verdict") else "left")
    status = {"pass": 0, "fail": 0, "error": 0}
    claims = {"pass": 0, "fail": 0, "not checked": 0}
    unrun = 0  # checked claims of experiments that raised: never measured
    for r in results:
        status[r.status] += 1
        n = r.counts()
        if r.status == "error":
            unrun += sum(n.values())
            t.add_row(str(r.experiment.lecture), r.experiment.name, "[red]error[/]",
                      "—", "—", "—", f"{r.seconds:.1f}")
            continue
        for k in claims:
            claims[k] += n[k]
        verdict = "[green]pass[/]" if r.status == "pass" else "[red]FAIL[/]"
        t.add_row(str(r.experiment.lecture), r.experiment.name, verdict, str(n["pass"]),
                  str(n["fail"]), str(n["not checked"]), f"{r.seconds:.1f}")
    line = (f"{len(results)} experiment{'s' if len(results) != 1 else ''}: "
            f"{status['pass']} pass, {status['fail']} fail, {status['error']} error · "
            f"checked claims: {claims['pass']} pass, {claims['fail']} fail, "
            f"{claims['not checked']} not checked")
    if quick and claims["not checked"]:
        line += " (need the default run)"
    if unrun:
        line += f", {unrun} not run (experiment errored)"
    return t, line + f" · report: {report}"


def cmd_course(a: argparse.Namespace, out: Console, err: Console) -> int:
    from introdl.experiment import check_name

    for n in a.only or []:
        check_name(n)  # unknown names fail at once, with a suggestion

    from introdl.runner import run_course

    folder = a.out or Path("runs") / ("course-quick" if a.quick else "course")
    results = run_course(out=folder, quick=a.quick, device=a.device, seed=a.seed,
                         force=a.force, only=a.only, console=err)
    table, line = course_summary(results, folder / "index.html", a.quick)
    err.print(table)
    err.print(line, highlight=False, soft_wrap=True)
    return 1 if any(r.status != "pass" for r in results) else 0


def cmd_data(a: argparse.Namespace, out: Console, err: Console) -> int:
    from introdl.data import commands

    if a.data_cmd == "list":
        return commands.list_datasets(err)
    if a.data_cmd == "fetch":
        return commands.fetch(a.name, err)
    return commands.verify(a.name, err)


def cmd_report(a: argparse.Namespace, out: Console, err: Console) -> int:
    if not a.run_dir.is_dir():
        raise UsageError(f"{a.run_dir} is not a folder; pass a run folder or a folder of runs "
                         "(e.g. runs/course-quick)")
    from introdl.report.site import write_site

    index = write_site(Path(a.run_dir))
    out.print(str(index if index is not None else a.run_dir / "index.html"), highlight=False,
              soft_wrap=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    out = Console()
    err = Console(stderr=True, quiet=os.environ.get("RANK", "0") != "0")  # torchrun: rank 0 only
    try:
        a = _build_parser().parse_args(argv)
        return a.handler(a, out, err)
    except UsageError as e:
        print(f"introdl: error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"introdl: training stopped: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("introdl: interrupted; checkpoints written so far are kept (use --resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
