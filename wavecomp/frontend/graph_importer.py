"""Keras functional models (QKeras WaveNets and the like) -> a graph Network, with the report.

``importer.import_keras_model`` sends every model that is not a single chain here. Accepted:
one input, one output, and the layers in ``SUPPORTED``; anything else is a ``FrontendError``
naming the Keras layer and the fix. The walk goes through the Keras graph in topological order
and keeps each Keras tensor either as an IR tensor or as a *pending sum* (conv terms, identity
terms and a bias not yet rounded). A node is made where the integer pipeline rounds:

- at an activation (relu; tanh, a ``pwl`` node with ``fixed.tanh_table()``; a Q4.12
  ``quantized_bits``, a ``linear`` node), so a conv and its activation are one node;
- where a pending sum is read by a conv, by more than one layer, or is the model output.

An ``Add`` of pending sums and IR tensors folds into one pending sum (conv + bias + a mixin conv
of the input -> one node with two conv sources; ``x + conv1x1(a)`` -> a conv and an identity
source), because the integer node sums exactly and rounds once, as the float model does. When
the sums' weights share no weight shift (power-of-two weights) or their biases overflow, each is
made a node first and the Add is a linear node of identity sources (noted in the report).

Weights must lie exactly on a node's grid: ``quantized_bits(16, 3, alpha=1)`` (the chain
importer's checks), or ``quantized_po2`` when every weight is exact at one shared weight shift
(the smallest that works; ``quantizers.po2_weight_shifts``); float weights are quantised here.
The report compares QKeras' float pass with the integer reference (``compare``) next to a
proven bound (``graph_float_error_bound_lsb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from wavecomp import fixed
from wavecomp.frontend.importer import ImportReport, finish_import
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.frontend.keras_layers import _classify_activation_layer, unsupported_hint
from wavecomp.frontend.quantizers import (
    CANONICAL_GRID,
    CANONICAL_RELU,
    CANONICAL_TANH,
    check_grid_quantizer,
    check_po2_quantizer,
    check_tanh_quantizer,
    check_weight_quantizer,
    on_grid,
    po2_weight_shifts,
    quantise_float,
    relu_from_quantizer,
    weight_shifts,
)
from wavecomp.ir import INPUT, ConvSource, IdentitySource, IOSpec, Network, Node

__all__ = [
    "SUPPORTED",
    "NodeFloatPath",
    "graph_float_error_bound_lsb",
    "graph_float_error_bounds",
    "import_keras_graph",
    "is_single_chain",
]

SUPPORTED = (
    "InputLayer; Conv1D, QConv1D (padding='causal' or kernel size 1, strides=1, groups=1); "
    f"QActivation, Activation, ReLU (relu, best {CANONICAL_RELU}; tanh, best {CANONICAL_TANH}; "
    f"{CANONICAL_GRID}; linear); Add; Dropout (ignored)"
)
GRAPH_HINTS = {
    "Multiply": " (gated activations are not importable from Keras yet; use tanh or relu)",
    "Concatenate": " (widen one conv instead of concatenating channels)",
    "Subtract": " (use Add and negate the subtracted conv's weights)",
    "TFOpLambda": " (a TensorFlow op such as `a + b`: write keras.layers.Add()([a, b]))",
}
ALL_SHIFTS = frozenset(range(fixed.MAX_WEIGHT_SHIFT + 1))
TANH_EVAL_ERROR_LSB = 0.01
"""Allowance for TensorFlow's float32 tanh: measured within 0.0014 LSB of float64 tanh."""
TANH_TAIL_LSB = 0.001
"""tanh moves less than this (in LSB) beyond the clamped pre-activation +-8."""

ActKind = Literal["linear", "relu", "tanh", "grid"]


@dataclass(frozen=True)
class _Act:
    kind: ActKind
    rounded: bool
    """QKeras rounds (and clips) the float output onto the grid."""


LINEAR = _Act("linear", False)


@dataclass(frozen=True)
class NodeFloatPath:
    """How the float model computes one node, for ``graph_float_error_bound_lsb``."""

    kind: ActKind
    rounded: bool
    weight_deltas: tuple[np.ndarray | None, ...] = ()
    """Per source: float weights minus the IR's, in raw units of the node's shift (or None)."""
    bias_delta: np.ndarray | None = None
    """Float bias minus the IR's, in LSB (or None)."""


