"""A detection data set composed from real handwritten digits (Lecture 3, object detection).

Each scene is a grayscale ``size x size`` canvas holding 1..``max_digits`` digits from
scikit-learn's 8x8 digits, upscaled (bilinear) to a random height ``s`` in
``[min_scale, max_scale]`` and pasted (pixel-wise max) at random, non-overlapping places.
Clutter makes the background class non-trivial:

- Gaussian pixel noise ``N(0, noise^2)``;
- short anti-aliased line strokes anywhere (they may cross digits);
- distractor fragments: a random corner crop of another digit, pasted off the digits.

A digit's box is the tight box of its pasted pixels above ``ink`` — in pixel-edge
coordinates ``(x1, y1, x2, y2)``: pixel column ``c`` spans ``[c, c + 1)``. Labels are the
digit classes 0..9. Train scenes use the digits' train split, test scenes the test split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.draw import line_aa
from skimage.transform import resize

from introdl.data import load_arrays


@dataclass
class SceneConfig:
    size: int = 96  # canvas height and width in pixels
    min_digits: int = 1  # digits per scene, at least
    max_digits: int = 4  # digits per scene, at most
    min_scale: int = 16  # smallest digit height in pixels
    max_scale: int = 32  # largest digit height in pixels
    noise: float = 0.06  # std of the Gaussian pixel noise (image in 0..1)
    strokes: int = 3  # random line strokes per scene
    fragments: int = 2  # pieces of other digits per scene
    ink: float = 0.25  # a pixel above this belongs to its digit (defines the box)


@dataclass
class Scenes:
    """Images (N, H, W) float32 in 0..1; per image, boxes (k, 4) float32 xyxy and labels (k,)."""

    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.images)


def _glyph(digit: np.ndarray, height: int, width: int) -> np.ndarray:
    """An 8x8 digit in 0..16 resized to (height, width) in 0..1."""
    return np.clip(resize(digit / 16.0, (height, width), order=1, anti_aliasing=False), 0, 1)


def _overlaps(box: np.ndarray, others: list[np.ndarray], margin: float) -> bool:
    for o in others:
        if (box[0] < o[2] + margin and o[0] < box[2] + margin
                and box[1] < o[3] + margin and o[1] < box[3] + margin):
            return True
    return False


def compose_scene(
    digits: np.ndarray, classes: np.ndarray, cfg: SceneConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One scene: (image (H, W), boxes (k, 4), labels (k,)) from a pool of 8x8 digits."""
    H = W = cfg.size
    canvas = np.zeros((H, W), np.float32)
    boxes: list[np.ndarray] = []
    labels: list[int] = []
    for _ in range(rng.integers(cfg.min_digits, cfg.max_digits + 1)):
        i = rng.integers(len(digits))
        s = int(rng.integers(cfg.min_scale, cfg.max_scale + 1))
        g = _glyph(digits[i], s, s)
        rows, cols = np.nonzero(g > cfg.ink)
        if len(rows) == 0:
            continue
        for _try in range(50):  # rejection sampling for a free place
            y0, x0 = int(rng.integers(0, H - s + 1)), int(rng.integers(0, W - s + 1))
            box = np.array([x0 + cols.min(), y0 + rows.min(), x0 + cols.max() + 1,
                            y0 + rows.max() + 1], np.float32)
            if not _overlaps(box, boxes, margin=2):
                canvas[y0:y0 + s, x0:x0 + s] = np.maximum(canvas[y0:y0 + s, x0:x0 + s], g)
                boxes.append(box)
                labels.append(int(classes[i]))
                break
    for _ in range(cfg.fragments):  # a corner of another digit, away from the digits
        d = digits[rng.integers(len(digits))]
        r0, c0 = rng.integers(0, 4, size=2)
        piece = d[r0:r0 + rng.integers(3, 5), c0:c0 + rng.integers(3, 5)]
        ph, pw = (np.array(piece.shape) * rng.uniform(2.0, 3.5)).astype(int)
        g = _glyph(piece, max(ph, 2), max(pw, 2))
        y0, x0 = int(rng.integers(0, H - g.shape[0])), int(rng.integers(0, W - g.shape[1]))
        box = np.array([x0, y0, x0 + g.shape[1], y0 + g.shape[0]], np.float32)
        if not _overlaps(box, boxes, margin=1):
            sl = (slice(y0, y0 + g.shape[0]), slice(x0, x0 + g.shape[1]))
            canvas[sl] = np.maximum(canvas[sl], g)
    for _ in range(cfg.strokes):  # short strokes anywhere
        r0, c0 = rng.integers(0, H), rng.integers(0, W)
        length, angle = rng.uniform(4, 12), rng.uniform(0, np.pi)
        r1 = int(np.clip(r0 + length * np.sin(angle), 0, H - 1))
        c1 = int(np.clip(c0 + length * np.cos(angle), 0, W - 1))
        rr, cc, val = line_aa(int(r0), int(c0), r1, c1)
        canvas[rr, cc] = np.maximum(canvas[rr, cc], val * rng.uniform(0.5, 1.0))
    canvas = np.clip(canvas + rng.normal(0, cfg.noise, canvas.shape), 0, 1).astype(np.float32)
    return canvas, np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64)


def make_scenes(n: int, split: str = "train", cfg: SceneConfig | None = None,
                seed: int = 0) -> Scenes:
    """``n`` scenes from the digits' ``split`` ("train" or "test"), reproducible from ``seed``."""
    cfg = cfg or SceneConfig()
    digits, classes = load_arrays("digits", split)
    rng = np.random.default_rng(seed)
    out = [compose_scene(digits, classes, cfg, rng) for _ in range(n)]
    return Scenes(np.stack([o[0] for o in out]), [o[1] for o in out], [o[2] for o in out])
