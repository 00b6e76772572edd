"""Every folder or file wavecomp writes for the user is written all-or-nothing, through here.

Why: a failure half way must never leave half an output behind, regenerating must replace our
own earlier output, and nothing may ever delete or overwrite what a user made. So
- a folder is written into a staging folder next to the target and swapped in with renames;
  a marker file (``.wavecomp-output``, naming the writer) says "wavecomp wrote this", a missing
  or empty folder is fine, and a non-empty folder without the marker is refused;
- a single file (a rendered WAV) is written to a temporary name and renamed into place; an
  existing file is replaced only if wavecomp wrote it (the caller says how to tell).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from wavecomp.errors import WavecompError

MARKER = ".wavecomp-output"


class OutputFolderError(WavecompError):
    """An output folder or file that wavecomp must not (or cannot) write."""


def check_folder(path: Path, *, writer: str, option: str) -> None:
    """Allow a missing folder, an empty one, or one wavecomp wrote (marker present).

    Call it before long work so a bad ``--out`` fails at once; ``writing_folder`` checks again.
    """
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise OutputFolderError(f"{path} exists and is not a folder; choose another {option}")
    if any(path.iterdir()) and not (path / MARKER).is_file():
        raise OutputFolderError(
            f"{path} is not empty and was not written by wavecomp (it has no {MARKER}); "
            f"{writer} refuses to replace it: choose a new or empty folder with {option}"
        )


def claim_folder(path: Path, *, writer: str, option: str) -> Path:
    """Create (or reuse) a folder that holds several outputs, each written all-or-nothing on
    its own (``wavecomp demo``'s renders, bitstream and training run): check it, create it
    and mark it as wavecomp's, so a later run may replace what is inside."""
    path = Path(path).absolute()
    check_folder(path, writer=writer, option=option)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER).write_text(f"written by {writer}; wavecomp replaces what is inside\n")
    except OSError as err:
        raise OutputFolderError(
            f"cannot write to {path} ({err.strerror}); choose a writable {option} folder"
        ) from None
    return path


@contextlib.contextmanager
def writing_folder(path: Path, *, writer: str, option: str) -> Iterator[Path]:
    """Yield a staging folder to fill; on success it replaces ``path`` in one rename.

    If the ``with`` block raises, the staging folder is removed and ``path`` is left exactly as
    it was. ``writer`` ("wavecomp train") and ``option`` ("--out") name things in messages.
    """
    path = Path(path).absolute()
    check_folder(path, writer=writer, option=option)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as err:
        raise OutputFolderError(
            f"cannot write to {path.parent} ({err.strerror}); choose a writable {option} folder"
        ) from None
    try:
        yield staging
        (staging / MARKER).write_text(
            f"written by {writer}; wavecomp replaces this folder when it regenerates it\n"
        )
        # mkdtemp makes 0700; give the usual 0755 (reading the umask would mean setting it,
        # which is process-wide and races with other threads)
        staging.chmod(0o755)
        check_folder(path, writer=writer, option=option)  # it may have changed meanwhile
        _swap_in(staging, path)
    except OSError as err:
        raise OutputFolderError(
            f"cannot write {path} ({err.strerror or err}); choose a writable {option} folder"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, path: Path) -> None:
    """Rename ``staging`` to ``path``; the target is always either the old or the new folder."""
    if not path.exists():
        staging.rename(path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    old.rmdir()
    path.rename(old)
    try:
        staging.rename(path)
    except BaseException:
        old.rename(path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_file(
    path: Path,
    write: Callable[[Path], None],
    *,
    ours: Callable[[Path], bool],
    writer: str,
    what: str,
) -> None:
    """Write one file via ``write(temp_path)`` and rename it onto ``path``.

    An existing ``path`` is replaced only if ``ours(path)`` says wavecomp wrote it (e.g. a WAV
    carrying wavecomp's software tag); otherwise it is refused, naming the file and the fix.
    On failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path).absolute()
    if path.is_dir():
        raise OutputFolderError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not ours(path):
        raise OutputFolderError(
            f"{what} {path} already exists and was not written by wavecomp; {writer} will not "
            "overwrite it: choose another file name, or move the file away first"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as err:
        raise OutputFolderError(
            f"cannot write {what} {path} ({err.strerror}); choose a writable folder"
        ) from None
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o644)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
