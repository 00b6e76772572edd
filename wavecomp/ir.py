"""The network IR: the only thing backends see.

A network has an input tensor ``input`` and an ordered list of **nodes**, each producing one
int16 Q4.12 tensor named after it. A node reads earlier tensors through **sources**: a causal
dilated conv (int16 weights ``W[K][C_X][C]``, tap k = K-1 newest) or an identity add. It adds
a bias, scales by its weight shift e and applies an activation (linear, relu, leaky_relu, a
pwl table, or gated tanh x sigmoid). Network outputs are (tensor, channel) pairs; an I/O spec
says which physical jack feeds each input channel and which output drives each jack.

A plain chain of convs (IR version 1) is the special case every backend supports: each node
has one conv source reading the previous node. ``Network.layers`` gives that view as
``ConvLayer``s, and refuses, naming the reason, for graph networks.

The IR validates itself with messages that name the node; ``wavecomp.ir_file`` writes it
losslessly and byte-deterministically (format version 2; version 1 still loads).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from wavecomp import fixed
from wavecomp.errors import WavecompError

INPUT = "input"
"""The name of the network input tensor; no node may take it."""
NUM_JACKS = 4
"""The eurorack-pmod has 4 inputs and 4 outputs."""

InputKind = Literal["audio", "control", "unused"]
INPUT_KINDS: tuple[InputKind, ...] = ("audio", "control", "unused")


class IRError(WavecompError, ValueError):
    """A network that breaks an IR rule; the message names the node or channel and the fix."""


class GraphNotSupportedError(IRError):
    """A backend that compiles plain conv chains only was given a graph network."""


@dataclass(frozen=True)
class InputChannel:
    """One network input channel.

    ``kind`` tells front-ends what to feed it: ``audio`` (a signal), ``control`` (a slowly
    varying value such as an embedding coordinate from a knob or CV) or ``unused`` (held at
    ``default``). ``jack`` is the physical input (0..3) that feeds it, or None to hold it at
    ``default`` (in model units).
    """

    name: str
    kind: InputKind = "audio"
    jack: int | None = None
    default: float = 0.0


@dataclass(frozen=True)
class OutputChannel:
    """One network output channel and the physical output (0..3) it drives, if any."""

    name: str
    jack: int | None = None


@dataclass(frozen=True)
class IOSpec:
    """Where the network's channels meet the board, and the codec sample scaling.

    A codec sample ``s`` (int16) enters the network as ``s >> input_shift`` and an output ``y``
    leaves as ``clamp(y << output_shift)`` (see ``fixed.board_to_q12`` / ``fixed.q12_to_board``).
    """

    inputs: tuple[InputChannel, ...]
    outputs: tuple[OutputChannel, ...]
    input_shift: int = fixed.DEFAULT_INPUT_SHIFT
    output_shift: int = fixed.DEFAULT_OUTPUT_SHIFT
    sample_rate: int | None = None
    """The sample rate the model was trained for (informational; backends may run others)."""

    @classmethod
    def default(cls, n_inputs: int, n_outputs: int) -> IOSpec:
        """Input i from jack i and output o to jack o (for the first four); all audio."""
        return cls(
            inputs=tuple(
                InputChannel(f"in{i}", "audio", i if i < NUM_JACKS else None)
                for i in range(n_inputs)
            ),
            outputs=tuple(
                OutputChannel(f"out{o}", o if o < NUM_JACKS else None) for o in range(n_outputs)
            ),
        )


@dataclass(frozen=True, eq=False)
class ConvLayer:
    """A causal dilated 1-D convolution; tap k = K-1 is the newest sample (Keras 'causal')."""

    name: str
    weights: np.ndarray
    """int16 Q4.12 raw, shape (K, C_in, C_out)."""
    bias: np.ndarray
    """int16 Q4.12 raw, shape (C_out,)."""
    dilation: int = 1
    activation: fixed.Activation = "linear"

    @property
    def kernel_size(self) -> int:
        return int(self.weights.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weights.shape[1])

    @property
    def out_channels(self) -> int:
        return int(self.weights.shape[2])

    @property
    def params(self) -> int:
        return int(self.weights.size + self.bias.size)

    @property
    def macs(self) -> int:
        """Multiply-accumulates per output sample."""
        return int(self.weights.size)

    @property
    def span(self) -> int:
        """Input columns the layer reads per output: (K-1)*d + 1 (its ring-buffer depth)."""
        return (self.kernel_size - 1) * self.dilation + 1

    def accumulator_bound(self, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING) -> np.ndarray:
        """Static |acc| bound per output channel (see ``fixed.accumulator_bound``)."""
        return fixed.accumulator_bound(self.weights, self.bias, rounding)

    def equals(self, other: ConvLayer) -> bool:
        return (
            self.name == other.name
            and self.dilation == other.dilation
            and self.activation == other.activation
            and self.weights.shape == other.weights.shape
            and np.array_equal(self.weights, other.weights)
            and np.array_equal(self.bias, other.bias)
        )


@dataclass(frozen=True)
class LayerShape:
    """A layer's name and conv shape: the first columns of every per-layer summary and plan."""

    name: str
    kernel_size: int
    dilation: int
    in_channels: int
    out_channels: int

    @classmethod
    def of(cls, layer: ConvLayer, **figures: Any) -> Self:
        """``cls`` for ``layer``: its shape copied, the subclass's own fields from ``figures``."""
        return cls(
            name=layer.name,
            kernel_size=layer.kernel_size,
            dilation=layer.dilation,
            in_channels=layer.in_channels,
            out_channels=layer.out_channels,
            **figures,
        )


