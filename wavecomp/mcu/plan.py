"""How the MCU engine computes each layer: accumulator width, ring size, weight layout, bytes.

Why a module of its own: the renderer (C++ text), the Daisy fit check (memory) and the CLI
summary all need the same per-layer decisions, and none of them may guess differently. The
decisions follow the numerics contract (DESIGN.md): a 32-bit accumulator only where the
layer's static bound (``ConvLayer.accumulator_bound``) is below 2^31, never assumed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wavecomp import fixed
from wavecomp.errors import WavecompError
from wavecomp.ir import ConvLayer, LayerShape, Network

Numerics = Literal["q12", "f32"]
Kernel = Literal["fused", "cmsis"]
NUMERICS: tuple[Numerics, ...] = ("q12", "f32")
KERNELS: tuple[Kernel, ...] = ("fused", "cmsis")
SAMPLE_RATES = (48_000, 96_000)
"""What the Daisy's SAI runs the codec at (SaiHandle::Config::SampleRate)."""

NARROW_LIMIT = 1 << 31
"""Bounds below this fit an int32 accumulator (the contract's rule)."""
WIDE_LIMIT = 1 << 43
"""Below this, acc >> 12 fits in 32 bits, so the 64-bit requantisation stays cheap."""
INT64_LIMIT = 1 << 62

CMSIS_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("q12", "cmsis"): ("Source/BasicMathFunctions/arm_dot_prod_q15.c",),
    ("f32", "cmsis"): ("Source/BasicMathFunctions/arm_dot_prod_f32.c",),
}
"""CMSIS-DSP files an engine compiles (single files, relative to the CMSIS-DSP root)."""


class EmitError(WavecompError, ValueError):
    """The engine cannot be written as asked; the message names the option or folder and the fix."""


@dataclass(frozen=True)
class EngineLayer(LayerShape):
    """How the engine computes one layer, with its memory figures."""

    index: int
    activation: str
    macs: int
    bound: int
    """Static |accumulator| bound for the chosen rounding (q12); 0 for f32."""
    accumulator: str
    """What holds the sum: int32/int64 with the instruction, or float32."""
    ring_rows: int
    cache_bytes: int
    weight_bytes: int


def check_options(numerics: str, kernel: str, rounding: str, sample_rate: int) -> None:
    """Reject an unknown option with the list of valid ones."""
    if numerics not in NUMERICS:
        raise EmitError(f"numerics {numerics!r} is not supported: use one of {', '.join(NUMERICS)}")
    if kernel not in KERNELS:
        raise EmitError(f"kernel {kernel!r} is not supported: use one of {', '.join(KERNELS)}")
    if rounding not in fixed.ROUNDING_MODES:
        raise EmitError(
            f"rounding {rounding!r} is not supported: use one of {', '.join(fixed.ROUNDING_MODES)}"
        )
    if sample_rate not in SAMPLE_RATES:
        raise EmitError(
            f"sample rate {sample_rate} Hz: the Daisy firmware runs at "
            f"{' or '.join(str(r) for r in SAMPLE_RATES)} Hz"
        )


def ring_rows(layer: ConvLayer) -> int:
    """Cache rows: the smallest power of two holding the layer's span (mask indexing)."""
    return 1 << (layer.span - 1).bit_length()


def accumulator_width(layer: ConvLayer, rounding: fixed.Rounding) -> str:
    """The fused kernel's ``AccWidth`` for a layer, from its static bound (never assumed)."""
    bound = int(layer.accumulator_bound(rounding).max())
    if bound < NARROW_LIMIT:
        return "narrow"
    if bound < WIDE_LIMIT:
        return "wide"
    if bound < INT64_LIMIT:
        return "wide_clamp"
    raise EmitError(
        f"layer {layer.name!r}: accumulator bound {bound} needs more than 63 bits; "
        "no MCU kernel holds it exactly (reduce the weights or split the layer)"
    )


def fused_group(width: str) -> int:
    """Output channels per pass of the fused kernel (``q12_fused::kGroup``)."""
    return 4 if width == "narrow" else 2


def packed_pairs(weights: np.ndarray) -> np.ndarray:
    """(K, C_in, C_out) int16 -> (K, ceil(C_in/2), C_out) uint32: channel 2p in the low half,
    2p+1 in the high half (a zero pad channel when C_in is odd), as __SMLAD reads them."""
    k, c_in, c_out = weights.shape
    pairs = (c_in + 1) // 2
    padded = np.zeros((k, 2 * pairs, c_out), dtype=np.int64)
    padded[:, :c_in] = weights
    low = padded[:, 0::2] & 0xFFFF
    high = padded[:, 1::2] & 0xFFFF
    return (low | (high << 16)).astype(np.uint32)


def fused_weight_stream(layer: ConvLayer, width: str) -> np.ndarray:
    """The layer's weights in the exact order ``q12_fused::conv_layer`` consumes them.

    Per group of G output channels (the last group may be smaller), per tap k, per two
    channel pairs (p, p+1): G words for pair p then G for pair p+1; an odd last pair alone.
    """
    packed = packed_pairs(layer.weights)
    kernel_size, pairs, c_out = packed.shape
    group = fused_group(width)
    starts = [(o, min(group, c_out - o)) for o in range(0, c_out, group)]
    words = []
    for o0, g in starts:
        for k in range(kernel_size):
            for p in range(pairs):
                words.append(packed[k, p, o0 : o0 + g])
    return np.concatenate(words).astype(np.uint32)


def _storage(
    layer: ConvLayer, rows: int, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> dict[str, str | int]:
    """What holds the layer's sums, and the bytes of its cache and its weights + bias terms
    (``EngineLayer``'s fields), for the chosen numerics and kernel."""
    if numerics == "f32":
        return {
            "accumulator": "float32",
            "cache_bytes": rows * layer.in_channels * 4,
            "weight_bytes": 4 * layer.params,
        }
    if kernel == "cmsis":
        accumulator_width(layer, rounding)  # reject unholdable bounds up front
        return {
            "accumulator": "int64 dot_prod_q15",
            "cache_bytes": rows * layer.in_channels * 2,
            "weight_bytes": 2 * layer.macs + 4 * layer.out_channels,
        }
    width = accumulator_width(layer, rounding)
    pairs = (layer.in_channels + 1) // 2
    bias_bytes = 4 if width == "narrow" else 8
    return {
        "accumulator": "int32 SMLAD" if width == "narrow" else "int64 SMLALD",
        "cache_bytes": 2 * rows * pairs * 4,  # every column twice, in packed pairs
        "weight_bytes": (4 * layer.kernel_size * pairs + bias_bytes) * layer.out_channels,
    }


def plan_layers(
    net: Network, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> tuple[EngineLayer, ...]:
    """Per layer: accumulator, cache rows and the bytes the engine spends on it."""
    plans = []
    for i, layer in enumerate(net.layers):
        rows = ring_rows(layer)
        plans.append(
            EngineLayer.of(
                layer,
                index=i,
                activation=layer.activation,
                macs=layer.macs,
                bound=int(layer.accumulator_bound(rounding).max()) if numerics == "q12" else 0,
                ring_rows=rows,
                **_storage(layer, rows, numerics, kernel, rounding),
            )
        )
    return tuple(plans)


def total_weight_bytes(plans: Iterable[EngineLayer]) -> int:
    """The engine's weights and bias terms, every layer's."""
    return sum(p.weight_bytes for p in plans)


def total_cache_bytes(plans: Iterable[EngineLayer]) -> int:
    """The engine's activation caches, every layer's."""
    return sum(p.cache_bytes for p in plans)
