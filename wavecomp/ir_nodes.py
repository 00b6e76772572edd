"""The IR's building blocks: conv and identity sources, nodes, and the plain conv layer.

Each class checks its own rules when a Network is built (``normalised_node``), with messages
that name the node and the fix; rules that need the whole graph (tensor names, widths,
order) live in ``wavecomp.ir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from wavecomp import fixed
from wavecomp.errors import IRError


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


def normalised_node(node: Node, index: int) -> Node:
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


def normalised_layer(layer: ConvLayer, index: int) -> ConvLayer:
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
