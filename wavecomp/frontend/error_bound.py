"""A proven bound on how far Keras' float forward pass can be from the integer reference.

Why a bound and not equality: QKeras trains in float32 (float sums, half-even activation
rounding, unsaturated linear outputs), so its outputs are not bit-exact with the Q4.12
contract. The importer reports this worst case over every input signal on the grid next to
the measured difference, so a user can tell "float vs integer" noise from a real mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wavecomp import fixed
from wavecomp.ir import Network

__all__ = ["FloatLayerPath", "float_error_bound_lsb"]

_UNIT_ROUNDOFF = 2.0**-24
"""float32 unit roundoff u."""
_FULL_SCALE = float(-fixed.RAW_MIN)
"""Largest |Q4.12 raw value| (32768)."""


@dataclass(frozen=True)
class FloatLayerPath:
    """How Keras' float forward pass computes one layer, for ``float_error_bound_lsb``.

    ``quantized_activation``: a relu layer's float output is rounded and clipped onto the grid
    by ``quantized_relu(15, 3)`` (the QKeras path); False for a plain float relu. Linear
    outputs are never rounded in float. ``weight_delta``/``bias_delta``: the float weights Keras
    multiplies with minus the IR's Q4.12 weights, in raw LSB (None = identical, the QKeras path).
    """

    quantized_activation: bool = True
    weight_delta: np.ndarray | None = None
    bias_delta: np.ndarray | None = None


def _gamma(n: int) -> float:
    nu = n * _UNIT_ROUNDOFF
    return nu / (1.0 - nu)


def float_error_bound_lsb(
    net: Network,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    *,
    float_path: Sequence[FloatLayerPath] | None = None,
) -> float:
    """Bound (in LSB) on |Keras float output, clamped to Q4.12, - integer reference output|.

    QKeras' float forward pass is not bit-exact with the integer contract (float32 sums,
    half-even activation rounding, no saturation of linear outputs), so instead of equality
    the importer reports this worst case over every input signal on the Q4.12 grid. All
    quantities are in LSB (2**-12) and tracked per channel; W are the IR's raw weights, D the
    float-minus-IR weight deltas (zero on the QKeras path), A = |W| + |D|, N = K*C_in, and
    e_{l-1}[c] bounds |float - integer| of the layer's input channel c:

    - e_0 = 0: the inputs are on the grid, so both paths see the same numbers.
    - The exact pre-activations differ by at most
      ``sum_{k,c} A[k][c][o] e_{l-1}[c] / 4096 + sum|D[..][o]| * 32768 / 4096 + |D_bias[o]|``:
      the input error through the float weights plus the weight error on integer inputs
      (|x| <= 32768). Taking the max over channels gives the scalar recursion
      ``G_l e_{l-1}`` with ``G_l = max_o sum_{k,c}|W[k][c][o]| / 4096``, the layer's
      infinity-gain; the per-channel form used here is never looser.
    - float32 summation (any order, with or without FMA) adds at most ``gamma_{N+1} S_l[o]``,
      ``gamma_n = n u / (1 - n u)``, u = 2**-24, where ``S_l[o] = sum A M_{l-1} / 4096 +
      |bias|`` bounds the summed magnitudes and M is a bound on |float input| (32768 for the
      network input). On the QKeras path ``S_l[o] = B_o / 4096`` up to R, with ``B_o`` the
      static accumulator bound of ``fixed.accumulator_bound``.
    - Rounding-rule difference rho: the integer path rounds the exact value half_up (error in
      (-1/2, 1/2]) or floor (error in (-1, 0]); a quantized_relu layer rounds the float value
      half-to-even (error in [-1/2, 1/2]); a linear or float-relu output is not rounded. So
      rho = 1 (half_up) or 1.5 (floor) after quantized_relu, and 1/2 or 1 for unrounded outputs.
    - Saturation: the integer output is clamped to [-32768, 32767] (and relu'd). ReLU and the
      clamp are 1-Lipschitz, so applying them to both sides cannot grow the difference;
      quantized_relu clips the float path to [0, 32767] as well, and the last layer's float
      output is clamped before comparing. A hidden float output that is *not* clamped
      (linear, or a float relu) can exceed the range where the integer saturates, which adds
      at most ``max(0, M_l - 32767)`` with ``M_l = (1 + gamma) S_l`` its magnitude bound.
    - Both sides of a clamped output lie in its range, so e_l is capped at the range width
      (32767 after a relu, 65535 for a clamped linear output).

    So ``e_l = prop_l + weight_l + gamma_{N+1} S_l + rho_l + excess_l`` (capped), and the result
    is ``max_o e_L[o]``; with QKeras layers and half_up this is the brief form
    ``e_l = G_l e_{l-1} + 1 + delta_l`` made per-channel. It is a worst case over all inputs
    and grows with the product of the layers' gains: typical differences are a few LSB
    (the report's measured max).
    """
    fixed.rounding_constant(rounding)  # reject unknown modes
    if float_path is None:
        float_path = [FloatLayerPath() for _ in net.layers]
    if len(float_path) != len(net.layers):
        raise ValueError(
            f"float_path has {len(float_path)} entries for {len(net.layers)} layers of {net.name!r}"
        )
    error = np.zeros(net.in_channels)  # per input channel of the current layer, in LSB
    magnitude = np.full(net.in_channels, _FULL_SCALE)  # bound on |float input|, in LSB
    last = len(net.layers) - 1
    for i, (layer, path) in enumerate(zip(net.layers, float_path, strict=True)):
        w = np.abs(layer.weights.astype(np.float64))
        b = np.abs(layer.bias.astype(np.float64))
        dw = np.zeros_like(w) if path.weight_delta is None else np.abs(path.weight_delta)
        db = np.zeros_like(b) if path.bias_delta is None else np.abs(path.bias_delta)
        a = (w + dw).sum(axis=0) / fixed.ONE  # (C_in, C_out): |float weights| summed over taps
        propagated = error @ a + dw.sum(axis=(0, 1)) * _FULL_SCALE / fixed.ONE + db
        summed = magnitude @ a + b + db
        gamma = _gamma(layer.kernel_size * layer.in_channels + 1)
        quantized = layer.activation == "relu" and path.quantized_activation
        if quantized:
            rho = 1.0 if rounding == "half_up" else 1.5
        else:
            rho = 0.5 if rounding == "half_up" else 1.0
        out_magnitude = (1.0 + gamma) * summed
        excess = np.zeros_like(summed)
        if i != last and not quantized:
            excess = np.maximum(0.0, out_magnitude - fixed.RAW_MAX)
        error = propagated + gamma * summed + rho + excess
        if quantized or (i == last and layer.activation == "relu"):
            error = np.minimum(error, float(fixed.RAW_MAX))
        elif i == last:
            error = np.minimum(error, float(fixed.RAW_MAX - fixed.RAW_MIN))
        magnitude = np.full_like(summed, float(fixed.RAW_MAX)) if quantized else out_magnitude
    return float(error.max())
