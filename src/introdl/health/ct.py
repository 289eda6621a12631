"""A low-dose-CT-like volume simulator: lung fields, vessels, nodules and noise, in a small cube.

Each case is a ``size``^3 crop (default 28^3, NoduleMNIST3D's shape) in attenuation units
where air is -1, lung parenchyma -0.85 and soft tissue 0 (HU / 1000, shifted). The generative
model, in the order it is drawn (every number is a field of :class:`CTParams`):

1. **Body and lungs.** A soft-tissue elliptic cylinder along z, air outside it, and two
   ellipsoidal lung fields (left and right of a mediastinum) whose axes and centres jitter
   by +-10% / +-1 voxel per case.
2. **Vessels.** ``vessels`` random smooth curves per lung grow from the hilum (the lung's
   medial side) outwards: unit steps of 0.5 voxel whose direction turns by N(0, 0.3) each
   step, 6-16 voxels long, clipped to the lung. Thick (first half) and thin curves are
   splatted and blurred with Gaussian sigmas 1.0 / 0.6 voxel, giving tubes whose
   cross-sections peak at ``vessel_contrast`` (thin: 0.7x, partial volume). A vessel seen
   end-on in one slice is a bright disc: in 2D it mimics a nodule; only 3D context tells.
3. **Lesion.** With probability ``prevalence`` the case is malignant and holds one nodule:
   an ellipsoid (semi-axes radius x U(0.8, 1.2)) with a soft edge, radius and contrast
   uniform in ``malignant_radius`` / ``malignant_contrast``, and 0-``spicules`` spicules
   (thin lines radiating 1-3 voxels beyond the edge). Otherwise the case is negative and
   holds, with probabilities ``p_calcified`` / ``p_benign``, a benign look-alike: a
   calcified granuloma (small, round, sharp, much brighter than soft tissue) or a small
   smooth solid nodule whose size and contrast overlap the smallest malignant ones, or
   nothing. Lesions sit inside the lung, at least their radius from its edge (less where
   the lung is too thin for them).
4. **Low dose.** The volume is blurred by a Gaussian PSF (sigma ``psf`` voxel) and
   correlated noise is added: white noise blurred by a Gaussian of sigma ``noise_corr``
   and rescaled to standard deviation ``noise_sd`` (low-dose CT noise is roughly
   Gaussian after reconstruction and spatially correlated by the kernel).

Assumptions (what makes this a toy): malignancy is decided by the generator, not biology;
the only cues are size, contrast, shape (spicules, tubular vs round) and calcification;
prevalence is enriched to ``prevalence`` (a reader-study design, not screening's ~1%);
anatomy is two ellipsoids. Small, faint malignant nodules and small benign nodules
overlap by design, so even an ideal observer has AUC < 1. Nothing here is patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import binary_erosion, gaussian_filter

AIR, LUNG, TISSUE = -1.0, -0.85, 0.0
KINDS = ("none", "calcified", "benign", "malignant")  # lesion kinds; only the last is positive


@dataclass(frozen=True)
class CTParams:
    """The simulator's stated parameters (units: voxels and attenuation / 1000)."""

    size: int = 28  # edge of the cube
    noise_sd: float = 0.05  # standard deviation of the low-dose noise (~50 HU)
    noise_corr: float = 0.6  # sigma (voxels) of the kernel that correlates the noise
    psf: float = 0.5  # sigma (voxels) of the scanner's blur
    vessels: tuple[int, int] = (3, 6)  # vessels per lung, inclusive range
    vessel_contrast: float = 0.4  # peak contrast of a thick vessel over lung (partial volume)
    prevalence: float = 0.5  # share of malignant cases
    malignant_radius: tuple[float, float] = (1.4, 3.0)
    malignant_contrast: tuple[float, float] = (0.4, 0.85)
    spicules: int = 5  # a malignant nodule has 0..spicules spicules
    p_calcified: float = 0.3  # negatives with a calcified granuloma
    calcified_radius: tuple[float, float] = (0.9, 1.8)
    calcified_contrast: tuple[float, float] = (1.2, 1.8)
    p_benign: float = 0.35  # negatives with a small smooth benign nodule
    benign_radius: tuple[float, float] = (0.8, 1.6)
    benign_contrast: tuple[float, float] = (0.3, 0.7)


@dataclass
class Lesion:
    """One case's lesion: kind (see :data:`KINDS`), size, contrast, shape and where."""

    kind: str
    radius: float = 0.0
    contrast: float = 0.0
    spicules: int = 0
    axes: tuple[float, float, float] = (1.0, 1.0, 1.0)  # semi-axis multipliers
    centre: tuple[float, float, float] | None = None  # (z, y, x), set when rendered

    @property
    def malignant(self) -> bool:
        return self.kind == "malignant"


