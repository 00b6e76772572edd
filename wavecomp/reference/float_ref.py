"""Float references for the MCU's f32 numerics (like the original float firmware).

The f32 engine keeps weights, biases and activations as float32 model units (Q4.12 raw /
4096, exact in float32) and never requantises: per layer ``y = act(sum + bias)`` with ReLU or
linear. Float sums depend on their order, so ``run_f32`` fixes the one both MCU float
kernels use (CMSIS ``arm_dot_prod_f32`` and the plain loop): per output channel, a float32
sum starting at 0.0 over taps k = 0..K-1 (oldest first), channels c = 0..C_in-1 within each
tap, every product and addition rounded to float32 (no fused multiply-add), then + bias.
A build with ``-ffp-contract=off`` matches it bit for bit.

``run_f64`` is the same network in float64 with no intermediate rounding to check against
(the f32 result is within float32 rounding of it); neither is the Q4.12 contract.
"""

from __future__ import annotations

import numpy as np

from wavecomp import fixed
from wavecomp.ir import ConvLayer, Network
from wavecomp.reference.numpy_ref import signal_array

_TAKES = (
    "the float references take model units (Q4.12 raw / 4096), e.g. wavecomp.fixed.from_q12(raw)"
)
"""What a ValueError about non-float inputs says instead."""


def _taps(layer: ConvLayer, h: np.ndarray) -> list[np.ndarray]:
    """Tap k of every time step: x[t - (K-1-k)*d] (zeros before t = 0), each (T, C_in)."""
    steps = h.shape[0]
    padded = np.concatenate([np.zeros((layer.span - 1, h.shape[1]), dtype=h.dtype), h])
    return [
        padded[k * layer.dilation : k * layer.dilation + steps] for k in range(layer.kernel_size)
    ]


def _activate(layer: ConvLayer, y: np.ndarray) -> np.ndarray:
    return np.where(y > 0, y, 0).astype(y.dtype) if layer.activation == "relu" else y


def run_f32(net: Network, x: np.ndarray) -> np.ndarray:
    """The f32 engine's arithmetic, bit for bit: float32 (T, C_in) -> float32 (T, C_out)."""
    h = signal_array(net, x, np.floating, _TAKES).astype(np.float32)
    for layer in net.layers:
        weights = (layer.weights.astype(np.float64) / fixed.ONE).astype(np.float32)
        bias = (layer.bias.astype(np.float64) / fixed.ONE).astype(np.float32)
        acc = np.zeros((h.shape[0], layer.out_channels), dtype=np.float32)
        for k, tap in enumerate(_taps(layer, h)):
            for c in range(layer.in_channels):
                acc = acc + tap[:, c : c + 1] * weights[k, c][None, :]
        h = _activate(layer, acc + bias)
    return h


def run_f64(net: Network, x: np.ndarray) -> np.ndarray:
    """The same network in float64 without intermediate rounding: (T, C_in) -> (T, C_out)."""
    h = signal_array(net, x, np.floating, _TAKES).astype(np.float64)
    for layer in net.layers:
        weights = layer.weights.astype(np.float64) / fixed.ONE
        acc = sum(tap @ weights[k] for k, tap in enumerate(_taps(layer, h)))
        h = _activate(layer, acc + layer.bias.astype(np.float64) / fixed.ONE)
    return h
