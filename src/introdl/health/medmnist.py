"""The real public MedMNIST data sets (Yang et al. 2023), for users who have the files.

Offline, Lecture 12's experiments run on simulated data. When a user has MedMNIST's
``.npz`` files (28x28 images, 28^3 volumes), the same experiments can read them::

    from introdl.health.medmnist import load_medmnist
    split = load_medmnist("nodulemnist3d")      # -> MedMNIST(x_train, y_train, ...)

Each file is a dataset of its own in ``introdl data list`` (``introdl data fetch
retinamnist`` downloads it), found as every download in the project is (see
:mod:`introdl.data.download`): ``$INTRODL_DATA/<name>/<name>.npz`` (a mirror filled by
hand), then the cache, then Zenodo, each checked against the MD5 the MedMNIST authors
publish (no SHA-256 is published). Missing files are one line, exit 2, saying where to put
them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from introdl.data.download import RemoteFile, ensure_file
from introdl.data.registry import DatasetSpec, register
from introdl.errors import DataUnavailable

_ZENODO = "https://zenodo.org/record/6496656/files/{}.npz?download=1"

# name -> (MD5 published in MedMNIST's medmnist/info.py, what it holds)
FILES: dict[str, tuple[str, str]] = {
    "nodulemnist3d": ("8755a7e9e05a4d9ce80a24c3e7a256f3",
                      "LIDC-IDRI lung nodules, 28^3 CT crops, benign (0) / malignant (1)"),
    "retinamnist": ("bd4c0672f1bba3e3a89f0e4e876791e4",
                    "DeepDRiD fundus photographs, 3x28x28, diabetic retinopathy grade 0-4"),
    "dermamnist": ("0744692d530f8e62ec473284d019b0c7",
                   "HAM10000 dermatoscopy, 3x28x28, 7 lesion classes (4 = melanoma)"),
    "pathmnist": ("a8b06965200029087d5bd730944a56c1",
                  "NCT-CRC-HE colorectal histology, 3x28x28, 9 tissue classes (8 = tumour)"),
    "pneumoniamnist": ("28209eda62fecd6e6a2d98b1501bb15f",
                       "paediatric chest X-rays, 1x28x28, normal (0) / pneumonia (1)"),
}


def remote(name: str) -> RemoteFile:
    """Where ``name``'s file is published, and its MD5."""
    if name not in FILES:
        raise DataUnavailable(f"unknown MedMNIST file {name!r}; known: {', '.join(FILES)}")
    return RemoteFile(url=_ZENODO.format(name), sha256=None, md5=FILES[name][0],
                      filename=f"{name}.npz")


for _name, (_, _what) in FILES.items():
    register(DatasetSpec(_name, f"MedMNIST: {_what}", "download", None,
                         files={"npz": remote(_name)}))


@dataclass
class MedMNIST:
    """One MedMNIST file: images as uint8 arrays, labels as int64 vectors."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_medmnist(name: str, file: RemoteFile | None = None) -> MedMNIST:
    """Read one MedMNIST ``.npz`` (verified), never unpickling anything.

    Args:
        name: a key of :data:`FILES`.
        file: override the published file (tests use a local one).
    """
    path = ensure_file(name, file or remote(name))
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in ("train_images", "train_labels", "val_images", "val_labels",
                               "test_images", "test_labels") if k not in z.files]
        if missing:
            raise DataUnavailable(f"{path} is not a MedMNIST file (no {missing[0]}); "
                                  "download it again from MedMNIST's Zenodo record")
        parts = {k: z[k] for k in z.files}
    return MedMNIST(
        name=name,
        **{f"x_{s}": parts[f"{s}_images"] for s in ("train", "val", "test")},
        **{f"y_{s}": parts[f"{s}_labels"].reshape(len(parts[f"{s}_labels"]), -1)[:, 0]
           .astype(np.int64) for s in ("train", "val", "test")},
    )
