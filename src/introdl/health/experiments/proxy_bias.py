"""Problem-formulation bias: predicting cost as a proxy for need under-refers a group.

Obermeyer et al. (2019) audited an algorithm that picked patients for a care programme by
predicted cost. At the same score, Black patients were sicker, because less money was spent
on them at the same need; re-labelling the algorithm to predict health instead raised their
share among those auto-identified from 17.7% to 46.5%.

Here, on a simulated population (:mod:`introdl.health.population`, every parameter
stated): the same network (:mod:`introdl.health.risk_model`) is trained once to predict next
year's cost and once to predict next year's need (active chronic conditions), on a training
population; on a separate test population the top ``refer_top`` (3%) by each score are
referred. Reported, per label: group b's share among the referred, next to its share among
the truly neediest 3% (the ideal) and in the population (random referral); the need of the
referred; and the paper's Fig. 1 (need by score percentile, per group). Group membership
is never a feature. Nothing is selected on the test population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from introdl.config import require
from introdl.experiment import Claim, Fact, experiment
from introdl.health.population import PopulationModel, simulate_population, top_share
from introdl.health.risk_model import fit_risk_score
from introdl.report.plots import figure
from introdl.run import Run

LABELS = ("cost", "need")
RULES = ("random", "cost", "oracle_cost", "need", "ideal")  # referral rules, in plot order


@dataclass
class ProxyBiasConfig:
    patients: int = 60000  # training population (the test population has the same size)
    seeds: int = 3  # populations and models (run.seed, run.seed + 1, ...)
    refer_top: float = 0.03  # share referred to the care programme (the paper: top 3%)
    epochs: int = 25  # training epochs of each risk score
    share_b: float = 0.12  # group b's population share (simulator)
    access_b: float = 0.6  # group b's cost per unit of need, relative to a (simulator)

    def validate(self) -> None:
        require(self, "patients", self.patients >= 2000, "use at least 2000 patients")
        require(self, "seeds", self.seeds >= 1, "must be at least 1")
        require(self, "refer_top", 0 < self.refer_top < 0.5,
                "give the referred share as a fraction, e.g. 0.03 for the top 3%")
        require(self, "share_b", 0 < self.share_b < 1, "must be a fraction in (0, 1)")
        require(self, "access_b", self.access_b > 0, "must be > 0 (1 = equal access)")


def _features(pop) -> np.ndarray:
    x = pop.x.copy()
    x[:, 0] = np.log1p(x[:, 0])  # this year's cost, on a log scale
    return x


def _one_seed(cfg: ProxyBiasConfig, seed: int) -> dict:
    model = PopulationModel(share_b=cfg.share_b, access_b=cfg.access_b)
    train = simulate_population(cfg.patients, seed, model)
    test = simulate_population(cfg.patients, seed + 10_000, model)
    xtr, xte = _features(train), _features(test)
    scores = {
        "cost": fit_risk_score(xtr, train.cost, seed=seed, epochs=cfg.epochs)(xte),
        "need": fit_risk_score(xtr, train.need, seed=seed, epochs=cfg.epochs)(xte),
    }
    rng = np.random.default_rng(seed)
    referred = {k: top_share(s, cfg.refer_top, rng) for k, s in scores.items()}
    referred["ideal"] = top_share(test.need, cfg.refer_top, rng)  # the truly neediest
    referred["oracle_cost"] = top_share(test.cost, cfg.refer_top, rng)  # a perfect cost model
    referred["random"] = top_share(rng.random(len(test.need)), cfg.refer_top, rng)
    b = test.group_b
    out = {f"share_{k}": float(b[m].mean()) for k, m in referred.items()}
    out |= {f"referred_need_{k}": float(test.need[m].mean()) for k, m in referred.items()}
    for k in LABELS:
        m = referred[k]
        out[f"need_gap_{k}"] = float(test.need[m & b].mean() - test.need[m & ~b].mean())
        out[f"spearman_{k}"] = _spearman(scores[k], test.cost if k == "cost" else test.need)
    out["population_share"] = float(b.mean())
    out["_curves"] = {k: _need_by_percentile(scores[k], test.need, b) for k in LABELS}
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _need_by_percentile(score, need, group_b, bins: int = 20):
    """Mean need per score-percentile bin, per group (the paper's Fig. 1)."""
    edges = np.quantile(score, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, bins - 1)
    centres = (np.arange(bins) + 0.5) * 100 / bins
    curve = {}
    for name, g in (("a", ~group_b), ("b", group_b)):
        curve[name] = [float(need[(which == i) & g].mean()) if ((which == i) & g).any()
                       else float("nan") for i in range(bins)]
    return centres.tolist(), curve


@experiment(
    name="proxy-bias", lecture=12,
    title="Problem formulation: cost as a proxy for need under-refers a group (simulated)",
    claims=[
        Claim("A risk score trained to predict cost refers fewer group-b patients than the "
              "truly neediest 3% hold (simulated population; group membership is not a "
              "feature): share among referred / share among the neediest",
              metric="cost_share_over_ideal", expected=0.8, compare="<="),
        Claim("At the same referral rule, the group-b patients the cost score refers are "
              "sicker than the group-a patients it refers (more active chronic conditions)",
              metric="need_gap_cost", expected=0.3, compare=">="),
        Claim("Predicting need instead removes most of that gap (the paper: Black patients' "
              "share among those referred 17.7% -> 46.5%): share of the ideal-minus-cost gap "
              "closed", metric="gap_removed", expected=0.5, compare=">="),
        Claim("mean need by score percentile per group, and the shares referred (figures)"),
    ],
    facts=[
        Fact("mean chronic conditions of those the need score refers, minus those the cost "
             "score refers", metric="need_minus_cost_referred_need"),
        Fact("group b's share among the referred by the cost score (simulated)",
             metric="share_cost"),
        Fact("... by the need score", metric="share_need"),
        Fact("... among the truly neediest 3% (the ideal)", metric="share_ideal"),
        Fact("... by a perfect cost predictor (cost itself)", metric="share_oracle_cost"),
    ],
    quick={"patients": 60000, "seeds": 1},
)
def proxy_bias(cfg: ProxyBiasConfig, run: Run) -> dict[str, float]:
    per_seed = []
    for i in range(cfg.seeds):
        res = _one_seed(cfg, run.seed + i)
        per_seed.append(res)
        run.print(f"seed {run.seed + i} (simulated): group b among the referred — cost score "
                  f"{res['share_cost']:.3f}, need score {res['share_need']:.3f}, neediest "
                  f"{res['share_ideal']:.3f}, population {res['population_share']:.3f}")
    keys = [k for k in per_seed[0] if not k.startswith("_")]
    metrics = {k: float(np.mean([r[k] for r in per_seed])) for k in keys}
    metrics["cost_share_over_ideal"] = metrics["share_cost"] / metrics["share_ideal"]
    metrics["gap_removed"] = ((metrics["share_need"] - metrics["share_cost"])
                              / max(metrics["share_ideal"] - metrics["share_cost"], 1e-9))
    metrics["need_minus_cost_referred_need"] = (metrics["referred_need_need"]
                                                - metrics["referred_need_cost"])
    rows = ["| referral rule | group b share (mean ± sd) | mean need of the referred |",
            "|---|---|---|"]
    for k in RULES:
        vals = [r[f"share_{k}"] for r in per_seed]
        rows.append(f"| {k.replace('_', ' ')} | {np.mean(vals):.3f} ± {np.std(vals):.3f} | "
                    f"{metrics[f'referred_need_{k}']:.2f} |")
    table = "\n".join(rows)
    run.print(table)
    run.save_text("results.md", f"Simulated population ({cfg.patients} training and "
                  f"{cfg.patients} test patients per seed, {cfg.seeds} seeds, top "
                  f"{cfg.refer_top:.0%} referred). Not real patients.\n\n{table}\n")
    run.save_figure(_curves_figure(per_seed[0]["_curves"]), "need_by_percentile.png")
    run.save_figure(_shares_figure(per_seed), "referred_share.png")
    return metrics


def _curves_figure(curves):
    fig, axes = figure(2, 1, size=(3.6, 3.0), squeeze=False)
    for ax, label in zip(axes[0], LABELS, strict=True):
        x, per_group = curves[label]
        ax.plot(x, per_group["a"], "o-", ms=3, label="group a")
        ax.plot(x, per_group["b"], "s-", ms=3, label="group b")
        ax.set_title(f"score trained on {label}", fontsize=9)
        ax.set_xlabel("risk score percentile")
    axes[0, 0].set_ylabel("active chronic conditions next year")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("simulated population", fontsize=8)
    fig.tight_layout()
    return fig


def _shares_figure(per_seed):
    fig, axes = figure(1, 1, size=(4.6, 3.0), squeeze=False)
    ax = axes[0, 0]
    means = [np.mean([r[f"share_{k}"] for r in per_seed]) for k in RULES]
    sds = [np.std([r[f"share_{k}"] for r in per_seed]) for k in RULES]
    ax.bar([k.replace("_", " ") for k in RULES], means, yerr=sds, capsize=3,
           color=["0.7", "C3", "C1", "C2", "C0"])
    ax.set_ylabel("group b share among the top 3%")
    ax.set_title("who gets referred (simulated)", fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    return fig
