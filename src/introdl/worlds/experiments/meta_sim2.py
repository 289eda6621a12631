"""Meta-Sim2: learn a scene grammar's rule probabilities from unlabelled "real" images.

Meta-Sim2 (Devaranjan, Kar and Fidler, 2020) learns the *structure* of synthetic scenes:
the probabilities of a probabilistic grammar's rules (here: how many lanes, how many cars
in each lane, whether a road-side slot holds a building; :mod:`introdl.worlds.grammar`),
so that rendered scenes look, in the feature space of a fixed network, like real images
that carry no labels. Sampling a discrete structure is not differentiable, so the rule
logits are trained by REINFORCE (:mod:`introdl.worlds.reinforce`) with an MMD reward:

- ``credit="batch"`` (the paper's): each step samples ``groups`` sub-batches of
  ``group_size`` scenes from the current grammar, renders them, and rewards each sub-batch
  with ``-MMD^2(its features, real features)`` (:func:`introdl.worlds.mmd.mmd2`, RBF kernels at
  ``bandwidths`` x the median distance between prior and real features, fixed at the start);
  the baseline is the other sub-batches' mean reward (leave one out);
- ``credit="scene"``: one batch of ``groups * group_size`` scenes, each scene rewarded with
  ``-2 (mu_p(x) - mu_real(x))``, the MMD witness function (kernel mean of the batch, leave one
  out, minus that of the real images), whose REINFORCE average is an estimate of
  ``-grad MMD^2(p_theta, real)``.

The attribute distributions (sizes, colours, camera) stay the prior's: Meta-Sim2 learns
structure only, so the reward also carries the attribute mismatch it cannot remove.
The "real" images are rendered from :meth:`GrammarParams.real` (simulated; a busier world
whose attributes also differ) and are used without labels for training; a separate,
labelled "real" test set is used only to score detectors.

Measured: the car-count histogram (cars per scene, read from sampled scene graphs) of the
prior, the learned grammar and the real world, their earth mover's distance
(``scipy.stats.wasserstein_distance``) and total variation; the feature MMD^2 to fresh real
images; and the mAP@0.5 on the real test set of a detector (:mod:`introdl.worlds.detector`,
cars only) trained on scenes of the prior vs the learned grammar (same number of images and
epochs, same seed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from scipy.stats import wasserstein_distance

from introdl.config import require
from introdl.engine.progress import ProgressBar
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.worlds.detector import detection_map, train_detector
from introdl.worlds.features import scene_features
from introdl.worlds.grammar import GrammarParams, sample_scene, structure
from introdl.worlds.mmd import median_bandwidth, mmd2, rbf_kernel
from introdl.worlds.reinforce import CategoricalRules
from introdl.worlds.scene_render import CLASS_ID, render_scene

RULES = ("lanes", "cars_per_lane", "building")


@dataclass
class MetaSim2Config:
    steps: int = 250  # REINFORCE updates
    groups: int = 8  # sub-batches per step (credit="batch") ...
    group_size: int = 16  # ... of this many scenes
    lr: float = 0.05  # Adam's learning rate on the rule logits
    credit: str = "scene"  # "scene" (witness per scene) or "batch" (MMD per sub-batch)
    bandwidths: tuple[float, ...] = (0.1, 0.25)  # RBF widths, x median prior-real distance
    real_images: int = 300  # unlabelled "real" images the reward compares against
    eval_images: int = 400  # fresh real / prior / learned images for the final MMD
    hist_samples: int = 5000  # scene graphs per histogram
    size: int = 64  # image side
    detector: bool = True  # train and score the downstream detectors
    det_train: int = 400  # training scenes per detector (prior / learned grammar)
    det_test: int = 200  # labelled real test scenes
    det_epochs: int = 8

    def validate(self) -> None:
        require(self, "steps", self.steps >= 1, "must be at least 1")
        require(self, "groups", self.groups >= 2, "the leave-one-out baseline needs >= 2")
        require(self, "group_size", self.group_size >= 2, "MMD needs >= 2 scenes a group")
        require(self, "lr", self.lr > 0, "must be > 0")
        require(self, "credit", self.credit in ("batch", "scene"), "use batch or scene")
        require(self, "bandwidths", len(self.bandwidths) >= 1 and min(self.bandwidths) > 0,
                "give positive multiples of the median distance, e.g. 0.25,0.5")
        require(self, "real_images", self.real_images >= 20, "use at least 20 real images")
        require(self, "eval_images", self.eval_images >= 20, "use at least 20 images")
        require(self, "hist_samples", self.hist_samples >= 100, "use at least 100")
        require(self, "size", 32 <= self.size <= 256, "give an image side in [32, 256]")
        require(self, "det_train", self.det_train >= 10, "use at least 10 scenes")
        require(self, "det_test", self.det_test >= 10, "use at least 10 scenes")
        require(self, "det_epochs", self.det_epochs >= 1, "must be at least 1")


def rule_probs(params: GrammarParams) -> dict[str, tuple[float, ...]]:
    """The learned rules of a grammar as categorical distributions."""
    return {"lanes": params.lane_probs, "cars_per_lane": params.cars_per_lane_probs,
            "building": (1 - params.p_building, params.p_building)}


def with_rules(params: GrammarParams, probs: dict[str, np.ndarray]) -> GrammarParams:
    """``params`` with its learned rules replaced (attributes untouched)."""
    return replace(params, lane_probs=tuple(float(p) for p in probs["lanes"]),
                   cars_per_lane_probs=tuple(float(p) for p in probs["cars_per_lane"]),
                   p_building=float(probs["building"][1]))


def choice_counts(scenes, params: GrammarParams) -> dict[str, np.ndarray]:
    """How often each scene chose each option of each rule: {rule: (len(scenes), K)}."""
    out = {"lanes": np.zeros((len(scenes), params.max_lanes)),
           "cars_per_lane": np.zeros((len(scenes), params.max_cars_per_lane + 1)),
           "building": np.zeros((len(scenes), 2))}
    for i, s in enumerate(scenes):
        st = structure(s)
        out["lanes"][i, st.n_lanes - 1] += 1
        for k in st.cars_per_lane:
            out["cars_per_lane"][i, k] += 1
        out["building"][i] += (st.slots - st.buildings, st.buildings)
    return out


def features_of(scenes, size: int) -> torch.Tensor:
    images = np.stack([render_scene(s, size).image for s in scenes])
    with torch.no_grad():
        return scene_features(torch.from_numpy(images))


def car_histogram(params: GrammarParams, n: int, seed: int) -> np.ndarray:
    """Cars per scene of ``n`` sampled scene graphs (simulated)."""
    rng = np.random.default_rng(seed)
    return np.array([structure(sample_scene(params, rng)).n_cars for _ in range(n)])


def _labelled(params: GrammarParams, n: int, seed: int, size: int):
    """Rendered scenes with their car boxes (class 0), for the detector."""
    rng = np.random.default_rng(seed)
    renders = [render_scene(sample_scene(params, rng), size) for _ in range(n)]
    images = torch.from_numpy(np.stack([r.image for r in renders]))
    cars = [r.labels == CLASS_ID["car"] for r in renders]
    boxes = [torch.from_numpy(r.boxes[m]) for r, m in zip(renders, cars, strict=True)]
    labels = [torch.zeros(int(m.sum()), dtype=torch.long) for m in cars]
    return images, boxes, labels


def learn_rules(cfg: MetaSim2Config, prior: GrammarParams, real_feats: torch.Tensor,
                bandwidths: tuple[float, ...], seed: int, progress: bool = False):
    """REINFORCE on the rule logits (module docstring); returns rules, rewards, MMD^2 per step."""
    rules = CategoricalRules(rule_probs(prior), lr=cfg.lr, baseline="loo")
    rng = np.random.default_rng(seed)
    rewards, mmds = [], []
    with ProgressBar(cfg.steps, "meta-sim2", enabled=progress) as bar:
        for step in range(cfg.steps):
            params = with_rules(prior, rules.probs())
            scenes = [sample_scene(params, rng) for _ in range(cfg.groups * cfg.group_size)]
            feats = features_of(scenes, cfg.size)
            counts = choice_counts(scenes, params)
            if cfg.credit == "batch":
                g = cfg.groups
                counts = {k: v.reshape(g, cfg.group_size, -1).sum(1) for k, v in counts.items()}
                r = np.array([-float(mmd2(f, real_feats, bandwidths))
                              for f in feats.reshape(g, cfg.group_size, -1)])
            else:
                kxx = rbf_kernel(feats, feats, bandwidths)
                mu_p = (kxx.sum(1) - kxx.diagonal()) / (len(feats) - 1)
                mu_q = rbf_kernel(feats, real_feats, bandwidths).mean(1)
                r = (-2 * (mu_p - mu_q)).numpy().astype(np.float64)
            rewards.append(rules.step(counts, r))
            mmds.append(float(mmd2(feats, real_feats, bandwidths)))
            if bar.due():
                bar.update(step + 1, loss=mmds[-1], samples=(step + 1) * len(scenes))
    return rules, rewards, mmds


def _hist(counts: np.ndarray, top: int) -> np.ndarray:
    return np.bincount(counts, minlength=top + 1)[:top + 1] / len(counts)


def _figure(hists: dict[str, np.ndarray], rewards: list[float], mmds: list[float],
            probs: dict[str, dict[str, np.ndarray]]):
    fig, axes = figure(3, 1, size=(4.3, 3.2))
    x = np.arange(len(next(iter(hists.values()))))
    for i, (name, h) in enumerate(hists.items()):
        axes[0].bar(x + (i - 1) * 0.28, h, width=0.28, label=name)
    axes[0].set_xlabel("cars per scene")
    axes[0].set_ylabel("share of scenes")
    axes[0].set_title("car-count histograms (simulated)", fontsize=9)
    axes[0].legend(fontsize=8)
    k = max(1, len(rewards) // 20)
    smooth = np.convolve(mmds, np.ones(k) / k, mode="valid")
    axes[1].plot(np.arange(1, len(mmds) + 1), mmds, alpha=0.3, color="C0")
    axes[1].plot(np.arange(k, len(mmds) + 1), smooth, color="C0", label="MMD^2 (batch vs real)")
    axes[1].plot(np.arange(1, len(rewards) + 1), -np.asarray(rewards), alpha=0.3, color="C1",
                 label="- mean reward")
    axes[1].set_xlabel("REINFORCE step")
    axes[1].set_title("reward curve", fontsize=9)
    axes[1].legend(fontsize=8)
    labels = [f"lanes={i + 1}" for i in range(len(probs["prior"]["lanes"]))] + \
        [f"cars/lane={i}" for i in range(len(probs["prior"]["cars_per_lane"]))] + ["building"]
    for i, (name, p) in enumerate(probs.items()):
        v = np.concatenate([p["lanes"], p["cars_per_lane"], p["building"][1:]])
        axes[2].barh(np.arange(len(v)) + (i - 1) * 0.28, v, height=0.28, label=name)
    axes[2].set_yticks(np.arange(len(labels)), labels, fontsize=7)
    axes[2].invert_yaxis()
    axes[2].set_xlabel("probability")
    axes[2].set_title("rule probabilities", fontsize=9)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


@experiment(
    name="meta-sim2", lecture=11,
    title="Meta-Sim2: learn the grammar's rule probabilities by REINFORCE with an MMD reward",
    claims=[
        Claim("the learned grammar follows the real car-count histogram: the earth mover's "
              "distance to it falls by at least half from the prior's (simulated scenes)",
              metric="emd_reduction", expected=0.5, compare=">="),
        Claim("the rendered scenes move towards the real images: feature MMD^2 to fresh real "
              "images falls by at least half", metric="mmd_reduction", expected=0.5,
              compare=">="),
        Claim("a detector trained on the learned grammar's scenes beats one trained on the "
              "prior's (mAP@0.5 on labelled real test scenes, same images and epochs)",
              metric="map_gain", expected=0.0, compare=">", full_only=True),
        Claim("histograms prior / learned / real, and the reward curve", metric=None),
    ],
    facts=[
        Fact("EMD between car-count histograms, prior vs real", metric="emd_prior"),
        Fact("... learned vs real", metric="emd_learned"),
        Fact("total variation between car-count histograms, prior vs real", metric="tv_prior"),
        Fact("... learned vs real", metric="tv_learned"),
        Fact("mean cars per scene: prior", metric="cars_prior"),
        Fact("... learned", metric="cars_learned"),
        Fact("... real (simulated)", metric="cars_real"),
        Fact("learned P(building) per side slot (real: 0.8, prior: 0.4)", metric="p_building"),
        Fact("detector mAP@0.5 on the real test set, trained on prior scenes", metric="map_prior"),
        Fact("... trained on learned-grammar scenes", metric="map_learned"),
    ],
    quick={"steps": 50, "lr": 0.1, "real_images": 200, "eval_images": 200,
           "hist_samples": 2000, "detector": False},
)
def meta_sim2(cfg: MetaSim2Config, run: Run) -> dict[str, float]:
    prior, real = GrammarParams.prior(), GrammarParams.real()
    t0 = time.process_time()
    rng_real = np.random.default_rng(run.seed + 1000)  # unlabelled real images (training)
    real_feats = features_of([sample_scene(real, rng_real) for _ in range(cfg.real_images)],
                             cfg.size)
    rng_ref = np.random.default_rng(run.seed + 3000)  # prior renders, fixes the bandwidth
    prior_feats = features_of([sample_scene(prior, rng_ref) for _ in range(cfg.real_images)],
                              cfg.size)
    med = median_bandwidth(prior_feats, real_feats)
    bandwidths = tuple(b * med for b in cfg.bandwidths)
    rules, rewards, mmds = learn_rules(cfg, prior, real_feats, bandwidths, run.seed,
                                       run.progress)
    learned = with_rules(prior, rules.probs())
    out: dict[str, float] = {"train_cpu_s": time.process_time() - t0}

    counts = {name: car_histogram(p, cfg.hist_samples, run.seed + 5000 + i)
              for i, (name, p) in enumerate((("prior", prior), ("learned", learned),
                                             ("real", real)))}
    top = int(max(c.max() for c in counts.values()))
    hists = {k: _hist(c, top) for k, c in counts.items()}
    for name in ("prior", "learned"):
        out[f"emd_{name}"] = float(wasserstein_distance(counts[name], counts["real"]))
        out[f"tv_{name}"] = float(0.5 * np.abs(hists[name] - hists["real"]).sum())
    for name, c in counts.items():
        out[f"cars_{name}"] = float(c.mean())
    out["emd_reduction"] = 1 - out["emd_learned"] / out["emd_prior"]
    out["tv_reduction"] = 1 - out["tv_learned"] / out["tv_prior"]
    out["p_building"] = float(rules.probs()["building"][1])

    eval_rng = np.random.default_rng(run.seed + 7000)  # fresh images for the final MMD
    fresh_real = features_of([sample_scene(real, eval_rng) for _ in range(cfg.eval_images)],
                             cfg.size)
    for name, p in (("prior", prior), ("learned", learned)):
        f = features_of([sample_scene(p, eval_rng) for _ in range(cfg.eval_images)], cfg.size)
        out[f"mmd_{name}"] = float(mmd2(f, fresh_real, bandwidths))
    out["mmd_reduction"] = 1 - out["mmd_learned"] / out["mmd_prior"]
    run.print(f"car-count EMD to the real world (simulated): prior {out['emd_prior']:.2f} -> "
              f"learned {out['emd_learned']:.2f} ({100 * out['emd_reduction']:.0f}% lower); "
              f"TV {out['tv_prior']:.3f} -> {out['tv_learned']:.3f}; mean cars prior "
              f"{out['cars_prior']:.2f}, learned {out['cars_learned']:.2f}, real "
              f"{out['cars_real']:.2f}")
    run.print(f"feature MMD^2 to fresh real-world (simulated) images: prior "
              f"{out['mmd_prior']:.4f} -> learned {out['mmd_learned']:.4f}; learned rules "
              + ", ".join(f"{k} {np.round(v, 2).tolist()}" for k, v in rules.probs().items()))

    if cfg.detector:
        test = _labelled(real, cfg.det_test, run.seed + 9000, cfg.size)  # scoring only
        for i, (name, p) in enumerate((("prior", prior), ("learned", learned))):
            x, b, lab = _labelled(p, cfg.det_train, run.seed + 11000 + i, cfg.size)
            model = train_detector(x, b, lab, epochs=cfg.det_epochs, seed=run.seed,
                                   progress=run.progress, num_classes=1)
            out[f"map_{name}"] = detection_map(model, *test)
        out["map_gain"] = out["map_learned"] - out["map_prior"]
        run.print(f"detector mAP@0.5 on {cfg.det_test} labelled real test scenes (simulated): "
                  f"trained on prior scenes {out['map_prior']:.3f}, on learned-grammar scenes "
                  f"{out['map_learned']:.3f}")
    probs = {"prior": {k: np.asarray(v) / np.sum(v) for k, v in rule_probs(prior).items()},
             "learned": rules.probs(),
             "real": {k: np.asarray(v) / np.sum(v) for k, v in rule_probs(real).items()}}
    run.save_figure(_figure(hists, rewards, mmds, probs), "histograms.png")
    rows = ["| grammar (simulated) | EMD to real | TV to real | mean cars | MMD^2 to real |",
            "|---|---|---|---|---|"]
    for name in ("prior", "learned"):
        rows.append(f"| {name} | {out[f'emd_{name}']:.3f} | {out[f'tv_{name}']:.3f} | "
                    f"{out[f'cars_{name}']:.2f} | {out[f'mmd_{name}']:.4f} |")
    rows.append(f"| real | 0 | 0 | {out['cars_real']:.2f} | — |")
    text = (f"Meta-Sim2 on procedurally generated scenes, {cfg.steps} REINFORCE steps "
            f"({cfg.credit} credit), seed {run.seed}.\n\n" + "\n".join(rows) + "\n")
    if cfg.detector:
        text += (f"\nDetector mAP@0.5 on real test scenes: prior {out['map_prior']:.3f}, "
                 f"learned {out['map_learned']:.3f}.\n")
    run.save_text("results.md", text)
    run.save_json("rules.json", {k: {r: np.asarray(v).tolist() for r, v in p.items()}
                                 for k, p in probs.items()} | {"rewards": rewards, "mmd": mmds})
    return out
