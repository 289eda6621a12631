"""Lecture 10 — domain adaptation: the SynNumbers digits of Ganin & Lempitsky (2015), the usual
offline stand-in for SVHN.

Each image is a house-number-like crop whose label is the digit at its centre. The generative
model, per image (ranges are :class:`SynDigitsConfig`'s defaults):

- label uniform over 0..9; typeface uniform over :func:`font_files` (~140 Latin faces);
- digit height 50-85% of the crop (less if the face's widest digit would not fit), rotation
  uniform in ±15°, centre offset up to ±6% of the crop on each axis;
- with probability 0.6 per side, a neighbouring digit in the same face, size and baseline, a
  gap of 5-30% of the digit height away, so that it shows cropped at the left/right edge
  (it never overlaps the centre digit's box);
- foreground and background colours uniform RGB, pulled 0-80% toward their gray, redrawn until
  their luminances differ by >= 0.3; with probability 0.3 the background is a linear gradient
  between two such colours, with probability 0.3 it carries a smooth noise texture;
- gaussian blur of sigma 0-1 px, then gaussian pixel noise of std 0-10 (of 255).

Digits are drawn at 3x the crop's resolution and box-filtered down.

Departure from the paper: their typefaces were the Windows system fonts; ours are Debian's free
font packages (URW base35, TeX Gyre, Liberation, DejaVu, FreeFont, Noto core) and matplotlib's
bundled fonts, which are always there (then about 20 faces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter

from introdl.errors import DataUnavailable

FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/share/texmf/fonts"),
              Path("/usr/share/texlive"))
_EXTENSIONS = {".otf": 0, ".ttf": 1, ".pfb": 2, ".t1": 3}  # preferred format first
_SKIP = re.compile(r"symbol|dingbat|emoji|math|music|lastresort|nonuni|stixsiz|cm(ex|sy|mi)\d"
                   r"|d050000l", re.IGNORECASE)  # symbol, dingbat, math and fallback faces
_LATIN = "AaGgRr"  # a Latin face draws these (non-Latin Noto faces borrow digits but not these)


@dataclass(frozen=True)
class SynDigitsConfig:
    """How :func:`render_syndigits` draws; a range ``(lo, hi)`` is sampled uniformly per image."""

    size: int = 32  # side of the square crop in pixels
    supersample: int = 3  # draw at this multiple of ``size``, then box-filter down
    height: tuple[float, float] = (0.5, 0.85)  # digit height as a fraction of the crop
    rotation: tuple[float, float] = (-15.0, 15.0)  # rotation in degrees (counter-clockwise)
    offset: tuple[float, float] = (-0.06, 0.06)  # centre shift per axis, fraction of the crop
    distractor_prob: float = 0.6  # chance of a neighbouring digit, per side
    gap: tuple[float, float] = (0.05, 0.3)  # neighbour's gap, fraction of the digit height
    min_contrast: float = 0.3  # least |luminance(fg) - luminance(bg)|, luminance in 0..1
    gradient_prob: float = 0.3  # chance of a linear background gradient
    texture_prob: float = 0.3  # chance of a smooth noise texture on the background
    blur: tuple[float, float] = (0.0, 1.0)  # gaussian blur sigma in output pixels
    noise: tuple[float, float] = (0.0, 10.0)  # std of gaussian pixel noise, of 255


@lru_cache(maxsize=1)
def font_files() -> list[Path]:
    """Latin typefaces that draw 0-9 distinctly: Debian's font packages plus matplotlib's fonts.

    One file per family and style (an .otf is preferred to the Type 1 copy of the same face).
    The order depends only on the fonts, not on where Python is installed: by root (Debian's
    folders, then matplotlib's), then by the path inside it, so the same seed draws the same
    typefaces from any checkout. Probing every installed font takes about a second, once.
    """
    roots = [*FONT_ROOTS, Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    candidates = [(_EXTENSIONS[p.suffix.lower()], i, str(p.relative_to(root)), p)
                  for i, root in enumerate(roots) if root.is_dir() for p in root.rglob("*")
                  if p.suffix.lower() in _EXTENSIONS and not _SKIP.search(p.name)]
    candidates.sort(key=lambda c: c[:3])
    names: set[tuple[str, str]] = set()
    shapes: set[bytes] = set()
    keep = []
    for _, root, rel, path in candidates:
        probe = _probe(path)
        if probe is not None and probe[0] not in names and probe[1] not in shapes:
            names.add(probe[0])
            shapes.add(probe[1])
            keep.append((root, rel, path))
    return [path for _, _, path in sorted(keep)]


def _probe(path: Path) -> tuple[tuple[str, str], bytes] | None:
    """((family, style), digit shapes) if the face draws ten distinct digits and Latin letters."""
    try:
        font = ImageFont.truetype(str(path), 28)
    except OSError:  # a format FreeType (as built into Pillow) cannot read
        return None
    notdef = _shape(font, "\uffff")  # a noncharacter: every face draws its .notdef box
    digits = [_shape(font, c) for c in "0123456789"]
    letters = [_shape(font, c) for c in _LATIN]
    if any(s in (b"", notdef) for s in digits + letters) or len(set(digits)) < 10:
        return None
    return font.getname(), b"|".join(digits)


def _shape(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    """The character's binarised ink and its size (empty bytes if it has no ink)."""
    mask, _ = _ink(font, char)
    return (mask > 127).tobytes() + bytes(mask.shape) if mask.size else b""


def _ink(font: ImageFont.FreeTypeFont, char: str) -> tuple[np.ndarray, int]:
    """The character's ink as uint8 cropped to its box, and the box's top below the origin."""
    left, top, right, bottom = font.getbbox(char)
    img = Image.new("L", (right - left + 4, bottom - top + 4))
    ImageDraw.Draw(img).text((2 - left, 2 - top), char, font=font, fill=255)
    ink = np.asarray(img)
    rows, cols = np.nonzero(ink)
    if rows.size == 0:
        return np.zeros((0, 0), np.uint8), 0
    return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1], top - 2 + rows.min()


