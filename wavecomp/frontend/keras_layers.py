"""The importer's table of Keras layer handlers: one function per supported layer class.

Why a table (the pattern of hls4ml's Keras converter, whose handlers register per layer class
name): what the importer accepts is exactly what is registered here, so the "Supported: ..."
list in its errors cannot drift from what it really handles. A handler checks one layer, turns
it into IR facts on the ``ImportState`` and raises a ``FrontendError`` naming the layer and
the fix for anything the hardware would compute differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from wavecomp.frontend.keras_env import FrontendError
from wavecomp.frontend.quantizers import (
    CANONICAL_RELU,
    as_float,
    check_weight_quantizer,
    float_activation,
    on_grid,
    quantise_float,
    relu_from_quantizer,
)

__all__ = [
    "HANDLERS",
    "ConvImport",
    "ImportState",
    "LayerHandler",
    "handler_for",
    "keras_handler",
    "supported_layers",
    "unsupported_hint",
]


@dataclass
class ConvImport:
    """One conv layer being imported, with the float-path facts the error bound needs."""

    name: str
    weights: np.ndarray  # int16 (K, C_in, C_out)
    bias: np.ndarray  # int16 (C_out,)
    dilation: int
    activation: str = "linear"
    quantized_activation: bool = False
    weight_delta: np.ndarray | None = None
    bias_delta: np.ndarray | None = None

    def apply_relu(self, quantized: bool | None) -> None:
        """Fold a following activation (as classified by ``relu_from_quantizer``) in."""
        if quantized is None:
            return
        self.activation = "relu"
        self.quantized_activation = self.quantized_activation or quantized


@dataclass
class ImportState:
    """What the walk along the chain has gathered so far; handlers add to it in order."""

    model: Any
    ns: SimpleNamespace
    """``keras_env.import_tf()``: tf, keras (tf_keras) and qkeras."""
    convs: list[ConvImport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quantised_from_float: list[str] = field(default_factory=list)
    weight_error: dict[str, float] = field(default_factory=dict)


HandlerFn = Callable[[str, Any, ImportState], None]
"""handle(where, layer, state): ``where`` names the layer for messages."""


@dataclass(frozen=True)
class LayerHandler:
    class_names: tuple[str, ...]
    accepts: str
    """What the handler accepts, for the "Supported: ..." list."""
    handle: HandlerFn


HANDLERS: dict[str, LayerHandler] = {}
"""Keras layer class name -> its handler, in registration order."""


def keras_handler(*class_names: str, accepts: str) -> Callable[[HandlerFn], HandlerFn]:
    """Register the decorated function as the handler of these Keras/QKeras layer classes."""

    def register(handle: HandlerFn) -> HandlerFn:
        entry = LayerHandler(class_names, accepts, handle)
        HANDLERS.update(dict.fromkeys(class_names, entry))
        return handle

    return register


def handler_for(layer: Any, ns: SimpleNamespace) -> LayerHandler | None:
    """The handler of exactly this layer's class (a subclass, e.g. Conv1DTranspose of Conv1D,
    computes something else, so it is not handled by its parent's handler)."""
    name = type(layer).__name__
    registered = getattr(ns.keras.layers, name, None) or getattr(ns.qkeras, name, None)
    return HANDLERS.get(name) if type(layer) is registered else None


def supported_layers() -> str:
    """The "Supported: ..." list, made from the table: ``Names (what is accepted); ...``."""
    entries = dict.fromkeys(HANDLERS.values())
    return "; ".join(f"{', '.join(e.class_names)} ({e.accepts})" for e in entries)


def unsupported_hint(class_name: str) -> str:
    """What to use instead of a layer class the table does not handle ("" if nothing to say)."""
    hints = {
        "Dense": " (a Dense over channels is a kernel-size-1 conv: use Conv1D(filters, 1))",
        "QDense": " (a Dense over channels is a kernel-size-1 conv: use QConv1D(filters, 1))",
        "BatchNormalization": " (fold it into the preceding conv's weights and bias first)",
        "QBatchNormalization": " (fold it into the preceding conv's weights and bias first)",
        "Conv1DTranspose": " (transposed convs upsample; a streaming net needs Conv1D)",
        "SeparableConv1D": " (use a Conv1D; or a per-channel conv followed by a 1x1 Conv1D)",
        "DepthwiseConv1D": " (use a Conv1D with the equivalent full kernel)",
    }
    if class_name in ("Sequential", "Functional", "Model"):
        return " (a nested model: rebuild it as one flat chain of layers)"
    if "Pool" in class_name:
        return " (pooling changes the sample rate; streaming nets keep one output per sample)"
    return hints.get(class_name, "")


