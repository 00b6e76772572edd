"""wavecomp's on-disk build cache: where it lives and how processes share it.

Verilator models, host engine libraries and the fetched CMSIS-DSP sources outlive the process
that built them, and parallel pytest workers may build the same thing at once, so every cache
entry is made under an exclusive lock and published by an atomic rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def cache_root() -> Path:
    """``$WAVECOMP_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/wavecomp``."""
    if os.environ.get("WAVECOMP_CACHE"):
        return Path(os.environ["WAVECOMP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wavecomp"


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (flock) held for the ``with`` block."""
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
