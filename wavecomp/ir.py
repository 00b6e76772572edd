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
from typing import Any

import numpy as np

from wavecomp import fixed
from wavecomp.errors import GraphNotSupportedError, IRError
from wavecomp.io_spec import (
    INPUT_KINDS,
    NUM_JACKS,
    InputChannel,
    InputKind,
    IOSpec,
    OutputChannel,
    io_spec_from_dict,
    io_spec_to_dict,
)
from wavecomp.ir_nodes import (
    ConvLayer,
    ConvSource,
    IdentitySource,
    LayerShape,
    Node,
    Source,
    normalised_layer,
    normalised_node,
)

__all__ = [
    "INPUT",
    "INPUT_KINDS",
    "NUM_JACKS",
    "ConvLayer",
    "ConvSource",
    "GraphNotSupportedError",
    "IOSpec",
    "IRError",
    "IdentitySource",
    "InputChannel",
    "InputKind",
    "LayerShape",
    "Network",
    "NetworkSummary",
    "Node",
    "NodeSummary",
    "OutputChannel",
    "Source",
    "TensorSummary",
    "io_spec_from_dict",
    "io_spec_to_dict",
]

INPUT = "input"
"""The name of the network input tensor; no node may take it."""


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
    """Distinct pwl tables x 2,050 B (identical tables are stored once)."""
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

    @property
    def receptive_field(self) -> int:
        """Input samples that influence one output: 1 + the longest lag of any output."""
        return receptive_field(self.nodes, self.outputs)

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
    def _chain_view(self) -> tuple[str | None, tuple[ConvLayer, ...]]:
        """(why this is not a plain conv chain or None, its ConvLayers if it is one).

        Derived once per ``validate()`` (which every edit must be followed by), because
        backends read ``layers`` inside per-step loops.
        """
        previous = INPUT
        for node in self.nodes:
            where = f"node {node.name!r}"
            if len(node.sources) != 1 or not isinstance(node.sources[0], ConvSource):
                return f"{where} has {len(node.sources)} sources or an identity add", ()
            if node.sources[0].tensor != previous:
                return f"{where} reads {node.sources[0].tensor!r}, not the tensor before it", ()
            if node.activation not in fixed.CHAIN_ACTIVATIONS:
                return f"{where} uses activation {node.activation!r}", ()
            if node.shift:
                return f"{where} has weight shift {node.shift}", ()
            previous = node.name
        last = self.nodes[-1]
        if self.outputs != tuple((last.name, c) for c in range(last.out_channels)):
            return "its outputs are not the last node's channels in order", ()
        layers = tuple(
            ConvLayer(
                node.name,
                node.sources[0].weights,
                node.bias,
                node.sources[0].dilation,
                node.activation,
            )
            for node in self.nodes
        )
        return None, layers

    def chain_obstacle(self) -> str | None:
        """Why this is not a plain conv chain (None if it is)."""
        return self._chain[0]

    @property
    def is_chain(self) -> bool:
        return self._chain[0] is None

    def require_chain(self, backend: str) -> list[ConvLayer]:
        """The plain-chain view for a backend that only compiles chains, or a named error."""
        why, layers = self._chain
        if why is not None:
            raise GraphNotSupportedError(
                f"network {self.name!r} is a graph network ({why}); {backend} compiles plain "
                "conv chains only"
            )
        return list(layers)

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
        self._chain = self._chain_view()

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
        bounds, ranges = self._bounds("half_up")
        rows = tuple(
            NodeSummary(
                name=node.name,
                sources=" ".join(describe_source(s) for s in node.sources),
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
        # a backend stores each distinct table once (every tanh of a NAM capture is the same)
        tables = len({table.tobytes() for node in self.nodes for table in node.tables})
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
def receptive_field(nodes: Sequence[Any], outputs: Sequence[tuple[str, int]]) -> int:
    """1 + the longest path, in samples, from the input to any output through ``nodes``
    (anything with ``name`` and ``sources`` that have ``tensor`` and ``span``: IR nodes and
    float nodes alike)."""
    lag = {INPUT: 0}
    for node in nodes:
        lag[node.name] = max(lag[s.tensor] + s.span - 1 for s in node.sources)
    return 1 + max(lag[tensor] for tensor, _ in outputs)


def _as_nodes(items: list[Node | ConvLayer]) -> list[Node]:
    """Check each node's own rules; ConvLayers become the nodes of a plain chain."""
    kinds = {type(item) for item in items}
    if kinds == {ConvLayer}:
        items = [
            normalised_layer(layer, i)
            for i, layer in enumerate(items)  # type: ignore[arg-type]
        ]
        previous = [INPUT] + [layer.name for layer in items[:-1]]
        return [
            normalised_node(
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
    return [normalised_node(node, i) for i, node in enumerate(items)]  # type: ignore[arg-type]


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


def describe_source(s: Source) -> str:
    """``tensor(K3,d8)`` for a conv source, ``+tensor>>m`` for an identity add."""
    if isinstance(s, ConvSource):
        return f"{s.tensor}(K{s.kernel_size},d{s.dilation})"
    return f"+{s.tensor}" + (f">>{s.shift}" if s.shift else "")


def _describe_outputs(outputs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{t}:{c}" for t, c in outputs)
