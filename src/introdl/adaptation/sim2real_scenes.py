"""A "game" and a "real" domain of road scenes for sim-to-real segmentation (procedurally
generated: neither domain holds a single real photograph of a road).

Both domains come from Lecture 11's scene grammar (:mod:`introdl.worlds.grammar`) drawn by
its renderer (:mod:`introdl.worlds.scene_render`), which gives every pixel its class
(:data:`~introdl.worlds.scene_render.CLASSES`: sky, ground, road, lane-marking, car,
pedestrian, building, tree) for free, as a game engine gives GTA's labels.

Generative model of one image of ``size`` x ``size`` pixels, seeded:

- **game** (the labelled source, as GTA): a scene graph ``s ~ Grammar(GrammarParams.prior())``
  rendered flat: one colour per face (Lambert shading from a fixed sun), a blue sky gradient,
  clean polygon edges, no noise. Image ``x = render(s)``, labels ``y = seg(s)``.
- **real** (the target, as Cityscapes): ``s ~ Grammar(GrammarParams.real())`` -- other
  object statistics (more lanes, cars and buildings, other camera heights and colours) --
  rendered the same way, then re-styled per pixel ``p`` of class ``c = y_p``:

  1. recolour: ``a_p = m_c x_p + (1 - m_c) k_c`` with the per-class mix ``m_c`` and colour
     ``k_c`` of :data:`REAL_LOOK` (an overcast pale sky instead of blue, dry olive verges,
     darker asphalt, yellowish worn markings, brick-red buildings, dark trees and clothes);
  2. texture: ``a_p *= 1 + texture_contrast * t_c * T_c(p + o_c)``, ``T_c`` a scikit-image
     photograph texture (``skimage.data``: gravel for road and markings, grass for ground and
     trees, brick for buildings, the blurred moon for clouds, the camera man for clothes;
     each scaled to zero mean, unit std, resized to ``2 size`` pixels) read at a uniform
     random offset ``o_c``, with the per-class strength ``t_c`` of :data:`REAL_LOOK`;
  3. lighting: ``a *= g * (1 + u)``, exposure ``g ~ U(gain)``, colour cast
     ``u ~ U(-cast, cast)^3`` per image, then gamma ``a^gamma``, ``gamma ~ U(gamma)``;
  4. optics and sensor: Gaussian blur of std ``sigma ~ U(blur)`` pixels
     (``scipy.ndimage.gaussian_filter``), then i.i.d. Gaussian noise of std ``noise``
     per pixel and channel, clipped to 0..1.

  The labels are the render's, untouched: re-styling moves no pixel from its class.

All parameters are fields of :class:`RealStyle` (appearance) and
:class:`~introdl.worlds.grammar.GrammarParams` (content). The same seed gives the same
images and labels (one ``numpy.random.Generator`` drives the grammar and the style).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter

from introdl.worlds.grammar import GrammarParams, sample_scene
from introdl.worlds.scene_render import CLASSES, render_scene

# Per class: (mix m_c with the game colour, real colour k_c, texture name, texture strength t_c).
REAL_LOOK: dict[str, tuple[float, tuple[float, float, float], str, float]] = {
    "sky": (0.2, (0.86, 0.86, 0.87), "moon", 0.35),
    "ground": (0.5, (0.47, 0.43, 0.30), "grass", 1.0),
    "road": (0.4, (0.25, 0.25, 0.26), "gravel", 0.8),
    "lane-marking": (0.6, (0.86, 0.80, 0.55), "gravel", 0.5),
    "car": (0.8, (0.50, 0.50, 0.50), "gravel", 0.3),
    "pedestrian": (0.5, (0.30, 0.25, 0.25), "camera", 0.6),
    "building": (0.4, (0.62, 0.38, 0.28), "brick", 1.0),
    "tree": (0.4, (0.10, 0.30, 0.10), "grass", 1.2),
}
TEXTURES = ("moon", "grass", "gravel", "camera", "brick")


@dataclass(frozen=True)
class RealStyle:
    """Appearance of the "real" domain (see the module docstring, steps 1-4)."""

    recolour: bool = True  # step 1 (False keeps the game's class colours)
    texture_contrast: float = 0.25  # step 2, scales every t_c (0: no texture)
    gain: tuple[float, float] = (0.65, 1.2)  # step 3, exposure range
    cast: float = 0.08  # step 3, colour cast half-width per channel
    gamma: tuple[float, float] = (0.8, 1.25)  # step 3
    blur: tuple[float, float] = (0.3, 0.8)  # step 4, Gaussian blur std range (pixels)
    noise: float = 0.03  # step 4, sensor noise std

    def check(self) -> None:
        """Raise ValueError when a range or strength is invalid."""
        for name in ("gain", "gamma", "blur"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi or (name != "blur" and lo <= 0):
                raise ValueError(f"{name} must be a range 0 < low <= high")
        for name in ("texture_contrast", "cast", "noise"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass
class SceneSet:
    """Images ``(N, 3, S, S)`` float32 in 0..1 and labels ``(N, S, S)`` int64 (CLASSES ids)."""

    images: np.ndarray
    labels: np.ndarray
    domain: str


@lru_cache(maxsize=32)
def texture(name: str, size: int) -> np.ndarray:
    """``skimage.data`` photograph ``name`` as grey, resized to ``size`` square, zero mean,
    unit std (the moon is blurred first, so it reads as soft cloud)."""
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    img = np.asarray(getattr(skimage.data, name)(), dtype=np.float64)
    if img.ndim == 3:
        img = rgb2gray(img)
    if name == "moon":
        img = gaussian_filter(img, 8.0)
    img = resize(img, (size, size), anti_aliasing=True)
    return ((img - img.mean()) / (img.std() + 1e-8)).astype(np.float32)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def restyle(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
            style: RealStyle = RealStyle()) -> np.ndarray:
    """The "real" look (steps 1-4) of one game render ``image`` (3, S, S) with ``labels`` (S, S)."""
    size = labels.shape[-1]
    out = image.astype(np.float32).copy()
    for c, name in enumerate(CLASSES):
        mix, colour, tex, strength = REAL_LOOK[name]
        mask = labels == c
        if not mask.any():
            rng.integers(0, size + 1, size=2)  # keep the stream aligned across scenes
            continue
        if style.recolour:
            out[:, mask] = mix * out[:, mask] + (1 - mix) * np.asarray(colour, np.float32)[:, None]
        oy, ox = rng.integers(0, size + 1, size=2)
        t = texture(tex, 2 * size)[oy:oy + size, ox:ox + size]
        out[:, mask] *= np.clip(1 + style.texture_contrast * strength * t[mask], 0.2, 2.0)
    gain = rng.uniform(*style.gain) * (1 + rng.uniform(-style.cast, style.cast, size=3))
    out = np.clip(out * gain[:, None, None].astype(np.float32), 0, 1) ** rng.uniform(*style.gamma)
    sigma = rng.uniform(*style.blur)
    if sigma > 0:
        out = gaussian_filter(out, sigma=(0, sigma, sigma), mode="nearest")
    out = out + rng.normal(0.0, style.noise, size=out.shape) if style.noise > 0 else out
    return np.clip(out, 0, 1).astype(np.float32)


def _render(params: GrammarParams, n: int, size: int, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    if n < 0 or size < 4:
        raise ValueError(f"need n >= 0 and size >= 4, got n={n}, size={size}")
    params.check()
    renders = [render_scene(sample_scene(params, rng), size) for _ in range(n)]
    images = np.stack([r.image for r in renders]) if renders else \
        np.zeros((0, 3, size, size), np.float32)
    labels = np.stack([r.segmentation for r in renders]) if renders else \
        np.zeros((0, size, size), np.int64)
    return images, labels


def game_scenes(n: int, size: int, seed: int | np.random.Generator,
                params: GrammarParams | None = None) -> SceneSet:
    """``n`` flat-shaded "game" scenes (default content: ``GrammarParams.prior()``)."""
    images, labels = _render(params or GrammarParams.prior(), n, size, _rng(seed))
    return SceneSet(images, labels, "game")


def real_scenes(n: int, size: int, seed: int | np.random.Generator,
                params: GrammarParams | None = None, style: RealStyle = RealStyle()
                ) -> SceneSet:
    """``n`` re-styled "real" scenes (default content: ``GrammarParams.real()``)."""
    style.check()
    rng = _rng(seed)
    images, labels = _render(params or GrammarParams.real(), n, size, rng)
    images = np.stack([restyle(x, y, rng, style) for x, y in zip(images, labels, strict=True)]) \
        if n else images
    return SceneSet(images, labels, "real")


def look_statistics(images: np.ndarray) -> np.ndarray:
    """Label-free summary of a set's look ``(9,)``: per channel the mean, the std and the std
    of the high-frequency part ``x - gaussian_filter(x, 1)`` (texture, edges, noise)."""
    x = np.asarray(images, dtype=np.float64)
    high = x - gaussian_filter(x, sigma=(0, 0, 1, 1))
    return np.concatenate([x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3)),
                           high.std(axis=(0, 2, 3))])


def look_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of :func:`look_statistics` of two image sets (0: same look).

    Uses no label, so it may guide the translator's settings (see the experiment)."""
    return float(np.abs(look_statistics(a) - look_statistics(b)).mean())
