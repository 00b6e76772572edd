"""Generated folders (``emit-cmsis``, ``build --emit-core``) written all-or-nothing.

Why: a failure half way must never leave half a project behind, and regenerating must replace
our own earlier output but never a user's folder. So the files are written into a staging
folder next to the target, then swapped in with renames; a marker file says "wavecomp wrote
this", and a non-empty folder without it is refused.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputFolder:
    """Where a generator writes: the target, its marker file, and how errors name things."""

    path: Path
    marker: str  # file name that marks the folder as ours, e.g. ".wavecomp-mcu"
    writer: str  # who writes it, for messages: "wavecomp emit-cmsis"
    option: str  # the option that chose the folder, for messages: "--out"
    error: type[Exception]  # raised with a message naming the folder and the fix

    def check(self) -> None:
        """Allow a missing folder, an empty one, or one we wrote (marker present)."""
        out = self.path
        if not out.exists():
            return
        if not out.is_dir():
            raise self.error(f"{out} exists and is not a folder; choose another {self.option}")
        if any(out.iterdir()) and not (out / self.marker).is_file():
            raise self.error(
                f"{out} is not empty and was not written by {self.writer} (no {self.marker}); "
                "refusing to replace it — choose an empty or new folder"
            )

    def stage(self) -> Path:
        """A fresh staging folder next to the target (same file system, so renames work)."""
        self.check()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(
                tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            )
        except OSError as err:
            raise self.error(
                f"cannot write to {self.path.parent} ({err.strerror}); "
                f"choose a writable {self.option} folder"
            ) from None
        return tmp

    def publish(self, tmp: Path) -> None:
        """Swap ``tmp`` (holding the marker file) into place: the target is always either the
        old or the complete new folder. Removes ``tmp`` if anything fails."""
        try:
            # mkdtemp makes 0700; give the usual 0755 (reading the umask would mean setting
            # it, which is process-wide and races with other threads)
            tmp.chmod(0o755)
            self.check()  # again: the folder may have changed while we generated
            out = self.path
            if not out.exists():
                tmp.rename(out)
                return
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            old.rmdir()
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
