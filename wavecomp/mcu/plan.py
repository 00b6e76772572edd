"""The MCU engine's options, and how the chain kernels (CMSIS-DSP's ``arm_dot_prod_q15`` and
``arm_dot_prod_f32``) compute each layer: accumulator, ring size, bytes.

Why a module of its own: the renderer (C++ text), the Daisy fit check (memory) and the CLI
summary all need the same decisions, and none of them may guess differently. The fused
kernels (q12 and f32), which run graph networks, are planned in ``graph_plan``; both end in
the same ``EngineSummary`` for the reports.
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
GRAPH_KERNEL: Kernel = "fused"
"""The kernel that runs graph networks (a plain chain is one too), in either numerics; the
``cmsis`` kernel compiles chains."""
SAMPLE_RATES = (48_000, 96_000)
"""What the Daisy's SAI runs the codec at (SaiHandle::Config::SampleRate)."""

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


def check_bound(layer: ConvLayer, rounding: fixed.Rounding) -> None:
    """Refuse a layer whose static accumulator bound no int64 sum holds (the cmsis kernel)."""
    bound = int(layer.accumulator_bound(rounding).max())
    if bound >= INT64_LIMIT:
        raise EmitError(
            f"layer {layer.name!r}: accumulator bound {bound} needs more than 63 bits; "
            "no MCU kernel holds it exactly (reduce the weights or split the layer)"
        )


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
    check_bound(layer, rounding)
    return {
        "accumulator": "int64 dot_prod_q15",
        "cache_bytes": rows * layer.in_channels * 2,
        "weight_bytes": 2 * layer.macs + 4 * layer.out_channels,
    }


def plan_layers(
    net: Network, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> tuple[EngineLayer, ...]:
    """Per layer: accumulator, cache rows and the bytes the engine spends on it."""
    why = net.chain_obstacle()
    if why is not None:
        raise EmitError(
            f"network {net.name!r} is a graph network ({why}); the {numerics} {kernel} engine "
            f"compiles plain conv chains only. Use --numerics {numerics} --kernel fused (the "
            "default kernel), which runs graph networks"
        )
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


@dataclass(frozen=True)
class EngineRow:
    """One node (or chain layer) as the reports show it, for either kind of engine."""

    name: str
    sources: str
    activation: str
    macs: int
    accumulator: str
    bound: int
    """Static |accumulator| bound (0 for f32)."""
    cache_bytes: int
    """The store of the tensor this node writes (a chain layer: the ring of its input)."""
    weight_bytes: int


@dataclass(frozen=True)
class EngineSummary:
    """What the emitted engine spends, row by row and in total."""

    rows: tuple[EngineRow, ...]
    weight_bytes: int
    """Weights, bias terms and tables: const, in code memory."""
    cache_bytes: int
    """Every tensor store (the network input's included)."""
    spill_bytes: int = 0
    """The part of ``cache_bytes`` that does not fit DTCM: ordinary .bss (AXI SRAM)."""

    @property
    def macs_per_sample(self) -> int:
        return sum(r.macs for r in self.rows)


def chain_summary(plans: tuple[EngineLayer, ...]) -> EngineSummary:
    """The chain kernels' (f32, cmsis) rows and totals."""
    rows = tuple(
        EngineRow(
            name=p.name,
            sources=f"K{p.kernel_size},d{p.dilation}, {p.in_channels}->{p.out_channels}",
            activation=p.activation,
            macs=p.macs,
            accumulator=p.accumulator,
            bound=p.bound,
            cache_bytes=p.cache_bytes,
            weight_bytes=p.weight_bytes,
        )
        for p in plans
    )
    return EngineSummary(rows, total_weight_bytes(plans), total_cache_bytes(plans))