@dataclass
class CTSet:
    """Simulated volumes ``x`` (n, size, size, size) float32 with labels and their lesions."""

    x: np.ndarray
    y: np.ndarray  # 1 = malignant
    masks: np.ndarray  # (n, size, size, size) bool: where each case's lesion is (any kind)
    lesions: list[Lesion] = field(default_factory=list)
    params: CTParams = field(default_factory=CTParams)

    def __len__(self) -> int:
        return len(self.y)


def draw_lesion(rng: np.random.Generator, p: CTParams) -> Lesion:
    """Draw a case's lesion (its label, size, contrast, shape) without rendering anything."""
    axes = tuple(float(a) for a in rng.uniform(0.8, 1.2, 3))
    if rng.random() < p.prevalence:
        return Lesion("malignant", float(rng.uniform(*p.malignant_radius)),
                      float(rng.uniform(*p.malignant_contrast)),
                      int(rng.integers(0, p.spicules + 1)), axes)
    u = rng.random()
    if u < p.p_calcified:
        return Lesion("calcified", float(rng.uniform(*p.calcified_radius)),
                      float(rng.uniform(*p.calcified_contrast)), 0, (1.0, 1.0, 1.0))
    if u < p.p_calcified + p.p_benign:
        return Lesion("benign", float(rng.uniform(*p.benign_radius)),
                      float(rng.uniform(*p.benign_contrast)), 0, axes)
    return Lesion("none")


