"""Simulated dermatoscopy: skin lesions on the six Fitzpatrick skin types, with their masks.

There is no offline skin-image data set with skin-type labels, so Lecture 12's fairness
and explanation experiments draw images from this stated generative model. It shows
methods (subgroup evaluation, shortcut learning, saliency); it says nothing about any
real classifier's performance on real skin.

Generative model (every image ``size`` x ``size`` RGB in [0, 1]; coordinates in [-1, 1]):

1. **Skin tone.** Fitzpatrick type ``t`` in I..VI has a melanin optical density
   ``MELANIN[t]`` (0.10 .. 1.35), jittered by 8% per image. Skin reflectance follows
   Beer-Lambert: ``skin = BASE * exp(-melanin * EPS)`` with a dermis base colour
   ``BASE = (0.93, 0.78, 0.68)`` and melanin extinction ``EPS = (0.55, 0.75, 1.00)``
   (melanin absorbs blue most), so type I is pale pink and type VI dark brown.
2. **Lesion.** A star-shaped region: radius ``r(theta) = r0 * (1 + b cos(theta - phi)
   + sum_k a_k cos(k theta + psi_k))`` (asymmetry ``b``, border irregularity ``a_k``,
   k = 3..6) around a centre near the middle. Inside it pigment of optical density
   ``P(x, y)`` darkens the skin multiplicatively: ``lesion = skin * exp(-P * EPS_LESION)``.
   Because the darkening is a *factor*, the lesion's contrast against the skin
   (``skin - lesion``) falls in proportion to the skin's reflectance: lower on darker
   skin types. That is this model's (stated) reason a classifier can do worse there.

   - benign (label 0): round and symmetric (``b`` ~ U(0, 0.08), ``a_k`` ~ U(0, 0.05)),
     smaller (``r0`` ~ U(0.25, 0.48)), uniform pigment (``P`` ~ U(0.5, 1.1), 3% spatial
     variation);
   - malignant (label 1): asymmetric (``b`` ~ U(0.05, 0.3)), irregular border
     (``a_k`` ~ U(0.02, 0.15)), larger (``r0`` ~ U(0.33, 0.6)), multi-coloured pigment
     (the same base ``P`` ~ U(0.5, 1.1) plus two to three Gaussian blobs of +-0.5 and a
     blue-grey veil with probability 0.5).

   The base pigment is the same for both classes (so overall darkness is no cue) and
   the shape ranges overlap, so no single cue separates them; the malignant cues
   (border, asymmetry, colour variation) are all contrasts, which fade on dark skin.
3. **Texture.** Vignetting (the dermatoscope's dark rim, strength U(0.05, 0.25)),
   0-3 hairs (dark curved lines, optical density 1.2, Poisson(1.2)), and Gaussian sensor
   noise (s.d. ``noise``, default 0.04) added last, then clipped to [0, 1].
4. **Shortcut variants** (training sets only; test sets are drawn with ``cue=0``):

   - ``shortcut="marker"``: a purple ink dot (radius ~ 2.5 px) in a random corner, away
     from the lesion, present with probability ``(1 + cue)/2`` on malignant and
     ``(1 - cue)/2`` on benign images (``cue=0``: probability 1/2, independent of the
     label). ``cue_mask`` marks its pixels.
   - ``shortcut="tone"``: the label's probability depends on skin type,
     ``P(malignant | t) = prevalence + cue * (t - 3.5) / 5`` (darker -> more often
     malignant); ``cue=0`` makes label and type independent.

Deterministic per seed: the same ``seed`` (an int or a ``numpy.random.Generator`` in the
same state) gives the same images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

TYPES = (1, 2, 3, 4, 5, 6)  # Fitzpatrick I..VI
TYPE_NAMES = ("I", "II", "III", "IV", "V", "VI")
MELANIN = {1: 0.10, 2: 0.25, 3: 0.45, 4: 0.70, 5: 1.00, 6: 1.35}  # optical density
BASE = np.array([0.93, 0.78, 0.68])  # dermis colour without melanin
EPS = np.array([0.55, 0.75, 1.00])  # melanin extinction per channel (R, G, B)
EPS_LESION = np.array([1.0, 1.05, 0.95])  # lesion pigment (melanin in the lesion)
VEIL = np.array([0.9, 0.55, 0.35])  # blue-grey veil: absorbs red most
MARKER = np.array([0.45, 0.18, 0.62])  # purple surgical-ink dot
HAIR_DENSITY = 1.2
# Light-skin-dominated mix, as in many dermatology data sets (types I-III ~90%).
LIGHT_DOMINATED = (0.40, 0.32, 0.18, 0.06, 0.03, 0.01)

Shortcut = Literal["none", "marker", "tone"]


@dataclass
class SkinLesions:
    """A simulated data set: images, labels, skin types and where the lesion (and cue) lie."""

    images: np.ndarray  # (n, 3, size, size) float32 in [0, 1]
    labels: np.ndarray  # (n,) int64, 1 = malignant
    skin_type: np.ndarray  # (n,) int64, Fitzpatrick 1..6
    mask: np.ndarray  # (n, size, size) bool, the lesion
    cue_mask: np.ndarray  # (n, size, size) bool, the marker artefact (all False without one)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> SkinLesions:
        return SkinLesions(self.images[idx], self.labels[idx], self.skin_type[idx],
                           self.mask[idx], self.cue_mask[idx])

    @staticmethod
    def concat(parts: list[SkinLesions]) -> SkinLesions:
        return SkinLesions(*(np.concatenate([getattr(p, f) for p in parts])
                             for f in ("images", "labels", "skin_type", "mask", "cue_mask")))


def skin_colour(skin_type: int, melanin_jitter: float = 0.0) -> np.ndarray:
    """Beer-Lambert skin reflectance (R, G, B) of a Fitzpatrick type."""
    return BASE * np.exp(-MELANIN[skin_type] * (1 + melanin_jitter) * EPS)


def simulate(n: int, seed: int | np.random.Generator, *, size: int = 32,
             type_probs: tuple[float, ...] | None = None, prevalence: float = 0.5,
             shortcut: Shortcut = "none", cue: float = 0.0,
             noise: float = 0.04) -> SkinLesions:
    """Draw ``n`` simulated dermatoscopy images (see the module docstring for the model).

    Args:
        n: number of images.
        seed: an int or a ``numpy.random.Generator``.
        size: image side in pixels.
        type_probs: probability of types I..VI (default: uniform).
        prevalence: share of malignant lesions (before the tone shortcut's shift).
        shortcut: ``none``, ``marker`` (ink dot tied to the label) or ``tone`` (label tied
            to skin type).
        cue: strength of the shortcut's correlation, in [0, 1]; 0 at test.
        noise: sensor noise standard deviation.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    probs = np.full(6, 1 / 6) if type_probs is None else np.asarray(type_probs, float)
    if probs.shape != (6,) or probs.min() < 0 or probs.sum() <= 0:
        raise ValueError("type_probs must be six non-negative numbers (types I..VI)")
    if not 0 <= cue <= 1:
        raise ValueError("cue must be in [0, 1]")
    types = rng.choice(np.array(TYPES), size=n, p=probs / probs.sum())
    p_mal = np.full(n, prevalence)
    if shortcut == "tone":
        p_mal = np.clip(prevalence + cue * (types - 3.5) / 5, 0, 1)
    labels = (rng.random(n) < p_mal).astype(np.int64)
    marker_on = np.zeros(n, bool)
    if shortcut == "marker":
        marker_on = rng.random(n) < np.where(labels == 1, (1 + cue) / 2, (1 - cue) / 2)
    lin = (np.arange(size) + 0.5) / size * 2 - 1
    yy, xx = np.meshgrid(lin, lin, indexing="ij")
    images = np.empty((n, 3, size, size), np.float32)
    masks = np.zeros((n, size, size), bool)
    cues = np.zeros((n, size, size), bool)
    for i in range(n):
        img, masks[i], cues[i] = _one_image(rng, int(types[i]), int(labels[i]),
                                            bool(marker_on[i]), xx, yy, noise)
        images[i] = img.transpose(2, 0, 1)
    return SkinLesions(images, labels, types.astype(np.int64), masks, cues)


def _one_image(rng: np.random.Generator, skin_type: int, label: int, marker: bool,
               xx: np.ndarray, yy: np.ndarray, noise: float):
    size = xx.shape[0]
    skin = skin_colour(skin_type, rng.normal(0, 0.08))
    img = np.broadcast_to(skin, (size, size, 3)).copy()
    # lesion shape: a star-shaped region with asymmetry b and border harmonics a_k
    malignant = label == 1
    r0 = rng.uniform(0.33, 0.6) if malignant else rng.uniform(0.25, 0.48)
    b = rng.uniform(0.05, 0.3) if malignant else rng.uniform(0, 0.08)
    amp = rng.uniform(0.02, 0.15, 4) if malignant else rng.uniform(0, 0.05, 4)
    cx, cy = rng.normal(0, 0.08, 2)
    theta = np.arctan2(yy - cy, xx - cx)
    rho = np.hypot(xx - cx, yy - cy)
    radius = 1 + b * np.cos(theta - rng.uniform(0, 2 * np.pi))
    for k, a in zip(range(3, 7), amp, strict=True):
        radius = radius + a * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    mask = rho <= r0 * radius
    # pigment: uniform (benign) or multi-coloured with blobs (malignant)
    if malignant:
        pig = np.full((size, size), rng.uniform(0.5, 1.1))
        for _ in range(rng.integers(2, 4)):
            bx, by = cx + rng.normal(0, 0.2), cy + rng.normal(0, 0.2)
            pig += rng.uniform(-0.5, 0.5) * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / 0.02)
        pig = np.clip(pig, 0.2, None)
    else:
        pig = rng.uniform(0.5, 1.1) * (1 + rng.normal(0, 0.03, (size, size)))
    edge = np.clip((r0 * radius - rho) / 0.06, 0, 1)  # soft border, 0 outside the mask
    absorb = pig[..., None] * EPS_LESION
    if malignant and rng.random() < 0.5:  # blue-grey veil over part of the lesion
        vx, vy = cx + rng.normal(0, 0.15), cy + rng.normal(0, 0.15)
        absorb = absorb + 0.4 * np.exp(-((xx - vx) ** 2 + (yy - vy) ** 2) / 0.03)[..., None] * VEIL
    img = img * np.exp(-absorb * edge[..., None])
    # hairs: dark curved lines, drawn as pixel paths
    for _ in range(rng.poisson(HAIR_DENSITY)):
        t = np.linspace(0, 1, 4 * size)
        x0, y0 = rng.uniform(-1, 1, 2)
        ang = rng.uniform(0, 2 * np.pi)
        length, bend = rng.uniform(0.8, 1.8), rng.normal(0, 0.4)
        px = x0 + length * t * np.cos(ang) - bend * t ** 2 * np.sin(ang)
        py = y0 + length * t * np.sin(ang) + bend * t ** 2 * np.cos(ang)
        ix = np.round((px + 1) / 2 * size - 0.5).astype(int)
        iy = np.round((py + 1) / 2 * size - 0.5).astype(int)
        ok = (ix >= 0) & (ix < size) & (iy >= 0) & (iy < size)
        hair = np.zeros((size, size), bool)
        hair[iy[ok], ix[ok]] = True
        img[hair] *= np.exp(-1.2 * EPS)
    cue = np.zeros((size, size), bool)
    if marker:  # ink dot in a corner, outside the lesion
        sx, sy = rng.choice([-1, 1], 2)
        mx, my = sx * rng.uniform(0.72, 0.82), sy * rng.uniform(0.72, 0.82)
        cue = np.hypot(xx - mx, yy - my) <= 2.5 * 2 / size
        cue &= ~mask
        img[cue] = MARKER
    vign = 1 - rng.uniform(0.05, 0.25) * (xx ** 2 + yy ** 2) / 2
    img = img * vign[..., None] + rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 1), mask, cue


def lesion_contrast(data: SkinLesions) -> np.ndarray:
    """Per image: mean skin intensity outside the lesion minus mean inside (grey level)."""
    grey = data.images.mean(axis=1)
    inside = (grey * data.mask).sum((1, 2)) / np.maximum(data.mask.sum((1, 2)), 1)
    out = ~data.mask & ~data.cue_mask
    outside = (grey * out).sum((1, 2)) / np.maximum(out.sum((1, 2)), 1)
    return outside - inside
