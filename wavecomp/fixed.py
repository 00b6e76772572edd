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

from collections.abc import Callable, Sequence
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

Activation = Literal["linear", "relu", "leaky_relu", "pwl", "gated"]
ACTIVATIONS: tuple[Activation, ...] = ("linear", "relu", "leaky_relu", "pwl", "gated")
CHAIN_ACTIVATIONS: tuple[Activation, ...] = ("relu", "linear")
"""What a plain conv chain (IR version 1, and today's RTL and C++ backends) can apply."""
TABLE_ACTIVATIONS: dict[str, int] = {"pwl": 1, "gated": 2}
"""Activations that read tables, and how many (gated: a tanh-like and a sigmoid-like one)."""

MAX_WEIGHT_SHIFT = 3
"""A node's weights are Q(4-e).(12+e) with e in 0..3: small weights buy precision."""
MAX_IDENTITY_SHIFT = FRAC_BITS
"""An identity source adds X * 2**-m (m in 0..12): exact in the accumulator, which holds
12 + e fractional bits, so tensors kept at power-of-two scales can be summed exactly."""

TABLE_STEP_BITS = 6
"""A pwl table has a knot every 2**6 raw input codes."""
TABLE_SIZE = (1 << (16 - TABLE_STEP_BITS)) + 1
"""1,025 knots: 1,024 segments over the int16 input range plus the end knot at x = +8."""

# QKeras quantisers that put values exactly on the Q4.12 grid. QKeras' `integer` excludes the
# sign bit, so quantized_bits(16, 4) would be Q5.11; `alpha=1` stops QKeras from switching to
# auto power-of-two scales.
QKERAS_WEIGHT_QUANTIZER = "quantized_bits(16, 3, alpha=1)"
QKERAS_RELU_QUANTIZER = "quantized_relu(15, 3)"

# The eurorack-pmod codec sample is signed 16-bit at 4 counts per mV; the network sees it
# shifted right by 2 (8 V -> 8000 raw -> 1.953 in Q4.12) and drives outputs shifted left by 2.
DEFAULT_INPUT_SHIFT = 2
DEFAULT_OUTPUT_SHIFT = 2


def rounding_constant(rounding: Rounding, shift: int = 0) -> int:
    """R_e in ``acc = (bias << (12+e)) + R_e + sum(W * x)``: 0 for floor, 2**(11+e) for half_up."""
    if rounding == "half_up":
        return 1 << (FRAC_BITS - 1 + shift)
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


def pre_activation(acc: ArrayLike, shift: int = 0) -> np.ndarray:
    """Exact accumulator (R_e already added) -> p = clamp(acc >> (12+e)), int64.

    ``>>`` is an arithmetic (floor) shift; the rounding mode lives in R_e.
    """
    acc = np.asarray(acc)
    if acc.dtype != np.int64 and acc.dtype != object:
        acc = acc.astype(np.int64)
    return np.clip(acc >> (FRAC_BITS + shift), RAW_MIN, RAW_MAX).astype(np.int64)


def requantize(acc: np.ndarray, activation: Activation) -> np.ndarray:
    """A plain conv layer's output: ``clamp(acc >> 12)``, then ReLU or linear (int16)."""
    if activation not in CHAIN_ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}: use one of {', '.join(CHAIN_ACTIVATIONS)}"
        )
    return activate(pre_activation(acc), activation)


def bias_term(bias: np.ndarray, rounding: Rounding, shift: int = 0) -> np.ndarray:
    """The accumulator's start value per channel: ``(bias << (12+e)) + R_e`` (int64)."""
    return (np.asarray(bias, dtype=np.int64) << (FRAC_BITS + shift)) + rounding_constant(
        rounding, shift
    )


def identity_term(x: ArrayLike, node_shift: int, identity_shift: int = 0) -> np.ndarray:
    """An identity source's addend: ``X << (12 + e - m)`` (int64), i.e. X * 2**-m in p units."""
    return np.asarray(x, dtype=np.int64) << (FRAC_BITS + node_shift - identity_shift)


def leaky_relu(p: ArrayLike, slope: int, rounding: Rounding) -> np.ndarray:
    """``p`` if p >= 0, else ``clamp((p * a + R_0) >> 12)`` with slope ``a`` in Q4.12 (int64)."""
    p = np.asarray(p, dtype=np.int64)
    negative = np.clip(
        (p * int(slope) + rounding_constant(rounding)) >> FRAC_BITS, RAW_MIN, RAW_MAX
    )
    return np.where(p >= 0, p, negative)


