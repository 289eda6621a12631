"""Do quick-run verdicts depend on luck? Every experiment's quick preset at several seeds
and torch thread counts, each in its own process, with the verdict of every checked claim.

    python benchmarks/quick_stability.py                      # all, seeds 0-2, threads 1-2
    python benchmarks/quick_stability.py --only driving --seeds 0 1 2 3 --threads 1 2

A claim whose verdict changes across the grid is reported as unstable, and the script
exits 1; the table (markdown) is what benchmarks/stability.md records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_one(name: str, seed: int, threads: int, root: Path) -> dict:
    out = root / f"{name}-s{seed}-t{threads}"
    env = dict(os.environ, INTRODL_THREADS=str(threads), MPLBACKEND="Agg")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "introdl.cli", "run", name, "--quick",
                        "--seed", str(seed), "--out", str(out), "--force"],
                       env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    res = out / "result.json"
    if not res.exists():
        return {"rc": p.returncode, "wall": wall, "claims": {}, "error": p.stderr[-300:]}
    r = json.loads(res.read_text())
    claims = {c["metric"] or c["text"]: (c["passed"], c["measured"]) for c in r["claims"]
              if c.get("metric")}
    return {"rc": p.returncode, "wall": wall, "claims": claims, "error": r.get("error")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="+")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    a = ap.parse_args()
    if a.only:
        names = a.only
    else:
        from introdl.experiment import load_all
        names = list(load_all())
    unstable = 0
    print("| experiment | claim | verdicts (seed/threads) | measured (min - max) | wall s |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            grid = {(s, t): run_one(name, s, t, Path(tmp)) for s in a.seeds for t in a.threads}
            walls = [g["wall"] for g in grid.values()]
            errors = [k for k, g in grid.items() if g["error"]]
            if errors:
                unstable += 1
                print(f"| {name} | (error at {errors}) | | | |", flush=True)
                continue
            metrics = sorted({m for g in grid.values() for m in g["claims"]})
            for m in metrics:
                verdicts = {k: g["claims"].get(m, (False, None)) for k, g in grid.items()}
                marks = " ".join({True: "P", False: "F", None: "-"}[v[0]]
                                 for v in verdicts.values())
                vals = [v[1] for v in verdicts.values() if v[1] is not None]
                rng = f"{min(vals):.4g} - {max(vals):.4g}" if vals else ""
                if len({v[0] for v in verdicts.values()}) > 1 or any(
                        v[0] is False for v in verdicts.values()):
                    unstable += 1
                    marks += " **unstable**" if len({v[0] for v in verdicts.values()}) > 1 \
                        else " **fails**"
                print(f"| {name} | `{m}` | {marks} | {rng} | "
                      f"{min(walls):.1f} - {max(walls):.1f} |", flush=True)
    print(f"\n{len(names)} experiments, seeds {a.seeds}, threads {a.threads}: "
          f"{unstable} claim(s) unstable or failing")
    return 1 if unstable else 0


if __name__ == "__main__":
    sys.exit(main())
