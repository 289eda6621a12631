"""The lambda phage reference genome and example reads shipped by Debian's ``bowtie2-examples``.

Enterobacteria phage lambda (NC_001416.1, 48,502 bp, linear) is the example genome of the
bowtie2 manual. The package also ships paired-end reads (``reads_1.fq.gz``/``reads_2.fq.gz``,
10,000 pairs); note that the bowtie2 authors made those with their own ``simulate.pl`` (a
haploid copy of lambda with random SNPs at rate 0.0012, uniform random base qualities and
errors drawn from them), so they are real files from a real tool, not a sequencing run.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from introdl.errors import DataUnavailable

EXAMPLES = Path("/usr/share/doc/bowtie2/examples")
LAMBDA_FASTA = EXAMPLES / "reference" / "lambda_virus.fa.gz"
LAMBDA_READS = (EXAMPLES / "reads" / "reads_1.fq.gz", EXAMPLES / "reads" / "reads_2.fq.gz")
_HINT = "install it with `bash scripts/setup` (or: apt-get install bowtie2-examples)"


@dataclass(frozen=True)
class Reference:
    """One contig: its FASTA name and upper-case sequence."""

    name: str
    seq: str

    def __len__(self) -> int:
        return len(self.seq)


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataUnavailable(f"{path} not found: {_HINT}")
    return path


def read_fasta(path: Path | str) -> Reference:
    """The first record of a (gzipped or plain) FASTA file; the name is up to the first space."""
    path = _require(Path(path))
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith(">"):
        raise DataUnavailable(f"{path} is not a FASTA file (no '>' header): reinstall it")
    name = lines[0][1:].split()[0]
    seq = []
    for line in lines[1:]:
        if line.startswith(">"):
            break
        seq.append(line.strip())
    return Reference(name=name, seq="".join(seq).upper())


def load_lambda(path: Path | str | None = None) -> Reference:
    """The lambda phage genome (one line of error when the Debian file is missing)."""
    return read_fasta(LAMBDA_FASTA if path is None else path)


def lambda_reads() -> tuple[Path, Path]:
    """The two FASTQ files of bowtie2's example paired-end reads."""
    return tuple(_require(p) for p in LAMBDA_READS)  # type: ignore[return-value]


def write_fasta(ref: Reference, path: Path | str, width: int = 70) -> Path:
    """Write ``ref`` as a plain FASTA file (for bowtie2-build and pysam)."""
    path = Path(path)
    lines = [f">{ref.name}"] + [ref.seq[i:i + width] for i in range(0, len(ref.seq), width)]
    path.write_text("\n".join(lines) + "\n")
    return path
