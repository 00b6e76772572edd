"""Float graph -> integer IR: a power-of-two scale per tensor, a weight shift per node, tables.

Why this shape: trained captures carry values far outside Q4.12's +-8 (residual streams to
~18, skip sums to ~50), while tanh outputs and the audio itself need every bit below 1.0. So
each tensor T is stored as raw = value / s_T * 4096 with its own scale s_T, and the scales are
folded into the integer weights, biases and tables (a tanh read at pre-activation scale 4 is the
table of tanh(4u)). Scales are powers of two so that identity adds stay exact (a shift, see
``fixed.identity_term``); a sum gets a scale at least as large as each addend's.

How each scale is chosen:
- the input scale is the caller's (a NAM capture maps codec full scale to 1.0, so it is 1/8:
  the 16-bit sample *is* the raw value); the output gets the caller's scale too unless its
  calibrated peak needs more, in which case the I/O spec's output shift grows by the same
  power of two (the codec then clips what no DAC could play, the network itself does not);
- a linear / relu / leaky_relu tensor: the smallest power of two whose +-8 range holds the
  calibrated peak times ``margin`` (and every identity addend's scale, and its bias);
- a table's output is bounded by its function (tanh, hardtanh, sigmoid: scale 1/8, i.e. 15
  fractional bits); its input is read at a scale where the function has flattened out by +-8
  (tanh 1, sigmoid 2), so clamping the pre-activation costs < 3e-7;
- gated: tanh at 1/4 times sigmoid at 1/2 gives the product at 1/8.

Each node then takes the largest weight shift e (0..3) that keeps every folded weight inside
int16, so small weights keep their precision.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from wavecomp import fixed
from wavecomp.errors import WavecompError
from wavecomp.frontend.float_graph import (
    FloatActivation,
    FloatAdd,
    FloatConv,
    FloatGraph,
    FloatNode,
    elementwise,
)
from wavecomp.ir import INPUT, ConvSource, IdentitySource, IOSpec, Network, Node

TABLE_OUTPUT_SCALE = 1.0 / 8
"""tanh, sigmoid and hardtanh outputs lie in [-1, 1]: stored with 15 fractional bits."""
TABLE_INPUT_SCALE = {"tanh": 1.0, "hardtanh": 1.0, "sigmoid": 2.0}
"""Pre-activation scale per table function: by +-8*scale the function is flat to < 3e-7."""
GATE_SCALES = (0.25, 0.5)
"""Gated nodes: the tanh half at 1/4, the sigmoid half at 1/2; their product at 1/8."""
TABLE_KINDS = tuple(TABLE_INPUT_SCALE)


class QuantizeError(WavecompError, ValueError):
    """A float graph that cannot be represented in the integer IR; names the node."""


@dataclass(frozen=True)
class TensorScale:
    """How one tensor is stored and how much room it has (one row of the import report)."""

    name: str
    scale: float
    """raw = value / scale * 4096; the tensor holds +-8 * scale."""
    calibrated_peak: float
    """Largest |value| on the calibration signal (float graph)."""
    headroom_db: float
    """20 log10(8 * scale / peak): how far the peak sits below the clamp."""
    lsb: float
    """The value of one raw step: scale / 4096."""
    weight_shift: int | None
    """The producing node's e (None for the input)."""
    bounded: bool = False
    """The activation bounds the tensor (tanh, sigmoid, hardtanh, gated): its range is the
    function's, so a peak at the clamp is by design, not a clip."""


def _pow2_at_least(value: float) -> float:
    return 2.0 ** math.ceil(math.log2(value)) if value > 0 else 2.0**-3


def quantize_graph(
    graph: FloatGraph,
    calibration: np.ndarray,
    io: IOSpec,
    *,
    input_scale: float,
    output_scale: float,
    margin: float = 1.25,
    name: str | None = None,
) -> tuple[Network, list[TensorScale]]:
    """The integer network for ``graph`` and the scale chosen for every tensor.

    ``output_scale`` is the output tensors' smallest scale, the one ``io`` maps to the codec;
    a larger one adds its power of two to ``io.output_shift``.
    """
    values = graph.run(calibration)
    peaks = {t: float(np.abs(v).max(initial=0.0)) for t, v in values.items()}
    output_tensors = {t for t, _ in graph.outputs}
    out_peak = max(peaks[t + ":pre"] for t in output_tensors)
    chosen_output = max(output_scale, _pow2_at_least(out_peak * margin / fixed.VALUE_MAX))
    extra_shift = round(math.log2(chosen_output / output_scale))
    io = replace(io, output_shift=io.output_shift + extra_shift)
    scales = {INPUT: input_scale}
    nodes: list[Node] = []
    rows = [
        TensorScale(
            INPUT,
            input_scale,
            peaks[INPUT],
            _headroom(input_scale, peaks[INPUT]),
            input_scale / fixed.ONE,
            None,
        )
    ]
    for node in graph.nodes:
        fixed_scale = chosen_output if node.name in output_tensors else None
        ir_node, scale = _quantize_node(node, scales, peaks, margin, fixed_scale)
        scales[node.name] = scale
        nodes.append(ir_node)
        peak = peaks[node.name]
        rows.append(
            TensorScale(
                node.name, scale, peak, _headroom(scale, peak), scale / fixed.ONE, ir_node.shift
            )
        )
    net = Network(nodes, io, name=name or graph.name, outputs=graph.outputs)
    return net, rows


