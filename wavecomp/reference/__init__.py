"""Golden references for the numerics contract.

- ``fxp_spec``: the readable spec — fxpmath, one sample at a time, with activation caching.
- ``numpy_ref``: int64 twins for bulk work — a vectorised whole-signal ("batch") version and a
  per-sample streaming version whose ring buffers mirror the hardware's state.

All three are proven equal by the test suite; backends are compared against ``run``.

``float_ref`` is not the Q4.12 contract: it is the MCU's f32 numerics (float32 with one fixed
summation order, plus a float64 twin), which ``wavecomp emit-cmsis --numerics f32`` matches.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from wavecomp import fixed
from wavecomp.ir import Network
from wavecomp.reference.fxp_spec import FxpStreamingReference
from wavecomp.reference.numpy_ref import (
    StreamingReference,
    run_batch,
    run_batch_layers,
    run_batch_tensors,
)

Engine = Literal["batch", "stream", "fxpmath"]
ENGINES: tuple[Engine, ...] = ("batch", "stream", "fxpmath")

__all__ = [
    "ENGINES",
    "FxpStreamingReference",
    "StreamingReference",
    "run",
    "run_batch",
    "run_batch_layers",
    "run_batch_tensors",
]


def run(
    net: Network,
    x: np.ndarray,
    *,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    engine: Engine = "batch",
) -> np.ndarray:
    """Run ``net`` on Q4.12 raw inputs ``x`` (T, C_in) from reset; returns int16 (T, C_out)."""
    if engine == "batch":
        return run_batch(net, x, rounding=rounding)
    if engine == "stream":
        return StreamingReference(net, rounding=rounding).run(x)
    if engine == "fxpmath":
        return FxpStreamingReference(net, rounding=rounding).run(x)
    raise ValueError(f"unknown reference engine {engine!r}: use one of {', '.join(ENGINES)}")
