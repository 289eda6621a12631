"""SST-2 (Stanford Sentiment Treebank, GLUE version): the lecture's sentiment task on real reviews.

Sentences from movie reviews labelled negative (0) / positive (1); 67,349 training and
872 development sentences (the GLUE test labels are withheld). The archive is fetched
through the data layer — ``$INTRODL_DATA/sst2/SST-2.zip``, the cache, or a download
verified against its published SHA-256 — and read member by member from the zip, so
nothing is extracted to disk.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from introdl.data.download import RemoteFile, ensure_file
from introdl.data.registry import DatasetSpec, register
from introdl.errors import DataUnavailable, UsageError

ARCHIVE = RemoteFile(
    url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
    sha256="d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
    filename="SST-2.zip",
    size=7439277,
)
MEMBERS = {"train": "SST-2/train.tsv", "test": "SST-2/dev.tsv"}  # GLUE dev serves as test

register(DatasetSpec("sst2", "GLUE SST-2 movie-review sentences, positive/negative", "download",
                     None, files={"archive": ARCHIVE}))


def read_sst2(archive: str | Path, split: str = "train") -> tuple[list[str], list[int]]:
    """Sentences and 0/1 labels of one split from a (verified) SST-2.zip."""
    if split not in MEMBERS:
        raise UsageError(f"unknown SST-2 split {split!r}; use train or test")
    with zipfile.ZipFile(archive) as zf:
        try:
            raw = zf.read(MEMBERS[split]).decode("utf-8")
        except KeyError:
            raise DataUnavailable(f"{archive} has no {MEMBERS[split]}; is it the GLUE "
                                  "SST-2.zip?") from None
    rows = csv.DictReader(io.StringIO(raw, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    sentences, labels = [], []
    for row in rows:
        sentences.append(row["sentence"].strip())
        labels.append(int(row["label"]))
    return sentences, labels


def load_sst2(split: str = "train") -> tuple[list[str], list[int]]:
    """SST-2 from the mirror/cache (or a verified download)."""
    return read_sst2(ensure_file("sst2", ARCHIVE), split)