@dataclass
class _Term:
    tensor: str
    values: np.ndarray | None = None
    """Weight values (K, C_X, C) as float64, exact; None for an identity term."""
    dilation: int = 1
    delta: np.ndarray | None = None


@dataclass
class _Sum:
    """A Keras tensor not yet rounded: terms plus a bias (values), read through one shift."""

    terms: list[_Term]
    bias: np.ndarray
    bias_delta: np.ndarray | None
    origin: str
    channels: int
    shifts: frozenset[int]


@dataclass(frozen=True)
class _Tensor:
    name: str
    channels: int


def _key(tensor: Any) -> tuple[int, int]:
    layer, node_index, _ = tensor._keras_history
    return id(layer), node_index


def _inputs(layer: Any, node_index: int) -> list[Any]:
    return list(layer.inbound_nodes[node_index].keras_inputs)


def is_single_chain(model: Any) -> bool:
    """True unless the model is a built one-input one-output Keras model whose output path
    merges tensors (those go to the graph importer; the chain importer names other problems)."""
    ns = import_tf()
    if not isinstance(model, ns.keras.Model) or model.inputs is None or model.outputs is None:
        return True
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return True
    tensor = model.outputs[0]
    while True:
        layer, node_index, _ = tensor._keras_history
        if isinstance(layer, ns.keras.layers.InputLayer):
            return True
        inputs = _inputs(layer, node_index)
        if len(inputs) != 1:
            return False
        tensor = inputs[0]


