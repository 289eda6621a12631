"""Checkpoints: written atomically (temp file + rename), read with ``weights_only=True``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts, so the
safe unpickler can load it; NumPy RNG state is stored as a tensor for that reason.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from introdl import io
from introdl.errors import CheckpointUnreadable


def save(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    path = Path(path)
    with io.atomic_open(path, "wb") as f:
        torch.save(state, f)
    return path


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``.

    Raises:
        CheckpointUnreadable: the file is missing, empty, truncated, not a torch file, or
            holds objects the weights-only unpickler refuses (one line naming the file;
            never torch's advice to load it with ``weights_only=False``).
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # torch raises many kinds: RuntimeError, EOFError, Unpickling...
        raise CheckpointUnreadable(f"cannot read checkpoint {path}: {_why(path, e)}; "
                                   f"{START_OVER}") from None
    if not isinstance(state, dict):
        raise CheckpointUnreadable(f"{path} is not an introdl checkpoint (it holds a "
                                   f"{type(state).__name__}, not a dict); {START_OVER}")
    return state


START_OVER = "start the run over with --force, or use --out DIR for a new folder"


def _why(path: Path, e: BaseException) -> str:
    """A short reason without torch's multi-line text (which suggests weights_only=False)."""
    if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)) and e.strerror:
        return e.strerror.lower()  # (torch also raises OSError for a cut-off zip: not here)
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            return "the file is empty"
    if isinstance(e, pickle.UnpicklingError):
        return "it holds objects that safe (weights-only) loading refuses to unpickle"
    return f"the file is truncated or not a torch checkpoint ({type(e).__name__})"


def rng_state() -> dict[str, Any]:
    """Every RNG a training step can draw from (dropout, shuffling, augmentation)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (global state other code uses)
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": _tuples_to_lists(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["gauss"]))  # noqa: NPY002
    random.setstate(_lists_to_tuples(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuples_to_lists(x: Any) -> Any:
    return [_tuples_to_lists(v) for v in x] if isinstance(x, (tuple, list)) else x


def _lists_to_tuples(x: Any) -> Any:
    return tuple(_lists_to_tuples(v) for v in x) if isinstance(x, list) else x
