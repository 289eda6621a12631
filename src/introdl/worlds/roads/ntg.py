"""Neural Turtle Graphics (Chu et al., ICCV 2019): an encoder-decoder RNN that grows road graphs.

A road graph is resampled into straight steps of at most ``step`` metres
(:func:`~introdl.worlds.roads.graph.resample`) and visited in breadth-first order from a root.
When node v is visited, the edges to its already-visited neighbours exist; the model predicts
the rest:

- **encoder**: each *incoming path* (v's visited neighbour w, w's parent, ..., up to
  ``path_len`` steps, ending at v) is a sequence of offsets in v's turtle frame (x along the
  road v was reached by). A GRU encodes each path; the codes of up to ``max_paths`` paths are
  averaged (a learned code stands for "no path" at a root).
- **style**: a learned embedding of the city id; one extra id, "any city", is used for a random
  ``style_dropout`` share of the training examples, so the same network is also an
  unconditioned model (the baseline).
- **decoder**: a GRU emits v's new neighbours one token at a time, sorted counter-clockwise:
  a token is a (turn angle bin, step length bin) pair (``angle_bins`` x ``length_bins``), or
  STOP. Angles are sampled at bin centres (a right angle stays a right angle); lengths
  uniformly within their bin.

Trained by cross-entropy on the tokens (teacher forcing). :mod:`introdl.worlds.roads.grow`
samples from it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch
from torch import nn

STOP = 0


@dataclass(frozen=True)
class Turtle:
    """The discretisation shared by training and growth."""

    step: float = 40.0  # metres; offsets are at most this long
    angle_bins: int = 36
    length_bins: int = 8
    path_len: int = 4
    max_paths: int = 3
    max_out: int = 4  # new neighbours per node at most

    @property
    def vocab(self) -> int:
        return 1 + self.angle_bins * self.length_bins

    def token(self, offset: np.ndarray, frame: float) -> int:
        a = np.arctan2(offset[1], offset[0]) - frame
        ab = int(np.round(a / (2 * np.pi / self.angle_bins))) % self.angle_bins
        lb = int(np.clip(np.linalg.norm(offset) / self.step * self.length_bins, 0,
                         self.length_bins - 1))
        return 1 + ab * self.length_bins + lb

    def offset(self, token: int, frame: float, rng: np.random.Generator) -> np.ndarray:
        ab, lb = divmod(token - 1, self.length_bins)
        a = frame + ab * 2 * np.pi / self.angle_bins
        r = (lb + rng.random()) / self.length_bins * self.step
        return r * np.array([np.cos(a), np.sin(a)])


def frame_of(pos: dict, parent: dict, v) -> float:
    p = parent.get(v)
    if p is None:
        return 0.0
    d = np.asarray(pos[v]) - np.asarray(pos[p])
    return float(np.arctan2(d[1], d[0]))


def incoming_paths(pos: dict, parent: dict, visited_nbrs: list, v, t: Turtle,
                   degree) -> tuple[np.ndarray, np.ndarray, float]:
    """Up to ``max_paths`` incoming paths of v as (P, L, 4) steps, in v's frame.

    A step is (x, y, degree / 4, valid): the offset in units of ``step`` and the degree of the
    node it arrives at (``degree(node)``; for v itself, its number of visited neighbours), so
    the model sees where the last intersections were. The path through v's parent comes
    first; paths shorter than ``path_len`` are padded at the front with invalid zeros.
    """
    frame = frame_of(pos, parent, v)
    c, s = np.cos(-frame), np.sin(-frame)
    rot = np.array([[c, -s], [s, c]])
    first = [parent[v]] if parent.get(v) in visited_nbrs else []
    nbrs = first + [w for w in visited_nbrs if w not in first]
    paths = np.zeros((t.max_paths, t.path_len, 4), dtype=np.float32)
    mask = np.zeros(t.max_paths, dtype=bool)
    for k, w in enumerate(nbrs[: t.max_paths]):
        chain = [v, w]
        while len(chain) <= t.path_len and parent.get(chain[-1]) is not None \
                and parent[chain[-1]] not in chain:
            chain.append(parent[chain[-1]])
        chain = chain[::-1]  # oldest first, ending at v
        offs = np.diff(np.array([pos[n] for n in chain], dtype=float), axis=0) @ rot.T
        offs = offs[-t.path_len:] / t.step
        deg = [degree(n) for n in chain[1:-1]] + [len(visited_nbrs)]
        paths[k, t.path_len - len(offs):, :2] = offs
        paths[k, t.path_len - len(offs):, 2] = np.array(deg[-len(offs):]) / 4.0
        paths[k, t.path_len - len(offs):, 3] = 1.0
        mask[k] = True
    return paths, mask, frame


def ccw_order(pos: dict, v, targets: list, frame: float) -> list:
    def key(u):
        d = np.asarray(pos[u]) - np.asarray(pos[v])
        return (np.arctan2(d[1], d[0]) - frame + np.pi) % (2 * np.pi)
    return sorted(targets, key=key)


def examples_from_graph(g: nx.Graph, style: int, rng: np.random.Generator, orders: int,
                        t: Turtle) -> list[tuple]:
    """(paths, mask, style, tokens) per visited node, over ``orders`` BFS orders from random
    roots (every connected component is visited from a random root of its own)."""
    pos = {n: np.asarray(g.nodes[n]["pos"], dtype=float) for n in g.nodes}
    comps = [sorted(c) for c in nx.connected_components(g)]
    out = []
    for _ in range(orders):
        parent: dict = {}
        visited: set = set()
        for comp in comps:
            root = comp[int(rng.integers(len(comp)))]
            parent[root] = None
            queue, seen = deque([root]), {root}
            while queue:
                v = queue.popleft()
                nbrs = list(g.neighbors(v))
                done = [w for w in nbrs if w in visited]
                paths, mask, frame = incoming_paths(pos, parent, done, v, t, g.degree)
                new = ccw_order(pos, v, [w for w in nbrs if w not in visited], frame)
                tokens = [t.token(pos[u] - pos[v], frame) for u in new[: t.max_out]] + [STOP]
                out.append((paths, mask, style, tokens))
                visited.add(v)
                for u in new:
                    if u not in seen:
                        seen.add(u)
                        parent[u] = v
                        queue.append(u)
    return out


class NTG(nn.Module):
    def __init__(self, n_styles: int, t: Turtle = Turtle(), hidden: int = 64) -> None:
        super().__init__()
        self.t, self.n_styles = t, n_styles
        self.any_style = n_styles  # the extra "any city" id
        self.style = nn.Embedding(n_styles + 1, hidden)
        self.path_rnn = nn.GRU(4, hidden, batch_first=True)
        self.no_path = nn.Parameter(torch.zeros(hidden))
        self.init = nn.Linear(2 * hidden, hidden)
        self.tok = nn.Embedding(t.vocab + 1, hidden)  # + the start token
        self.dec = nn.GRUCell(hidden, hidden)
        self.out = nn.Linear(hidden, t.vocab)

    def encode(self, paths: torch.Tensor, mask: torch.Tensor, style: torch.Tensor
               ) -> torch.Tensor:
        b, p, length, _ = paths.shape
        _, h = self.path_rnn(paths.reshape(b * p, length, paths.shape[-1]))
        h = h[-1].reshape(b, p, -1) * mask[..., None]
        n = mask.sum(1, keepdim=True)
        code = torch.where(n > 0, h.sum(1) / n.clamp(min=1), self.no_path.expand(b, -1))
        return torch.tanh(self.init(torch.cat([code, self.style(style)], 1)))

    def forward(self, paths, mask, style, tokens_in: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab) for teacher-forced decoder inputs ``tokens_in`` (B, T)."""
        h = self.encode(paths, mask, style)
        outs = []
        for i in range(tokens_in.shape[1]):
            h = self.dec(self.tok(tokens_in[:, i]), h)
            outs.append(self.out(h))
        return torch.stack(outs, 1)

    @torch.no_grad()
    def sample(self, paths, mask, style, gen: torch.Generator,
               temperature: float = 1.0) -> list[list[int]]:
        """Sampled token lists (without STOP), one per batch item."""
        h = self.encode(paths, mask, style)
        b = paths.shape[0]
        prev = torch.full((b,), self.t.vocab, dtype=torch.long)
        alive = torch.ones(b, dtype=torch.bool)
        out: list[list[int]] = [[] for _ in range(b)]
        for _ in range(self.t.max_out):
            h = self.dec(self.tok(prev), h)
            probs = torch.softmax(self.out(h) / temperature, -1)
            tok = torch.multinomial(probs, 1, generator=gen)[:, 0]
            for i in torch.nonzero(alive & (tok != STOP))[:, 0].tolist():
                out[i].append(int(tok[i]))
            alive &= tok != STOP
            if not alive.any():
                break
            prev = tok
        return out