class _GraphWalk:
    """One pass over the Keras graph; collects nodes, their float paths and the notes."""

    def __init__(self, model: Any, ns: Any) -> None:
        self.model, self.ns = model, ns
        self.nodes: list[Node] = []
        self.paths: dict[str, NodeFloatPath] = {}
        self.on_grid: dict[str, bool] = {INPUT: True}
        self.values: dict[tuple[int, int], _Tensor | _Sum] = {}
        self.uses: dict[tuple[int, int], int] = {}
        self.notes: list[str] = []
        self.quantised_from_float: list[str] = []
        self.weight_error: dict[str, float] = {}
        self.names = {INPUT}

    # ---- the walk ----------------------------------------------------------------------------
    def run(self) -> list[tuple[str, int]]:
        model, keras = self.model, self.ns.keras
        if not isinstance(model, keras.Model):
            raise FrontendError(f"expected a tf-keras Model, got {type(model).__name__}")
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise FrontendError(
                f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
                "outputs; the graph importer takes one input and one output tensor (give the "
                "output conv several filters for several output channels)"
            )
        if len(tuple(model.inputs[0].shape)) != 3:
            raise FrontendError(
                f"model {model.name!r}: input shape {tuple(model.inputs[0].shape)} is not "
                "(batch, time, channels); use keras.Input(shape=(None, C_in))"
            )
        out_key = _key(model.outputs[0])
        layers, order = self._topological_order(model.outputs[0])
        self.uses[out_key] = 1
        for key in order:
            for t in _inputs(layers[key[0]], key[1]):
                self.uses[_key(t)] = self.uses.get(_key(t), 0) + 1
        for key in order:
            self._layer(key, layers[key[0]])
        out = self.values[out_key]
        if isinstance(out, _Sum):
            out = self._materialise(out, LINEAR)
        if out.name == INPUT:
            raise FrontendError(f"model {model.name!r}: its output is its input; add a conv")
        tanh = [name for name, path in self.paths.items() if path.kind == "tanh"]
        if tanh:
            self.notes.append(
                f"tanh nodes {', '.join(tanh)}: tanh is a pwl table (fixed.tanh_table) in the "
                "integer pipeline, within about 1 LSB of QKeras' float tanh, so the two are "
                "close, not bit-exact"
            )
        return [(out.name, c) for c in range(out.channels)]

    def _topological_order(self, output: Any) -> tuple[dict[int, Any], list[tuple[int, int]]]:
        """Layer calls in post-order from the output (inputs before the layers reading them)."""
        layers: dict[int, Any] = {}
        order: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        stack: list[tuple[Any, bool]] = [(output, False)]
        while stack:
            tensor, expanded = stack.pop()
            key = _key(tensor)
            if expanded:
                order.append(key)
                continue
            if key in seen:
                continue
            seen.add(key)
            layer = tensor._keras_history[0]
            layers[key[0]] = layer
            stack.append((tensor, True))
            stack.extend((t, False) for t in reversed(_inputs(layer, key[1])))
        return layers, order

    def _layer(self, key: tuple[int, int], layer: Any) -> None:
        keras, qkeras = self.ns.keras, self.ns.qkeras
        cls = type(layer).__name__
        where = f"Keras layer {layer.name!r} ({cls})"
        registered = getattr(keras.layers, cls, None) or getattr(qkeras, cls, None)
        ins = [_key(t) for t in _inputs(layer, key[1])]
        if type(layer) is not registered:
            cls = "?"
        if cls == "InputLayer":
            self.values[key] = _Tensor(INPUT, int(self.model.inputs[0].shape[-1]))
        elif cls in ("Conv1D", "QConv1D"):
            self.values[key] = self._conv(where, layer, self._read(ins[0]))
        elif cls in ("QActivation", "Activation", "ReLU"):
            if cls == "QActivation":
                act = self._classify(where, layer.quantizer)
            elif cls == "Activation":
                act = self._classify(where, layer.activation)
            else:
                _classify_activation_layer(where, layer, self.ns)  # the chain's ReLU checks
                act = _Act("relu", False)
            self.values[key] = self._apply(self._read(ins[0]), act, layer.name)
        elif cls == "Add":
            self.values[key] = self._add(where, layer, [self._read(k) for k in ins])
        elif cls == "Dropout":
            self.notes.append(f"{where}: ignored (Dropout is the identity at inference)")
            self.values[key] = self._read(ins[0])
        else:
            name = type(layer).__name__
            hint = GRAPH_HINTS.get(name) or unsupported_hint(name)
            raise FrontendError(f"{where}: unsupported layer{hint}. Supported: {SUPPORTED}")

    def _read(self, key: tuple[int, int]) -> _Tensor | _Sum:
        """A tensor's value; a pending sum read by several layers becomes a node first."""
        value = self.values[key]
        if isinstance(value, _Sum) and self.uses[key] > 1:
            value = self._materialise(value, LINEAR, "it is read by several layers")
            self.values[key] = value
        return value

    # ---- layers ------------------------------------------------------------------------------
    def _classify(self, where: str, fn: Any) -> _Act:
        qkeras = self.ns.qkeras
        if fn is None:
            return LINEAR
        if isinstance(fn, qkeras.quantized_relu):
            relu_from_quantizer(where, fn, qkeras)
            return _Act("relu", True)
        if isinstance(fn, qkeras.quantized_tanh):
            check_tanh_quantizer(where, fn)
            return _Act("tanh", True)
        if isinstance(fn, qkeras.quantized_bits):
            check_grid_quantizer(where, fn, qkeras)
            return _Act("grid", True)
        name = str(getattr(fn, "__name__", fn))
        if name in ("relu", "tanh"):
            best = CANONICAL_RELU if name == "relu" else CANONICAL_TANH
            self.notes.append(
                f"{where}: a float {name}, so the float model neither rounds nor clips there; "
                f"{best} trains on the hardware's numbers"
            )
            return _Act(name, False)  # type: ignore[arg-type]
        if name == "linear":
            return LINEAR
        raise FrontendError(
            f"{where}: activation {name!r} is not supported; use {CANONICAL_RELU}, "
            f"{CANONICAL_TANH}, {CANONICAL_GRID} (round a linear tensor) or none"
        )

    def _apply(self, value: _Tensor | _Sum, act: _Act, name: str) -> _Tensor | _Sum:
        """An activation on a value: a pending sum becomes a node with it."""
        if act == LINEAR:
            return value
        if isinstance(value, _Tensor):
            if act.kind == "grid" and self.on_grid[value.name]:
                return value  # already on the grid: rounding and saturating change nothing
            zero = np.zeros(value.channels)
            value = _Sum([_Term(value.name)], zero, None, name, value.channels, ALL_SHIFTS)
        return self._materialise(value, act)

    def _add(self, where: str, layer: Any, operands: list[_Tensor | _Sum]) -> _Sum:
        channels = {o.channels for o in operands}
        if len(channels) != 1:
            raise FrontendError(f"{where}: adds tensors of {sorted(channels)} channels")
        sums = [o for o in operands if isinstance(o, _Sum)]
        shifts = ALL_SHIFTS.intersection(*(s.shifts for s in sums))
        bias = sum((s.bias for s in sums), np.zeros(channels.pop()))
        raw_bias = np.abs(bias * fixed.ONE)
        if not shifts or raw_bias.max() > fixed.RAW_MAX:
            why = "their weights share no weight shift" if not shifts else "their biases overflow"
            operands = [
                self._materialise(o, LINEAR, f"it is summed by {where}, but {why}")
                if isinstance(o, _Sum)
                else o
                for o in operands
            ]
            sums, shifts, bias = [], ALL_SHIFTS, np.zeros_like(bias)
        terms: list[_Term] = []
        for o in operands:
            terms += o.terms if isinstance(o, _Sum) else [_Term(o.name)]
        deltas = [s.bias_delta for s in sums if s.bias_delta is not None]
        bias_delta = sum(deltas, np.zeros_like(bias)) if deltas else None
        return _Sum(terms, bias, bias_delta, layer.name, len(bias), shifts)

    def _conv(self, where: str, layer: Any, x: _Tensor | _Sum) -> _Tensor | _Sum:
        if isinstance(x, _Sum):
            x = self._materialise(x, LINEAR, f"{where} reads it")
        kernel_size = int(layer.kernel_size[0])
        if layer.data_format != "channels_last":
            raise FrontendError(f"{where}: data_format={layer.data_format!r}; use channels_last")
        if tuple(layer.strides) != (1,):
            raise FrontendError(
                f"{where}: strides={tuple(layer.strides)}; a streaming net produces one output "
                "per input sample, so set strides=1 (use dilation_rate to look further back)"
            )
        if int(getattr(layer, "groups", 1)) != 1:
            raise FrontendError(f"{where}: groups={layer.groups}; set groups=1")
        if layer.padding != "causal" and not (kernel_size == 1 and layer.padding != "full"):
            raise FrontendError(
                f"{where}: padding={layer.padding!r} with kernel_size={kernel_size} is not "
                "causal; set padding='causal' (each output may only see the current and past "
                "samples)"
            )
        is_q = isinstance(layer, self.ns.qkeras.QConv1D)
        kernel = np.asarray(layer.kernel.numpy())
        bias = np.asarray(layer.bias.numpy()) if layer.use_bias else np.zeros(kernel.shape[2])
        kq = layer.kernel_quantizer_internal if is_q and layer.kernel_quantizer else None
        bq = layer.bias_quantizer_internal if is_q and layer.bias_quantizer else None
        values, delta, shifts = self._weights(where, layer, "weights", kernel, kq)
        b_values, b_delta = np.zeros(kernel.shape[2]), None
        if layer.use_bias:
            b_values, b_delta, _ = self._weights(where, layer, "biases", bias, bq)
        self.weight_error.setdefault(layer.name, 0.0)
        term = _Term(x.name, values, int(layer.dilation_rate[0]), delta)
        value = _Sum([term], b_values, b_delta, layer.name, kernel.shape[2], shifts)
        return self._apply(value, self._classify(where, layer.activation), layer.name)

    def _weights(
        self, where: str, layer: Any, what: str, values: np.ndarray, quantizer: Any
    ) -> tuple[np.ndarray, np.ndarray | None, frozenset[int]]:
        """(exact values, float-minus-values or None, shifts that hold them) of one tensor."""
        qkeras = self.ns.qkeras
        label = "kernel_quantizer" if what == "weights" else "bias_quantizer"
        if quantizer is None:
            raw, delta, err = quantise_float(where, what, values, self.notes)
            if layer.name not in self.quantised_from_float:
                self.quantised_from_float.append(layer.name)
            self.weight_error[layer.name] = max(self.weight_error.get(layer.name, 0.0), err)
            return fixed.from_q12(raw), delta / fixed.ONE, weight_shifts(fixed.from_q12(raw))
        if isinstance(quantizer, qkeras.quantized_po2):
            check_po2_quantizer(where, label, quantizer)
            q = np.asarray(quantizer(values.astype(np.float32)), dtype=np.float64)
            if what == "biases":  # biases are Q4.12 whatever the node's shift
                return fixed.from_q12(on_grid(where, what, q)), None, ALL_SHIFTS
            return q, None, po2_weight_shifts(where, what, q)
        self.notes.extend(check_weight_quantizer(where, label, quantizer, qkeras))
        q = fixed.from_q12(on_grid(where, what, np.asarray(quantizer(values))))
        return q, None, weight_shifts(q)

    # ---- nodes -------------------------------------------------------------------------------
    def _unique(self, name: str) -> str:
        unique, k = name, 1
        while unique in self.names:
            k += 1
            unique = f"{name}_{k}"
        self.names.add(unique)
        return unique

    def _materialise(self, value: _Sum, act: _Act, why: str | None = None) -> _Tensor:
        """Make the node that computes ``value`` and applies ``act``; returns its tensor."""
        name = self._unique(value.origin)
        shift = min(value.shifts)
        scale = 2.0 ** (fixed.FRAC_BITS + shift)
        sources: list[ConvSource | IdentitySource] = []
        deltas: list[np.ndarray | None] = []
        for term in value.terms:
            if term.values is None:
                sources.append(IdentitySource(term.tensor))
                deltas.append(None)
                continue
            raw = np.rint(term.values * scale).astype(np.int16)
            sources.append(ConvSource(term.tensor, raw, term.dilation))
            deltas.append(None if term.delta is None else term.delta * scale)
        activation, tables = {"relu": ("relu", ()), "tanh": ("pwl", (fixed.tanh_table(),))}.get(
            act.kind, ("linear", ())
        )
        bias = np.rint(value.bias * fixed.ONE).astype(np.int16)
        self.nodes.append(Node(name, tuple(sources), bias, activation, shift, 0, tables))
        b_delta = None if value.bias_delta is None else value.bias_delta * fixed.ONE
        self.paths[name] = NodeFloatPath(act.kind, act.rounded, tuple(deltas), b_delta)
        self.on_grid[name] = act.rounded
        if why:
            self.notes.append(
                f"node {name!r}: {why}, so it is rounded to Q4.12 there while the float model "
                f"keeps full precision; put {CANONICAL_GRID} after it to train on the "
                "hardware's numbers"
            )
        if shift:
            self.notes.append(
                f"node {name!r}: weight shift {shift} (weights Q{4 - shift}.{12 + shift})"
            )
        return _Tensor(name, value.channels)


