"""numpy int64 twins of the spec: whole-signal batch and per-sample streaming.

Both compute every accumulator exactly in int64 (the static bound is checked to fit) and
requantise through ``wavecomp.fixed`` — the only place the rounding rule lives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wavecomp import fixed
from wavecomp.ir import ConvLayer, Network

_INT64_SAFE = 1 << 62


def signal_array(net: Network, x: np.ndarray, kind: type[np.generic], takes: str) -> np.ndarray:
    """``x`` as a (T, C_in) array of dtype ``kind``, or a ValueError saying what the reference
    ``takes`` instead (every reference checks its inputs the same way)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != net.in_channels:
        raise ValueError(
            f"inputs must have shape (T, {net.in_channels}) for network {net.name!r}, got {x.shape}"
        )
    if not np.issubdtype(x.dtype, kind):
        raise ValueError(f"inputs are {x.dtype}; {takes}")
    return x


def check_inputs(net: Network, x: np.ndarray) -> np.ndarray:
    """Inputs as an int64 (T, C_in) array of Q4.12 raw values, or a ValueError saying why not."""
    x = signal_array(
        net,
        x,
        np.integer,
        "the reference takes Q4.12 raw integers (convert floats with wavecomp.fixed.to_q12)",
    )
    if x.size and (x.min() < fixed.RAW_MIN or x.max() > fixed.RAW_MAX):
        raise ValueError("inputs are outside the int16 Q4.12 range")
    return x.astype(np.int64)


def run_stepwise(
    net: Network, x: np.ndarray, step: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Drive a per-sample ``step`` over a whole (T, C_in) signal: int16 (T, C_out)."""
    x = check_inputs(net, x)
    out = np.empty((x.shape[0], net.out_channels), dtype=np.int16)
    for t in range(x.shape[0]):
        out[t] = step(x[t])
    return out


def _check_int64_fits(layer: ConvLayer, rounding: fixed.Rounding) -> None:
    if int(layer.accumulator_bound(rounding).max()) >= _INT64_SAFE:
        raise ValueError(
            f"layer {layer.name!r}: accumulator bound exceeds 2**62; "
            "the int64 reference cannot hold it exactly (use engine='fxpmath')"
        )


def conv_layer_batch(layer: ConvLayer, x: np.ndarray, rounding: fixed.Rounding) -> np.ndarray:
    """One causal conv over a whole int64 signal (T, C_in) -> int16 (T, C_out)."""
    _check_int64_fits(layer, rounding)
    steps = x.shape[0]
    pad = layer.span - 1
    padded = np.concatenate([np.zeros((pad, layer.in_channels), dtype=np.int64), x])
    weights = layer.weights.astype(np.int64)
    acc = np.broadcast_to(fixed.bias_term(layer.bias, rounding), (steps, layer.out_channels)).copy()
    for k in range(layer.kernel_size):
        # tap k reads x[t - (K-1-k)*d], which sits at padded[t + k*d]
        start = k * layer.dilation
        acc += padded[start : start + steps] @ weights[k]
    return fixed.requantize(acc, layer.activation)


def run_batch_layers(
    net: Network, x: np.ndarray, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> list[np.ndarray]:
    """Every layer's int16 output for the whole signal (for debugging backends layer by layer)."""
    h = check_inputs(net, x)
    outputs = []
    for layer in net.layers:
        y = conv_layer_batch(layer, h, rounding)
        outputs.append(y)
        h = y.astype(np.int64)
    return outputs


def run_batch(
    net: Network, x: np.ndarray, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> np.ndarray:
    """The network over a whole signal from reset: int16 (T, C_out)."""
    return run_batch_layers(net, x, rounding=rounding)[-1]


class _LayerCache:
    """A layer's activation cache: a power-of-two ring of its last input columns.

    Like the hardware's cache RAM: a write pointer advances once per sample and tap k is read
    at ``(wp - (K-1-k)*d) mod size``, so indexing is a mask rather than a modulo.
    """

    def __init__(self, layer: ConvLayer, rounding: fixed.Rounding) -> None:
        _check_int64_fits(layer, rounding)
        self.layer = layer
        self.size = 1 << (layer.span - 1).bit_length()
        self.mask = self.size - 1
        self.ring = np.zeros((self.size, layer.in_channels), dtype=np.int64)
        self.write = 0
        self.start = fixed.bias_term(layer.bias, rounding)
        self.weights = layer.weights.astype(np.int64)
        lag = (layer.kernel_size - 1 - np.arange(layer.kernel_size)) * layer.dilation
        self.lag = lag

    def step(self, column: np.ndarray) -> np.ndarray:
        self.write = (self.write + 1) & self.mask
        self.ring[self.write] = column
        taps = self.ring[(self.write - self.lag) & self.mask]  # (K, C_in)
        acc = self.start + np.einsum("kc,kco->o", taps, self.weights)
        return fixed.requantize(acc, self.layer.activation)


class StreamingReference:
    """Per-sample numpy reference with ring buffers; state mirrors the hardware's caches."""

    def __init__(self, net: Network, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING) -> None:
        fixed.rounding_constant(rounding)  # reject unknown modes up front
        self.net = net
        self.rounding = rounding
        self.reset()

    def reset(self) -> None:
        """Zero every cache, as at hardware reset (x[t] = 0 for t < 0)."""
        self.caches = [_LayerCache(layer, self.rounding) for layer in self.net.layers]

    def step(self, column: np.ndarray) -> np.ndarray:
        """One sample in (C_in,) -> one sample out (C_out,), int16."""
        h = np.asarray(column, dtype=np.int64)
        for cache in self.caches:
            h = cache.step(h).astype(np.int64)
        return h.astype(np.int16)

    def run(self, x: np.ndarray) -> np.ndarray:
        """Feed a whole signal sample by sample (continuing from the current state)."""
        return run_stepwise(self.net, x, self.step)
