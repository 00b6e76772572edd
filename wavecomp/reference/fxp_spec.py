"""The readable spec: fxpmath, one sample at a time, with activation caching.

This is the contract written out with a fixed-point library rather than integer tricks, so a
reader can check each step against DESIGN.md:

1. each layer keeps its last (K-1)*d + 1 input columns (its activation cache);
2. per sample: push the new column, read taps x[t - (K-1-k)*d] for k < K;
3. acc = (bias << 12) + R + sum W*x, exact (fxpmath grows the word so nothing wraps);
4. y = acc converted to Q4.12 with floor rounding and saturation, then ReLU.

fxpmath's default rounding is 'trunc' (toward zero), which is *not* the contract; the output
format below sets floor explicitly — that mismatch was the original prototype's 1-LSB bug.
It is ~100x slower than the numpy twins, which the tests prove equal to it.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from fxpmath import Fxp

from wavecomp import fixed
from wavecomp.ir import ConvLayer, Network
from wavecomp.reference.numpy_ref import run_stepwise

PRODUCT_FRAC_BITS = 2 * fixed.FRAC_BITS  # Q4.12 x Q4.12 = Q8.24


def q12(values: np.ndarray) -> Fxp:
    """Q4.12 raw integers as an fxpmath s16/12 value, rounding floor and saturating."""
    out = Fxp(
        None, signed=True, n_word=16, n_frac=fixed.FRAC_BITS, rounding="floor", overflow="saturate"
    )
    out.set_val(np.asarray(values, dtype=np.int64), raw=True)
    return out


class FxpLayer:
    """One causal conv layer stepping through fxpmath values."""

    def __init__(self, layer: ConvLayer, rounding: fixed.Rounding) -> None:
        self.layer = layer
        self.weights = q12(layer.weights)  # (K, C_in, C_out)
        acc_bits = fixed.accumulator_bits(int(layer.accumulator_bound(rounding).max()))
        self.start = Fxp(None, signed=True, n_word=acc_bits, n_frac=PRODUCT_FRAC_BITS)
        # (bias << 12) + R is already in product (Q.24) units: the bias moves up 12 bits.
        self.start.set_val(fixed.bias_term(layer.bias, rounding), raw=True)
        self.cache: deque[Fxp] = deque(
            [q12(np.zeros(layer.in_channels, dtype=np.int64)) for _ in range(layer.span)],
            maxlen=layer.span,
        )

    def step(self, column: Fxp) -> Fxp:
        layer = self.layer
        self.cache.append(column)
        newest = len(self.cache) - 1
        taps = [
            self.cache[newest - (layer.kernel_size - 1 - k) * layer.dilation]
            for k in range(layer.kernel_size)
        ]
        x = q12(np.stack([tap.val for tap in taps]))  # (K, C_in)
        products = self.weights * x.reshape((layer.kernel_size, layer.in_channels, 1))
        acc = self.start + products.sum(axis=(0, 1))
        y = Fxp(acc, like=column)  # floor + saturate into Q4.12
        if layer.activation == "relu":
            y = q12(np.maximum(y.val, 0))
        return y


class FxpStreamingReference:
    """The whole network in fxpmath, sample by sample from reset."""

    def __init__(self, net: Network, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING) -> None:
        self.net = net
        self.layers = [FxpLayer(layer, rounding) for layer in net.layers]

    def step(self, column: np.ndarray) -> np.ndarray:
        h = q12(column)
        for layer in self.layers:
            h = layer.step(h)
        return np.asarray(h.val, dtype=np.int16)

    def run(self, x: np.ndarray) -> np.ndarray:
        return run_stepwise(self.net, x, self.step)