# ---- the bound -------------------------------------------------------------------------------
def _gamma(n: int) -> float:
    nu = n * 2.0**-24
    return nu / (1.0 - nu)


def _table_error_lsb(table: np.ndarray, rounding: fixed.Rounding) -> float:
    """max |pwl(p) - 4096 tanh(p / 4096)| over every int16 pre-activation p."""
    p = np.arange(fixed.RAW_MIN, fixed.RAW_MAX + 1)
    exact = fixed.ONE * np.tanh(p / fixed.ONE)
    return float(np.max(np.abs(fixed.pwl(p, table, rounding) - exact)))


def graph_float_error_bound_lsb(
    net: Network, paths: dict[str, NodeFloatPath], rounding: fixed.Rounding
) -> float:
    """Bound (LSB) on |Keras float output, clamped to Q4.12, - integer reference output|."""
    bounds = graph_float_error_bounds(net, paths, rounding)
    return float(max(bounds[tensor][channel] for tensor, channel in net.outputs))


def graph_float_error_bounds(
    net: Network, paths: dict[str, NodeFloatPath], rounding: fixed.Rounding
) -> dict[str, np.ndarray]:
    """Per node and channel: a bound (LSB) on |Keras float tensor (clamped) - integer tensor|.

    The chain bound (``error_bound.float_error_bound_lsb``) per node and channel, with
    every source summed: for conv sources ``sum A e_X / 2**(12+e) + sum |D| M_X / 2**(12+e)``
    (A = |W| + |D|, M_X the integer range of X), for identity sources ``e_X``, plus the
    float32 sum ``gamma_n S`` (n terms, S the summed float magnitudes), plus the rounding-rule
    difference rho (1 or 1.5 where QKeras rounds, 0.5 or 1 where it does not; 0 for a sum of
    grid tensors, which both compute exactly), plus the excess of an unclipped hidden float
    output over 32767. A tanh node adds, to the pre-activation difference (tanh's slope is at
    most 1), the table's error against tanh over every int16 input, QKeras' rounding and clip
    at 1 - 2**-12 (1 LSB), TensorFlow's float32 tanh (``TANH_EVAL_ERROR_LSB``) and the
    clamp of the pre-activation at +-8 (``TANH_TAIL_LSB``).
    """
    fixed.rounding_constant(rounding)
    int_range = net.tensor_ranges(rounding)
    full = float(-fixed.RAW_MIN)
    error = {INPUT: np.zeros(net.in_channels)}
    magnitude = {INPUT: np.full(net.in_channels, full)}
    grid = {INPUT: True}
    at_output: dict[str, np.ndarray] = {}
    for node in net.nodes:
        path = paths[node.name]
        scale = 2.0 ** (fixed.FRAC_BITS + node.shift)
        prop = np.zeros(node.pre_channels)
        summed = np.abs(node.bias.astype(np.float64))
        n_terms = 1
        deltas = path.weight_deltas or (None,) * len(node.sources)
        for source, delta in zip(node.sources, deltas, strict=True):
            x = source.tensor
            if isinstance(source, IdentitySource):
                prop += error[x] * 2.0**-source.shift
                summed += magnitude[x] * 2.0**-source.shift
                n_terms += 1
                continue
            d = np.zeros(source.weights.shape) if delta is None else np.abs(delta)
            a = (np.abs(source.weights.astype(np.float64)) + d).sum(axis=0) / scale
            prop += error[x] @ a + d.sum(axis=(0, 1)) * int_range[x] / scale
            summed += magnitude[x] @ a
            n_terms += source.weights.shape[0] * source.weights.shape[1]
        if path.bias_delta is not None:
            prop += np.abs(path.bias_delta)
            summed += np.abs(path.bias_delta)
        exact = (
            not node.conv_sources
            and path.bias_delta is None
            and all(s.shift == 0 and grid[s.tensor] for s in node.identity_sources)
            and float(summed.max()) < 2.0**24
        )
        gamma = 0.0 if exact else _gamma(n_terms + 1)
        pre = prop + gamma * summed
        half = 0.5 if rounding == "half_up" else 1.0
        if path.kind == "tanh":
            p_error = pre + (0.0 if exact else half)
            rounding_error = 1.0 if path.rounded else 0.0
            table = _table_error_lsb(node.tables[0], rounding)
            e = p_error + table + rounding_error + TANH_EVAL_ERROR_LSB + TANH_TAIL_LSB
            error[node.name] = at_output[node.name] = np.minimum(e, 2.0 * fixed.ONE)
            magnitude[node.name] = np.full(node.pre_channels, float(fixed.ONE))
        else:
            rounded_rho = 1.0 if rounding == "half_up" else 1.5  # half-even vs the IR's mode
            rho = 0.0 if exact else (rounded_rho if path.rounded else half)
            e = pre + rho
            cap = float(fixed.RAW_MAX) if path.kind == "relu" else 65535.0
            out_magnitude = (1.0 + gamma) * summed
            at_output[node.name] = np.minimum(e, cap)
            if path.rounded:
                error[node.name] = at_output[node.name]
                magnitude[node.name] = np.full(node.pre_channels, full)
            else:
                error[node.name] = e + np.maximum(0.0, out_magnitude - fixed.RAW_MAX)
                magnitude[node.name] = out_magnitude
        grid[node.name] = path.rounded
    return at_output


