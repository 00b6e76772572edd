"""Which QKeras quantisers put a layer on the Q4.12 grid; float tensors are quantised here.

Why one module: a quantiser that is *almost* Q4.12 (Q5.11, a per-channel alpha, a relu that
clips at 16) trains on different numbers than the hardware runs, so the importer refuses it
with the exact fix; float tensors are quantised here with ``fixed.to_q12`` and their error
reported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from wavecomp import fixed
from wavecomp.frontend.keras_env import FrontendError

__all__ = [
    "CANONICAL_GRID",
    "CANONICAL_RELU",
    "CANONICAL_TANH",
    "CANONICAL_WEIGHTS",
    "QKERAS_TANH_QUANTIZER",
    "as_float",
    "check_grid_quantizer",
    "check_po2_quantizer",
    "check_tanh_quantizer",
    "check_weight_quantizer",
    "float_activation",
    "on_grid",
    "po2_weight_shifts",
    "quantise_float",
    "relu_from_quantizer",
    "weight_shifts",
]

CANONICAL_WEIGHTS = "quantized_bits(16, 3, alpha=1)"
CANONICAL_RELU = "QActivation('quantized_relu(15, 3)')"
QKERAS_TANH_QUANTIZER = "quantized_tanh(13, use_real_tanh=True)"
"""QKeras 0.9.0's quantized_tanh(bits) rounds tanh(x) to steps of 2**-(bits-1) and clips to
[-1, 1 - 2**-(bits-1)]: bits=13 is the Q4.12 grid. use_real_tanh=True, because without it
QKeras computes 2*hard_sigmoid(x) - 1 (a hard tanh, clip(x, -1, 1)) by default."""
CANONICAL_TANH = f"QActivation('{QKERAS_TANH_QUANTIZER}')"
CANONICAL_GRID = f"QActivation('{CANONICAL_WEIGHTS}')"
"""Rounds and saturates a linear tensor (a sum, a linear conv) onto Q4.12, as the IR does."""


def as_float(value: Any) -> float:
    """A quantiser or layer attribute (Python number, tensor or variable) as one float."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(np.asarray(value).reshape(-1)[0])


def check_weight_quantizer(where: str, what: str, quantizer: Any, qkeras: Any) -> list[str]:
    """Reject quantisers whose grid is not (a subset of) Q4.12; return notes."""
    notes: list[str] = []
    if not isinstance(quantizer, qkeras.quantized_bits):
        raise FrontendError(
            f"{where}: {what} {quantizer} is not supported; use {CANONICAL_WEIGHTS} "
            "(the Q4.12 grid), or no quantizer at all (float weights are then quantised on import)"
        )
    alpha = quantizer.alpha
    if isinstance(alpha, str) or (alpha is not None and as_float(alpha) != 1.0):
        default_note = (
            " (QKeras sets alpha='auto_po2' on a QConv1D kernel_quantizer when alpha is not given)"
            if alpha == "auto_po2" and what == "kernel_quantizer"
            else ""
        )
        raise FrontendError(
            f"{where}: {what} {quantizer} has alpha={alpha!r}{default_note}: QKeras then scales "
            "the weights by per-channel (power-of-two) factors, so they are not on the Q4.12 "
            f"grid. Pass alpha=1: {CANONICAL_WEIGHTS}"
        )
    if alpha is None:
        notes.append(
            f"{where}: {what} has alpha=None; QKeras 0.9.0 uses scale 1 there (only a "
            f"QConv1D's kernel_quantizer turns it into 'auto_po2'), but prefer {CANONICAL_WEIGHTS}"
        )
    bits = int(as_float(quantizer.bits))
    integer = int(as_float(quantizer.integer))
    if not quantizer.keep_negative:
        raise FrontendError(
            f"{where}: {what} {quantizer} has keep_negative=False; Q4.12 weights are signed: "
            f"use {CANONICAL_WEIGHTS}"
        )
    frac = bits - integer - 1
    if integer > 3 or frac > fixed.FRAC_BITS or frac < 0:
        hint = (
            " (QKeras' `integer` excludes the sign bit, so quantized_bits(16, 4) is Q5.11, "
            "not Q4.12 -- a common mistake)"
            if integer > 3
            else ""
        )
        raise FrontendError(
            f"{where}: {what} {quantizer} is a Q{integer + 1}.{frac} grid, which does not fit "
            f"Q4.12{hint}; use {CANONICAL_WEIGHTS}"
        )
    if as_float(quantizer.qnoise_factor) != 1.0:
        raise FrontendError(
            f"{where}: {what} {quantizer} has qnoise_factor={as_float(quantizer.qnoise_factor)} "
            f"(a mix of float and quantised weights); use qnoise_factor=1 ({CANONICAL_WEIGHTS})"
        )
    return notes


