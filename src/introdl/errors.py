"""Errors the CLI reports as one line (what is wrong, what to do) with exit code 2."""


class UsageError(Exception):
    """Bad input from the user: unknown name, bad value, missing data, existing output.

    The message must be one line that says what is wrong and what to do about it.
    """


class DataUnavailable(UsageError):
    """A dataset cannot be found offline and cannot (or may not) be downloaded."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class CheckpointUnreadable(UsageError):
    """A checkpoint is empty, truncated, not ours, or holds what weights-only loading refuses."""


class DiskFull(UsageError):
    """No space left (ENOSPC/EDQUOT) while writing; the file's previous copy is kept."""


class FolderInUse(UsageError):
    """Another process holds the run folder's lock."""
