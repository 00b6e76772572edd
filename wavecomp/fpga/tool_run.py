"""Running one FPGA tool (yosys, nextpnr, ecppack) and keeping its logs when it fails.

Why a module of its own: the core-only synthesis and the board build run their tools inside a
staging folder (``wavecomp.output_dir.writing_folder``) that is deleted when a stage fails, so
that no half-written output is left behind. The logs the user needs to read would go with it;
so a failed stage's logs are copied to ``<cache>/failed-builds/<time>-<stage>-<id>/`` first,
and the error names that folder and quotes the log's last lines.

The YoWASP tools map their working directory (their ``/tmp`` is a private one), so every tool
runs with ``cwd`` = the folder it works in and relative file names only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from wavecomp.cache import cache_root
from wavecomp.errors import WavecompError

TAIL_LINES = 15


class BuildError(WavecompError, RuntimeError):
    """A build stage failed; the message names the stage, why, and where its logs were kept."""

    def __init__(self, stage: str, message: str, kept: Path | None = None) -> None:
        self.stage = stage
        self.kept = kept
        where = f" (logs kept in {kept})" if kept else ""
        super().__init__(f"{stage} failed{where}: {message}")


def failed_builds_dir() -> Path:
    """Where the logs of failed stages are kept (they outlive the removed staging folder)."""
    return cache_root() / "failed-builds"


def keep_for_user(stage: str, paths: Iterable[Path]) -> Path | None:
    """Copy files and folders of a failed stage to a new folder under ``failed_builds_dir()``.

    Returns that folder, or None if the cache cannot be written (the error message still
    carries the log's tail then).
    """
    slug = re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-")
    try:
        root = failed_builds_dir()
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(
            tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-", dir=root)
        )
        for path in paths:
            if path.is_dir():
                shutil.copytree(path, folder / path.name)
            elif path.is_file():
                shutil.copy2(path, folder / path.name)
    except OSError:
        return None
    return folder


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, for an error message."""
    if not path.is_file():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


def run_tool(
    stage: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    log_name: str,
    makes: str,
    tool_logs: Sequence[str] = (),
) -> None:
    """Run ``argv`` in ``cwd`` with its output in ``cwd/log_name``; it must make ``cwd/makes``.

    On failure the captured log and the tool's own logs (``tool_logs``, names in ``cwd``) are
    kept (see ``keep_for_user``) and a BuildError names the stage, the kept folder and the tail.
    """
    log = cwd / log_name
    with log.open("w") as fh:
        proc = subprocess.run(list(argv), cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode == 0 and (cwd / makes).exists():
        return
    kept = keep_for_user(stage, [log, *(cwd / name for name in tool_logs)])
    why = (
        f"exit status {proc.returncode}"
        if proc.returncode
        else f"exit status 0 but no {makes} was written"
    )
    raise BuildError(
        stage, f"`{Path(argv[0]).name}`: {why}; last lines of {log_name}:\n{tail(log)}", kept
    )