def pwl(p: ArrayLike, table: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Table lookup with linear interpolation between knots (int64).

    ``u = p + 32768; i = u >> 6; f = u & 63; y = L[i] + (((L[i+1] - L[i]) * f + r) >> 6)``
    with r = 32 (half_up) or 0 (floor). y lies between two int16 knots, so it needs no clamp.
    """
    u = np.asarray(p, dtype=np.int64) - RAW_MIN
    i = u >> TABLE_STEP_BITS
    f = u & ((1 << TABLE_STEP_BITS) - 1)
    table = np.asarray(table, dtype=np.int64)
    low, high = table[i], table[i + 1]
    r = (1 << (TABLE_STEP_BITS - 1)) if rounding_constant(rounding) else 0
    return low + (((high - low) * f + r) >> TABLE_STEP_BITS)


def gated(p: ArrayLike, tables: tuple[np.ndarray, np.ndarray], rounding: Rounding) -> np.ndarray:
    """``y[c] = clamp((pwl_0(p[c]) * pwl_1(p[C+c]) + R_0) >> 12)`` over the last axis (2C -> C)."""
    p = np.asarray(p, dtype=np.int64)
    half = p.shape[-1] // 2
    signal = pwl(p[..., :half], tables[0], rounding)
    gate = pwl(p[..., half:], tables[1], rounding)
    return np.clip((signal * gate + rounding_constant(rounding)) >> FRAC_BITS, RAW_MIN, RAW_MAX)


def activate(
    p: ArrayLike,
    activation: Activation,
    *,
    slope: int = 0,
    tables: tuple[np.ndarray, ...] = (),
    rounding: Rounding = DEFAULT_ROUNDING,
) -> np.ndarray:
    """A node's output (int16) from its pre-activations ``p`` (last axis = channels)."""
    p = np.asarray(p, dtype=np.int64)
    if activation == "linear":
        y = p
    elif activation == "relu":
        y = np.maximum(p, 0)
    elif activation == "leaky_relu":
        y = leaky_relu(p, slope, rounding)
    elif activation == "pwl":
        y = pwl(p, tables[0], rounding)
    elif activation == "gated":
        y = gated(p, (tables[0], tables[1]), rounding)
    else:
        raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    return y.astype(np.int16)


def table_knots() -> np.ndarray:
    """The 1,025 inputs (model units, float64) where a pwl table is sampled: -8 .. +8."""
    return (np.arange(TABLE_SIZE, dtype=np.float64) * (1 << TABLE_STEP_BITS) + RAW_MIN) / ONE


def pwl_table(function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """A pwl table (int16, 1,025 knots): ``function`` at each knot in float64, then ``to_q12``.

    Scales are folded in by the caller, e.g. tanh read at input scale 4 and stored at output
    scale 1/8 is ``pwl_table(lambda x: np.tanh(4 * x) * 8)``.
    """
    return to_q12(function(table_knots()))


def tanh_table() -> np.ndarray:
    """tanh at unit scales (within 1 LSB of the true function over every int16 input)."""
    return pwl_table(np.tanh)


def sigmoid_table() -> np.ndarray:
    """The logistic sigmoid at unit scales."""
    return pwl_table(lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)))


def table_range(table: np.ndarray) -> int:
    """Largest |y| a pwl table can output: interpolation stays between two knots."""
    return int(np.abs(np.asarray(table, dtype=np.int64)).max())


def accumulator_bound(weights: np.ndarray, bias: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Static bound B_o on |acc| per output channel of a plain conv layer (int64, (C_out,)).

    ``B_o = |bias[o]| * 2**12 + R + sum_{k,c} |W[k][c][o]| * 32768``. No input can push the
    exact accumulator outside [-B_o, B_o], so an accumulator that holds that range never wraps.
    """
    return node_accumulator_bound(bias, 0, rounding, convs=[(weights, 1 << 15)])


def node_accumulator_bound(
    bias: np.ndarray,
    shift: int,
    rounding: Rounding,
    *,
    convs: Sequence[tuple[np.ndarray, int]] = (),
    identities: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """Static |acc| bound per pre-activation channel of a graph node (int64 array).

    ``B = |bias| * 2**(12+e) + R_e + sum |W| * M_X + sum_identity M_X * 2**(12+e-m)``, where
    ``convs`` are (weights (K, C_X, C), M_X) and ``identities`` are (M_X, m): M_X is a proven
    bound on |X| (32768 for an arbitrary int16 tensor, less after tanh, say).
    """
    bound = np.abs(np.asarray(bias, dtype=np.int64)) << (FRAC_BITS + shift)
    bound = bound + rounding_constant(rounding, shift)
    for weights, magnitude in convs:
        bound = bound + np.abs(np.asarray(weights, dtype=np.int64)).sum(axis=(0, 1)) * magnitude
    for magnitude, identity_shift in identities:
        bound = bound + (int(magnitude) << (FRAC_BITS + shift - identity_shift))
    return bound


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
