"""Procedurally generated digit *styles* for few-shot translation: typeface x colour treatment.

A style is one typeface and one colour/texture treatment; content is the digit. The
generative model (parameters are :class:`StyleSetConfig`'s):

- typefaces: :func:`~introdl.adaptation.domains.syndigits.font_files` shuffled by
  ``data_seed``; each style takes its own face, so training and unseen styles never share one;
- treatment, per style: a foreground and a background colour (uniform RGB, keeping 20-100%
  of its distance from its gray, as SynDigits; luminances differ by >= 0.3; each style's
  (fg, bg) pair at least ``min_distance`` (RGB, 0..255) from every earlier style's) and a
  background pattern uniform over ``flat``, ``gradient`` (to a second colour, a fixed
  angle), ``stripes``
  (period 4-9 px, fixed angle, amplitude 25-60 of 255) and ``checker`` (period 3-6 px,
  amplitude 25-60);
- per image: digit uniform over 0..9, height 55-85% of the crop, rotation ±20°, centre
  offset ±6% (the pose: it varies within a style), pattern phase uniform, colour jitter
  N(0, 8) per channel of each colour, gaussian pixel noise of std 4 (of 255).

Styles ``0 .. train_styles - 1`` are the training styles; the next ``test_styles`` are the
unseen ones. Every image is drawn from a seeded generator: the same ``(config, style, part)``
always gives the same images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from introdl.adaptation.domains.syndigits import (
    SynDigitsConfig,
    digit_layers,
    font_files,
    luminance,
)
from introdl.errors import DataUnavailable

PATTERNS = ("flat", "gradient", "stripes", "checker")
PARTS = ("train", "classifier", "examples", "test")  # disjoint image sets of each style


@dataclass(frozen=True)
class StyleSetConfig:
    train_styles: int = 16  # styles the translators train on (the funit experiment: 96)
    test_styles: int = 6  # unseen styles (their own typefaces and treatments)
    size: int = 32  # crop side in pixels
    data_seed: int = 2021  # draws the styles and their images
    min_distance: float = 90.0  # least RGB distance between two styles' (fg, bg) pairs
    height: tuple[float, float] = (0.55, 0.85)  # digit height, fraction of the crop
    rotation: float = 20.0  # rotation uniform in +-this, degrees
    jitter: float = 8.0  # std of per-image colour jitter, of 255
    noise: float = 4.0  # std of pixel noise, of 255


@dataclass(frozen=True)
class Style:
    """One style: its typeface file and colour treatment (colours RGB in 0..255)."""

    index: int
    font: Path
    fg: tuple[float, float, float]
    bg: tuple[float, float, float]
    pattern: str
    second: tuple[float, float, float]  # the gradient's other end (unused by other patterns)
    angle: float  # radians: the gradient's / stripes' direction
    period: float  # pixels: stripes' / checker's period
    amplitude: float  # of 255: stripes' / checker's brightness swing

    @property
    def name(self) -> str:
        return f"{self.font.stem}/{self.pattern}"


def _colour(rng: np.random.Generator) -> np.ndarray:
    rgb = rng.uniform(0, 255, size=3)
    return rgb.mean() + rng.uniform(0.2, 1.0) * (rgb - rgb.mean())


def make_styles(cfg: StyleSetConfig) -> list[Style]:
    """``train_styles + test_styles`` distinct styles, the same for the same ``cfg``."""
    fonts = font_files()
    total = cfg.train_styles + cfg.test_styles
    if len(fonts) < total:
        raise DataUnavailable(f"{total} styles need {total} typefaces, only {len(fonts)} are "
                              "installed; run `bash scripts/setup` or ask for fewer styles")
    rng = np.random.default_rng(cfg.data_seed)
    faces = [fonts[i] for i in rng.permutation(len(fonts))[:total]]
    styles: list[Style] = []
    pairs: list[np.ndarray] = []
    while len(styles) < total:
        fg, bg = _colour(rng), _colour(rng)
        pair = np.concatenate([fg, bg])
        if abs(luminance(fg) - luminance(bg)) < 0.3 or any(
                np.linalg.norm(pair - p) < cfg.min_distance for p in pairs):
            continue
        pairs.append(pair)
        styles.append(Style(
            index=len(styles), font=faces[len(styles)], fg=tuple(fg), bg=tuple(bg),
            pattern=PATTERNS[int(rng.integers(len(PATTERNS)))], second=tuple(_colour(rng)),
            angle=float(rng.uniform(0, np.pi)), period=float(rng.uniform(4, 9)),
            amplitude=float(rng.uniform(25, 60))))
    return styles


def _background(style: Style, n: int, rng: np.random.Generator, jitter: float) -> np.ndarray:
    bg = np.asarray(style.bg) + rng.normal(0, jitter, 3)
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    along = xx * np.cos(style.angle) + yy * np.sin(style.angle)
    if style.pattern == "gradient":
        t = ((along - along.min()) / (np.ptp(along) + 1e-9))[..., None]
        return bg * (1 - t) + np.asarray(style.second) * t
    out = np.broadcast_to(bg, (n, n, 3)).astype(float)
    phase = rng.uniform(0, 2 * np.pi)
    if style.pattern == "stripes":
        wave = np.sin(2 * np.pi * along / style.period + phase)
        return out + style.amplitude * wave[..., None]
    if style.pattern == "checker":
        p = max(3.0, style.period * 2 / 3)
        shift = rng.uniform(0, p, 2)
        sign = (np.floor((xx + shift[0]) / p) + np.floor((yy + shift[1]) / p)) % 2 * 2 - 1
        return out + 0.5 * style.amplitude * sign[..., None]
    return out


def render_style(style: Style, n: int, seed: int, cfg: StyleSetConfig
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images of ``style``: uint8 ``(n, size, size, 3)`` and their digits ``(n,)``."""
    rng = np.random.default_rng(seed)
    draw = SynDigitsConfig(size=cfg.size, supersample=2, height=cfg.height,
                           rotation=(-cfg.rotation, cfg.rotation), distractor_prob=0.0)
    labels = rng.integers(0, 10, size=n).astype(np.int64)
    images = np.empty((n, cfg.size, cfg.size, 3), np.uint8)
    k, s = draw.supersample, cfg.size
    for i in range(n):
        ink, _ = digit_layers(int(labels[i]), style.font, draw, rng)
        alpha = ink.reshape(s, k, s, k).mean(axis=(1, 3))[..., None] / 255.0
        fg = np.asarray(style.fg) + rng.normal(0, cfg.jitter, 3)
        img = _background(style, s, rng, cfg.jitter) * (1 - alpha) + fg * alpha
        img = img + rng.normal(0, cfg.noise, img.shape)
        images[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return images, labels


@dataclass(frozen=True)
class StyledImages:
    """Images ``(N, 3, S, S)`` in 0..1 with their digit (content) and style labels."""

    x: torch.Tensor
    digit: torch.Tensor
    style: torch.Tensor

    def of_style(self, s: int) -> torch.Tensor:
        return self.x[self.style == s]


def style_part(styles: list[Style], part: str, per_style: int, cfg: StyleSetConfig
               ) -> StyledImages:
    """``per_style`` images of each of ``styles`` from the named part (see :data:`PARTS`).

    Each part has its own seed, so the parts never share an image.
    """
    xs, ds, ss = [], [], []
    for st in styles:
        seed = cfg.data_seed * 1000 + st.index * 10 + PARTS.index(part)
        img, dig = render_style(st, per_style, seed, cfg)
        xs.append(img)
        ds.append(dig)
        ss.append(np.full(per_style, st.index))
    x = torch.from_numpy(np.concatenate(xs)).permute(0, 3, 1, 2).float() / 255.0
    return StyledImages(x, torch.from_numpy(np.concatenate(ds)),
                        torch.from_numpy(np.concatenate(ss)).long())
