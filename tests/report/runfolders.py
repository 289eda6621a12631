"""Run folders written by hand (fail, error, old format) for the site's tests."""

from __future__ import annotations

import json
import math
import struct
import wave
import zlib
from pathlib import Path
from typing import Any


def png_bytes(w: int = 12, h: int = 8) -> bytes:
    """A small valid RGB PNG (a colour gradient), without any imaging library."""
    rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (20 * x % 256, 30 * y, 160))
                    for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def write_wav(path: Path, seconds: float = 0.25, rate: int = 8000) -> None:
    """A short sine tone as 16-bit mono PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def write_run(d: Path, result: dict[str, Any], config: dict[str, Any] | None = None,
              metrics: list[dict[str, Any]] | None = None) -> Path:
    """A run folder: result.json, optional config.json and metrics.jsonl, and its figures."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "result.json").write_text(json.dumps(result, indent=2))
    (d / "result.md").write_text(f"# {result.get('experiment')}\n")
    if config is not None:
        (d / "config.json").write_text(json.dumps(config, indent=2))
    if metrics is not None:
        (d / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    for f in result.get("figures", []):
        (d / f).parent.mkdir(parents=True, exist_ok=True)
        (d / f).write_bytes(png_bytes())
    return d


def failing_result(name: str = "toy-fail", text: str = "loss falls below 0.1") -> dict:
    return {
        "experiment": name, "lecture": 2, "title": "a made-up run whose claim fails",
        "status": "fail", "counts": {"pass": 1, "fail": 1, "not checked": 1},
        "passed": False, "seconds": 3.25, "error": None, "figures": ["curve.png"],
        "claims": [
            {"text": text, "metric": "loss", "expected": "loss <= 0.1", "measured": 0.4,
             "passed": False},
            {"text": "accuracy above chance", "metric": "acc", "expected": "acc >= 0.5",
             "measured": 0.75, "passed": True},
            {"text": "needs the default run", "metric": "big", "expected": "big >= 1 "
             "(checked in the default run only)", "measured": None, "passed": None},
            {"text": "the figure shows it", "metric": None, "expected": "(figure)",
             "measured": None, "passed": None},
        ],
        "facts": [{"text": "parameters", "metric": "n_params", "value": 1234.0}],
    }


def failing_config(name: str = "toy-fail") -> dict:
    return {"experiment": name, "lecture": 2, "quick": True, "seed": 3, "device": "cpu",
            "config": {"epochs": 2, "hidden": [8, 4], "lr": 0.003, "name": "x<y>"},
            "machine": "test machine; 2 logical CPUs; load average 0.5; Python on Linux"}


def model_metrics() -> list[dict]:
    """Two models over three epochs."""
    recs = []
    for model in ("mlp", "cnn"):
        for epoch in (1, 2, 3):
            recs.append({"time": epoch * 0.1, "epoch": epoch, "model": model,
                         "train_loss": 1.0 / epoch, "val_acc": 0.5 + 0.1 * epoch})
    return recs


def errored_result(name: str = "toy-error") -> dict:
    return {
        "experiment": name, "lecture": 3, "title": "a made-up run that raised",
        "status": "error", "counts": {"pass": 0, "fail": 1, "not checked": 0},
        "passed": False, "seconds": 0.0,
        "error": "Traceback (most recent call last):\n  File \"x.py\", line 1\n"
                 "RuntimeError: out of <memory> & time\n",
        "figures": [], "facts": [],
        "claims": [{"text": "it works", "metric": "acc", "expected": "acc >= 0.9",
                    "measured": None, "passed": False}],
    }


def old_result(name: str = "old-style") -> dict:
    """A result.json from before title/status/counts/facts were written."""
    return {"experiment": name, "lecture": 1, "passed": False, "seconds": 1.0, "error": None,
            "figures": [],
            "claims": [{"text": "z = -6", "metric": "z", "expected": "z ≈ -6",
                        "measured": -5.0, "passed": False},
                       {"text": "a picture", "metric": None, "expected": "(figure)",
                        "measured": None, "passed": None}]}
