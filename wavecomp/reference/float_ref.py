"""Float references for the MCU's f32 numerics (like the original float firmware).

The f32 engine computes the integer graph of DESIGN.md ("Numerics contract") with every
integer replaced by the value it stands for, and no requantisation: no shift, clamp or
rounding constant anywhere. Tensors are float32 model units (Q4.12 raw / 4096). Per node:

- weights W / 2**(12+e) (node shift e), bias / 4096, leaky_relu slope a / 4096 and table
  knots L / 4096: all exact in float32;
- pre-activation s[o]: a sum starting at 0.0 over the node's sources *in the node's order*:
  a conv source adds W[k][c][o] * X[t - (K-1-k)*d][c] over taps k = 0..K-1 (oldest first)
  and, within a tap, channels c = 0..C_X-1; an identity source adds X[t][o] * 2**-m; then
  ``s = sum + bias``;
- activation: linear ``s``; relu ``s if s > 0 else 0``; leaky_relu ``s if s >= 0 else
  s * slope``; pwl: the IR's 1,025 knots (x = -8, -8 + 1/64, ..., +8) interpolated:
  ``u = (s + 8) * 64``; ``u = u if u > 0 else 0`` (NaN too); ``u = min(u, 1024)``;
  ``i = min(floor(u), 1023)``; ``f = u - i``; ``y = lo + (hi - lo) * f`` with
  lo = L[i] / 4096, hi = L[i+1] / 4096 (hi - lo is exact), so inputs beyond +-8 take the end
  knots; gated: ``y[c] = pwl_0(s[c]) * pwl_1(s[C+c])``.

Float sums depend on their order, so ``run_f32`` fixes the one above and rounds every
product, sum and interpolation step to float32 (no fused multiply-add): the MCU kernels
(``wavecomp_f32_fused.h``, and ``arm_dot_prod_f32`` for plain chains) built with
``-ffp-contract=off`` match it bit for bit. A plain conv chain is the graph whose nodes each
read the one before, so its order is the chain kernels': from 0.0 over taps and channels,
then + bias.

``run_f64`` is the same network in float64 with no intermediate rounding to check against
(the f32 result is within float32 rounding of it); neither is the Q4.12 contract.
"""

from __future__ import annotations

import numpy as np

from wavecomp import fixed
from wavecomp.ir import INPUT, ConvSource, Network, Node
from wavecomp.reference.numpy_ref import signal_array

_TAKES = (
    "the float references take model units (Q4.12 raw / 4096), e.g. wavecomp.fixed.from_q12(raw)"
)
"""What a ValueError about non-float inputs says instead."""

Float = type[np.float32] | type[np.float64]
"""The precisions the references run in: float32 (the engine's) and float64 (the check)."""

TABLE_LOW = -fixed.RAW_MIN / fixed.ONE
"""8.0: the first knot sits at x = -8, so ``x + 8`` is its distance from there."""
KNOTS_PER_UNIT = fixed.ONE >> fixed.TABLE_STEP_BITS
"""64 segments per model unit (a knot every 64 raw codes)."""
SEGMENTS = fixed.TABLE_SIZE - 1
"""1,024 segments between the 1,025 knots."""


def _taps(source: ConvSource, x: np.ndarray) -> list[np.ndarray]:
    """Tap k of every time step: x[t - (K-1-k)*d] (zeros before t = 0), each (T, C_X)."""
    steps = x.shape[0]
    padded = np.concatenate([np.zeros((source.span - 1, x.shape[1]), dtype=x.dtype), x])
    return [
        padded[k * source.dilation : k * source.dilation + steps] for k in range(source.kernel_size)
    ]


def _pre_activation(node: Node, values: dict[str, np.ndarray], dtype: Float) -> np.ndarray:
    """The node's sum in the fixed order (module docstring): (T, C_pre)."""
    steps = values[INPUT].shape[0]
    weight_scale = dtype(2.0 ** -(fixed.FRAC_BITS + node.shift))
    acc = np.zeros((steps, node.pre_channels), dtype=dtype)
    for source in node.sources:
        x = values[source.tensor]
        if isinstance(source, ConvSource):
            weights = source.weights.astype(dtype) * weight_scale
            for k, tap in enumerate(_taps(source, x)):
                for c in range(source.in_channels):
                    acc = acc + tap[:, c : c + 1] * weights[k, c][None, :]
        else:
            acc = acc + x * dtype(2.0**-source.shift)
    return acc + node.bias.astype(dtype) / dtype(fixed.ONE)


def pwl(s: np.ndarray, table: np.ndarray, dtype: Float) -> np.ndarray:
    """A pwl table's knots interpolated in ``dtype`` (module docstring), clamped at the ends."""
    knots = table.astype(dtype) / dtype(fixed.ONE)
    u = (s + dtype(TABLE_LOW)) * dtype(KNOTS_PER_UNIT)
    u = np.where(u > 0, u, dtype(0))
    u = np.where(u < SEGMENTS, u, dtype(SEGMENTS))
    i = np.minimum(u.astype(np.int64), SEGMENTS - 1)
    low = knots[i]
    return low + (knots[i + 1] - low) * (u - i.astype(dtype))


def _activate(node: Node, s: np.ndarray, dtype: Float) -> np.ndarray:
    if node.activation == "relu":
        return np.where(s > 0, s, dtype(0))
    if node.activation == "leaky_relu":
        return np.where(s >= 0, s, s * dtype(node.slope / fixed.ONE))
    if node.activation == "pwl":
        return pwl(s, node.tables[0], dtype)
    if node.activation == "gated":
        half = node.out_channels
        return pwl(s[:, :half], node.tables[0], dtype) * pwl(s[:, half:], node.tables[1], dtype)
    return s


def _run(net: Network, x: np.ndarray, dtype: Float) -> np.ndarray:
    """Every node in topological order, then the outputs gathered: (T, C_in) -> (T, C_out)."""
    values = {INPUT: signal_array(net, x, np.floating, _TAKES).astype(dtype)}
    for node in net.nodes:
        values[node.name] = _activate(node, _pre_activation(node, values, dtype), dtype)
    steps = values[INPUT].shape[0]
    out = np.empty((steps, net.out_channels), dtype=dtype)
    for i, (tensor, channel) in enumerate(net.outputs):
        out[:, i] = values[tensor][:, channel]
    return out


def run_f32(net: Network, x: np.ndarray) -> np.ndarray:
    """The f32 engine's arithmetic, bit for bit: float32 (T, C_in) -> float32 (T, C_out)."""
    return _run(net, x, np.float32)


def run_f64(net: Network, x: np.ndarray) -> np.ndarray:
    """The same network in float64 without intermediate rounding: (T, C_in) -> (T, C_out)."""
    return _run(net, x, np.float64)
