"""What the pytest suite's RTL checks share: where the cocotb benches live and how to run
them, the networks with edge-case cache spans, and what the core must put out.

The benches are test infrastructure (they are not shipped with wavecomp), so they are found
relative to this checkout; build folders go to ``sim_build/`` beside ``sim/``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from wavecomp import fixed, reference
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.rtl.verilator import run_cocotb

SIM_DIR = Path(__file__).resolve().parent
BUILD_ROOT = SIM_DIR.parent / "sim_build"


run_bench = functools.partial(run_cocotb, bench_dir=SIM_DIR)
"""``run_cocotb`` with the bench modules of this folder."""


# ---- networks and expectations the RTL checks share ------------------------------------------
Chain = list[tuple[int, int, int, str]]
"""(K, dilation, C_out, activation) per layer."""

EDGE_SPAN_CHAINS: dict[str, tuple[int, Chain]] = {
    # (C_in, layers): cache spans (K-1)*d+1 at 2**n - 1, 2**n and 2**n + 1 and K = 1 (span 1),
    # where a ring one column too short, or a one-column ring, would show
    "n1-n2": (
        2,
        [
            (3, 2, 3, "relu"),
            (1, 1, 3, "linear"),
            (2, 3, 2, "relu"),
            (2, 2, 3, "relu"),
            (2, 1, 2, "linear"),
        ],
    ),  # spans 5, 1, 4, 3, 2
    "n3": (3, [(4, 2, 4, "relu"), (8, 1, 3, "relu"), (3, 4, 5, "linear"), (1, 1, 2, "linear")]),
    # spans 7, 8, 9, 1
    "n4-n5": (
        2,
        [
            (3, 7, 3, "relu"),
            (4, 5, 4, "relu"),
            (5, 4, 3, "relu"),
            (4, 10, 2, "relu"),
            (2, 31, 3, "linear"),
            (3, 16, 2, "linear"),
        ],
    ),  # spans 15, 16, 17, 31, 32, 33
}


def chain_network(name: str, seed: int = 0) -> Network:
    """An ``EDGE_SPAN_CHAINS`` network with seeded weights (range ends included)."""
    from netgen import random_layer_weights  # tests/netgen.py: on sys.path under pytest

    c_in, layers = EDGE_SPAN_CHAINS[name]
    rng = np.random.default_rng(seed)
    convs = []
    for i, (k, d, c_out, act) in enumerate(layers):
        w, b = random_layer_weights(rng, k, c_in, c_out)
        convs.append(ConvLayer(f"l{i}", w, b, d, act))
        c_in = c_out
    return Network(convs, IOSpec.default(EDGE_SPAN_CHAINS[name][0], c_in), name=f"span-{name}")


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
