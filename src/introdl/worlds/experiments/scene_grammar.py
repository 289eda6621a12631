"""A probabilistic scene grammar renders labelled driving scenes (procedurally generated).

The grammar (:mod:`introdl.worlds.grammar`: road -> lanes -> cars, with optional
pedestrians, buildings and trees, every node with position, heading, size and colour) is
sampled into scene graphs (:mod:`introdl.worlds.scene_graph`), which the renderer
(:mod:`introdl.worlds.scene_render`) turns into a camera image plus the labels that come
free with synthesis: 2D boxes, segmentation and depth.

Checked here, on both parameter sets (the designer's prior and the hidden "real" world,
both simulated): the sampled rule frequencies (number of lanes, cars per lane, building
per side slot, pedestrian per side) against the probabilities the grammar states, as the
largest absolute difference over all options and a chi-square test; and that the free
labels agree with each other (each box holds visible pixels of its class, each object with
enough visible pixels has a box). Render speed is reported in CPU milliseconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from matplotlib.patches import Patch, Rectangle
from scipy.stats import chisquare

from introdl.config import require
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.worlds.grammar import GrammarParams, sample_scene, structure
from introdl.worlds.scene_render import CLASS_ID, CLASSES, LABELLED, render_scene

SEG_COLOURS = np.array([(0.53, 0.75, 0.95), (0.35, 0.6, 0.3), (0.4, 0.4, 0.42), (1.0, 1.0, 1.0),
                        (0.9, 0.15, 0.1), (1.0, 0.6, 0.0), (0.6, 0.45, 0.75), (0.1, 0.4, 0.1)])


@dataclass
class SceneGrammarConfig:
    samples: int = 20000  # scene graphs per parameter set for the rule statistics
    renders: int = 1000  # scenes rendered per parameter set (label checks and timing)
    size: int = 64  # image side in pixels
    min_visible: int = 4  # visible pixels an object needs to get a box
    show: int = 4  # samples per parameter set in the figure

    def validate(self) -> None:
        require(self, "samples", self.samples >= 200, "use at least 200 scene graphs")
        require(self, "renders", self.renders >= 10, "render at least 10 scenes")
        require(self, "size", 16 <= self.size <= 512, "give an image side in [16, 512]")
        require(self, "min_visible", self.min_visible >= 1, "must be at least 1 pixel")
        require(self, "show", 1 <= self.show <= 8, "show 1 to 8 samples per parameter set")


def _z(freq: np.ndarray, p: np.ndarray, n: int) -> float:
    """Largest |sampled - stated| frequency in standard errors sqrt(p (1 - p) / n)."""
    keep = (p > 0) & (p < 1)
    return float((np.abs(freq - p)[keep] / np.sqrt(p[keep] * (1 - p[keep]) / n)).max())


def _rule_stats(params: GrammarParams, scenes) -> dict:
    """Largest |empirical - stated| frequency (absolute and in standard errors) and the
    smallest chi-square p over the rules."""
    st = [structure(s) for s in scenes]
    lanes = np.bincount([s.n_lanes - 1 for s in st], minlength=params.max_lanes)
    cars = np.bincount([k for s in st for k in s.cars_per_lane],
                       minlength=params.max_cars_per_lane + 1)
    errs, zs, pvals = [], [], []
    for obs, probs in ((lanes, params.lane_probs), (cars, params.cars_per_lane_probs)):
        p = np.asarray(probs, float) / np.sum(probs)
        errs.append(float(np.abs(obs / obs.sum() - p).max()))
        zs.append(_z(obs / obs.sum(), p, int(obs.sum())))
        keep = p > 0
        pvals.append(float(chisquare(obs[keep], p[keep] * obs.sum()).pvalue))
    slots = sum(s.slots for s in st)
    peds = sum(len(s.find("pedestrian")) for s in scenes)
    for hits, n, p in ((sum(s.buildings for s in st), slots, params.p_building),
                       (peds, 2 * len(scenes), params.p_pedestrian)):
        errs.append(abs(hits / n - p))
        zs.append(_z(np.array([hits / n]), np.array([p]), n))
    return {"max_err": max(errs), "max_z": max(zs), "min_p": min(pvals),
            "lane_freq": lanes / lanes.sum(), "car_freq": cars / cars.sum(),
            "cars_per_scene": float(np.mean([s.n_cars for s in st]))}


def _label_agreement(renders, min_visible: int) -> tuple[float, float]:
    """Share of boxes holding >= min_visible pixels of their class; and share of objects with
    >= min_visible visible pixels of a labelled class that got a box (object count must match
    up to boxes dropped for being under 1 pixel wide after clipping)."""
    ok, n, covered, objects = 0, 0, 0, 0
    for r in renders:
        for box, lab in zip(r.boxes, r.labels, strict=True):
            x0, y0, x1, y1 = np.floor(box[:2]).astype(int).tolist() + \
                np.ceil(box[2:]).astype(int).tolist()
            ok += int((r.segmentation[y0:y1, x0:x1] == lab).sum() >= min_visible)
            n += 1
        ids, counts = np.unique(r.instances[np.isin(r.segmentation,
                                                    [CLASS_ID[c] for c in LABELLED])],
                                return_counts=True)
        visible = int((counts >= min_visible).sum())
        objects += visible
        covered += min(visible, len(r.boxes))
    return ok / max(n, 1), covered / max(objects, 1)


def _seg_rgb(seg: np.ndarray) -> np.ndarray:
    return SEG_COLOURS[seg]


def _samples_figure(rows: list[tuple[str, object]]):
    n = len(rows)
    fig, axes = figure(n, 3, size=(2.3, 2.3))
    axes = np.asarray(axes).reshape(3, n)
    for j, (title, r) in enumerate(rows):
        axes[0, j].imshow(r.image.transpose(1, 2, 0))
        for b, lab in zip(r.boxes, r.labels, strict=True):
            colour = "lime" if lab == CLASS_ID["car"] else "orange"
            axes[0, j].add_patch(Rectangle(
                (b[0] - 0.5, b[1] - 0.5), b[2] - b[0], b[3] - b[1], fill=False,
                edgecolor=colour, lw=1))
        axes[0, j].set_title(title, fontsize=8)
        axes[1, j].imshow(_seg_rgb(r.segmentation))
        d = np.where(np.isfinite(r.depth), np.log(np.maximum(r.depth, 1e-3)), np.nan)
        axes[2, j].imshow(d, cmap="magma_r")
        for i in range(3):
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    for i, label in enumerate(("image + boxes", "segmentation", "log depth")):
        axes[i, 0].set_ylabel(label)
    handles = [Patch(facecolor=SEG_COLOURS[i], edgecolor="0.3", label=c)
               for i, c in enumerate(CLASSES)]
    fig.legend(handles=handles, loc="lower center", ncol=len(CLASSES), fontsize=7)
    fig.suptitle("Procedurally generated scenes (simulated) with their free labels", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def _rules_figure(stats: dict[str, dict], params: dict[str, GrammarParams]):
    fig, axes = figure(2, 1, size=(4.2, 3.0))
    for ax, key, attr, xs, label in (
            (axes[0], "lane_freq", "lane_probs", 1, "lanes"),
            (axes[1], "car_freq", "cars_per_lane_probs", 0, "cars per lane")):
        for i, name in enumerate(params):
            p = np.asarray(getattr(params[name], attr), float)
            p = p / p.sum()
            x = np.arange(len(p)) + xs
            ax.bar(x + (i - 0.5) * 0.38, stats[name][key], width=0.36, alpha=0.7,
                   label=f"{name}: sampled")
            ax.scatter(x + (i - 0.5) * 0.38, p, marker="_", s=200, color="k",
                       label="stated" if i == 0 else None, zorder=3)
        ax.set_xlabel(label)
        ax.set_ylabel("frequency")
        ax.legend(fontsize=7)
    fig.suptitle("Rule frequencies of the sampled grammar vs its stated probabilities",
                 fontsize=9)
    fig.tight_layout()
    return fig


@experiment(
    name="scene-grammar", lecture=11,
    title="A probabilistic scene grammar renders driving scenes with free labels",
    claims=[
        Claim("samples follow the grammar's rule probabilities: the largest |sampled - stated| "
              "frequency over lanes, cars per lane, buildings and pedestrians (prior and "
              "real parameters, simulated), in standard errors sqrt(p(1-p)/n)",
              metric="max_rule_z", expected=4.5, compare="<="),
        Claim("... and a chi-square test does not reject them (smallest p over the rules)",
              metric="min_chi2_p", expected=1e-4, compare=">="),
        Claim("the free labels agree: each box holds visible pixels of its class",
              metric="box_label_agreement", expected=1.0, compare=">=", tol=1e-9),
        Claim("... and every car or pedestrian with enough visible pixels gets a box",
              metric="object_box_coverage", expected=0.98, compare=">="),
        Claim("samples with their labels (image, boxes, segmentation, depth)", metric=None),
    ],
    facts=[
        Fact("largest |sampled - stated| rule frequency (absolute)",
             metric="max_rule_freq_error"),
        Fact("render time per 64x64 scene, CPU ms (numpy, 1 thread)", metric="render_ms"),
        Fact("sampling time per scene graph, CPU ms", metric="sample_ms"),
        Fact("cars per scene, prior grammar (simulated)", metric="cars_per_scene_prior"),
        Fact("cars per scene, 'real' grammar (simulated)", metric="cars_per_scene_real"),
        Fact("labelled boxes per rendered scene, 'real' grammar", metric="boxes_per_scene_real"),
    ],
    quick={"samples": 3000, "renders": 150},
)
def scene_grammar(cfg: SceneGrammarConfig, run: Run) -> dict[str, float]:
    params = {"prior": GrammarParams.prior(), "real": GrammarParams.real()}
    rng = np.random.default_rng(run.seed)
    out: dict[str, float] = {}
    stats, shown, sample_t, render_t, n_rendered = {}, [], 0.0, 0.0, 0
    agree = []
    for name, p in params.items():
        t0 = time.process_time()
        scenes = [sample_scene(p, rng) for _ in range(cfg.samples)]
        sample_t += time.process_time() - t0
        stats[name] = _rule_stats(p, scenes)
        t0 = time.process_time()
        renders = [render_scene(s, cfg.size, cfg.min_visible) for s in scenes[:cfg.renders]]
        render_t += time.process_time() - t0
        n_rendered += len(renders)
        agree.append(_label_agreement(renders, cfg.min_visible))
        shown += [(f"{name} #{i}", r) for i, r in enumerate(renders[:cfg.show])]
        out[f"cars_per_scene_{name}"] = stats[name]["cars_per_scene"]
        out[f"boxes_per_scene_{name}"] = float(np.mean([len(r.boxes) for r in renders]))
        out[f"rule_freq_error_{name}"] = stats[name]["max_err"]
        run.print(f"{name} grammar (simulated, {cfg.samples} scene graphs): largest "
                  f"|sampled - stated| rule frequency {stats[name]['max_err']:.4f} "
                  f"({stats[name]['max_z']:.2f} standard errors), smallest "
                  f"chi-square p {stats[name]['min_p']:.3g}, "
                  f"{stats[name]['cars_per_scene']:.2f} cars per scene")
    out["max_rule_freq_error"] = max(s["max_err"] for s in stats.values())
    out["max_rule_z"] = max(s["max_z"] for s in stats.values())
    out["min_chi2_p"] = min(s["min_p"] for s in stats.values())
    out["box_label_agreement"] = min(a[0] for a in agree)
    out["object_box_coverage"] = min(a[1] for a in agree)
    out["render_ms"] = 1000 * render_t / n_rendered
    out["sample_ms"] = 1000 * sample_t / (2 * cfg.samples)
    run.print(f"render {out['render_ms']:.2f} CPU ms per {cfg.size}x{cfg.size} scene, sample "
              f"{out['sample_ms']:.3f} CPU ms per scene graph; labels agree "
              f"{out['box_label_agreement']:.3f} / cover {out['object_box_coverage']:.3f}")
    run.save_figure(_samples_figure(shown), "samples.png")
    run.save_figure(_rules_figure(stats, params), "rule_frequencies.png")
    lines = ["| parameters (simulated) | max abs freq error | cars/scene | boxes/scene |",
             "|---|---|---|---|"]
    lines += [f"| {k} | {stats[k]['max_err']:.4f} | {stats[k]['cars_per_scene']:.2f} | "
              f"{out[f'boxes_per_scene_{k}']:.2f} |" for k in params]
    run.save_text("results.md", f"Procedurally generated scenes ({cfg.samples} scene graphs "
                  f"and {cfg.renders} renders per parameter set, seed {run.seed}).\n\n"
                  + "\n".join(lines) + f"\n\nRender: {out['render_ms']:.2f} CPU ms per scene.\n")
    return out