def _headroom(scale: float, peak: float) -> float:
    return 20 * math.log10(8 * scale / peak) if peak > 0 else math.inf


def _pre_scales(
    node: FloatNode, peaks: dict[str, float], margin: float, fixed_scale: float | None, floor: float
) -> tuple[np.ndarray, float]:
    """(pre-activation scale per channel, output scale) before weights are checked."""
    act = node.activation
    if act.gate is not None:
        if act.kind not in TABLE_KINDS or act.gate not in TABLE_KINDS:
            raise QuantizeError(
                f"node {node.name!r}: gated {act.kind} x {act.gate} is not supported; both "
                f"halves must be one of {', '.join(TABLE_KINDS)}"
            )
        half = node.out_channels
        pre = np.concatenate(
            [np.full(half, TABLE_INPUT_SCALE[act.kind]), np.full(half, TABLE_INPUT_SCALE[act.gate])]
        )
        return pre, GATE_SCALES[0] * GATE_SCALES[1]
    if act.kind in TABLE_KINDS:
        return np.full(node.pre_channels, TABLE_INPUT_SCALE[act.kind]), TABLE_OUTPUT_SCALE
    wanted = _pow2_at_least(peaks[node.name + ":pre"] * margin / fixed.VALUE_MAX)
    scale = fixed_scale if fixed_scale is not None else max(wanted, floor)
    return np.full(node.pre_channels, scale), scale


def _quantize_node(
    node: FloatNode,
    scales: dict[str, float],
    peaks: dict[str, float],
    margin: float,
    fixed_scale: float | None,
) -> tuple[Node, float]:
    identity_floor = max(
        (scales[s.tensor] for s in node.sources if isinstance(s, FloatAdd)), default=0.0
    )
    pre, out_scale = _pre_scales(node, peaks, margin, fixed_scale, identity_floor)
    act = node.activation
    passes_through = act.gate is None and act.kind not in TABLE_KINDS
    while True:
        folded = [
            s.weights * scales[s.tensor] / pre[None, None, :] if isinstance(s, FloatConv) else None
            for s in node.sources
        ]
        bias = node.bias / pre
        biggest = max((float(np.abs(w).max()) for w in folded if w is not None), default=0.0)
        fits = (
            biggest * fixed.ONE <= fixed.RAW_MAX and np.abs(bias).max() * fixed.ONE <= fixed.RAW_MAX
        )
        if fits:
            break
        if pre.max() >= 2.0**12 or (passes_through and fixed_scale is not None):
            raise QuantizeError(
                f"node {node.name!r}: a weight or bias is too large for pre-activation scale "
                f"{pre.max():g}; the output's scale is fixed, so the model cannot be represented"
            )
        pre = pre * 2  # read the pre-activation at a coarser scale; a table absorbs it
        if passes_through:
            out_scale *= 2  # a linear / relu / leaky tensor grows its range with it
    shift = 0
    while (
        shift < fixed.MAX_WEIGHT_SHIFT
        and biggest * (1 << (fixed.FRAC_BITS + shift + 1)) <= fixed.RAW_MAX
    ):
        shift += 1
    sources = []
    for s, w in zip(node.sources, folded, strict=True):
        if isinstance(s, FloatConv):
            raw = np.rint(w * (1 << (fixed.FRAC_BITS + shift)))
            sources.append(ConvSource(s.tensor, raw.astype(np.int16), s.dilation))
        else:
            ratio = math.log2(pre[0] / scales[s.tensor])
            if not ratio.is_integer() or not 0 <= ratio <= fixed.MAX_IDENTITY_SHIFT:
                raise QuantizeError(
                    f"node {node.name!r}: identity add of {s.tensor!r} at scale "
                    f"ratio 2**{ratio:g}; scales must differ by 2**0..2**12"
                )
            sources.append(IdentitySource(s.tensor, int(ratio)))
    kwargs = _activation_fields(act, pre, out_scale)
    ir = Node(node.name, tuple(sources), fixed.to_q12(bias), shift=shift, **kwargs)
    return ir, out_scale


def _activation_fields(act: FloatActivation, pre: np.ndarray, out_scale: float) -> dict:
    """The IR node's activation, slope and tables for a float activation at these scales."""

    def table(kind: str, scale_in: float, scale_out: float) -> np.ndarray:
        return fixed.pwl_table(lambda u: elementwise(kind, 0.0, scale_in * u) / scale_out)

    if act.gate is not None:
        half = len(pre) // 2
        tables = (
            table(act.kind, pre[0], GATE_SCALES[0]),
            table(act.gate, pre[half], GATE_SCALES[1]),
        )
        return {"activation": "gated", "tables": tables}
    if act.kind in TABLE_KINDS:
        return {"activation": "pwl", "tables": (table(act.kind, pre[0], out_scale),)}
    if act.kind == "leaky_relu":
        return {"activation": "leaky_relu", "slope": int(fixed.to_q12(act.slope))}
    return {"activation": act.kind}


def scales_report(rows: list[TensorScale]) -> list[dict]:
    return [asdict(r) for r in rows]