@dataclass(frozen=True, eq=False)
class ConvSource:
    """A causal dilated conv of tensor ``tensor``: ``sum_k sum_c W[k][c][o] * X[t-(K-1-k)d][c]``."""

    tensor: str
    weights: np.ndarray
    """int16 raw, shape (K, C_X, C_pre); Q(4-e).(12+e) for the node's weight shift e."""
    dilation: int = 1

    @property
    def kernel_size(self) -> int:
        return int(self.weights.shape[0])

    @property
    def in_channels(self) -> int:
        return int(self.weights.shape[1])

    @property
    def span(self) -> int:
        """Columns of the source tensor read per output: (K-1)*d + 1."""
        return (self.kernel_size - 1) * self.dilation + 1

    @property
    def macs(self) -> int:
        return int(self.weights.size)

    def equals(self, other: Source) -> bool:
        return (
            isinstance(other, ConvSource)
            and self.tensor == other.tensor
            and self.dilation == other.dilation
            and self.weights.shape == other.weights.shape
            and np.array_equal(self.weights, other.weights)
        )


@dataclass(frozen=True)
class IdentitySource:
    """An element-wise add of tensor ``tensor`` (same width as the node), scaled by 2**-shift."""

    tensor: str
    shift: int = 0
    span = 1

    def equals(self, other: Source) -> bool:
        return self == other


Source = ConvSource | IdentitySource


@dataclass(frozen=True, eq=False)
class Node:
    """One tensor: sources summed onto a bias, scaled by 2**-(12+e), then an activation.

    ``gated`` nodes have 2*C pre-activations (bias and conv outputs are 2*C wide) and C outputs.
    """

    name: str
    sources: tuple[Source, ...]
    bias: np.ndarray
    """int16 Q4.12 raw, shape (C_pre,)."""
    activation: fixed.Activation = "linear"
    shift: int = 0
    """Weight shift e in 0..3: weights are Q(4-e).(12+e)."""
    slope: int = 0
    """leaky_relu only: the negative slope, int16 Q4.12 raw."""
    tables: tuple[np.ndarray, ...] = ()
    """pwl: (table,); gated: (tanh-like, sigmoid-like); each int16 of fixed.TABLE_SIZE."""

    @property
    def pre_channels(self) -> int:
        return int(self.bias.shape[0])

    @property
    def out_channels(self) -> int:
        return self.pre_channels // 2 if self.activation == "gated" else self.pre_channels

    @property
    def conv_sources(self) -> tuple[ConvSource, ...]:
        return tuple(s for s in self.sources if isinstance(s, ConvSource))

    @property
    def identity_sources(self) -> tuple[IdentitySource, ...]:
        return tuple(s for s in self.sources if isinstance(s, IdentitySource))

    @property
    def params(self) -> int:
        """Weights and biases (tables are counted as table memory, not parameters)."""
        return sum(s.macs for s in self.conv_sources) + self.pre_channels

    @property
    def macs(self) -> int:
        return sum(s.macs for s in self.conv_sources)

    @property
    def identity_adds(self) -> int:
        return self.pre_channels * len(self.identity_sources)

    @property
    def table_lookups(self) -> int:
        return self.pre_channels if self.activation in fixed.TABLE_ACTIVATIONS else 0

    def equals(self, other: Node) -> bool:
        return (
            self.name == other.name
            and self.activation == other.activation
            and self.shift == other.shift
            and self.slope == other.slope
            and len(self.sources) == len(other.sources)
            and all(a.equals(b) for a, b in zip(self.sources, other.sources, strict=True))
            and np.array_equal(self.bias, other.bias)
            and len(self.tables) == len(other.tables)
            and all(np.array_equal(a, b) for a, b in zip(self.tables, other.tables, strict=True))
        )


