"""Keras/QKeras model -> Network IR, with a report on how far the float model is from it.

The importer accepts one thing: a single chain of causal 1-D convolutions with relu or linear
activations (``QConv1D``/``Conv1D`` + ``QActivation``/``Activation``/``ReLU``, ``Dropout``
ignored). Anything else is rejected with a ``FrontendError`` that names the Keras layer and
says what to use instead, because a model that silently imports differently from how it
trained is worse than no model.

QKeras layers must quantise onto the Q4.12 grid (``fixed.QKERAS_WEIGHT_QUANTIZER``); their
quantised weights are taken exactly. Float weights are quantised here with ``fixed.to_q12``
and the error is reported. Because QKeras' own forward pass is float (float32 sums,
half-even activation rounding, unsaturated linear outputs), the report compares it with the
integer reference and gives a proven bound on the difference (``float_error_bound_lsb``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp import fixed, reference
from wavecomp.frontend.evaluate import snr_db
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.ir import ConvLayer, IOSpec, Network

__all__ = [
    "FloatComparison",
    "FloatLayerPath",
    "ImportReport",
    "compare_float_to_reference",
    "default_calibration",
    "float_error_bound_lsb",
    "import_keras_model",
]

CANONICAL_WEIGHTS = "quantized_bits(16, 3, alpha=1)"
CANONICAL_RELU = "QActivation('quantized_relu(15, 3)')"
SUPPORTED_LAYERS = (
    "InputLayer; Conv1D or QConv1D (padding='causal', strides=1, groups=1, channels_last); "
    f"relu via {CANONICAL_RELU}, QActivation('relu'), Activation('relu'), ReLU(); "
    "Activation('linear'); Dropout (ignored at inference)"
)
_UNIT_ROUNDOFF = 2.0**-24
"""float32 unit roundoff u."""
_FULL_SCALE = float(-fixed.RAW_MIN)
"""Largest |Q4.12 raw value| (32768)."""


# ---- report types ----------------------------------------------------------------------------
@dataclass
class FloatComparison:
    """Keras float forward pass (outputs clamped to Q4.12) vs the integer reference, in LSB."""

    max_abs_lsb: float
    snr_db: float
    """10*log10(sum ref^2 / sum diff^2); ``inf`` when the two agree exactly."""
    per_channel_max_lsb: list[float]
    n_samples: int

    @property
    def exact(self) -> bool:
        return self.max_abs_lsb == 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: an infinite SNR is written as ``None`` with ``exact: true``."""
        return {
            "max_abs_lsb": float(self.max_abs_lsb),
            "snr_db": float(self.snr_db) if math.isfinite(self.snr_db) else None,
            "exact": self.exact,
            "per_channel_max_lsb": [float(v) for v in self.per_channel_max_lsb],
            "n_samples": int(self.n_samples),
        }


