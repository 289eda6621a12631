"""Fundus-like images with a known diabetic-retinopathy grade: real retina texture, drawn lesions.

No graded fundus photographs can be had offline, so this simulator paints lesions on
views of the one real fundus photograph scikit-image ships (``skimage.data.retina()``,
1411x1411 RGB, loads offline). The images demonstrate labelling and learning curves,
not clinical performance.

Generative model (one image, all draws from the given seed):

1. **Latent severity** ``s ~ Uniform(0, 5)``. The **true grade** is ICDR-like: the number
   of thresholds ``1, 2, 3, 4`` that ``s`` exceeds, i.e. ``grade = min(4, floor(s))``
   (uniform ``s`` gives balanced grades; real screening data are mostly grade 0).
2. **Lesions**, whose counts and sizes are set by ``s`` (so by the grade):

   - microaneurysms (small dark-red dots, Gaussian sigma ``ma_sigma`` px) from grade 1 on:
     ``n_ma = 1 + floor(4 (s - 1))`` for ``s >= 1`` (1-4 at grade 1, up to 16 at grade 4);
   - haemorrhages (larger dark-red blots, two overlapping Gaussians) from grade 2 on:
     ``n_h = 1 + floor(2 (s - 2))``, sigma ``h_sigma (1 + 0.3 (s - 2))`` (bigger as ``s``
     grows);
   - hard exudates (yellow spots) from grade 3 on: ``n_ex = 1 + floor(3 (s - 3))``.

   So grade 0 has no lesion, grade 1 microaneurysms only, grade 2 adds haemorrhages,
   grade 3 adds exudates, grade 4 has the most and largest of each. Each lesion is
   alpha-blended into the background at a uniform position (``contrast`` scales alpha).
3. **Background**: a ``size x size`` crop of the retina photograph, downsampled by a
   random factor in ``scales`` (a field of view of ~300-450 px of the original), taken
   inside the fundus disc, rotated by a random multiple of 90 degrees, maybe mirrored,
   then brightness (``x U(0.8, 1.2)``), per-channel colour (``x U(0.9, 1.1)``) and gamma
   (``U(0.85, 1.15)``) jittered. Vessels are dark red like the lesions: a real confusion.

Assumptions: lesions are independent of the vessels and of each other; occlusion and
blur of a real camera are not modelled; the grade is a deterministic function of the
lesions drawn (a perfect reader would grade every image right), so every error of a
model or a grader is an error of perception, not of the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

GRADES = 5  # ICDR grades 0 (none) .. 4 (proliferative)
_MA_COLOUR = np.array([0.32, 0.04, 0.03])  # dark red
_H_COLOUR = np.array([0.25, 0.02, 0.02])  # darker red
_EX_COLOUR = np.array([0.98, 0.88, 0.40])  # yellow


@dataclass(frozen=True)
class FundusParams:
    """The simulator's stated parameters (sizes in pixels of the output image)."""

    size: int = 48  # output side (pixels)
    scales: tuple[int, ...] = (6, 7, 8, 9)  # downsampling factors of the 1411 px photograph
    ma_sigma: float = 0.6  # microaneurysm Gaussian sigma
    h_sigma: float = 1.1  # haemorrhage sigma at s = 2 (grows with s)
    ex_sigma: float = 0.8  # exudate sigma
    contrast: float = 0.85  # peak alpha of a lesion (0 = invisible)


@dataclass
class FundusSet:
    """Images ``(n, 3, size, size)`` float32 in [0, 1], latent severity and true grade."""

    images: np.ndarray
    severity: np.ndarray  # float, in [0, 5)
    grade: np.ndarray  # int64, 0..4
    lesions: np.ndarray  # (n, 3) int: microaneurysm, haemorrhage, exudate counts


def grade_of(severity: np.ndarray | float) -> np.ndarray:
    """The true grade: how many of the thresholds 1, 2, 3, 4 the latent severity exceeds."""
    return np.clip(np.floor(np.asarray(severity, dtype=float)), 0, GRADES - 1).astype(np.int64)


def lesion_counts(s: float) -> tuple[int, int, int]:
    """Microaneurysm, haemorrhage and exudate counts for latent severity ``s`` (see module)."""
    n_ma = 1 + int(np.floor(4 * (s - 1))) if s >= 1 else 0
    n_h = 1 + int(np.floor(2 * (s - 2))) if s >= 2 else 0
    n_ex = 1 + int(np.floor(3 * (s - 3))) if s >= 3 else 0
    return n_ma, n_h, n_ex


