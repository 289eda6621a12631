"""A segmentation data set composed from real images (Lecture 3, semantic segmentation).

Each scene is a grayscale ``size x size`` crop of a scikit-image photograph of a
texture (brick, grass, gravel) or of a real scene (camera), with 1..``max_objects``
Fashion-MNIST items pasted on it. An item is resized (bilinear) to a random side in
``[min_scale, max_scale]``; its pixels brighter than ``ink`` are the object, and
those pixels replace the background. The mask holds, per pixel, the object's class
(1..K, in the order of ``classes``) or 0 for background; a later item occludes an
earlier one in both image and mask.

Train and test scenes share no source pixels: train items come from Fashion-MNIST's
train split and backgrounds from the top half of each photograph, test items from
the test split and backgrounds from the bottom half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.transform import resize

from introdl.data import load_arrays

FASHION_NAMES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Boot"]


@dataclass
class SceneConfig:
    size: int = 48  # canvas height and width in pixels
    classes: tuple[int, ...] = (1, 7, 8)  # Fashion-MNIST classes pasted: Trouser, Sneaker, Bag
    min_objects: int = 1  # items per scene, at least
    max_objects: int = 3  # items per scene, at most
    min_scale: int = 16  # smallest item side in pixels
    max_scale: int = 28  # largest item side in pixels
    ink: float = 0.1  # an item pixel above this (in 0..1) belongs to the object
    textures: tuple[str, ...] = ("brick", "grass", "gravel", "camera")  # skimage.data photos


@dataclass
class Scenes:
    """Images (N, H, W) float32 in 0..1 and masks (N, H, W) int64 with 0 = background."""

    images: np.ndarray
    masks: np.ndarray
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.images)


def paste(image: np.ndarray, mask: np.ndarray, item: np.ndarray, label: int, top: int,
          left: int, ink: float) -> None:
    """Paste ``item`` (h, w) in 0..1 at (top, left): its pixels above ``ink`` overwrite
    ``image`` and get ``label`` in ``mask`` (both changed in place)."""
    h, w = item.shape
    on = item > ink  # (h, w) object pixels
    image[top:top + h, left:left + w][on] = item[on]
    mask[top:top + h, left:left + w][on] = label


def _texture_halves(names: tuple[str, ...]) -> dict[str, list[np.ndarray]]:
    from skimage import data

    halves: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    for name in names:
        img = getattr(data, name)().astype(np.float32) / 255.0  # (512, 512) grayscale
        mid = img.shape[0] // 2
        halves["train"].append(img[:mid])
        halves["test"].append(img[mid:])
    return halves


def _background(photo: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop (side 1x..3x ``size``) of ``photo``, resized to ``size``."""
    side = int(rng.integers(size, min(3 * size, *photo.shape) + 1))
    r = int(rng.integers(0, photo.shape[0] - side + 1))
    c = int(rng.integers(0, photo.shape[1] - side + 1))
    crop = photo[r:r + side, c:c + side]
    return resize(crop, (size, size), order=1, anti_aliasing=True).astype(np.float32)


def make_scenes(n: int, split: str = "train", cfg: SceneConfig | None = None,
                seed: int = 0) -> Scenes:
    """``n`` scenes with masks, drawn reproducibly from ``seed``."""
    cfg = cfg or SceneConfig()
    rng = np.random.default_rng(seed)
    X, y = load_arrays("fashion-mnist", split)
    pools = [np.flatnonzero(y == c) for c in cfg.classes]
    photos = _texture_halves(cfg.textures)[split]
    images = np.empty((n, cfg.size, cfg.size), np.float32)
    masks = np.zeros((n, cfg.size, cfg.size), np.int64)
    for i in range(n):
        images[i] = _background(photos[rng.integers(len(photos))], cfg.size, rng)
        for _ in range(int(rng.integers(cfg.min_objects, cfg.max_objects + 1))):
            k = int(rng.integers(len(cfg.classes)))
            s = int(rng.integers(cfg.min_scale, cfg.max_scale + 1))
            item = resize(X[rng.choice(pools[k])] / 255.0, (s, s), order=1, anti_aliasing=True)
            top, left = rng.integers(0, cfg.size - s + 1, size=2)
            paste(images[i], masks[i], item.astype(np.float32), k + 1, int(top), int(left),
                  cfg.ink)
    names = ["background"] + [FASHION_NAMES[c] for c in cfg.classes]
    return Scenes(images, masks, names)
