"""How the fused engines compute a network: a store per tensor, an accumulator per node,
weight streams in consumption order, tables, and the bytes of each.

Why a module of its own: the renderer (C++ text), the Daisy fit check and the reports all need
the same decisions. They follow the numerics contract (DESIGN.md): a node's int32 sums are
"narrow" only where its static bound (``Network.node_bounds``) is below 2^31; above that they
are "checked" (the Cortex-M7's Q flag detects an overflow and the group is redone in int64,
which the bound below 2^62 makes exact). A plain chain is just a graph, so every network the
fused q12 kernel sees is planned here (``firmware/engine/wavecomp_q12_fused.h``). The fused
f32 kernel (``wavecomp_f32_fused.h``) shares the stores and the stream order; it keeps float32
model units (``reference.float_ref``), so it has no bounds to check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from wavecomp import fixed
from wavecomp.ir import INPUT, Network, Node, describe_source
from wavecomp.mcu.plan import (
    GRAPH_KERNEL,
    EmitError,
    EngineRow,
    EngineSummary,
    Kernel,
    Numerics,
    chain_summary,
    packed_pairs,
    plan_layers,
)

GROUP = 4
"""Output channels per pass of the fused kernel (``q12_fused::kGroup``)."""
DTCM_STORE_BUDGET = 96 * 1024
"""DTCM the tensor stores may take (of 128 KB): the rest is the stack and, under the Daisy
bootloader's BOOT_SRAM, every .data/.bss of the firmware. Larger nets spill to ordinary .bss:
AXI SRAM under BOOT_NONE and BOOT_QSPI (measured against libDaisy's linker scripts: D2's
``.sram1_bss`` is 32 KB under the bootloader layouts, so it cannot take them)."""
Memory = Literal["DTCM", "AXI SRAM"]
NARROW_LIMIT = 1 << 31
INT64_LIMIT = 1 << 62

Width = Literal["narrow", "checked", "float32"]


@dataclass(frozen=True)
class TensorStore:
    """Where the engine keeps one tensor: a ring (read with a delay) or this sample's column."""

    tensor: str
    symbol: str
    """The C++ variable (tensor names need not be identifiers)."""
    channels: int
    span: int
    """Columns its readers need, max (K-1)*d + 1; 1 means a plain column."""
    memory: Memory = "DTCM"
    """Where the Daisy firmware puts it (``place``): zero-wait DTCM, else .bss (AXI SRAM)."""
    lanes: int = 2
    """Channels per 32-bit word: 2 (q12's packed pairs) or 1 (f32's floats)."""

    @property
    def words(self) -> int:
        """32-bit words per column: packed channel pairs (an odd count leaves a zero pad lane),
        or floats."""
        return -(-self.channels // self.lanes)

    @property
    def is_ring(self) -> bool:
        return self.span > 1

    @property
    def bytes(self) -> int:
        """A ring stores every column twice (taps never wrap); a column once."""
        return 4 * self.words * (2 * self.span if self.is_ring else 1)


@dataclass(frozen=True, eq=False)
class NodePlan:
    """How the engine computes one node, with its memory figures."""

    index: int
    node: Node
    bound: int
    """Static |accumulator| bound over the node's pre-activations."""
    width: Width
    store: TensorStore | None
    """Where the outputs go; None: straight to the caller's output array."""
    weights: np.ndarray
    """uint32 packed weight words in consumption order (``node_weight_stream``); f32: float32
    weights (``f32_weight_stream``)."""
    bias: np.ndarray
    """int32 accumulator start values ``(bias << (12+e)) + R_e``; f32: float32 bias / 4096."""
    tables: tuple[int, ...]
    """Indices into ``GraphPlan.tables`` (pwl: one; gated: signal, gate)."""

    @property
    def weight_bytes(self) -> int:
        return 4 * (self.weights.size + self.bias.size)

    @property
    def accumulator(self) -> str:
        if self.width == "float32":
            return "float32"
        return "int32 SMLAD" if self.width == "narrow" else "int32 SMLAD, Q-checked (int64 redo)"


@dataclass(frozen=True, eq=False)
class GraphPlan:
    """The whole engine: tensor stores in order of creation, nodes, shared tables."""

    stores: dict[str, TensorStore]
    nodes: tuple[NodePlan, ...]
    tables: tuple[np.ndarray, ...]
    """uint32 packed knot pairs (``packed_knots``), or f32's float32 knots (``model_units``),
    one per distinct table."""

    @property
    def cache_bytes(self) -> int:
        return sum(s.bytes for s in self.stores.values())

    @property
    def spill_bytes(self) -> int:
        """The stores placed outside DTCM (ordinary .bss)."""
        return sum(s.bytes for s in self.stores.values() if s.memory != "DTCM")

    @property
    def weight_bytes(self) -> int:
        return sum(n.weight_bytes for n in self.nodes)

    @property
    def table_bytes(self) -> int:
        return sum(4 * t.size for t in self.tables)

    def width_counts(self) -> dict[str, int]:
        """How many nodes use each accumulator width (for reports)."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.width] = counts.get(n.width, 0) + 1
        return counts


def node_width(name: str, bound: int) -> Width:
    """The accumulator a node's static bound allows, or an EmitError naming the node."""
    if bound < NARROW_LIMIT:
        return "narrow"
    if bound < INT64_LIMIT:
        return "checked"
    raise EmitError(
        f"node {name!r}: accumulator bound {bound} needs more than 63 bits; no MCU kernel "
        "holds it exactly (reduce the weights or the node's weight shift)"
    )


def groups(channels: int) -> list[tuple[int, int]]:
    """(first channel, size) of each pass over a node's pre-activations."""
    return [(o, min(GROUP, channels - o)) for o in range(0, channels, GROUP)]


def node_weight_stream(node: Node) -> np.ndarray:
    """The node's weights in the order ``q12_fused::run_node`` consumes them.

    Per group of (up to) four pre-activations, per conv source in order, per tap k, per
    channel pair p: one packed word (``packed_pairs``) per output of the group.
    """
    packed = [packed_pairs(s.weights) for s in node.conv_sources]
    words = [
        source[k, p, o0 : o0 + g]
        for o0, g in groups(node.pre_channels)
        for source in packed
        for k in range(source.shape[0])
        for p in range(source.shape[1])
    ]
    if not words:
        return np.zeros(0, dtype=np.uint32)
    return np.concatenate(words).astype(np.uint32)


def packed_knots(table: np.ndarray) -> np.ndarray:
    """A pwl table's 1,025 int16 knots as 1,024 words {L[i] in bits 15:0, L[i+1] in 31:16}."""
    knots = np.asarray(table, dtype=np.int64) & 0xFFFF
    return (knots[:-1] | (knots[1:] << 16)).astype(np.uint32)


def f32_weight_stream(node: Node) -> np.ndarray:
    """The node's weights as float32 W / 2**(12+e) in the order ``f32_fused::run_node``
    consumes them: per group of (up to) four pre-activations, per conv source in order, per
    tap k, per channel c: one weight per output of the group."""
    words = [
        s.weights[:, :, o0 : o0 + g].reshape(-1)
        for o0, g in groups(node.pre_channels)
        for s in node.conv_sources
    ]
    if not words:
        return np.zeros(0, dtype=np.float32)
    return (np.concatenate(words) / float(1 << (fixed.FRAC_BITS + node.shift))).astype(np.float32)


def model_units(raw: np.ndarray) -> np.ndarray:
    """Q4.12 raw values (a bias, a pwl table's knots) as float32 model units raw / 4096
    (exact), as the f32 engine keeps them."""
    return (np.asarray(raw, dtype=np.float64) / fixed.ONE).astype(np.float32)


def _direct_output(net: Network, node: Node, read: set[str]) -> bool:
    """The node's outputs are exactly the network's, in order, and nothing else reads them."""
    return node.name not in read and net.outputs == tuple(
        (node.name, c) for c in range(node.out_channels)
    )


def plan_graph(net: Network, rounding: fixed.Rounding, numerics: Numerics = "q12") -> GraphPlan:
    """Stores, accumulators, weight streams and tables for the fused q12 (or f32) engine."""
    f32 = numerics == "f32"
    lanes = 1 if f32 else 2
    spans = net.cache_columns()
    read = set(spans)
    stores = {
        INPUT: TensorStore(INPUT, "t_input", net.in_channels, spans.get(INPUT, 1), lanes=lanes)
    }
    bounds = {} if f32 else net.node_bounds(rounding)
    table_index: dict[bytes, int] = {}
    tables: list[np.ndarray] = []
    nodes = []
    for i, node in enumerate(net.nodes):
        store = None
        if not _direct_output(net, node, read):
            span = spans.get(node.name, 1)
            store = TensorStore(node.name, f"t{i}", node.out_channels, span, lanes=lanes)
            stores[node.name] = store
        picks = []
        for table in node.tables:
            knots = model_units(table) if f32 else packed_knots(table)
            key = knots.tobytes()
            if key not in table_index:
                table_index[key] = len(tables)
                tables.append(knots)
            picks.append(table_index[key])
        if f32:
            bound, width = 0, "float32"
            weights, bias = f32_weight_stream(node), model_units(node.bias)
        else:
            bound = int(bounds[node.name].max())
            width = node_width(node.name, bound)
            weights = node_weight_stream(node)
            bias = fixed.bias_term(node.bias, rounding, node.shift).astype(np.int32)
        nodes.append(
            NodePlan(
                index=i,
                node=node,
                bound=bound,
                width=width,
                store=store,
                weights=weights,
                bias=bias,
                tables=tuple(picks),
            )
        )
    placed = place(stores.values())
    nodes = [replace(n, store=placed[n.store.tensor]) if n.store else n for n in nodes]
    return GraphPlan({t: placed[t] for t in stores}, tuple(nodes), tuple(tables))


def place(stores: Iterable[TensorStore]) -> dict[str, TensorStore]:
    """Smallest stores first into DTCM while they fit ``DTCM_STORE_BUDGET``, the rest into
    ordinary .bss (AXI SRAM): every store is read about K times a sample, so many small ones
    in DTCM serve the most reads from the fastest memory."""
    placed, used = {}, 0
    for s in sorted(stores, key=lambda s: (s.bytes, s.symbol)):
        fits = used + s.bytes <= DTCM_STORE_BUDGET
        used += s.bytes if fits else 0
        placed[s.tensor] = replace(s, memory="DTCM" if fits else "AXI SRAM")
    return placed


def describe_sources(node: Node) -> str:
    """``tensor(K3,d8) +other>>1``: a node's sources as the reports show them."""
    return " ".join(describe_source(s) for s in node.sources)


def graph_summary(plan: GraphPlan) -> EngineSummary:
    """A fused engine's rows and totals."""
    rows = tuple(
        EngineRow(
            name=n.node.name,
            sources=describe_sources(n.node),
            activation=n.node.activation,
            macs=n.node.macs,
            accumulator=n.accumulator,
            bound=n.bound,
            cache_bytes=n.store.bytes if n.store else 0,
            weight_bytes=n.weight_bytes,
        )
        for n in plan.nodes
    )
    return EngineSummary(
        rows, plan.weight_bytes + plan.table_bytes, plan.cache_bytes, plan.spill_bytes
    )


def engine_summary(
    net: Network, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> EngineSummary:
    """What the engine for these options spends: a fused graph engine, or a chain one."""
    if kernel == GRAPH_KERNEL:
        return graph_summary(plan_graph(net, rounding, numerics))
    return chain_summary(plan_layers(net, numerics, kernel, rounding))
