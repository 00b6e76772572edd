"""Keras/QKeras model -> Network IR, with a report on how far the float model is from it.

The importer accepts one thing: a single chain of causal 1-D convolutions with relu or linear
activations. It walks the Keras graph from the output back to the input, checks that it is
one chain, and hands each layer to its handler in ``keras_layers.HANDLERS`` (the table of
what is supported: ``QConv1D``/``Conv1D`` + ``QActivation``/``Activation``/``ReLU``,
``Dropout`` ignored). Anything else is rejected with a ``FrontendError`` that names the Keras
layer and says what to use instead, because a model that silently imports differently from
how it trained is worse than no model. Models whose tensors merge (``Add``: residual and skip
sums, input mixins) go to ``graph_importer`` instead.

QKeras layers must quantise onto the Q4.12 grid (``quantizers``); their quantised weights are
taken exactly. Float weights are quantised with ``fixed.to_q12`` and the error is reported.
Because QKeras' own forward pass is float, the report compares it with the integer reference
(``compare``) and gives a proven bound on the difference (``error_bound``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp import fixed
from wavecomp.frontend.compare import (
    FloatComparison,
    compare_float_to_reference,
    default_calibration,
)
from wavecomp.frontend.error_bound import FloatLayerPath, float_error_bound_lsb
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.frontend.keras_layers import (
    ImportState,
    handler_for,
    supported_layers,
    unsupported_hint,
)
from wavecomp.frontend.quantizers import CANONICAL_RELU
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.templating import render_document

__all__ = ["ImportReport", "import_keras_model"]


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
        """A short human-readable section for build/train reports (``import_report.md.j2``)."""
        return render_document(
            "wavecomp.frontend",
            "import_report.md.j2",
            report=self,
            comparison=self.float_vs_reference,
        )


def _where(index: int, layer: Any) -> str:
    return f"Keras layer #{index} {layer.name!r} ({type(layer).__name__})"


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
    from wavecomp.frontend.graph_importer import import_keras_graph, is_single_chain

    if not is_single_chain(model):  # residual/skip adds, mixins: the graph importer
        return import_keras_graph(
            model, source=source, name=name, io=io, calibration=calibration, rounding=rounding
        )
    chain = _chain(model)
    state = ImportState(model, ns)
    for index, layer in enumerate(chain):
        where = _where(model.layers.index(layer) if index else 0, layer)
        handler = handler_for(layer, ns)
        if handler is None:
            hint = unsupported_hint(type(layer).__name__)
            raise FrontendError(
                f"{where}: unsupported layer{hint}. Supported: {supported_layers()}"
            )
        handler.handle(where, layer, state)
    convs, notes = state.convs, state.notes
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
    report = finish_import(
        model,
        net,
        calibration,
        source=source,
        quantised_from_float=state.quantised_from_float,
        weight_error_lsb=state.weight_error,
        error_bound_lsb=bound,
        notes=notes,
        rounding=rounding,
    )
    return net, report


def finish_import(
    model: Any,
    net: Network,
    calibration: np.ndarray | None,
    *,
    source: str,
    quantised_from_float: list[str],
    weight_error_lsb: dict[str, float],
    error_bound_lsb: float,
    notes: list[str],
    rounding: fixed.Rounding,
) -> ImportReport:
    """Measure the float model against the integer reference on ``calibration`` (the default
    calibration signal if None), warn if that breaks the proven bound, and store the report
    in ``net.metadata['import']``. Shared by the chain and the graph importer."""
    if calibration is None:
        calibration = default_calibration(net.in_channels)
    comparison = compare_float_to_reference(model, net, calibration, rounding)
    report = ImportReport(
        source=source,
        quantised_from_float=quantised_from_float,
        weight_error_lsb=weight_error_lsb,
        float_vs_reference=comparison,
        error_bound_lsb=error_bound_lsb,
        notes=notes,
        rounding=rounding,
    )
    if not report.within_bound and math.isfinite(error_bound_lsb):
        notes.append(
            f"warning: the float model differs from the reference by {comparison.max_abs_lsb:g} "
            f"LSB, beyond the proven bound {error_bound_lsb:.4g} LSB; this is a wavecomp bug, "
            "please report"
        )
    net.metadata["import"] = {
        "source": source,
        **{k: v for k, v in report.to_dict().items() if k != "source"},
    }
    return report