# ---- the import ------------------------------------------------------------------------------
def import_keras_graph(
    model: Any,
    *,
    source: str,
    name: str | None = None,
    io: IOSpec | None = None,
    calibration: np.ndarray | None = None,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> tuple[Network, ImportReport]:
    """Import a Keras functional model into a graph Network (see the module docstring).

    Returns the network and the same report as the chain importer (float weights quantised
    here, the float pass vs the integer reference on ``calibration``, the proven bound, notes);
    it is also stored in ``net.metadata['import']``, with the bound per node.
    """
    fixed.rounding_constant(rounding)
    walk = _GraphWalk(model, import_tf())
    outputs = walk.run()
    in_channels = int(model.inputs[0].shape[-1])
    io = io if io is not None else IOSpec.default(in_channels, len(outputs))
    net = Network(walk.nodes, io, name=name or model.name, outputs=tuple(outputs))
    bounds = graph_float_error_bounds(net, walk.paths, rounding)
    bound = float(max(bounds[tensor][channel] for tensor, channel in net.outputs))
    report = finish_import(
        model,
        net,
        calibration,
        source=source,
        quantised_from_float=walk.quantised_from_float,
        weight_error_lsb=walk.weight_error,
        error_bound_lsb=bound,
        notes=walk.notes,
        rounding=rounding,
    )
    net.metadata["import"]["node_error_bound_lsb"] = {
        name: float(b.max()) for name, b in bounds.items()
    }
    return net, report
