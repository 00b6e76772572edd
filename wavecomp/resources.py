"""Where wavecomp's own files live: the HDL library, firmware sources, board files, harnesses.

Why one module: ``hdl/``, ``firmware/``, ``boards/`` and ``sim/harness/`` sit at the top of
the repository (they are products in their own right), and a wheel carries them as package
data under ``wavecomp/_share/`` (see ``pyproject.toml``). Every stage asks here, so the same
code runs from a checkout, an editable install and a non-editable install.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from wavecomp.errors import WavecompError

_CHECKOUT = Path(__file__).resolve().parent.parent


class ResourceError(WavecompError):
    """A file wavecomp ships is missing: the installation is incomplete."""


def _share(name: str) -> Path:
    """A shipped folder: ``wavecomp/_share/<name>`` in an installed wheel, else the checkout's
    top-level folder (editable install or running from the source tree)."""
    packaged = files("wavecomp") / "_share" / name
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = _CHECKOUT / name
    if checkout.is_dir():
        return checkout
    raise ResourceError(
        f"wavecomp's {name}/ folder is missing from this installation ({packaged}); "
        "reinstall wavecomp (pip install --force-reinstall wavecomp, or ./bootstrap.sh)"
    )


def hdl_dir() -> Path:
    """The hand-written SystemVerilog library (``wc_*.sv``)."""
    return _share("hdl")


def firmware_dir() -> Path:
    """MCU sources and templates: ``engine/``, ``daisy/``, ``host/``, ``m7_harness/``."""
    return _share("firmware")


def boards_dir() -> Path:
    """One TOML per board (part, oscillator, eurorack-pmod pins)."""
    return _share("boards")


def sim_harness_dir() -> Path:
    """The Verilator C++ harness for fast RTL renders (``net_main.cpp``)."""
    return _share("sim/harness")


def models_dir() -> Path:
    """The models shipped inside the package (the default model and its report)."""
    return Path(str(files("wavecomp") / "models"))