# ---- the handlers ----------------------------------------------------------------------------
@keras_handler("InputLayer", accepts="one input shaped (batch, time, channels)")
def _input(where: str, layer: Any, state: ImportState) -> None:
    in_shape = tuple(state.model.inputs[0].shape)
    if len(in_shape) != 3:
        raise FrontendError(
            f"{where}: input shape {in_shape} is not (batch, time, channels); "
            "use keras.Input(shape=(None, C_in))"
        )


@keras_handler("Conv1D", "QConv1D", accepts="padding='causal', strides=1, groups=1, channels_last")
def _conv(where: str, layer: Any, state: ImportState) -> None:
    conv, float_tensors, err, act = _import_conv(where, layer, state.ns, state.notes)
    if float_tensors:
        state.quantised_from_float.append(layer.name)
        if len(float_tensors) == 1 and isinstance(layer, state.ns.qkeras.QConv1D):
            state.notes.append(f"{where}: float {float_tensors[0]} quantised on import")
    state.weight_error[layer.name] = err
    conv.apply_relu(act)
    state.convs.append(conv)


@keras_handler(
    "QActivation",
    "Activation",
    "ReLU",
    accepts=f"relu, best as {CANONICAL_RELU}, or linear",
)
def _activation(where: str, layer: Any, state: ImportState) -> None:
    act = _classify_activation_layer(where, layer, state.ns)
    if not state.convs:
        if act is None:
            state.notes.append(f"{where}: linear activation before the first conv ignored")
            return
        raise FrontendError(
            f"{where}: a relu before the first conv would clip the (signed) network "
            "inputs, which the hardware does not do; remove it"
        )
    state.convs[-1].apply_relu(act)


@keras_handler("Dropout", accepts="ignored at inference")
def _dropout(where: str, layer: Any, state: ImportState) -> None:
    state.notes.append(f"{where}: ignored (Dropout is the identity at inference)")


# ---- what the handlers check -----------------------------------------------------------------
def _classify_activation_layer(where: str, layer: Any, ns: Any) -> bool | None:
    """True/False/None as in relu_from_quantizer for an activation layer, else error."""
    keras, qkeras = ns.keras, ns.qkeras
    if isinstance(layer, qkeras.QActivation):
        return relu_from_quantizer(where, layer.quantizer, qkeras)
    if isinstance(layer, keras.layers.ReLU):
        max_value = layer.max_value
        problems = []
        if max_value is not None and as_float(max_value) < 8.0:
            problems.append(
                f"max_value={as_float(max_value):g} clips below the Q4.12 range end 8 "
                "(the hardware relu only clips at 8 - 2**-12)"
            )
        if as_float(layer.negative_slope) != 0.0:
            problems.append(f"negative_slope={as_float(layer.negative_slope):g} (leaky relu)")
        if as_float(layer.threshold) != 0.0:
            problems.append(f"threshold={as_float(layer.threshold):g}")
        if problems:
            raise FrontendError(
                f"{where}: {'; '.join(problems)} is not supported; use ReLU() without "
                f"max_value/negative_slope/threshold, or better {CANONICAL_RELU}"
            )
        return False
    fn = layer.activation  # keras.layers.Activation
    return float_activation(where, getattr(fn, "__name__", str(fn)))


def _import_conv(
    where: str, layer: Any, ns: Any, report_notes: list[str]
) -> tuple[ConvImport, list[str], float, bool | None]:
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
        report_notes += check_weight_quantizer(where, "kernel_quantizer", kq, qkeras)
        w_raw = on_grid(where, "weights", np.asarray(kq(kernel)))
        w_delta = None
    else:
        w_raw, w_delta, err = quantise_float(where, "weights", kernel, report_notes)
        float_tensors.append("weights")
        errors.append(err)

    b_delta = None
    bq = layer.bias_quantizer_internal if is_q and layer.bias_quantizer else None
    if not layer.use_bias:
        b_raw = np.zeros(kernel.shape[2], dtype=np.int16)
    elif bq is not None:
        report_notes += check_weight_quantizer(where, "bias_quantizer", bq, qkeras)
        b_raw = on_grid(where, "biases", np.asarray(bq(bias)))
    else:
        b_raw, b_delta, err = quantise_float(where, "biases", bias, report_notes)
        float_tensors.append("bias")
        errors.append(err)

    activation = relu_from_quantizer(where, layer.activation, qkeras)
    conv = ConvImport(
        name=layer.name,
        weights=w_raw,
        bias=b_raw,
        dilation=int(layer.dilation_rate[0]),
        weight_delta=w_delta,
        bias_delta=b_delta,
    )
    return conv, float_tensors, max(errors), activation