def _grid(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.meshgrid(*(np.arange(size, dtype=np.float32),) * 3, indexing="ij")


def _anatomy(rng: np.random.Generator, p: CTParams):
    """Background volume, lung mask and each lung's (centre, semi-axes)."""
    s = p.size
    z, y, x = _grid(s)
    c = (s - 1) / 2
    body = ((y - c) / (0.46 * s)) ** 2 + ((x - c) / (0.52 * s)) ** 2 <= 1
    vol = np.where(body, TISSUE, AIR).astype(np.float32)
    lung = np.zeros_like(body)
    lungs = []
    for side in (-1, 1):
        centre = np.array([c, c, c + side * 0.245 * s]) + rng.uniform(-1, 1, 3)
        semi = np.array([0.62 * s, 0.33 * s, 0.21 * s]) * rng.uniform(0.9, 1.1, 3)
        inside = sum(((g - m) / a) ** 2 for g, m, a in zip((z, y, x), centre, semi,
                                                           strict=True)) <= 1
        lung |= inside & body
        lungs.append((centre, semi, side))
    vol[lung] = LUNG
    return vol, lung, lungs


def _splat(vol: np.ndarray, points: np.ndarray, weight: float) -> None:
    """Add ``weight`` at each point, shared trilinearly among its 8 neighbouring voxels."""
    s = vol.shape[0]
    base = np.floor(points).astype(int)
    frac = points - base
    for corner in np.ndindex(2, 2, 2):
        idx = base + np.array(corner)
        w = np.prod(np.where(np.array(corner), frac, 1 - frac), axis=1) * weight
        ok = np.all((idx >= 0) & (idx < s), axis=1)
        np.add.at(vol, tuple(idx[ok].T), w[ok])


def _curve(rng: np.random.Generator, start: np.ndarray, direction: np.ndarray, length: float,
           turn: float = 0.3) -> np.ndarray:
    """A random smooth curve: 0.5-voxel steps whose direction turns by N(0, turn) each step."""
    pts, d, x = [], direction / np.linalg.norm(direction), start.astype(float)
    for _ in range(int(length / 0.5)):
        pts.append(x.copy())
        d = d + rng.normal(0, turn, 3)
        d /= np.linalg.norm(d)
        x = x + 0.5 * d
    return np.array(pts)


def _vessels(rng: np.random.Generator, p: CTParams, lungs, lung: np.ndarray) -> np.ndarray:
    """Contrast volume of the vessel tree (zero outside the lungs)."""
    thick = np.zeros((p.size,) * 3, np.float32)
    thin = np.zeros_like(thick)
    for centre, semi, side in lungs:
        n = int(rng.integers(p.vessels[0], p.vessels[1] + 1))
        for i in range(n):
            start = centre + np.array([rng.uniform(-0.5, 0.5) * semi[0],
                                       rng.uniform(-0.4, 0.4) * semi[1],
                                       -side * 0.7 * semi[2]])
            direction = np.array([rng.normal(0, 0.8), rng.normal(0, 0.8), side * 1.0])
            pts = _curve(rng, start, direction, rng.uniform(6, 16))
            if i < n // 2:  # thick: sigma 1.0; line density so the cross-section peaks at c
                _splat(thick, pts, 0.5 * p.vessel_contrast * 2 * np.pi * 1.0 ** 2)
            else:
                _splat(thin, pts, 0.5 * 0.7 * p.vessel_contrast * 2 * np.pi * 0.6 ** 2)
    v = gaussian_filter(thick, 1.0) + gaussian_filter(thin, 0.6)
    return np.minimum(v, 1.0) * lung


def _lesion(rng: np.random.Generator, p: CTParams, les: Lesion, lung: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Contrast volume and mask of the case's lesion, placed inside the lung."""
    s = p.size
    out = np.zeros((s,) * 3, np.float32)
    mask = np.zeros((s,) * 3, bool)
    if les.kind == "none":
        return out, mask
    margin = int(np.ceil(les.radius * max(les.axes)))
    inner = binary_erosion(lung, iterations=margin, border_value=0)
    while not inner.any() and margin > 0:  # a lung too thin for this lesion: shrink the margin
        margin -= 1
        inner = binary_erosion(lung, iterations=margin, border_value=0) if margin else lung
    cands = np.argwhere(inner)
    centre = cands[rng.integers(len(cands))] + rng.uniform(-0.5, 0.5, 3)
    les.centre = tuple(float(c) for c in centre)
    z, y, x = _grid(s)
    q = np.sqrt(sum(((g - m) / (les.radius * a)) ** 2
                    for g, m, a in zip((z, y, x), centre, les.axes, strict=True)))
    edge = 0.15 if les.kind == "calcified" else 0.35  # calcified: sharp; soft tissue: soft
    out = (les.contrast / (1 + np.exp((q - 1) * les.radius / edge))).astype(np.float32)
    mask = q <= 1
    if les.spicules:
        spic = np.zeros_like(out)
        for _ in range(les.spicules):
            d = rng.normal(0, 1, 3)
            d /= np.linalg.norm(d)
            pts = _curve(rng, centre + d * les.radius * 0.8, d, rng.uniform(1, 3) + 0.5,
                         turn=0.15)
            _splat(spic, pts, 0.5 * 0.6 * les.contrast * 2 * np.pi * 0.5 ** 2)
        out = np.maximum(out, gaussian_filter(spic, 0.5))
    return out, mask


def render(les: Lesion, rng: np.random.Generator, p: CTParams
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One volume for a drawn lesion: (volume, lesion mask, lung mask)."""
    vol, lung, lungs = _anatomy(rng, p)
    vessels = _vessels(rng, p, lungs, lung)
    lesion, mask = _lesion(rng, p, les, lung)
    vol = vol + np.maximum(vessels, lesion) * lung
    if p.psf > 0:
        vol = gaussian_filter(vol, p.psf)
    noise = rng.normal(0, 1, vol.shape).astype(np.float32)
    if p.noise_corr > 0:
        noise = gaussian_filter(noise, p.noise_corr)
        noise /= noise.std() + 1e-12
    return (vol + p.noise_sd * noise).astype(np.float32), mask, lung


def simulate(n: int, seed: int | np.random.Generator, params: CTParams | None = None) -> CTSet:
    """``n`` simulated cases; the same seed gives the same volumes, labels and lesions.

    Case ``i`` draws from its own generator spawned from ``seed``, so the first cases of a
    larger set equal a smaller set's.
    """
    p = params or CTParams()
    ss = (np.random.SeedSequence(seed) if not isinstance(seed, np.random.Generator)
          else np.random.SeedSequence(int(seed.integers(2**63))))
    x = np.empty((n, p.size, p.size, p.size), np.float32)
    masks = np.zeros(x.shape, bool)
    lesions = []
    for i, child in enumerate(ss.spawn(n)):
        rng = np.random.default_rng(child)
        les = draw_lesion(rng, p)
        x[i], masks[i], _ = render(les, rng, p)
        lesions.append(les)
    y = np.array([les.malignant for les in lesions], dtype=np.int64)
    return CTSet(x=x, y=y, masks=masks, lesions=lesions, params=p)


def conspicuity(les: Lesion, p: CTParams) -> float:
    """How visible a lesion is to a reader: contrast-to-noise x radius (0 without a lesion).

    ``contrast / max(noise_sd, 0.01) * radius`` grows with the lesion's cross-section signal;
    readers (:mod:`introdl.health.readers`) miss low-conspicuity nodules more often.
    """
    return les.contrast / max(p.noise_sd, 0.01) * les.radius if les.kind != "none" else 0.0
