"""A whole-slide simulator: real IHC tissue texture with small tumour regions and benign mimics.

Generative model (one slide, all randomness from one seeded ``numpy.random.Generator``):

1. **Stain of the slide.** scikit-image's immunohistochemistry image (512 x 512, a real
   colon-tissue section: haematoxylin nuclei, DAB-brown membranes) is converted to stain
   space (``rgb2hed``); each slide multiplies the haematoxylin (H) and DAB (D) channels by
   ``1 + U(-stain_jitter, stain_jitter)`` (lab-to-lab staining variation).
2. **Normal tissue.** ``tile`` x ``tile`` crops of that image at random positions, with a random
   flip and quarter turn, are laid on a grid with a stride of 3/4 tile and feathered together
   (a pyramid window), so the slide is a mosaic of real tissue without hard seams.
3. **Tumour lesions** (``n_lesions`` per slide). Radius ``r`` log-uniform on
   ``[r_min, r_max]`` pixels; an irregular outline ``rho(theta) = r (1 + sum_k a_k cos(k theta +
   phi_k))``, ``k = 2..4``, ``a_k ~ U(0, irregularity / 3)``; a soft edge of ``edge`` pixels.
   Inside, the tissue is replaced by tumour texture: a crop of the same IHC image, centred on
   its epithelium (smoothed DAB above its median: carcinoma arises there), magnified by
   ``tumour_zoom`` < 1 (smaller, denser nuclei), warped by a smooth random displacement field of
   ``warp`` pixels (disordered architecture), with haematoxylin multiplied by ``tumour_h_gain``
   and DAB by ``tumour_d_gain`` (hyperchromatic nuclei, loss of membrane staining).
4. **Benign mimics** (``n_mimics`` per slide, same size law): either *hyperchromatic* (the H/D
   stain shift without the density change or warp, e.g. an inflamed or crushed area) or *dense*
   (the nuclear density change without the stain shift or warp), each with probability 1/2.
   They are not tumour; a detector must combine cues to tell them apart.

Lesions and mimics do not overlap (centres rejected until clear by ``gap`` pixels). The slide
is returned with its tumour mask (alpha > 0.5), an integer label image (lesion k has label
k + 1), the list of lesions (centre, nominal radius, area in pixels) and the mimics' mask
(the benign regions an annotator would mark, used for hard-negative training patches).

Assumptions: one magnification (1 px of the slide = 1 px of the source image); tumour differs
from normal tissue only by the stated texture and stain changes; all tissue is in focus and
there is no background glass. The data is simulated: it demonstrates detection and FROC
evaluation, not clinical performance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates
from skimage.color import hed2rgb, rgb2hed
from skimage.data import immunohistochemistry


@dataclass(frozen=True)
class SlideParams:
    """The simulator's parameters (see the module docstring for their roles)."""

    size: int = 2048  # slide side in pixels (square)
    n_lesions: int = 6
    n_mimics: int = 6
    r_min: float = 10.0  # lesion radius range (px), log-uniform
    r_max: float = 80.0
    irregularity: float = 0.3
    edge: float = 3.0
    tumour_zoom: float = 0.65  # < 1: nuclei smaller and denser
    warp: float = 3.0  # displacement amplitude (px)
    tumour_h_gain: float = 1.5
    tumour_d_gain: float = 0.7
    stain_jitter: float = 0.15
    tile: int = 256
    gap: float = 12.0


@dataclass(frozen=True)
class Lesion:
    cy: float
    cx: float
    radius: float  # nominal radius (px)
    area: int  # pixels inside the mask


@dataclass
class Slide:
    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool, tumour
    labels: np.ndarray  # (H, W) int32, 0 = not tumour, k + 1 = lesion k
    lesions: list[Lesion]
    benign: np.ndarray  # (H, W) bool, the benign mimics (what an annotator marks as benign)
    mimics: list[tuple[float, float, float, str]] = field(default_factory=list)  # cy, cx, r, kind


_SOURCE: np.ndarray | None = None


def _source_hed() -> np.ndarray:
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = rgb2hed(immunohistochemistry()).astype(np.float32)
    return _SOURCE


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _to_rgb(hed: np.ndarray) -> np.ndarray:
    return np.clip(hed2rgb(hed), 0, 1).astype(np.float32)


