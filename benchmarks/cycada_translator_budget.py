"""Does more translator training make CyCADA's translations look like the target?

Run:  INTRODL_THREADS=1 .venv/bin/python benchmarks/cycada_translator_budget.py \\
          --source uci-digits --target mnist5k --steps 1500 [--set width=16 --set blocks=3]

The ``cycada`` experiment's translator, with its defaults read from ``CycadaConfig``
(``--set key=value`` changes one, as on the command line), trained on one pair at one
seed for ``--steps`` updates instead of the default 300. Every ``--every`` steps, without
changing the training (``train_translator``'s monitor restores torch's random state):

- ``c2st``: the experiment's domain-classifier check -- held-out accuracy of a small CNN
  telling translated source train images from unlabelled target images (0.5: alike);
  the untranslated source's value is printed first;
- ``f on translated``: the fixed source classifier's accuracy on translated *source*
  test images (semantic consistency; the originals' value is printed first).

No target label is read: only the target's unlabelled adaptation part. At 300 steps the
numbers are the ``cycada`` default run's at the same seed (same code, same random state).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace

import torch

from introdl.adaptation.cycada import domain_classifier_accuracy, train_translator
from introdl.adaptation.experiments.cycada import CycadaConfig, translator_config
from introdl.adaptation.networks import clone
from introdl.adaptation.protocol import load_pair, source_only
from introdl.adaptation.train import Budget, accuracy
from introdl.config import apply_overrides
from introdl.io import write_json
from introdl.runtime import machine_description


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default="uci-digits")
    ap.add_argument("--target", default="mnist5k")
    ap.add_argument("--steps", type=int, default=1500, help="translator updates")
    ap.add_argument("--every", type=int, default=300, help="steps between checks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a CycadaConfig setting (width, blocks, gan_lr, ...)")
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    cfg = apply_overrides(CycadaConfig(), a.set)
    cfg.validate()
    tcfg = replace(translator_config(cfg), steps=a.steps)
    print(machine_description())
    print(f"{a.source}->{a.target}, seed {a.seed}, {tcfg}")
    src, tgt = load_pair((a.source, a.target))
    floor = source_only(src, Budget(cfg.steps, cfg.batch_size, cfg.lr), a.seed)
    rows = [{"steps": 0, "c2st": domain_classifier_accuracy(
                 src.x_train, tgt.x_adapt, a.seed, cfg.c2st_steps),
             "f_on_translated": accuracy(floor, src.x_test, src.y_test), "cpu_s": 0.0}]
    print(f"untranslated: c2st {rows[0]['c2st']:.3f}, f on source test "
          f"{rows[0]['f_on_translated']:.3f}", flush=True)
    clock = {"train": 0.0, "since": time.process_time()}

    def check(step: int, net) -> None:
        clock["train"] += time.process_time() - clock["since"]
        row = {"steps": step,
               "c2st": domain_classifier_accuracy(net.to_target(src.x_train), tgt.x_adapt,
                                                  a.seed, cfg.c2st_steps),
               "f_on_translated": accuracy(floor, net.to_target(src.x_test), src.y_test),
               "cpu_s": clock["train"]}
        rows.append(row)
        print(f"step {step}: c2st {row['c2st']:.3f}, f on translated source test "
              f"{row['f_on_translated']:.3f}, translator CPU {row['cpu_s']:.0f} s", flush=True)
        clock["since"] = time.process_time()

    with tempfile.TemporaryDirectory() as tmp:
        train_translator(src.x_train, tgt.x_adapt, clone(floor), tcfg, a.seed,
                         f"{tmp}/translator.pt", monitor=check, monitor_every=a.every)
    if a.json:  # atomic: a stopped run leaves no half-written file
        write_json(a.json, {"pair": [a.source, a.target], "seed": a.seed,
                            "config": vars(cfg), "steps": a.steps, "rows": rows})


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