def on_grid(where: str, what: str, values: np.ndarray) -> np.ndarray:
    """Quantised float32 values -> int16 raw, or a FrontendError if any is off the grid."""
    raw = np.asarray(values, dtype=np.float64) * fixed.ONE
    off = ~np.isfinite(raw) | (raw != np.round(raw)) | (raw < fixed.RAW_MIN) | (raw > fixed.RAW_MAX)
    if np.any(off):
        bad = float(np.asarray(values).reshape(-1)[np.argmax(off.reshape(-1))])
        raise FrontendError(
            f"{where}: the quantised {what} are not on the Q4.12 grid (e.g. {bad!r}); "
            f"use {CANONICAL_WEIGHTS}"
        )
    return raw.astype(np.int16)


def quantise_float(
    where: str, what: str, values: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, float]:
    """Float -> Q4.12 with fixed.to_q12; returns (raw, float-minus-raw in LSB, max |error|)."""
    scaled = np.asarray(values, dtype=np.float64) * fixed.ONE
    if not np.all(np.isfinite(scaled)):
        raise FrontendError(f"{where}: the float {what} contain NaN or infinite values")
    raw = fixed.to_q12(np.asarray(values, dtype=np.float64))
    delta = scaled - raw
    saturated = int(np.sum((scaled > fixed.RAW_MAX + 0.5) | (scaled < fixed.RAW_MIN - 0.5)))
    if saturated:
        notes.append(
            f"warning: {where}: {saturated} float {what} value(s) lie outside the Q4.12 range "
            f"[-8, 8) and were saturated (largest |value| {np.abs(values).max():.4g})"
        )
    return raw, delta, float(np.max(np.abs(delta))) if delta.size else 0.0


def relu_from_quantizer(where: str, quantizer: Any, qkeras: Any) -> bool | None:
    """Classify an activation callable: True = quantized relu, False = float relu, None = linear.

    Raises FrontendError for anything else.
    """
    if quantizer is None:
        return None
    if isinstance(quantizer, qkeras.quantized_relu):
        bits = int(as_float(quantizer.bits))
        integer = int(as_float(quantizer.integer))
        slope, noise = as_float(quantizer.negative_slope), as_float(quantizer.qnoise_factor)
        grid = (
            f"{bits - integer} fractional and {integer} integer bits (Q4.12 activations need "
            "12 and 3; an integer of 4 would clip at 16 where the hardware clips at 8)"
        )
        problems = {  # what is wrong -> whether it is
            grid: (bits, integer) != (15, 3),
            "use_sigmoid": bool(quantizer.use_sigmoid),
            f"negative_slope={slope}": slope != 0.0,
            "is_quantized_clip=False": not quantizer.is_quantized_clip,
            f"qnoise_factor={noise}": noise != 1.0,
        }
        found = "; ".join(problem for problem, present in problems.items() if present)
        if found:
            raise FrontendError(
                f"{where}: activation {quantizer} is not the Q4.12 relu ({found}); "
                f"use {CANONICAL_RELU}"
            )
        return True
    return float_activation(where, str(getattr(quantizer, "__name__", quantizer)))


def float_activation(where: str, name: str) -> bool | None:
    """A Keras activation by name: False = float relu, None = linear; anything else is refused."""
    if name == "relu":
        return False
    if name == "linear":
        return None
    raise FrontendError(
        f"{where}: activation {name!r} is not supported (the hardware has relu and linear "
        f"only); use {CANONICAL_RELU} (or Activation('relu')) for relu, or none for linear"
    )