@dataclass(frozen=True)
class NodeSummary:
    name: str
    sources: str
    """One line: each source as tensor(K,d) (conv) or +tensor (identity, >>m if scaled)."""
    activation: str
    shift: int
    out_channels: int
    params: int
    macs: int
    identity_adds: int
    table_lookups: int
    accumulator_bits: int
    """Width that holds the node's static accumulator bound (half_up rounding)."""


@dataclass(frozen=True)
class TensorSummary:
    """A tensor's activation cache: the columns its delayed readers need."""

    name: str
    channels: int
    cache_columns: int
    cache_bytes: int
    max_abs: int
    """Proven bound on |value| (raw), from the producer's activation and accumulator bound."""


@dataclass(frozen=True)
class NetworkSummary:
    name: str
    nodes: tuple[NodeSummary, ...]
    tensors: tuple[TensorSummary, ...]
    params: int
    macs_per_sample: int
    identity_adds_per_sample: int
    table_lookups_per_sample: int
    receptive_field: int
    cache_bytes: int
    weight_bytes: int
    table_bytes: int
    max_accumulator_bits: int
    in_channels: int
    out_channels: int
    is_chain: bool

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["nodes"] = [dict(row.__dict__) for row in self.nodes]
        d["tensors"] = [dict(row.__dict__) for row in self.tensors]
        return d