@cache
def _pyramid(scales: tuple[int, ...]) -> dict[int, tuple[np.ndarray, float, float, float]]:
    """The retina photograph downsampled by each factor: (image, centre y, centre x, radius)."""
    from skimage import data
    from skimage.transform import downscale_local_mean

    retina = data.retina().astype(np.float32) / 255.0
    disc = retina.sum(axis=2) > 40 / 255.0
    ys, xs = np.nonzero(disc)
    cy, cx, radius = ys.mean(), xs.mean(), float(np.sqrt(disc.sum() / np.pi))
    out = {}
    for f in scales:
        img = downscale_local_mean(retina, (f, f, 1)).astype(np.float32)
        out[f] = (img, cy / f, cx / f, 0.95 * radius / f)
    return out


def _background(rng: np.random.Generator, p: FundusParams) -> np.ndarray:
    img, cy, cx, radius = _pyramid(tuple(p.scales))[int(rng.choice(p.scales))]
    half = p.size / 2
    reach = radius - half * np.sqrt(2)  # the whole crop stays inside the disc
    r, t = reach * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
    y0 = int(round(cy + r * np.sin(t) - half))
    x0 = int(round(cx + r * np.cos(t) - half))
    crop = img[y0:y0 + p.size, x0:x0 + p.size]
    crop = np.rot90(crop, int(rng.integers(4)))
    if rng.uniform() < 0.5:
        crop = crop[:, ::-1]
    gain = rng.uniform(0.8, 1.2) * rng.uniform(0.9, 1.1, size=3)
    return np.clip(crop * gain, 0, 1) ** rng.uniform(0.85, 1.15)


def _blend(img: np.ndarray, y: float, x: float, sigma: float, alpha: float,
           colour: np.ndarray) -> None:
    """Alpha-blend one Gaussian spot of ``colour`` into ``img`` (H, W, 3) in place."""
    n = img.shape[0]
    w = int(np.ceil(3 * sigma)) + 1
    ya, yb = max(0, int(y) - w), min(n, int(y) + w + 1)
    xa, xb = max(0, int(x) - w), min(n, int(x) + w + 1)
    yy, xx = np.mgrid[ya:yb, xa:xb]
    a = alpha * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma ** 2))[..., None]
    img[ya:yb, xa:xb] = img[ya:yb, xa:xb] * (1 - a) + a * colour


def render(s: float, rng: np.random.Generator, p: FundusParams = FundusParams()
           ) -> tuple[np.ndarray, tuple[int, int, int]]:
    """One image (size, size, 3) for latent severity ``s``, and its lesion counts."""
    img = np.array(_background(rng, p), dtype=np.float64)
    counts = lesion_counts(s)
    n_ma, n_h, n_ex = counts
    lo, hi = 2.0, p.size - 2.0

    def where():
        return rng.uniform(lo, hi), rng.uniform(lo, hi)

    for _ in range(n_h):
        y, x = where()
        sigma = p.h_sigma * (1 + 0.3 * (s - 2))
        _blend(img, y, x, sigma, p.contrast, _H_COLOUR)
        dy, dx = rng.normal(0, sigma, size=2)  # a second lobe: an irregular blot
        _blend(img, y + dy, x + dx, 0.7 * sigma, p.contrast, _H_COLOUR)
    for _ in range(n_ma):
        y, x = where()
        _blend(img, y, x, p.ma_sigma, p.contrast, _MA_COLOUR)
    for _ in range(n_ex):
        y, x = where()
        _blend(img, y, x, p.ex_sigma, p.contrast, _EX_COLOUR)
    return np.clip(img, 0, 1).astype(np.float32), counts


def simulate(n: int, seed: int | np.random.Generator, params: FundusParams = FundusParams(),
             severity: np.ndarray | None = None) -> FundusSet:
    """``n`` images with their latent severity and true grade; the same seed gives the same set.

    Args:
        n: how many images.
        seed: an int or a ``numpy.random.Generator``.
        params: the simulator's parameters.
        severity: latent severities to render (default: ``Uniform(0, 5)`` draws).
    """
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, GRADES, size=n) if severity is None else np.asarray(severity, float)
    images = np.empty((len(s), 3, params.size, params.size), dtype=np.float32)
    lesions = np.empty((len(s), 3), dtype=np.int64)
    for i, si in enumerate(s):
        img, counts = render(float(si), rng, params)
        images[i] = img.transpose(2, 0, 1)
        lesions[i] = counts
    return FundusSet(images=images, severity=s, grade=grade_of(s), lesions=lesions)