def _orient(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        a = a[:, ::-1]
    return np.rot90(a, int(rng.integers(4)))


def _background(hed: np.ndarray, p: SlideParams, rng: np.random.Generator) -> np.ndarray:
    """Feathered mosaic of randomly placed and oriented crops (stain space)."""
    t, s = p.tile, p.size
    stride = 3 * t // 4
    n = int(np.ceil((s - t) / stride)) + 1 if s > t else 1
    span = (n - 1) * stride + t
    acc = np.zeros((span, span, 3), np.float32)
    wsum = np.zeros((span, span, 1), np.float32)
    ramp = np.minimum(np.arange(t) + 1, t - np.arange(t)).astype(np.float32)
    win = np.minimum.outer(ramp, ramp)[..., None]
    src = hed.shape[0]
    for i in range(n):
        for j in range(n):
            y, x = rng.integers(0, src - t + 1, size=2)
            crop = _orient(hed[y:y + t, x:x + t], rng)
            acc[i * stride:i * stride + t, j * stride:j * stride + t] += crop * win
            wsum[i * stride:i * stride + t, j * stride:j * stride + t] += win
    return (acc / wsum)[:s, :s]


def _half(r: float, p: SlideParams) -> int:
    """Half-side of the square a lesion of radius ``r`` is drawn in."""
    return int(np.ceil(1.3 * r + p.edge)) + 1


def _centres(p: SlideParams, n: int, rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """Non-overlapping (cy, cx, r), radius log-uniform on [r_min, r_max]."""
    out: list[tuple[float, float, float]] = []
    for _ in range(n):
        r = float(np.exp(rng.uniform(np.log(p.r_min), np.log(p.r_max))))
        for _try in range(200):
            lo, hi = _half(r, p) + 1, p.size - _half(r, p) - 2
            cy, cx = rng.uniform(lo, hi, size=2)
            if all(np.hypot(cy - y, cx - x) > 1.3 * (r + q) + p.gap for y, x, q in out):
                out.append((float(cy), float(cx), r))
                break
    return out


def _blob(r: float, p: SlideParams, rng: np.random.Generator, half: int) -> np.ndarray:
    """Soft irregular disc (alpha in [0, 1]) on a (2 half + 1)^2 grid centred on the lesion."""
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float32)
    theta = np.arctan2(yy, xx)
    rho = np.ones_like(theta)
    for k in (2, 3, 4):
        rho += rng.uniform(0, p.irregularity / 3) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return np.clip((r * rho - np.hypot(yy, xx)) / p.edge + 0.5, 0, 1)


_EPITHELIUM: np.ndarray | None = None


def _epithelium() -> np.ndarray:
    """Where the source is cellular epithelium: smoothed DAB above its median (bool map)."""
    global _EPITHELIUM
    if _EPITHELIUM is None:
        dab = gaussian_filter(_source_hed()[..., 2], 12)
        _EPITHELIUM = dab > np.median(dab)
    return _EPITHELIUM


def _texture(hed: np.ndarray, half: int, zoom: float, warp: float,
             rng: np.random.Generator, epithelial: bool = False) -> np.ndarray:
    """A (2 half + 1)^2 crop of the source, magnified by ``zoom`` and warped (stain space).

    ``epithelial``: the crop is centred on cellular epithelium (tumour arises there).
    """
    side = 2 * half + 1
    need = side / zoom + 2 * warp + 4
    for _ in range(100):
        y0, x0 = rng.uniform(2 * warp + 2, hed.shape[0] - need, size=2)
        if not epithelial or _epithelium()[int(y0 + need / 2), int(x0 + need / 2)]:
            break
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / zoom
    if warp > 0:
        dy, dx = (gaussian_filter(rng.standard_normal((side, side)), 4) for _ in range(2))
        scale = warp / max(float(np.abs(np.concatenate([dy, dx])).max()), 1e-6)
        yy, xx = yy + scale * dy, xx + scale * dx
    coords = [yy + y0, xx + x0]
    return np.stack([map_coordinates(hed[..., c], coords, order=1, mode="reflect")
                     for c in range(3)], axis=-1)


def _paste(img: np.ndarray, alpha: np.ndarray, patch: np.ndarray, cy: float, cx: float,
           half: int) -> tuple[slice, slice]:
    y, x = int(round(cy)), int(round(cx))
    sl = (slice(y - half, y + half + 1), slice(x - half, x + half + 1))
    a = alpha[..., None]
    img[sl] = (1 - a) * img[sl] + a * patch
    return sl


def simulate_slide(seed: int | np.random.Generator, params: SlideParams | None = None) -> Slide:
    """One slide (RGB uint8), its tumour mask, lesion labels and lesions; same seed, same slide."""
    p = params or SlideParams()
    rng = _rng(seed)
    hed = _source_hed().copy()
    hed[..., 0] *= 1 + rng.uniform(-p.stain_jitter, p.stain_jitter)
    hed[..., 2] *= 1 + rng.uniform(-p.stain_jitter, p.stain_jitter)
    rgb = _to_rgb(_background(hed, p, rng))
    mask = np.zeros((p.size, p.size), bool)
    labels = np.zeros((p.size, p.size), np.int32)
    benign = np.zeros((p.size, p.size), bool)
    places = _centres(p, p.n_lesions + p.n_mimics, rng)
    order = rng.permutation(len(places))
    lesion_ids = set(order[:min(p.n_lesions, len(places))].tolist())
    lesions: list[Lesion] = []
    mimics: list[tuple[float, float, float, str]] = []
    for i, (cy, cx, r) in enumerate(places):
        half = _half(r, p)
        alpha = _blob(r, p, rng, half)
        if i in lesion_ids:
            tex = _texture(hed, half, p.tumour_zoom, p.warp, rng, epithelial=True)
            tex[..., 0] *= p.tumour_h_gain
            tex[..., 2] *= p.tumour_d_gain
        else:
            kind = "hyperchromatic" if rng.random() < 0.5 else "dense"
            if kind == "hyperchromatic":
                tex = _texture(hed, half, 1.0, 0.0, rng)
                tex[..., 0] *= p.tumour_h_gain
                tex[..., 2] *= p.tumour_d_gain
            else:
                tex = _texture(hed, half, p.tumour_zoom, 0.0, rng)
            mimics.append((cy, cx, r, kind))
        sl = _paste(rgb, alpha, _to_rgb(tex), cy, cx, half)
        if i in lesion_ids:
            inside = alpha > 0.5
            mask[sl] |= inside
            labels[sl][inside] = len(lesions) + 1
            lesions.append(Lesion(cy, cx, r, int(inside.sum())))
        else:
            benign[sl] |= alpha > 0.5
    image = (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)
    return Slide(image, mask, labels, lesions, benign, mimics)


def expected_radius_share(p: SlideParams, lo: float, hi: float) -> float:
    """Share of lesions with radius in [lo, hi] under the log-uniform size law (for tests)."""
    a, b = np.log(p.r_min), np.log(p.r_max)
    lo_, hi_ = np.clip(np.log(lo), a, b), np.clip(np.log(hi), a, b)
    return float((hi_ - lo_) / (b - a))