# ---- graph activations and power-of-two weights (the graph importer) -------------------------
def check_tanh_quantizer(where: str, quantizer: Any) -> None:
    """Refuse a quantized_tanh whose float output is not tanh rounded onto the Q4.12 grid."""
    bits = int(as_float(quantizer.bits))
    problems = {
        f"bits={bits} rounds to steps of 2**-{bits - 1}, not Q4.12's 2**-12 (its bits count "
        "the sign, so Q4.12 needs 13)": bits != 13,
        "use_real_tanh=False (QKeras then computes 2*hard_sigmoid(x) - 1, a hard tanh)": (
            not quantizer.use_real_tanh
        ),
        "use_stochastic_rounding": bool(quantizer.use_stochastic_rounding),
        "symmetric=True (clips at -1 + 2**-12)": bool(quantizer.symmetric),
    }
    found = "; ".join(problem for problem, present in problems.items() if present)
    if found:
        raise FrontendError(
            f"{where}: activation {quantizer} is not tanh on the Q4.12 grid ({found}); "
            f"use {CANONICAL_TANH}"
        )


def check_grid_quantizer(where: str, quantizer: Any, qkeras: Any) -> None:
    """An activation quantized_bits must round and saturate exactly as Q4.12 does."""
    check_weight_quantizer(where, "activation", quantizer, qkeras)
    bits, integer = int(as_float(quantizer.bits)), int(as_float(quantizer.integer))
    problems = {
        f"a Q{integer + 1}.{bits - integer - 1} grid": (bits, integer) != (16, 3),
        "symmetric=True (it clips at -8 + 2**-12)": bool(quantizer.symmetric),
        "use_stochastic_rounding": bool(quantizer.use_stochastic_rounding),
    }
    found = "; ".join(problem for problem, present in problems.items() if present)
    if found:
        raise FrontendError(
            f"{where}: activation {quantizer} does not round and saturate as Q4.12 ({found}); "
            f"use {CANONICAL_GRID}"
        )


def check_po2_quantizer(where: str, what: str, quantizer: Any) -> None:
    """quantized_po2 is accepted when it is deterministic; its values are checked separately."""
    if quantizer.use_stochastic_rounding or as_float(quantizer.qnoise_factor) != 1.0:
        raise FrontendError(
            f"{where}: {what} {quantizer} uses stochastic rounding or qnoise_factor != 1, so "
            "training sees other weights than the hardware; use quantized_po2(bits, max_value)"
        )


def weight_shifts(values: np.ndarray) -> frozenset[int]:
    """Every weight shift e (0..3) whose Q(4-e).(12+e) grid holds all ``values`` exactly."""
    values = np.asarray(values, dtype=np.float64)
    shifts = set()
    for e in range(fixed.MAX_WEIGHT_SHIFT + 1):
        raw = values * 2.0 ** (fixed.FRAC_BITS + e)
        if (
            np.all(np.isfinite(raw))
            and np.all(raw == np.round(raw))
            and (raw.size == 0 or (raw.min() >= fixed.RAW_MIN and raw.max() <= fixed.RAW_MAX))
        ):
            shifts.add(e)
    return frozenset(shifts)


def po2_weight_shifts(where: str, what: str, values: np.ndarray) -> frozenset[int]:
    """The shifts that hold a quantized_po2 layer's weights, or an error naming a weight."""
    shifts = weight_shifts(values)
    if shifts:
        return shifts
    grids = (
        f"Q(4-e).(12+e) for e = 0..{fixed.MAX_WEIGHT_SHIFT} (steps 2**-12 .. 2**-15, ranges "
        "[-8, 8) .. [-1, 1)): powers of two from 2**-15 to 2**2 (and -8)"
    )
    fix = "narrow quantized_po2's exponent range (bits, max_value) so every weight fits"
    distinct = np.unique(np.asarray(values, dtype=np.float64))
    fits = {float(v): weight_shifts(np.array([v])) for v in distinct}
    for v, fit in fits.items():
        if not fit:
            power = f" (2**{math.log2(abs(v)):g})" if v and math.isfinite(v) else ""
            raise FrontendError(
                f"{where}: {what} value {v!r}{power} is on none of the weight grids, {grids}; "
                f"{fix} (QKeras' quantized_po2 turns 0 into +2**min_exponent)"
            )
    small = max(fits, key=lambda v: min(fits[v]))  # needs the finest grid
    large = min(fits, key=lambda v: max(fits[v]))  # needs the widest range
    raise FrontendError(
        f"{where}: {what} values {large!r} (needs e <= {max(fits[large])}) and {small!r} "
        f"(needs e >= {min(fits[small])}) share no weight shift; one node has one shift e, "
        f"grids {grids}; {fix}"
    )