@lru_cache(maxsize=4096)
def _glyphs(path: Path, px: int) -> tuple[list[np.ndarray], list[int], float]:
    """The face's digits at ``px`` pixels: ink masks, their tops, and the median digit height."""
    font = ImageFont.truetype(str(path), px)
    masks, tops = zip(*(_ink(font, d) for d in "0123456789"), strict=True)
    return list(masks), list(tops), float(np.median([m.shape[0] for m in masks]))


def _resized(mask: np.ndarray, scale: float) -> np.ndarray:
    h, w = mask.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.BILINEAR))


def _paste(canvas: np.ndarray, mask: np.ndarray, x: int, y: int) -> None:
    """Max-composite ``mask`` with its top-left at (x, y), clipped to the canvas."""
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if x1 > x0 and y1 > y0:
        region = canvas[y0:y1, x0:x1]
        np.maximum(region, mask[y0 - y:y1 - y, x0 - x:x1 - x], out=region)


def digit_layers(label: int, path: Path, cfg: SynDigitsConfig,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ink of the centre digit and of its neighbours, uint8 (side, side) at the drawing scale."""
    side = cfg.size * cfg.supersample
    masks, tops, digit_h = _glyphs(path, side)
    scale = rng.uniform(*cfg.height) * side / digit_h
    scale = min(scale, 0.9 * side / max(m.shape[1] for m in masks))  # keep wide faces in
    big = 2 * side  # room for the rotation
    ink = np.zeros((big, big, 3), np.uint8)  # channel 0: the centre digit, 1: neighbours
    centre = _resized(masks[label], scale)
    x0, y0 = (big - centre.shape[1]) // 2, (big - centre.shape[0]) // 2
    _paste(ink[..., 0], centre, x0, y0)
    for right in (False, True):
        if rng.random() >= cfg.distractor_prob:
            continue
        other = int(rng.integers(10))
        mask = _resized(masks[other], scale)
        gap = int(np.ceil(rng.uniform(*cfg.gap) * scale * digit_h))
        x = x0 + centre.shape[1] + gap if right else x0 - gap - mask.shape[1]
        _paste(ink[..., 1], mask, x, y0 + round((tops[other] - tops[label]) * scale))
    angle = np.radians(rng.uniform(*cfg.rotation))
    ox, oy = side / 2 + np.round(rng.uniform(*cfg.offset, size=2) * side)  # digit's centre
    c, s, mid = np.cos(angle), np.sin(angle), big / 2
    # the rotated, shifted side x side window in one resampling (faster than rotate + crop);
    # RGB, not "LA": Pillow would premultiply the second layer into the first
    crop = np.asarray(Image.fromarray(ink, "RGB").transform(
        (side, side), Image.Transform.AFFINE,
        (c, -s, mid - c * ox + s * oy, s, c, mid - s * ox - c * oy), Image.Resampling.BILINEAR))
    return crop[..., 0], crop[..., 1]


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114]) / 255.0


def _colours(k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` RGB colours in 0..255, uniform then pulled toward gray (house paint is muted)."""
    rgb = rng.uniform(0, 255, size=(k, 3))
    gray = rgb.mean(axis=1, keepdims=True)
    return gray + rng.uniform(0.2, 1.0, size=(k, 1)) * (rgb - gray)


def _palette(cfg: SynDigitsConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(foreground RGB, background (size, size, 3)) in 0..255 with enough luminance contrast."""
    while True:
        ends = _colours(2, rng)  # the background gradient's two ends
        if rng.random() >= cfg.gradient_prob:
            ends[1] = ends[0]
        fgs = _colours(16, rng)  # candidates, so that one draw nearly always suffices
        ok = np.all(np.abs(luminance(fgs)[:, None] - luminance(ends)) >= cfg.min_contrast, 1)
        if ok.any():
            break
    n = cfg.size
    bg = np.broadcast_to(ends[0], (n, n, 3))
    if not np.array_equal(ends[0], ends[1]):
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:n, 0:n] / (n - 1) - 0.5
        t = np.clip(0.5 + xx * np.cos(angle) + yy * np.sin(angle), 0, 1)[..., None]
        bg = ends[0] * (1 - t) + ends[1] * t
    if rng.random() < cfg.texture_prob:
        texture = gaussian_filter(rng.normal(size=(n, n)), rng.uniform(1.0, 3.0))
        bg = bg + texture[..., None] / (texture.std() + 1e-6) * rng.uniform(5, 15)
    return fgs[ok.argmax()], bg


def _render_one(label: int, path: Path, cfg: SynDigitsConfig,
                rng: np.random.Generator) -> np.ndarray:
    centre, others = digit_layers(label, path, cfg, rng)
    k, n = cfg.supersample, cfg.size
    alpha = np.maximum(centre, others).reshape(n, k, n, k).mean(axis=(1, 3)) / 255.0
    sigma = rng.uniform(*cfg.blur)
    if sigma > 0:
        alpha = gaussian_filter(alpha, sigma, mode="nearest")
    fg, bg = _palette(cfg, rng)
    img = bg * (1 - alpha[..., None]) + fg * alpha[..., None]
    img = img + rng.normal(size=img.shape) * rng.uniform(*cfg.noise)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def render_syndigits(n: int, seed: int,
                     cfg: SynDigitsConfig = SynDigitsConfig()) -> tuple[np.ndarray, np.ndarray]:
    """``n`` crops: (images uint8 ``(n, size, size, 3)`` RGB, labels int64 ``(n,)``).

    Deterministic for a given ``(n, seed, cfg)`` and set of installed fonts; labels are
    uniform over 0..9. Raises DataUnavailable when no usable font is installed.
    """
    fonts = font_files()
    if not fonts:
        raise DataUnavailable("no font that draws digits 0-9 was found under /usr/share/fonts "
                              "or matplotlib's data; run `bash scripts/setup` to install them")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype(np.int64)
    choice = rng.integers(0, len(fonts), size=n)
    images = np.empty((n, cfg.size, cfg.size, 3), np.uint8)
    for i in range(n):
        images[i] = _render_one(int(labels[i]), fonts[choice[i]], cfg, rng)
    return images, labels