def collate(batch: list[tuple], t: Turtle):
    paths = torch.from_numpy(np.stack([b[0] for b in batch]))
    mask = torch.from_numpy(np.stack([b[1] for b in batch]))
    style = torch.tensor([b[2] for b in batch], dtype=torch.long)
    steps = t.max_out + 1
    target = torch.full((len(batch), steps), -100, dtype=torch.long)
    tin = torch.full((len(batch), steps), t.vocab, dtype=torch.long)
    for i, b in enumerate(batch):
        tok = torch.tensor(b[3], dtype=torch.long)
        target[i, : len(tok)] = tok
        tin[i, 1: len(tok)] = tok[:-1]
    return paths, mask, style, tin, target


def train_ntg(examples: list[tuple], n_styles: int, *, epochs: int, seed: int,
              t: Turtle = Turtle(), hidden: int = 64, batch: int = 128, lr: float = 3e-3,
              style_dropout: float = 0.2, progress: bool = False) -> tuple[NTG, list[float]]:
    """Fit an NTG by teacher-forced cross-entropy; returns the model and per-epoch mean loss."""
    from introdl.engine.progress import ProgressBar

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = NTG(n_styles, t, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    steps_per_epoch = max(1, int(np.ceil(len(examples) / batch)))
    with ProgressBar(epochs * steps_per_epoch, "ntg", enabled=progress) as bar:
        for ep in range(epochs):
            order = rng.permutation(len(examples))
            total = 0.0
            for k in range(steps_per_epoch):
                chunk = [examples[i] for i in order[k * batch:(k + 1) * batch]]
                paths, mask, style, tin, target = collate(chunk, t)
                drop = torch.from_numpy(rng.random(len(chunk)) < style_dropout)
                style = torch.where(drop, torch.full_like(style, n_styles), style)
                logits = model(paths, mask, style, tin)
                loss = nn.functional.cross_entropy(logits.reshape(-1, t.vocab),
                                                   target.reshape(-1), ignore_index=-100)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item()
                if bar.due():
                    bar.update(ep * steps_per_epoch + k + 1, loss=loss.item(),
                               samples=(ep * steps_per_epoch + k + 1) * batch)
            losses.append(total / steps_per_epoch)
            if not np.isfinite(losses[-1]):
                raise FloatingPointError(f"NTG loss is not finite at epoch {ep}")
    return model, losses
