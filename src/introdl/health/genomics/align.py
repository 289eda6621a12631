"""Align reads with the real ``bowtie2`` and sort/index the BAM with ``samtools``.

Both tools run as subprocesses (argument lists, no shell) on one thread by default;
``bowtie2`` writes SAM to a pipe that ``samtools sort`` turns into a sorted BAM, which
``samtools index`` indexes so pysam can fetch regions. Missing tools are one line saying
how to install them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from introdl.errors import UsageError
from introdl.health.genomics.reference import Reference, write_fasta

_HINT = "run `bash scripts/setup` (or: apt-get install bowtie2 samtools bowtie2-examples)"


def tool(name: str) -> str:
    """The path of an external program, or a one-line UsageError."""
    path = shutil.which(name)
    if path is None:
        raise UsageError(f"`{name}` is not installed: {_HINT}")
    return path


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(args, capture_output=True, **kw)
    if res.returncode != 0:
        msg = res.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"{Path(args[0]).name} failed (exit {res.returncode}): "
                         f"{msg[-1] if msg else 'no message'}")
    return res


def build_index(ref: Reference, folder: Path | str, threads: int = 1) -> Path:
    """``bowtie2-build`` an index of ``ref`` in ``folder``; returns its basename (and FASTA)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fasta = write_fasta(ref, folder / "reference.fa")
    base = folder / "reference"
    _run([tool("bowtie2-build"), "--quiet", "--threads", str(threads), "--seed", "0",
          str(fasta), str(base)])
    return base


def align(index: Path | str, reads: list[Path | str], bam: Path | str, threads: int = 1,
          seed: int = 0) -> Path:
    """Align single-end (one FASTQ) or paired-end (two FASTQs) reads; sorted, indexed BAM.

    bowtie2 runs in its default end-to-end ``--sensitive`` mode with ``--seed`` so the
    alignment is reproducible; unaligned reads are dropped (``--no-unal``).
    """
    bam = Path(bam)
    if len(reads) == 1:
        inputs = ["-U", str(reads[0])]
    elif len(reads) == 2:
        inputs = ["-1", str(reads[0]), "-2", str(reads[1])]
    else:
        raise UsageError(f"align takes one or two FASTQ files, not {len(reads)}")
    bt2 = [tool("bowtie2"), "-p", str(threads), "--seed", str(seed), "--no-unal",
           "-x", str(index), *inputs]
    sort = [tool("samtools"), "sort", "-@", "0", "-o", str(bam), "-"]
    with subprocess.Popen(bt2, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        res = subprocess.run(sort, stdin=p.stdout, capture_output=True)
        p.stdout.close()  # type: ignore[union-attr]
        err = p.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
        p.wait()
    if p.returncode != 0:
        raise UsageError(f"bowtie2 failed (exit {p.returncode}): "
                         f"{(err.strip().splitlines() or ['no message'])[-1]}")
    bam.with_suffix(".bowtie2.log").write_text(err)
    if res.returncode != 0:
        raise UsageError(f"samtools sort failed: {res.stderr.decode(errors='replace').strip()}")
    _run([tool("samtools"), "index", str(bam)])
    return bam


def alignment_rate(bam: Path | str) -> float:
    """bowtie2's "overall alignment rate" for ``bam`` (a fraction), from its saved summary."""
    log = Path(bam).with_suffix(".bowtie2.log").read_text()
    found = re.search(r"([0-9.]+)% overall alignment rate", log)
    if found is None:
        raise UsageError(f"no alignment summary in {Path(bam).with_suffix('.bowtie2.log')}")
    return float(found.group(1)) / 100
