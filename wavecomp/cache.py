"""wavecomp's on-disk build cache: where it lives, how entries are keyed, made and shared.

Verilator models, host engine libraries, Cortex-M7 builds and the fetched CMSIS-DSP sources
outlive the process that built them, and parallel pytest workers may build the same thing at
once. So every entry is keyed by the hash of everything that went into it, built in a staging
folder under an exclusive lock, and published by an atomic rename: an entry folder either does
not exist or is complete. ``build_once`` is the one implementation of that pattern.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wavecomp.errors import WavecompError


class CacheError(WavecompError):
    """The cache folder cannot be created or written."""


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


def content_key(parts: Iterable[str | bytes | tuple[str, bytes]], length: int = 24) -> str:
    """A hex key over strings, bytes and (name, data) file pairs, each length-prefixed so no
    two different part lists hash alike."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, tuple):
            name, data = part
            h.update(f"file {name} {len(data)}\n".encode())
            h.update(data)
        else:
            data = part.encode() if isinstance(part, str) else part
            h.update(f"part {len(data)}\n".encode())
            h.update(data)
    return h.hexdigest()[:length]


def files_for_key(paths: Iterable[Path], root: Path) -> list[tuple[str, bytes]]:
    """(path relative to ``root``, contents) for ``content_key``: location-independent."""
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(paths)]


@dataclass(frozen=True)
class Entry:
    """One finished cache entry."""

    path: Path  # the entry folder
    cached: bool  # True if it existed already
    seconds: float  # time the build took (0 when cached)


def log_path(area: Path, key: str) -> Path:
    """Where a builder writes its log: beside the entry, so it survives a failed build."""
    return area / f"{key}.log"


def build_once(area: Path, key: str, build: Callable[[Path], None], *, done: str) -> Entry:
    """Return ``area/key``, building it with ``build(staging_folder)`` if it is missing.

    The entry counts as finished when ``area/key/done`` exists. The build runs in a fresh
    staging folder under an exclusive lock on ``area/key.lock``, then is renamed into place;
    if ``build`` raises, the staging folder is removed and the error propagates (write logs
    to ``log_path(area, key)`` so they survive).
    """
    folder = area / key
    if (folder / done).exists():
        return Entry(folder, cached=True, seconds=0.0)
    try:
        area.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CacheError(
            f"cannot create the build cache folder {area} ({err.strerror}); set WAVECOMP_CACHE "
            "to a writable folder"
        ) from None
    with locked(area / f"{key}.lock"):
        if (folder / done).exists():
            return Entry(folder, cached=True, seconds=0.0)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".partial", dir=area))
        try:
            start = time.monotonic()
            build(staging)
            seconds = time.monotonic() - start
            if not (staging / done).exists():
                raise CacheError(f"the build of cache entry {folder} did not produce {done}")
            shutil.rmtree(folder, ignore_errors=True)  # a damaged entry without `done`
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Entry(folder, cached=False, seconds=seconds)