@dataclass
class ImportReport:
    """What the importer did to a model and how closely its float forward pass matches."""

    source: str
    quantised_from_float: list[str]
    """Layers whose float weights (or bias) were quantised here rather than by QKeras."""
    weight_error_lsb: dict[str, float]
    """Per layer, max |w - q(w)| in LSB (0 for tensors QKeras already quantised)."""
    float_vs_reference: FloatComparison
    error_bound_lsb: float
    """Proven bound on |Keras float output - integer reference| (see float_error_bound_lsb)."""
    notes: list[str] = field(default_factory=list)
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING

    @property
    def within_bound(self) -> bool:
        return self.float_vs_reference.max_abs_lsb <= self.error_bound_lsb

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable (stored in ``net.metadata['import']``)."""
        return {
            "source": self.source,
            "rounding": self.rounding,
            "quantised_from_float": list(self.quantised_from_float),
            "weight_error_lsb": {k: float(v) for k, v in self.weight_error_lsb.items()},
            "float_vs_reference": self.float_vs_reference.to_dict(),
            "error_bound_lsb": float(self.error_bound_lsb),
            "within_bound": self.within_bound,
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        """A short human-readable section for build/train reports."""
        cmp_ = self.float_vs_reference
        snr = "exact (no difference)" if cmp_.exact else f"{cmp_.snr_db:.1f} dB"
        lines = [
            f"### Import of {self.source}",
            "",
            f"- rounding: `{self.rounding}`",
            "- weights quantised from float: "
            + (", ".join(f"`{n}`" for n in self.quantised_from_float) or "none (all QKeras)"),
            "",
            "| layer | max weight error (LSB) |",
            "|---|---|",
            *(f"| `{n}` | {e:.3g} |" for n, e in self.weight_error_lsb.items()),
            "",
            f"Keras float vs integer reference over {cmp_.n_samples} samples: "
            f"max |diff| = {cmp_.max_abs_lsb:g} LSB (per channel: "
            + ", ".join(f"{v:g}" for v in cmp_.per_channel_max_lsb)
            + f"), SNR = {snr}; proven bound {self.error_bound_lsb:.4g} LSB.",
        ]
        if self.notes:
            lines += ["", "Notes:", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines) + "\n"


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


# ---- the error bound -------------------------------------------------------------------------
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


# ---- comparing the float model with the reference --------------------------------------------
def _keras_forward(model: Any, x_values: np.ndarray) -> np.ndarray:
    import_tf()
    out = model(x_values[None].astype(np.float32), training=False)
    return np.asarray(out, dtype=np.float64)[0]


def _as_grid_signal(x_values: np.ndarray, c_in: int, what: str) -> np.ndarray:
    x = np.asarray(x_values, dtype=np.float64)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2 or x.shape[1] != c_in or x.shape[0] < 1:
        raise FrontendError(f"{what} must have shape (T, {c_in}), got {np.shape(x_values)}")
    if not np.all(np.isfinite(x)):
        raise FrontendError(f"{what} contains NaN or infinite values")
    return fixed.quantize_to_grid(x)


def compare_float_to_reference(
    model: Any,
    net: Network,
    x_values: np.ndarray,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> FloatComparison:
    """Run the Keras model (float) and ``reference.run`` (integer) on the same signal.

    ``x_values`` is a float (T, C_in) signal; it is snapped to the Q4.12 grid first so both
    see identical inputs. The float outputs are clamped to the Q4.12 range (as the hardware
    saturates) before the difference is taken.
    """
    x = _as_grid_signal(x_values, net.in_channels, "x_values")
    y_float = np.clip(_keras_forward(model, x), fixed.VALUE_MIN, fixed.VALUE_MAX)
    if y_float.shape != (x.shape[0], net.out_channels):
        raise FrontendError(
            f"the Keras model returned shape {y_float.shape} for a ({x.shape[0]}, "
            f"{net.in_channels}) input; expected ({x.shape[0]}, {net.out_channels})"
        )
    y_ref = reference.run(net, fixed.to_q12(x), rounding=rounding).astype(np.float64)
    diff = y_float * fixed.ONE - y_ref  # in LSB
    return FloatComparison(
        max_abs_lsb=float(np.max(np.abs(diff))),
        snr_db=snr_db(y_ref, y_float * fixed.ONE),
        per_channel_max_lsb=[float(v) for v in np.max(np.abs(diff), axis=0)],
        n_samples=int(x.shape[0]),
    )


def default_calibration(c_in: int, n_samples: int = 4096, seed: int = 0) -> np.ndarray:
    """A seeded (T, C_in) signal on the grid: a few sines plus noise, within +-2 per channel."""
    rng = np.random.default_rng([seed, 0xCA1])
    t = np.arange(n_samples)[:, None]
    x = np.zeros((n_samples, c_in))
    for _ in range(3):
        freq = rng.uniform(0.0005, 0.05, c_in)
        x += rng.uniform(0.2, 0.5, c_in) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6.3, c_in))
    x += rng.normal(0.0, 0.1, x.shape)
    return fixed.quantize_to_grid(np.clip(x, -2.0, 2.0))


# ---- walking the Keras model -----------------------------------------------------------------
@dataclass
class _Conv:
    """One conv layer being imported, with the float-path facts the bound needs."""

    name: str
    weights: np.ndarray  # int16 (K, C_in, C_out)
    bias: np.ndarray  # int16 (C_out,)
    dilation: int
    activation: str = "linear"
    quantized_activation: bool = False
    weight_delta: np.ndarray | None = None
    bias_delta: np.ndarray | None = None


def _where(index: int, layer: Any) -> str:
    return f"Keras layer #{index} {layer.name!r} ({type(layer).__name__})"


def _number(value: Any) -> float:
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(np.asarray(value).reshape(-1)[0])


def _chain(model: Any) -> list[Any]:
    """The model's layers as a single chain from input to output, or a FrontendError."""
    ns = import_tf()
    keras = ns.keras
    if not isinstance(model, keras.Model):
        raise FrontendError(
            f"expected a tf-keras Model or a .keras/.h5 path, got {type(model).__name__}"
        )
    if model.inputs is None or model.outputs is None or not getattr(model, "built", True):
        raise FrontendError(
            f"model {model.name!r} is not built (no input shape): give it an Input / "
            "input_shape=(None, C_in) or call it on data before importing"
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise FrontendError(
            f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
            "outputs; only a single chain (one input, one output) of causal convs is supported"
        )
    chain = []
    tensor = model.outputs[0]
    while True:
        layer, node_index, _ = tensor._keras_history
        chain.append(layer)
        if isinstance(layer, keras.layers.InputLayer):
            break
        node = layer.inbound_nodes[node_index]
        inputs = node.keras_inputs
        if len(inputs) != 1:
            index = model.layers.index(layer) if layer in model.layers else -1
            raise FrontendError(
                f"{_where(index, layer)} merges {len(inputs)} branches; only a single chain of "
                "causal convs is supported (no skip connections, Add/Concatenate or multiple "
                "inputs): flatten the model into one sequence of Conv1D layers"
            )
        tensor = inputs[0]
    chain.reverse()
    in_model = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    on_path = [layer for layer in chain if not isinstance(layer, keras.layers.InputLayer)]
    if len(set(map(id, on_path))) != len(on_path):
        raise FrontendError(
            f"model {model.name!r} uses a layer more than once; only a single chain of "
            "distinct layers is supported"
        )
    off_path = [layer for layer in in_model if all(layer is not other for other in on_path)]
    if off_path:
        layer = off_path[0]
        raise FrontendError(
            f"{_where(model.layers.index(layer), layer)} is not on the single input->output "
            "path (the model branches); only a single chain of causal convs is supported"
        )
    return chain


def _check_weight_quantizer(where: str, what: str, quantizer: Any, qkeras: Any) -> list[str]:
    """Reject quantisers whose grid is not (a subset of) Q4.12; return notes."""
    notes: list[str] = []
    if not isinstance(quantizer, qkeras.quantized_bits):
        raise FrontendError(
            f"{where}: {what} {quantizer} is not supported; use {CANONICAL_WEIGHTS} "
            "(the Q4.12 grid), or no quantizer at all (float weights are then quantised on import)"
        )
    alpha = quantizer.alpha
    if isinstance(alpha, str) or (alpha is not None and _number(alpha) != 1.0):
        default_note = (
            " (QKeras sets alpha='auto_po2' on a QConv1D kernel_quantizer when alpha is not given)"
            if alpha == "auto_po2" and what == "kernel_quantizer"
            else ""
        )
        raise FrontendError(
            f"{where}: {what} {quantizer} has alpha={alpha!r}{default_note}: QKeras then scales "
            "the weights by per-channel (power-of-two) factors, so they are not on the Q4.12 "
            f"grid. Pass alpha=1: {CANONICAL_WEIGHTS}"
        )
    if alpha is None:
        notes.append(
            f"{where}: {what} has alpha=None; QKeras 0.9.0 uses scale 1 there (only a "
            f"QConv1D's kernel_quantizer turns it into 'auto_po2'), but prefer {CANONICAL_WEIGHTS}"
        )
    bits = int(_number(quantizer.bits))
    integer = int(_number(quantizer.integer))
    if not quantizer.keep_negative:
        raise FrontendError(
            f"{where}: {what} {quantizer} has keep_negative=False; Q4.12 weights are signed: "
            f"use {CANONICAL_WEIGHTS}"
        )
    frac = bits - integer - 1
    if integer > 3 or frac > fixed.FRAC_BITS or frac < 0:
        hint = (
            " (QKeras' `integer` excludes the sign bit, so quantized_bits(16, 4) is Q5.11, "
            "not Q4.12 -- a common mistake)"
            if integer > 3
            else ""
        )
        raise FrontendError(
            f"{where}: {what} {quantizer} is a Q{integer + 1}.{frac} grid, which does not fit "
            f"Q4.12{hint}; use {CANONICAL_WEIGHTS}"
        )
    if _number(quantizer.qnoise_factor) != 1.0:
        raise FrontendError(
            f"{where}: {what} {quantizer} has qnoise_factor={_number(quantizer.qnoise_factor)} "
            f"(a mix of float and quantised weights); use qnoise_factor=1 ({CANONICAL_WEIGHTS})"
        )
    return notes


def _on_grid(where: str, what: str, values: np.ndarray) -> np.ndarray:
    """Quantised float32 values -> int16 raw, or a FrontendError if any is off the grid."""
    raw = np.asarray(values, dtype=np.float64) * fixed.ONE
    off = ~np.isfinite(raw) | (raw != np.round(raw)) | (raw < fixed.RAW_MIN) | (raw > fixed.RAW_MAX)
    if np.any(off):
        bad = float(np.asarray(values).reshape(-1)[np.argmax(off.reshape(-1))])
        raise FrontendError(
            f"{where}: the quantised {what} are not on the Q4.12 grid (e.g. {bad!r}); "
            f"use {CANONICAL_WEIGHTS}"
        )
    return raw.astype(np.int16)


def _quantise_float(
    where: str, what: str, values: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, float]:
    """Float -> Q4.12 with fixed.to_q12; returns (raw, float-minus-raw in LSB, max |error|)."""
    scaled = np.asarray(values, dtype=np.float64) * fixed.ONE
    if not np.all(np.isfinite(scaled)):
        raise FrontendError(f"{where}: the float {what} contain NaN or infinite values")
    raw = fixed.to_q12(np.asarray(values, dtype=np.float64))
    delta = scaled - raw
    saturated = int(np.sum((scaled > fixed.RAW_MAX + 0.5) | (scaled < fixed.RAW_MIN - 0.5)))
    if saturated:
        notes.append(
            f"warning: {where}: {saturated} float {what} value(s) lie outside the Q4.12 range "
            f"[-8, 8) and were saturated (largest |value| {np.abs(values).max():.4g})"
        )
    return raw, delta, float(np.max(np.abs(delta))) if delta.size else 0.0


def _relu_from_quantizer(where: str, quantizer: Any, qkeras: Any) -> bool | None:
    """Classify an activation callable: True = quantized relu, False = float relu, None = linear.

    Raises FrontendError for anything else.
    """
    if quantizer is None:
        return None
    if isinstance(quantizer, qkeras.quantized_relu):
        bits = int(_number(quantizer.bits))
        integer = int(_number(quantizer.integer))
        problems = []
        if (bits, integer) != (15, 3):
            problems.append(
                f"{bits - integer} fractional and {integer} integer bits (Q4.12 activations "
                "need 12 and 3; an integer of 4 would clip at 16 where the hardware clips at 8)"
            )
        if quantizer.use_sigmoid:
            problems.append("use_sigmoid")
        if _number(quantizer.negative_slope) != 0.0:
            problems.append(f"negative_slope={_number(quantizer.negative_slope)}")
        if not quantizer.is_quantized_clip:
            problems.append("is_quantized_clip=False")
        if _number(quantizer.qnoise_factor) != 1.0:
            problems.append(f"qnoise_factor={_number(quantizer.qnoise_factor)}")
        if problems:
            raise FrontendError(
                f"{where}: activation {quantizer} is not the Q4.12 relu ({'; '.join(problems)}); "
                f"use {CANONICAL_RELU}"
            )
        return True
    name = getattr(quantizer, "__name__", None)
    if name == "relu":
        return False
    if name == "linear":
        return None
    raise FrontendError(
        f"{where}: activation {getattr(quantizer, '__name__', quantizer)!s} is not supported; "
        f"only relu and linear are. Use {CANONICAL_RELU} for relu, or no activation (linear)"
    )


def _classify_activation_layer(where: str, layer: Any, ns: Any) -> bool | None:
    """True/False/None as in _relu_from_quantizer for an activation layer, else error."""
    keras, qkeras = ns.keras, ns.qkeras
    if isinstance(layer, qkeras.QActivation):
        return _relu_from_quantizer(where, layer.quantizer, qkeras)
    if isinstance(layer, keras.layers.ReLU):
        max_value = layer.max_value
        problems = []
        if max_value is not None and _number(max_value) < 8.0:
            problems.append(
                f"max_value={_number(max_value):g} clips below the Q4.12 range end 8 "
                "(the hardware relu only clips at 8 - 2**-12)"
            )
        if _number(layer.negative_slope) != 0.0:
            problems.append(f"negative_slope={_number(layer.negative_slope):g} (leaky relu)")
        if _number(layer.threshold) != 0.0:
            problems.append(f"threshold={_number(layer.threshold):g}")
        if problems:
            raise FrontendError(
                f"{where}: {'; '.join(problems)} is not supported; use ReLU() without "
                f"max_value/negative_slope/threshold, or better {CANONICAL_RELU}"
            )
        return False
    # keras.layers.Activation
    fn = layer.activation
    name = getattr(fn, "__name__", str(fn))
    if name == "relu":
        return False
    if name == "linear":
        return None
    raise FrontendError(
        f"{where}: activation {name!r} is not supported (the hardware has relu and linear "
        f"only); use {CANONICAL_RELU} (or Activation('relu')), or remove it for linear"
    )


def _import_conv(
    where: str, layer: Any, ns: Any, report_notes: list[str]
) -> tuple[_Conv, list[str], float, bool | None]:
    """Check one conv layer and quantise its weights. Returns (conv, float tensors, err, act)."""
    qkeras = ns.qkeras
    kernel_size = int(layer.kernel_size[0])
    if layer.data_format != "channels_last":
        raise FrontendError(
            f"{where}: data_format={layer.data_format!r}; use data_format='channels_last' "
            "(inputs shaped (batch, time, channels))"
        )
    if tuple(layer.strides) != (1,):
        raise FrontendError(
            f"{where}: strides={tuple(layer.strides)}; a streaming net produces one output per "
            "input sample, so set strides=1 (use dilation_rate for a longer receptive field)"
        )
    if int(getattr(layer, "groups", 1)) != 1:
        raise FrontendError(
            f"{where}: groups={layer.groups}; grouped convolutions are not supported, set groups=1"
        )
    if layer.padding != "causal" and not (kernel_size == 1 and layer.padding in ("valid", "same")):
        raise FrontendError(
            f"{where}: padding={layer.padding!r} with kernel_size={kernel_size} is not causal; "
            "set padding='causal' (each output may only see the current and past samples)"
        )
    kernel = np.asarray(layer.kernel.numpy())
    if layer.use_bias:
        bias = np.asarray(layer.bias.numpy())
    else:
        bias = np.zeros(kernel.shape[2], kernel.dtype)
    float_tensors: list[str] = []
    errors = [0.0]
    is_q = isinstance(layer, qkeras.QConv1D)

    kq = layer.kernel_quantizer_internal if is_q and layer.kernel_quantizer else None
    if kq is not None:
        report_notes += _check_weight_quantizer(where, "kernel_quantizer", kq, qkeras)
        w_raw = _on_grid(where, "weights", np.asarray(kq(kernel)))
        w_delta = None
    else:
        w_raw, w_delta, err = _quantise_float(where, "weights", kernel, report_notes)
        float_tensors.append("weights")
        errors.append(err)

    b_delta = None
    bq = layer.bias_quantizer_internal if is_q and layer.bias_quantizer else None
    if not layer.use_bias:
        b_raw = np.zeros(kernel.shape[2], dtype=np.int16)
    elif bq is not None:
        report_notes += _check_weight_quantizer(where, "bias_quantizer", bq, qkeras)
        b_raw = _on_grid(where, "biases", np.asarray(bq(bias)))
    else:
        b_raw, b_delta, err = _quantise_float(where, "biases", bias, report_notes)
        float_tensors.append("bias")
        errors.append(err)

    activation = _relu_from_quantizer(where, layer.activation, qkeras)
    conv = _Conv(
        name=layer.name,
        weights=w_raw,
        bias=b_raw,
        dilation=int(layer.dilation_rate[0]),
        weight_delta=w_delta,
        bias_delta=b_delta,
    )
    return conv, float_tensors, max(errors), activation


def _apply_relu(conv: _Conv, quantized: bool | None) -> None:
    if quantized is None:
        return
    conv.activation = "relu"
    conv.quantized_activation = conv.quantized_activation or quantized


def import_keras_model(
    model_or_path: Any,
    *,
    name: str | None = None,
    io: IOSpec | None = None,
    calibration: np.ndarray | None = None,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> tuple[Network, ImportReport]:
    """Import a Keras/QKeras causal-conv chain (model object or .keras/.h5 path) into the IR.

    Returns the network and a report: which layers had float weights quantised here, the
    weight error, and the Keras float forward pass vs the integer reference on
    ``calibration`` (a (T, C_in) float signal; default ``default_calibration``) together with
    the proven bound ``float_error_bound_lsb``. Provenance (file name only) and the report
    summary go into ``net.metadata['import']``.
    """
    fixed.rounding_constant(rounding)
    ns = import_tf()
    if isinstance(model_or_path, str | Path):
        from wavecomp.frontend.qkeras_model import load_model

        path = Path(model_or_path)
        model = load_model(path)
        source = path.name
    else:
        model = model_or_path
        source = f"<in-memory Keras model {getattr(model, 'name', '?')!r}>"
    chain = _chain(model)
    keras = ns.keras
    notes: list[str] = []
    convs: list[_Conv] = []
    quantised_from_float: list[str] = []
    weight_error: dict[str, float] = {}
    input_layer = chain[0]
    in_shape = tuple(model.inputs[0].shape)
    if len(in_shape) != 3:
        raise FrontendError(
            f"{_where(0, input_layer)}: input shape {in_shape} is not (batch, time, channels); "
            "use keras.Input(shape=(None, C_in))"
        )
    for layer in chain[1:]:
        index = model.layers.index(layer)
        where = _where(index, layer)
        cls = type(layer).__name__
        if isinstance(layer, ns.qkeras.QConv1D) or type(layer) is keras.layers.Conv1D:
            conv, float_tensors, err, act = _import_conv(where, layer, ns, notes)
            if float_tensors:
                quantised_from_float.append(layer.name)
                if len(float_tensors) == 1 and isinstance(layer, ns.qkeras.QConv1D):
                    notes.append(f"{where}: float {float_tensors[0]} quantised on import")
            weight_error[layer.name] = err
            _apply_relu(conv, act)
            convs.append(conv)
        elif isinstance(layer, ns.qkeras.QActivation | keras.layers.Activation | keras.layers.ReLU):
            act = _classify_activation_layer(where, layer, ns)
            if not convs:
                if act is None:
                    notes.append(f"{where}: linear activation before the first conv ignored")
                    continue
                raise FrontendError(
                    f"{where}: a relu before the first conv would clip the (signed) network "
                    "inputs, which the hardware does not do; remove it"
                )
            _apply_relu(convs[-1], act)
        elif isinstance(layer, keras.layers.Dropout):
            notes.append(f"{where}: ignored (Dropout is the identity at inference)")
        else:
            raise FrontendError(
                f"{where}: unsupported layer{_unsupported_hint(cls)}. Supported: {SUPPORTED_LAYERS}"
            )
    if not convs:
        raise FrontendError(f"model {model.name!r} has no Conv1D/QConv1D layers to import")

    layers = [ConvLayer(c.name, c.weights, c.bias, c.dilation, c.activation) for c in convs]
    io = io if io is not None else IOSpec.default(layers[0].in_channels, layers[-1].out_channels)
    net = Network(layers, io, name=name or model.name)
    float_path = [
        FloatLayerPath(c.quantized_activation, c.weight_delta, c.bias_delta) for c in convs
    ]
    for c in convs:
        if c.activation == "relu" and not c.quantized_activation:
            notes.append(
                f"layer {c.name!r}: its relu is a float relu, so the float model neither rounds "
                f"nor clips at 8 there; {CANONICAL_RELU} trains on the hardware's numbers"
            )
    bound = float_error_bound_lsb(net, rounding, float_path=float_path)
    if calibration is None:
        calibration = default_calibration(net.in_channels)
    comparison = compare_float_to_reference(model, net, calibration, rounding)
    report = ImportReport(
        source=source,
        quantised_from_float=quantised_from_float,
        weight_error_lsb=weight_error,
        float_vs_reference=comparison,
        error_bound_lsb=bound,
        notes=notes,
        rounding=rounding,
    )
    if not report.within_bound:
        notes.append(
            f"warning: the float model differs from the reference by {comparison.max_abs_lsb:g} "
            f"LSB, beyond the proven bound {bound:.4g} LSB; this is a wavecomp bug, please report"
        )
    net.metadata["import"] = {
        "source": source,
        **{k: v for k, v in report.to_dict().items() if k != "source"},
    }
    return net, report


def _unsupported_hint(cls: str) -> str:
    hints = {
        "Dense": " (a Dense over channels is a kernel-size-1 conv: use Conv1D(filters, 1))",
        "QDense": " (a Dense over channels is a kernel-size-1 conv: use QConv1D(filters, 1))",
        "BatchNormalization": " (fold it into the preceding conv's weights and bias first)",
        "QBatchNormalization": " (fold it into the preceding conv's weights and bias first)",
        "Conv1DTranspose": " (transposed convs upsample; a streaming net needs Conv1D)",
        "SeparableConv1D": " (use a Conv1D; or a per-channel conv followed by a 1x1 Conv1D)",
        "DepthwiseConv1D": " (use a Conv1D with the equivalent full kernel)",
    }
    if cls in ("Sequential", "Functional", "Model"):
        return " (a nested model: rebuild it as one flat chain of layers)"
    if "Pool" in cls:
        return " (pooling changes the sample rate; streaming nets keep one output per sample)"
    return hints.get(cls, "")
