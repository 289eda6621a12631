"""Digit domains on photographs: MNIST-M (digits blended into photo patches) and SVHN.

MNIST-M (Ganin & Lempitsky, 2015) takes each MNIST digit ``d`` (0..255, gray) and a
random patch ``p`` of a colour photograph, and keeps ``|p - d|`` per channel: the
stroke inverts the photo's colours, the background is the photo. The paper cut its
patches from BSDS500; ours come from the colour photographs scikit-image ships
(astronaut, coffee, chelsea, rocket, hubble_deep_field, immunohistochemistry, retina,
colorwheel), each image's patch drawn from a seeded generator, so the domain is the
same on every machine.
"""

from __future__ import annotations

import numpy as np

from introdl.adaptation.domains import SPLIT_SEED, Domain, builder, from_arrays
from introdl.adaptation.domains.handwritten import mnist5k_arrays, official_splits

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
          "immunohistochemistry", "retina", "colorwheel")


def photographs() -> list[np.ndarray]:
    """The bundled colour photographs as uint8 ``(H, W, 3)`` arrays."""
    import skimage.data

    return [getattr(skimage.data, name)()[..., :3] for name in PHOTOS]


def blend_into_photos(digits: np.ndarray, seed: int = SPLIT_SEED) -> np.ndarray:
    """MNIST-M: ``|patch - digit|`` per channel, uint8 ``(N, S, S)`` digits -> ``(N, S, S, 3)``."""
    rng = np.random.default_rng(seed)
    photos = photographs()
    n, s, _ = digits.shape
    out = np.empty((n, s, s, 3), dtype=np.uint8)
    which = rng.integers(len(photos), size=n)
    for i in range(n):
        photo = photos[which[i]]
        top = rng.integers(photo.shape[0] - s + 1)
        left = rng.integers(photo.shape[1] - s + 1)
        patch = photo[top:top + s, left:left + s].astype(np.int16)
        out[i] = np.abs(patch - digits[i][..., None].astype(np.int16)).astype(np.uint8)
    return out


@builder("mnist-m")
def _mnist_m(limit: int) -> Domain:
    digits, labels = mnist5k_arrays()  # same split as mnist5k: its test digits stay unseen
    return from_arrays("mnist-m", blend_into_photos(digits), labels, limit)


@builder("svhn")
def _svhn(limit: int) -> Domain:
    return official_splits("svhn", lambda im: im, limit)  # crops are already 32x32 RGB