@dataclass(eq=False)
class Network:
    """Nodes in topological order, outputs and the I/O spec. Call ``validate()`` after edits.

    ``nodes`` may be given as ``ConvLayer``s: that is a plain chain (layer i reads layer i-1,
    layer 0 reads the input), converted to nodes here. ``outputs`` defaults to every channel of
    the last node.
    """

    nodes: list[Node]
    io: IOSpec
    name: str = "network"
    metadata: dict[str, Any] = field(default_factory=dict)
    """JSON-serialisable notes (provenance, training figures, quantisation error)."""
    outputs: tuple[tuple[str, int], ...] | None = None

    def __post_init__(self) -> None:
        self.nodes = _as_nodes(list(self.nodes))
        if self.outputs is None and self.nodes:
            last = self.nodes[-1]
            self.outputs = tuple((last.name, c) for c in range(last.out_channels))
        self.outputs = tuple((str(t), int(c)) for t, c in self.outputs or ())
        self.validate()

    # ---- shape facts -------------------------------------------------------------------
    @property
    def in_channels(self) -> int:
        return len(self.io.inputs)

    @property
    def out_channels(self) -> int:
        return len(self.outputs)

    def channels(self, tensor: str) -> int:
        """Width of ``tensor`` (``input`` or a node's name)."""
        if tensor == INPUT:
            return self.in_channels
        return self.node(tensor).out_channels

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise IRError(f"network {self.name!r} has no node {name!r}")

    @property
    def params(self) -> int:
        return sum(node.params for node in self.nodes)

    @property
    def macs_per_sample(self) -> int:
        return sum(node.macs for node in self.nodes)

    @property
    def identity_adds_per_sample(self) -> int:
        return sum(node.identity_adds for node in self.nodes)

    @property
    def table_lookups_per_sample(self) -> int:
        return sum(node.table_lookups for node in self.nodes)

    def lags(self) -> dict[str, int]:
        """Per tensor: the oldest input sample it depends on, in samples back from now."""
        lag = {INPUT: 0}
        for node in self.nodes:
            lag[node.name] = max(lag[s.tensor] + s.span - 1 for s in node.sources)
        return lag

    @property
    def receptive_field(self) -> int:
        """Input samples that influence one output: 1 + the longest lag of any output."""
        lag = self.lags()
        return 1 + max(lag[tensor] for tensor, _ in self.outputs)

    def cache_columns(self) -> dict[str, int]:
        """Per tensor that any node reads: the columns kept, max (K-1)*d + 1 over its readers."""
        columns: dict[str, int] = {}
        for node in self.nodes:
            for s in node.sources:
                columns[s.tensor] = max(columns.get(s.tensor, 1), s.span)
        return columns

    # ---- accumulator bounds -------------------------------------------------------------
    def tensor_ranges(self, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING) -> dict[str, int]:
        """A proven bound on |raw value| per tensor (32768 unless the producer limits it)."""
        return self._bounds(rounding)[1]

    def node_bounds(
        self, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
    ) -> dict[str, np.ndarray]:
        """Static |acc| bound per pre-activation channel of each node, using proven ranges."""
        return self._bounds(rounding)[0]

    def _bounds(self, rounding: fixed.Rounding) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        full = 1 << 15
        ranges = {INPUT: full}
        bounds = {}
        for node in self.nodes:
            bound = fixed.node_accumulator_bound(
                node.bias,
                node.shift,
                rounding,
                convs=[(s.weights, ranges[s.tensor]) for s in node.conv_sources],
                identities=[(ranges[s.tensor], s.shift) for s in node.identity_sources],
            )
            bounds[node.name] = bound
            p_max = min(full, (int(bound.max()) >> (fixed.FRAC_BITS + node.shift)) + 1)
            if node.activation == "pwl":
                ranges[node.name] = fixed.table_range(node.tables[0])
            elif node.activation == "gated":
                product = fixed.table_range(node.tables[0]) * fixed.table_range(node.tables[1])
                ranges[node.name] = min(full, (product >> fixed.FRAC_BITS) + 1)
            else:
                ranges[node.name] = p_max
        return bounds, ranges

    # ---- the plain-chain view -------------------------------------------------------------
    def chain_obstacle(self) -> str | None:
        """Why this is not a plain conv chain (None if it is)."""
        previous = INPUT
        for node in self.nodes:
            where = f"node {node.name!r}"
            if len(node.sources) != 1 or not isinstance(node.sources[0], ConvSource):
                return f"{where} has {len(node.sources)} sources or an identity add"
            if node.sources[0].tensor != previous:
                return f"{where} reads {node.sources[0].tensor!r}, not the tensor before it"
            if node.activation not in fixed.CHAIN_ACTIVATIONS:
                return f"{where} uses activation {node.activation!r}"
            if node.shift:
                return f"{where} has weight shift {node.shift}"
            previous = node.name
        last = self.nodes[-1]
        if self.outputs != tuple((last.name, c) for c in range(last.out_channels)):
            return "its outputs are not the last node's channels in order"
        return None

    @property
    def is_chain(self) -> bool:
        return self.chain_obstacle() is None

    def require_chain(self, backend: str) -> list[ConvLayer]:
        """The plain-chain view for a backend that only compiles chains, or a named error."""
        why = self.chain_obstacle()
        if why is not None:
            raise GraphNotSupportedError(
                f"network {self.name!r} is a graph network ({why}); {backend} compiles plain "
                "conv chains only so far. Graph networks run on the reference today "
                "(`wavecomp sim --target reference`); FPGA and MCU support comes next."
            )
        return [
            ConvLayer(
                node.name,
                node.sources[0].weights,
                node.bias,
                node.sources[0].dilation,
                node.activation,
            )
            for node in self.nodes
        ]

    @property
    def layers(self) -> list[ConvLayer]:
        """The network as plain conv layers (a GraphNotSupportedError for graph networks)."""
        return self.require_chain("this backend")

    def accumulator_bounds(
        self, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
    ) -> list[np.ndarray]:
        return [layer.accumulator_bound(rounding) for layer in self.layers]

    # ---- validation ----------------------------------------------------------------------
    def validate(self) -> None:
        """Raise IRError naming the offending node/channel if any rule is broken."""
        if not self.nodes:
            raise IRError(f"network {self.name!r} has no nodes: add at least one conv layer")
        widths = {INPUT: self.in_channels}
        for i, node in enumerate(self.nodes):
            where = f"node {i} {node.name!r}"
            if node.name in widths:
                raise IRError(
                    f"{where}: name used twice (or is the reserved {INPUT!r}); "
                    "node names must be unique"
                )
            _validate_sources(node, where, widths, [n.name for n in self.nodes[i + 1 :]])
            widths[node.name] = node.out_channels
        if not any(s.tensor == INPUT for n in self.nodes for s in n.sources):
            raise IRError(f"network {self.name!r}: no node reads {INPUT!r}")
        self._validate_outputs(widths)
        self._validate_io()

    def _validate_outputs(self, widths: dict[str, int]) -> None:
        if not self.outputs:
            raise IRError(f"network {self.name!r} has no outputs: name (tensor, channel) pairs")
        for tensor, channel in self.outputs:
            if tensor not in widths:
                raise IRError(f"output ({tensor!r}, {channel}): no tensor named {tensor!r}")
            if not 0 <= channel < widths[tensor]:
                raise IRError(
                    f"output ({tensor!r}, {channel}): {tensor!r} has channels "
                    f"0..{widths[tensor] - 1}"
                )
        used = {tensor for tensor, _ in self.outputs}
        for node in reversed(self.nodes):
            if node.name not in used:
                raise IRError(
                    f"node {node.name!r} feeds no output; remove it (backends would compute "
                    "it for nothing)"
                )
            used.update(s.tensor for s in node.sources)

    def _validate_io(self) -> None:
        io_ = self.io
        if len(io_.outputs) != self.out_channels:
            raise IRError(
                f"I/O spec names {len(io_.outputs)} output channels but the network has "
                f"{self.out_channels} outputs ({_describe_outputs(self.outputs)})"
            )
        for what, channels in (("input", io_.inputs), ("output", io_.outputs)):
            seen_names: set[str] = set()
            seen_jacks: dict[int, str] = {}
            for ch in channels:
                if not ch.name or ch.name in seen_names:
                    raise IRError(f"{what} channel name {ch.name!r} is empty or used twice")
                seen_names.add(ch.name)
                if ch.jack is None:
                    continue
                if not isinstance(ch.jack, int) or not 0 <= ch.jack < NUM_JACKS:
                    raise IRError(
                        f"{what} channel {ch.name!r}: jack {ch.jack!r} does not exist; "
                        f"use 0..{NUM_JACKS - 1} or None"
                    )
                if ch.jack in seen_jacks:
                    raise IRError(
                        f"{what} channels {seen_jacks[ch.jack]!r} and {ch.name!r} both use "
                        f"jack {ch.jack}; give each its own jack (or None)"
                    )
                seen_jacks[ch.jack] = ch.name
        for ch in io_.inputs:
            if ch.kind not in INPUT_KINDS:
                raise IRError(
                    f"input channel {ch.name!r}: kind {ch.kind!r} is not one of {INPUT_KINDS}"
                )
            if not fixed.VALUE_MIN <= ch.default <= fixed.VALUE_MAX:
                raise IRError(
                    f"input channel {ch.name!r}: default {ch.default} is outside Q4.12 "
                    f"[{fixed.VALUE_MIN}, {fixed.VALUE_MAX}]"
                )
        for label, shift in (("input_shift", io_.input_shift), ("output_shift", io_.output_shift)):
            if not isinstance(shift, int) or not 0 <= shift <= 15:
                raise IRError(f"I/O spec {label}={shift!r}: use an integer shift in 0..15")

    # ---- summary -------------------------------------------------------------------------
    def summary(self) -> NetworkSummary:
        """Params, MACs/sample, adds, lookups, receptive field, memory, accumulator widths."""
        bounds = self.node_bounds("half_up")
        ranges = self.tensor_ranges("half_up")
        rows = tuple(
            NodeSummary(
                name=node.name,
                sources=" ".join(_describe_source(s) for s in node.sources),
                activation=node.activation,
                shift=node.shift,
                out_channels=node.out_channels,
                params=node.params,
                macs=node.macs,
                identity_adds=node.identity_adds,
                table_lookups=node.table_lookups,
                accumulator_bits=fixed.accumulator_bits(int(bounds[node.name].max())),
            )
            for node in self.nodes
        )
        tensors = tuple(
            TensorSummary(
                name=tensor,
                channels=self.channels(tensor),
                cache_columns=columns,
                cache_bytes=2 * columns * self.channels(tensor),
                max_abs=ranges[tensor],
            )
            for tensor, columns in self.cache_columns().items()
        )
        tables = sum(len(node.tables) for node in self.nodes)
        return NetworkSummary(
            name=self.name,
            nodes=rows,
            tensors=tensors,
            params=self.params,
            macs_per_sample=self.macs_per_sample,
            identity_adds_per_sample=self.identity_adds_per_sample,
            table_lookups_per_sample=self.table_lookups_per_sample,
            receptive_field=self.receptive_field,
            cache_bytes=sum(t.cache_bytes for t in tensors),
            weight_bytes=2 * self.params,
            table_bytes=2 * fixed.TABLE_SIZE * tables,
            max_accumulator_bits=max(r.accumulator_bits for r in rows),
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            is_chain=self.is_chain,
        )

    # ---- equality and identity -----------------------------------------------------------
    def equals(self, other: Network) -> bool:
        """Same nodes (bit for bit), outputs, I/O spec, name and metadata."""
        return (
            self.name == other.name
            and self.io == other.io
            and self.metadata == other.metadata
            and self.outputs == other.outputs
            and len(self.nodes) == len(other.nodes)
            and all(a.equals(b) for a, b in zip(self.nodes, other.nodes, strict=True))
        )

    def fingerprint(self) -> str:
        """sha256 of the computational content, ignoring names and metadata.

        Plain chains hash as they did in IR version 1, so their fingerprints (printed in
        reports and generated code) did not change with the graph IR.
        """
        h = hashlib.sha256()
        h.update(json.dumps(io_spec_to_dict(self.io), sort_keys=True).encode())
        if self.is_chain:
            for layer in self.layers:
                h.update(
                    json.dumps([layer.dilation, layer.activation, layer.weights.shape]).encode()
                )
                h.update(layer.weights.astype("<i2").tobytes())
                h.update(layer.bias.astype("<i2").tobytes())
            return h.hexdigest()
        index = {INPUT: -1} | {node.name: i for i, node in enumerate(self.nodes)}
        h.update(json.dumps([[index[t], c] for t, c in self.outputs]).encode())
        for node in self.nodes:
            h.update(json.dumps([node.activation, node.shift, node.slope]).encode())
            for s in node.sources:
                if isinstance(s, ConvSource):
                    h.update(
                        json.dumps(["conv", index[s.tensor], s.dilation, s.weights.shape]).encode()
                    )
                    h.update(s.weights.astype("<i2").tobytes())
                else:
                    h.update(json.dumps(["identity", index[s.tensor], s.shift]).encode())
            h.update(node.bias.astype("<i2").tobytes())
            for table in node.tables:
                h.update(table.astype("<i2").tobytes())
        return h.hexdigest()

    # ---- serialisation -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a deterministic ``.npz`` (format version 2). Returns the path."""
        from wavecomp.ir_file import save_network

        return save_network(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a file written by ``save`` (or a version-1 file); errors name the file."""
        from wavecomp.ir_file import load_network

        return load_network(Path(path))


# ---- helpers ---------------------------------------------------------------------------------
def _as_nodes(items: list[Node | ConvLayer]) -> list[Node]:
    """Check each node's own rules; ConvLayers become the nodes of a plain chain."""
    kinds = {type(item) for item in items}
    if kinds == {ConvLayer}:
        items = [
            _normalised(layer, i)
            for i, layer in enumerate(items)  # type: ignore[arg-type]
        ]
        previous = [INPUT] + [layer.name for layer in items[:-1]]
        return [
            _normalised_node(
                Node(
                    layer.name,
                    (ConvSource(tensor, layer.weights, layer.dilation),),
                    layer.bias,
                    layer.activation,
                ),
                i,
            )
            for i, (layer, tensor) in enumerate(zip(items, previous, strict=True))
        ]
    if kinds - {Node}:
        raise IRError(
            "a network's nodes must be all Node (a graph) or all ConvLayer (a plain chain), "
            f"got {sorted(k.__name__ for k in kinds)}"
        )
    return [_normalised_node(node, i) for i, node in enumerate(items)]  # type: ignore[arg-type]


def _int16_array(arr: Any, where: str, label: str, shape_rule: str) -> np.ndarray:
    """``arr`` as a read-only int16 array, or an IRError saying what is wrong with it."""
    arr = np.asarray(arr)
    if not np.issubdtype(arr.dtype, np.integer):
        raise IRError(
            f"{where}: {label} are {arr.dtype}, but the IR holds int16 raw integers; "
            "quantise with wavecomp.fixed.to_q12 (or import through a frontend)"
        )
    if arr.size and (arr.min() < fixed.RAW_MIN or arr.max() > fixed.RAW_MAX):
        raise IRError(
            f"{where}: {label} span [{arr.min()}, {arr.max()}], outside int16 "
            f"[{fixed.RAW_MIN}, {fixed.RAW_MAX}] ({shape_rule})"
        )
    arr = arr.astype(np.int16)
    arr.flags.writeable = False
    return arr


def _normalised_node(node: Node, index: int) -> Node:
    """Check one node's own rules (not its sources' tensors) and return it with int16 arrays."""
    if not isinstance(node.name, str) or not node.name:
        raise IRError(f"node {index}: needs a non-empty name")
    where = f"node {index} {node.name!r}"
    bias = _int16_array(node.bias, where, "bias", "Q4.12")
    if bias.ndim != 1 or bias.size < 1:
        raise IRError(f"{where}: bias must have shape (C,) with C >= 1, got {bias.shape}")
    if node.activation not in fixed.ACTIVATIONS:
        raise IRError(
            f"{where}: activation {node.activation!r} is not supported; "
            f"use one of {', '.join(fixed.ACTIVATIONS)}"
        )
    if (
        not isinstance(node.shift, int | np.integer)
        or not 0 <= node.shift <= fixed.MAX_WEIGHT_SHIFT
    ):
        raise IRError(
            f"{where}: weight shift {node.shift!r} is not an integer in 0..{fixed.MAX_WEIGHT_SHIFT}"
        )
    if node.activation == "gated" and bias.size % 2:
        raise IRError(
            f"{where}: a gated node has 2*C pre-activations (tanh half, sigmoid half), "
            f"but its bias has {bias.size}"
        )
    if node.activation == "leaky_relu":
        if not fixed.RAW_MIN <= int(node.slope) <= fixed.RAW_MAX:
            raise IRError(f"{where}: leaky_relu slope {node.slope} is outside int16 Q4.12")
    elif node.slope:
        raise IRError(f"{where}: slope {node.slope} is only meaningful for leaky_relu")
    n_tables = fixed.TABLE_ACTIVATIONS.get(node.activation, 0)
    if len(node.tables) != n_tables:
        raise IRError(
            f"{where}: activation {node.activation!r} takes {n_tables} table(s), "
            f"got {len(node.tables)}"
        )
    tables = []
    for k, table in enumerate(node.tables):
        table = _int16_array(table, where, f"table {k}", "Q4.12")
        if table.shape != (fixed.TABLE_SIZE,):
            raise IRError(
                f"{where}: table {k} has shape {table.shape}; a pwl table has "
                f"{fixed.TABLE_SIZE} knots (build it with wavecomp.fixed.pwl_table)"
            )
        tables.append(table)
    if not node.sources:
        raise IRError(f"{where}: has no sources; read at least one tensor")
    sources = []
    for j, s in enumerate(node.sources):
        sw = f"{where} source {j} ({getattr(s, 'tensor', '?')!r})"
        if isinstance(s, ConvSource):
            weights = _int16_array(s.weights, sw, "weights", f"Q{4 - node.shift}.{12 + node.shift}")
            if weights.ndim != 3 or min(weights.shape) < 1:
                raise IRError(
                    f"{sw}: weights must have shape (K, C_X, C) with every size >= 1, "
                    f"got {weights.shape}"
                )
            if weights.shape[2] != bias.size:
                raise IRError(
                    f"{sw}: weights give {weights.shape[2]} outputs but the node has "
                    f"{bias.size} pre-activations (bias size)"
                )
            if not isinstance(s.dilation, int | np.integer) or s.dilation < 1:
                raise IRError(f"{sw}: dilation must be an integer >= 1, got {s.dilation!r}")
            sources.append(ConvSource(str(s.tensor), weights, int(s.dilation)))
        elif isinstance(s, IdentitySource):
            if not isinstance(s.shift, int | np.integer) or not (
                0 <= s.shift <= fixed.MAX_IDENTITY_SHIFT
            ):
                raise IRError(
                    f"{sw}: identity shift {s.shift!r} is not an integer in "
                    f"0..{fixed.MAX_IDENTITY_SHIFT}"
                )
            sources.append(IdentitySource(str(s.tensor), int(s.shift)))
        else:
            raise IRError(
                f"{where} source {j}: {s!r} is neither a ConvSource nor an IdentitySource"
            )
    return Node(
        node.name,
        tuple(sources),
        bias,
        node.activation,
        int(node.shift),
        int(node.slope),
        tuple(tables),
    )


def _validate_sources(node: Node, where: str, widths: dict[str, int], later: list[str]) -> None:
    """Each source reads a tensor computed before this node, at a width that fits."""
    for j, s in enumerate(node.sources):
        sw = f"{where} source {j}"
        if s.tensor not in widths:
            if s.tensor in later or s.tensor == node.name:
                raise IRError(
                    f"{sw} reads {s.tensor!r}, which is computed later: nodes must be in "
                    "topological order (a node reads only the input and earlier nodes)"
                )
            raise IRError(f"{sw} reads unknown tensor {s.tensor!r}")
        width = widths[s.tensor]
        if isinstance(s, ConvSource) and s.in_channels != width:
            raise IRError(
                f"{sw}: weights expect C_X={s.in_channels} but {s.tensor!r} has {width} channels"
                + (f" (the I/O spec names {width} input channels)" if s.tensor == INPUT else "")
            )
        if isinstance(s, IdentitySource) and width != node.pre_channels:
            raise IRError(
                f"{sw}: identity add of {s.tensor!r} ({width} channels) into "
                f"{node.pre_channels} pre-activations; widths must match"
            )


def _describe_source(s: Source) -> str:
    if isinstance(s, ConvSource):
        return f"{s.tensor}(K{s.kernel_size},d{s.dilation})"
    return f"+{s.tensor}" + (f">>{s.shift}" if s.shift else "")


def _describe_outputs(outputs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{t}:{c}" for t, c in outputs)


def _normalised(layer: ConvLayer, index: int) -> ConvLayer:
    """Check one layer's own rules and return it with int16, read-only arrays."""
    where = f"layer {index} {layer.name!r}"
    if not isinstance(layer.name, str) or not layer.name:
        raise IRError(f"layer {index}: needs a non-empty name")
    weights = np.asarray(layer.weights)
    bias = np.asarray(layer.bias)
    if weights.ndim != 3 or min(weights.shape) < 1:
        raise IRError(
            f"{where}: weights must have shape (K, C_in, C_out) with every size >= 1, "
            f"got {weights.shape}"
        )
    if bias.shape != (weights.shape[2],):
        raise IRError(
            f"{where}: bias must have shape ({weights.shape[2]},) to match C_out, got {bias.shape}"
        )
    for label, arr in (("weights", weights), ("bias", bias)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise IRError(
                f"{where}: {label} are {arr.dtype}, but the IR holds Q4.12 raw integers; "
                "quantise with wavecomp.fixed.to_q12 (or import through the frontend)"
            )
        if arr.size and (arr.min() < fixed.RAW_MIN or arr.max() > fixed.RAW_MAX):
            raise IRError(
                f"{where}: {label} span [{arr.min()}, {arr.max()}], outside int16 Q4.12 "
                f"[{fixed.RAW_MIN}, {fixed.RAW_MAX}]"
            )
    if not isinstance(layer.dilation, int | np.integer) or layer.dilation < 1:
        raise IRError(f"{where}: dilation must be an integer >= 1, got {layer.dilation!r}")
    if layer.activation not in fixed.CHAIN_ACTIVATIONS:
        raise IRError(
            f"{where}: activation {layer.activation!r} is not supported; "
            f"use one of {', '.join(fixed.CHAIN_ACTIVATIONS)}"
        )
    weights = weights.astype(np.int16)
    bias = bias.astype(np.int16)
    weights.flags.writeable = False
    bias.flags.writeable = False
    return ConvLayer(layer.name, weights, bias, int(layer.dilation), layer.activation)


def io_spec_to_dict(io_: IOSpec) -> dict[str, Any]:
    return {
        "inputs": [ch.__dict__.copy() for ch in io_.inputs],
        "outputs": [ch.__dict__.copy() for ch in io_.outputs],
        "input_shift": io_.input_shift,
        "output_shift": io_.output_shift,
        "sample_rate": io_.sample_rate,
    }


def io_spec_from_dict(d: dict[str, Any]) -> IOSpec:
    return IOSpec(
        inputs=tuple(InputChannel(**ch) for ch in d["inputs"]),
        outputs=tuple(OutputChannel(**ch) for ch in d["outputs"]),
        input_shift=d["input_shift"],
        output_shift=d["output_shift"],
        sample_rate=d.get("sample_rate"),
    )
