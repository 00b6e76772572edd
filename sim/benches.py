"""What the pytest suite's RTL checks share: where the cocotb benches live and how to run
them, and what the core must put out.

The benches are test infrastructure (they are not shipped with wavecomp), so they are found
relative to this checkout; build folders go to ``sim_build/`` beside ``sim/``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from wavecomp import fixed, reference
from wavecomp.ir import Network
from wavecomp.rtl.verilator import run_cocotb

SIM_DIR = Path(__file__).resolve().parent
BUILD_ROOT = SIM_DIR.parent / "sim_build"


run_bench = functools.partial(run_cocotb, bench_dir=SIM_DIR)
"""``run_cocotb`` with the bench modules of this folder."""


# ---- what the core must put out ------------------------------------------------------------
def expected_outputs(
    net: Network, x: np.ndarray, rounding: fixed.Rounding, *, latency: int, reset_at: int = 0
) -> np.ndarray:
    """What the core's output rows are for inputs ``x`` (latency removed, as ``run_rtl``
    returns them): the reference from zero history; with a reset just before sample
    ``reset_at`` = R, rows R-L..R-1 are zeros (those samples were in flight at the reset, and
    the core puts out 0 until its pipeline refills) and rows from R on are the reference for
    ``x[R:]`` from zero history."""
    if not reset_at:
        return reference.run(net, x, rounding=rounding)
    y = np.concatenate(
        [
            reference.run(net, x[:reset_at], rounding=rounding),
            reference.run(net, x[reset_at:], rounding=rounding),
        ]
    )
    y[max(0, reset_at - latency) : reset_at] = 0
    return y


def first_mismatches(got: np.ndarray, want: np.ndarray, n: int = 6) -> str:
    """``k of N samples differ; first (t, ch, want, got): ...`` for an assertion message."""
    diff = np.argwhere(got != want)
    return f"{len(diff)} of {want.size} output samples differ; first (t, ch, want, got): " + (
        ", ".join(f"({t}, {c}, {want[t, c]}, {got[t, c]})" for t, c in diff[:n])
    )
