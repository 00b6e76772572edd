"""The CMSIS-DSP sources, fetched at build time from the pinned PyPI sdist (never committed).

Contract (the Cortex-M7 build in ``wavecomp.mcu.m7_build`` relies on it)::

    dsp = cmsis_dsp.ensure()      # downloads + extracts once, then returns at once
    dsp.root                      # the sdist's CMSIS-DSP tree (Include/, PrivateInclude/, Source/)
    dsp.include_dirs              # [root/Include, root/PrivateInclude]
    dsp.source("Source/BasicMathFunctions/arm_dot_prod_q15.c")   # -> Path, checked to exist

The ``cmsisdsp`` sdist carries the library's C sources next to its Python wrapper; it is
downloaded with pip (``pip download --no-binary cmsisdsp --no-deps cmsisdsp==1.10.3`` --
``--no-binary :all:`` would also try to build pip's own build dependencies from source), its
sha256 is checked, and it is extracted into ``<cache>/cmsis-dsp-<version>/`` once
(``wavecomp.cache.build_once``: safe for parallel pytest workers). The cache is
``$WAVECOMP_CACHE`` or ``${XDG_CACHE_HOME:-~/.cache}/wavecomp``. Offline, point
``WAVECOMP_CMSIS_DSP_SDIST`` at a copy of the sdist.

CMSIS-DSP also needs CMSIS Core's ``cmsis_compiler.h`` (compiler macros and the DSP
intrinsics); that is not in any registry, so the emitted engine carries wavecomp's own shim
(``firmware/engine/cmsis_shim``). Host builds do not use ``-D__GNUC_PYTHON__`` (what the
sdist's Python wrapper builds with): it skips ``cmsis_compiler.h`` and switches the DSP code
paths off, so the host would run different CMSIS code than the Cortex-M7.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wavecomp.cache import build_once, cache_root
from wavecomp.errors import WavecompError

VERSION = "1.10.3"
SDIST_NAME = f"cmsisdsp-{VERSION}.tar.gz"
SDIST_SHA256 = "307d32298faa7c58db912851027fce35f886fec7eb1a27c4b309ce1a97f47519"
SDIST_ENV = "WAVECOMP_CMSIS_DSP_SDIST"
EXTRACT = ("Include/", "PrivateInclude/", "Source/", "LICENSE")
"""The parts of the sdist a C build needs (the rest is the Python wrapper)."""
COMPLETE_MARKER = ".wavecomp-complete"
DOWNLOAD_TIMEOUT_S = 600


class CmsisDspError(WavecompError, RuntimeError):
    """The CMSIS-DSP sources could not be fetched or lack a file; the message says what to do."""


@dataclass(frozen=True)
class CmsisDsp:
    """An extracted CMSIS-DSP source tree."""

    root: Path

    @property
    def include_dirs(self) -> list[Path]:
        return [self.root / "Include", self.root / "PrivateInclude"]

    def source(self, rel: str) -> Path:
        """A source file by its path relative to the CMSIS-DSP root."""
        path = self.root / rel
        if not path.is_file():
            raise CmsisDspError(
                f"CMSIS-DSP {VERSION} has no {rel} (looked in {self.root}); check the name "
                "against the Source/ folder"
            )
        return path


def ensure(cache_dir: Path | None = None) -> CmsisDsp:
    """The pinned CMSIS-DSP sources, downloading and extracting them on first use."""
    root = Path(cache_dir) if cache_dir is not None else cache_root()

    def fetch(tree: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="wavecomp-cmsis-dsp-") as download:
            sdist = _sdist(Path(download))
            _check_sha256(sdist)
            _extract(sdist, tree)
        (tree / COMPLETE_MARKER).write_text(f"cmsisdsp {VERSION} sdist {SDIST_SHA256}\n")

    entry = build_once(root, f"cmsis-dsp-{VERSION}", fetch, done=COMPLETE_MARKER)
    return CmsisDsp(entry.path)


def _sdist(staging: Path) -> Path:
    """The sdist: ``$WAVECOMP_CMSIS_DSP_SDIST`` if set, else downloaded with pip."""
    if os.environ.get(SDIST_ENV):
        path = Path(os.environ[SDIST_ENV])
        if not path.is_file():
            raise CmsisDspError(f"{SDIST_ENV}={path}: no such file; unset it to download")
        return path
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-binary",
        "cmsisdsp",
        "--no-deps",
        f"cmsisdsp=={VERSION}",
        "-d",
        str(staging),
    ]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CmsisDspError(f"pip download of cmsisdsp=={VERSION} did not run ({err})") from None
    path = staging / SDIST_NAME
    if run.returncode != 0 or not path.is_file():
        tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-5:])
        raise CmsisDspError(
            f"could not download the CMSIS-DSP sources (`{' '.join(cmd[2:])}` failed):\n{tail}\n"
            f"Check the network/PyPI access, or download {SDIST_NAME} elsewhere and set "
            f"{SDIST_ENV} to its path"
        )
    return path


def _check_sha256(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise CmsisDspError(
            f"{path}: sha256 {digest} is not the pinned {SDIST_NAME} ({SDIST_SHA256}); "
            "refusing to build from unexpected sources"
        )


def _extract(sdist: Path, dest: Path) -> None:
    """Extract the C library parts of the sdist (its top folder stripped) into ``dest``."""
    prefix = f"cmsisdsp-{VERSION}/"
    with tarfile.open(sdist, "r:gz") as tar:
        members = []
        for member in tar.getmembers():
            if not member.name.startswith(prefix):
                continue
            rel = member.name[len(prefix) :]
            if any(rel == part or rel.startswith(part) for part in EXTRACT):
                member.name = rel
                members.append(member)
        if not members:
            raise CmsisDspError(f"{sdist}: no CMSIS-DSP sources inside (unexpected layout)")
        tar.extractall(dest, members=members, filter="data")
