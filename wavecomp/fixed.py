"""The Q4.12 numerics contract — the one place every backend's arithmetic is defined.

Every rule here is normative (see DESIGN.md, "Numerics contract"): the references in
``wavecomp.reference`` call these functions, and the RTL and C++ backends must reproduce them
bit for bit. If you are tempted to re-implement a rounding or a clamp elsewhere, call this
module instead.

Q4.12: an int16 raw value ``r`` means ``r / 4096``; range [-8, 8 - 2**-12].

QKeras equivalence (pinned by ``tests/test_frontend.py``, QKeras 0.9.0): for every float32
``x`` in [-2**27, 4104) -- Keras holds weights as float32 -- ``quantized_bits(16, 3,
alpha=1)(x)`` equals ``from_q12(to_q12(x))`` exactly, half-LSB ties (both round half to
even) and saturation at both range ends included; ``quantized_relu(15, 3)(x)`` equals
``max(0, from_q12(to_q12(x)))`` for every float32 with ``|x| < 1e34`` (beyond, ``x * 2**15``
overflows and both quantisers return NaN). Two real differences, neither reachable by
weights inside the Q4.12 range: (1) QKeras casts to float32 first, so a float64
value within float32 resolution of a tie rounds twice (``(0.5 + 2**-30) * 2**-12``: QKeras
0, ``to_q12`` 1 LSB); (2) its straight-through estimator returns ``x + (q - x)`` in float32,
which is inexact once ``q - x`` is not representable: for ``x >= 4104`` the result is 8.0 or
8 - 2**-11 instead of 8 - 2**-12, and from ``x <= -2**27`` it can be -16 or 0. The importer
therefore checks that every quantised weight lies on the grid rather than trusting the
quantiser.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

FRAC_BITS = 12
"""Fractional bits of Q4.12."""
ONE = 1 << FRAC_BITS
"""Raw value of 1.0."""
RAW_MIN = -(1 << 15)
RAW_MAX = (1 << 15) - 1
VALUE_MIN = RAW_MIN / ONE
"""Most negative representable value (-8.0)."""
VALUE_MAX = RAW_MAX / ONE
"""Most positive representable value (8 - 2**-12)."""
LSB = 1.0 / ONE

Rounding = Literal["half_up", "floor"]
ROUNDING_MODES: tuple[Rounding, ...] = ("half_up", "floor")
DEFAULT_ROUNDING: Rounding = "half_up"

Activation = Literal["relu", "linear"]
ACTIVATIONS: tuple[Activation, ...] = ("relu", "linear")

# QKeras quantisers that put values exactly on the Q4.12 grid. QKeras' `integer` excludes the
# sign bit, so quantized_bits(16, 4) would be Q5.11; `alpha=1` stops QKeras from switching to
# auto power-of-two scales.
QKERAS_WEIGHT_QUANTIZER = "quantized_bits(16, 3, alpha=1)"
QKERAS_RELU_QUANTIZER = "quantized_relu(15, 3)"

# The eurorack-pmod codec sample is signed 16-bit at 4 counts per mV; the network sees it
# shifted right by 2 (8 V -> 8000 raw -> 1.953 in Q4.12) and drives outputs shifted left by 2.
DEFAULT_INPUT_SHIFT = 2
DEFAULT_OUTPUT_SHIFT = 2


def rounding_constant(rounding: Rounding) -> int:
    """R in ``acc = (bias << 12) + R + sum(W * x)``: 0 for floor, 2**11 for half_up."""
    if rounding == "half_up":
        return 1 << (FRAC_BITS - 1)
    if rounding == "floor":
        return 0
    raise ValueError(f"unknown rounding mode {rounding!r}: use one of {', '.join(ROUNDING_MODES)}")


def to_q12(values: ArrayLike) -> np.ndarray:
    """Float -> Q4.12 raw int16: round half to even, then saturate (equals QKeras' grid)."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) * ONE)
    return np.clip(scaled, RAW_MIN, RAW_MAX).astype(np.int16)


def from_q12(raw: ArrayLike) -> np.ndarray:
    """Q4.12 raw -> float64 value (exact)."""
    return np.asarray(raw, dtype=np.float64) / ONE


def quantize_to_grid(values: ArrayLike) -> np.ndarray:
    """Float values snapped onto the Q4.12 grid, returned as float (for training data)."""
    return from_q12(to_q12(values))


def requantize(acc: np.ndarray, activation: Activation) -> np.ndarray:
    """Accumulator (exact, with R already added) -> Q4.12 output.

    ``y = clamp(acc >> 12, -32768, 32767)`` with an arithmetic (floor) shift, then ReLU.
    """
    acc = np.asarray(acc)
    if acc.dtype != np.int64 and acc.dtype != object:
        acc = acc.astype(np.int64)
    y = np.clip(acc >> FRAC_BITS, RAW_MIN, RAW_MAX)
    if activation == "relu":
        y = np.maximum(y, 0)
    elif activation != "linear":
        raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    return y.astype(np.int16)


def bias_term(bias: np.ndarray, rounding: Rounding) -> np.ndarray:
    """The accumulator's start value per output channel: ``(bias << 12) + R`` (int64)."""
    return (np.asarray(bias, dtype=np.int64) << FRAC_BITS) + rounding_constant(rounding)


def accumulator_bound(weights: np.ndarray, bias: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Static bound B_o on |acc| per output channel (int64 array, shape (C_out,)).

    ``B_o = |bias[o]| * 2**12 + R + sum_{k,c} |W[k][c][o]| * 32768``. No input can push the
    exact accumulator outside [-B_o, B_o], so an accumulator that holds that range never wraps.
    """
    w = np.abs(np.asarray(weights, dtype=np.int64))
    b = np.abs(np.asarray(bias, dtype=np.int64))
    return (b << FRAC_BITS) + rounding_constant(rounding) + w.sum(axis=(0, 1)) * (1 << 15)


def accumulator_bits(bound: int) -> int:
    """Smallest two's-complement width that holds every integer in [-bound, bound]."""
    return int(bound).bit_length() + 1


def board_to_q12(samples: np.ndarray, shift: int = DEFAULT_INPUT_SHIFT) -> np.ndarray:
    """Codec sample (int16) -> network input (Q4.12 raw): arithmetic shift right."""
    return (np.asarray(samples, dtype=np.int32) >> shift).astype(np.int16)


def q12_to_board(raw: np.ndarray, shift: int = DEFAULT_OUTPUT_SHIFT) -> np.ndarray:
    """Network output (Q4.12 raw) -> codec sample (int16): shift left, saturate."""
    return np.clip(np.asarray(raw, dtype=np.int32) << shift, RAW_MIN, RAW_MAX).astype(np.int16)


def wav_to_board(samples: np.ndarray) -> np.ndarray:
    """WAV float samples in [-1, 1) -> int16 codec samples (round half even, saturate).

    A 16-bit WAV's integer samples *are* codec samples; soundfile's float view of them
    (value / 32768) comes back exactly through this function.
    """
    scaled = np.rint(np.asarray(samples, dtype=np.float64) * 32768.0)
    return np.clip(scaled, RAW_MIN, RAW_MAX).astype(np.int16)


def board_to_wav(samples: np.ndarray) -> np.ndarray:
    """int16 codec samples -> float32 WAV samples in [-1, 1)."""
    return (np.asarray(samples, dtype=np.float64) / 32768.0).astype(np.float32)


def wav_to_model_units(samples: np.ndarray, shift: int = DEFAULT_INPUT_SHIFT) -> np.ndarray:
    """WAV float samples -> network input values (floats on the Q4.12 grid), as the board sees."""
    return from_q12(board_to_q12(wav_to_board(samples), shift))
