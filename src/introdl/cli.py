"""The ``introdl`` command: thin — parses, calls the library, prints."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from introdl.errors import TrainingDiverged, UsageError
from introdl.runtime import DEVICES


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="introdl", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    sub.add_parser("list", help="experiments by lecture, with the claim each checks")

    r = sub.add_parser("run", help="run one experiment")
    r.add_argument("name")
    _common(r)
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable), e.g. --set epochs=3")
    r.add_argument("--resume", action="store_true", help="continue from the run's checkpoints")

    c = sub.add_parser("course", help="run every experiment, then write index.html")
    _common(c)
    c.add_argument("--only", nargs="+", metavar="NAME", help="run just these experiments")

    d = sub.add_parser("data", help="list, fetch or verify datasets")
    dsub = d.add_subparsers(dest="data_cmd", required=True, parser_class=_Parser)
    dsub.add_parser("list", help="datasets, their sources and whether they are here")
    f = dsub.add_parser("fetch", help="download (or copy from INTRODL_DATA) and verify")
    f.add_argument("name")
    v = dsub.add_parser("verify", help="check SHA-256 of cached files")
    v.add_argument("name", nargs="?")

    g = sub.add_parser("generate", help="sample from a trained model")
    gsub = g.add_subparsers(dest="gen_cmd", required=True, parser_class=_Parser)
    m = gsub.add_parser("music", help="tunes (.abc, .mid, .wav, piano roll) from 'run music'")
    m.add_argument("--checkpoint", type=Path, required=True, metavar="RUN_DIR",
                   help="run folder of 'introdl run music' (or its music_lstm.pt)")
    m.add_argument("--n", type=int, default=5, help="number of tunes")
    m.add_argument("--temperature", type=float, default=0.8, help="sampling temperature > 0")
    m.add_argument("--start", default="X:1\\nT:", help="beginning of every tune ('\\n' = newline)")
    m.add_argument("--out", type=Path, help="output folder (default RUN_DIR/generated)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--device", default="cpu", choices=DEVICES)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small config: seconds to a minute on CPU")
    p.add_argument("--device", default="auto", choices=DEVICES)
    p.add_argument("--out", type=Path, help="output folder (default runs/NAME[-quick])")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="overwrite earlier output")


def cmd_list(console: Console) -> int:
    from introdl.experiment import load_all

    table = Table(title="introdl experiments (MIT 6.S191, 2021)", show_lines=True)
    for col in ("lecture", "name", "what it shows", "claim checked"):
        table.add_column(col)
    for e in load_all().values():
        claims = "\n".join(f"{c.text} [{c.expected_text()}]" for c in e.claims)
        table.add_row(str(e.lecture), e.name, e.title, claims)
    console.print(table)
    return 0


def cmd_run(a: argparse.Namespace, console: Console) -> int:
    from introdl.experiment import get
    from introdl.runner import run_experiment

    exp = get(a.name)
    out = a.out or Path("runs") / (exp.name + ("-quick" if a.quick else ""))
    r = run_experiment(exp, out=out, quick=a.quick, device=a.device, seed=a.seed, sets=a.sets,
                       resume=a.resume, force=a.force, console=console)
    _print_claims(r, console)
    console.print(f"results in {r.dir}/ (result.md, metrics.json, figures)")
    return 0


def _print_claims(r, console: Console) -> None:
    t = Table(title=f"{r.experiment.name}: lecture {r.experiment.lecture} claim vs measured")
    for col in ("claim", "expected", "measured", "verdict"):
        t.add_column(col)
    for c in r.claims:
        verdict = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "not checked"}[c.passed]
        t.add_row(c.claim.text, c.expected,
                  "—" if c.measured is None else f"{c.measured:.4g}", verdict)
    console.print(t)


def cmd_course(a: argparse.Namespace, console: Console) -> int:
    from introdl.experiment import get
    from introdl.runner import run_course

    if a.only:
        for n in a.only:
            get(n)  # unknown names fail early with a suggestion
    out = a.out or Path("runs") / ("course-quick" if a.quick else "course")
    results = run_course(out=out, quick=a.quick, device=a.device, seed=a.seed, force=a.force,
                         only=a.only, console=console)
    t = Table(title="course summary")
    for col in ("lecture", "experiment", "verdict", "seconds"):
        t.add_column(col)
    for r in results:
        v = "[red]error[/]" if r.error else ("[green]pass[/]" if r.passed else "[red]FAIL[/]")
        t.add_row(str(r.experiment.lecture), r.experiment.name, v, f"{r.seconds:.1f}")
    console.print(t)
    n_pass = sum(r.passed for r in results)
    console.print(f"{n_pass}/{len(results)} pass · report: {out / 'index.html'}")
    return 1 if any(r.error for r in results) else 0


def cmd_data(a: argparse.Namespace, console: Console) -> int:
    from introdl.data import commands

    if a.data_cmd == "list":
        return commands.list_datasets(console)
    if a.data_cmd == "fetch":
        return commands.fetch(a.name, console)
    return commands.verify(a.name, console)


def cmd_generate(a: argparse.Namespace, console: Console) -> int:
    from introdl.runtime import resolve_device
    from introdl.sequences.music.generate import generate_music

    g = generate_music(a.checkpoint, n=a.n, temperature=a.temperature,
                       start=a.start.replace("\\n", "\n"), out=a.out, seed=a.seed,
                       device=resolve_device(a.device))
    for k, v in g.metrics.items():
        console.print(f"{k}: {v:.3g}")
    console.print(f"{len(g.tunes)} tunes in {g.out}/ (.abc, .mid, .wav, piano_roll.png)")
    return 0


def main(argv: list[str] | None = None) -> int:
    out = Console()
    err = Console(stderr=True, quiet=os.environ.get("RANK", "0") != "0")  # torchrun: rank 0 only
    try:
        a = _build_parser().parse_args(argv)
        if a.cmd == "list":
            return cmd_list(out)
        if a.cmd == "run":
            return cmd_run(a, err)
        if a.cmd == "course":
            return cmd_course(a, err)
        if a.cmd == "generate":
            return cmd_generate(a, err)
        return cmd_data(a, err)
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
