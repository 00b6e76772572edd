"""A float graph: the network as a frontend reads it, before wavecomp picks scales and bits.

Why a separate form: NAM captures and Keras WaveNets are float models. They lower to this one
shape (the IR's graph with float64 weights and named float activations), whose forward pass
is checked against the third party's own code, and ``graph_quantize`` turns it into the
integer IR. Semantics match the IR: per node, sum its causal dilated conv sources and identity
adds onto the bias, then apply the activation; history before t = 0 is zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wavecomp.ir import INPUT, receptive_field

FLOAT_ACTIVATIONS = ("linear", "relu", "leaky_relu", "tanh", "sigmoid", "hardtanh")
"""Element-wise activations a float node can apply (gated ones combine two of them)."""


@dataclass(frozen=True)
class FloatActivation:
    """``kind`` applied element-wise; ``gate`` (if set) makes the node gated: the first half of
    the pre-activations through ``kind``, times the second half through ``gate``."""

    kind: str = "linear"
    slope: float = 0.0
    """leaky_relu's negative slope."""
    gate: str | None = None

    def apply(self, z: np.ndarray) -> np.ndarray:
        if self.gate is None:
            return elementwise(self.kind, self.slope, z)
        half = z.shape[-1] // 2
        return elementwise(self.kind, self.slope, z[..., :half]) * elementwise(
            self.gate, 0.0, z[..., half:]
        )

    def describe(self) -> str:
        base = f"{self.kind}({self.slope:g})" if self.kind == "leaky_relu" else self.kind
        return f"gated {base}*{self.gate}" if self.gate else base


def elementwise(kind: str, slope: float, z: np.ndarray) -> np.ndarray:
    """One float activation ``kind`` applied to every element of ``z``."""
    if kind == "linear":
        return z
    if kind == "relu":
        return np.maximum(z, 0.0)
    if kind == "leaky_relu":
        return np.where(z >= 0, z, slope * z)
    if kind == "tanh":
        return np.tanh(z)
    if kind == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if kind == "hardtanh":
        return np.clip(z, -1.0, 1.0)
    raise ValueError(f"unknown float activation {kind!r}: use one of {FLOAT_ACTIVATIONS}")


@dataclass(frozen=True, eq=False)
class FloatConv:
    """A causal dilated conv of ``tensor``: weights (K, C_X, C_pre), tap K-1 newest."""

    tensor: str
    weights: np.ndarray
    dilation: int = 1

    @property
    def span(self) -> int:
        return (self.weights.shape[0] - 1) * self.dilation + 1


@dataclass(frozen=True)
class FloatAdd:
    """An element-wise add of ``tensor`` (same width as the node's pre-activations)."""

    tensor: str
    span = 1


@dataclass(frozen=True, eq=False)
class FloatNode:
    name: str
    sources: tuple[FloatConv | FloatAdd, ...]
    bias: np.ndarray
    activation: FloatActivation = field(default_factory=FloatActivation)

    @property
    def pre_channels(self) -> int:
        return int(self.bias.shape[0])

    @property
    def out_channels(self) -> int:
        return self.pre_channels // 2 if self.activation.gate else self.pre_channels


@dataclass(eq=False)
class FloatGraph:
    """Nodes in topological order reading ``input`` (``in_channels`` wide) and each other."""

    name: str
    in_channels: int
    nodes: list[FloatNode]
    outputs: tuple[tuple[str, int], ...]
    metadata: dict[str, Any] = field(default_factory=dict)

    def channels(self, tensor: str) -> int:
        if tensor == INPUT:
            return self.in_channels
        return next(n.out_channels for n in self.nodes if n.name == tensor)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.nodes, self.outputs)

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every tensor over a whole float signal (T, C_in) from zero history: name -> (T, C),
        plus ``name + ':pre'`` -> the node's pre-activations (for calibration)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        steps = x.shape[0]
        values = {INPUT: x}
        for node in self.nodes:
            z = np.broadcast_to(node.bias, (steps, node.pre_channels)).copy()
            for source in node.sources:
                signal = values[source.tensor]
                if isinstance(source, FloatAdd):
                    z += signal
                    continue
                kernel = source.weights.shape[0]
                padded = np.concatenate([np.zeros((source.span - 1, signal.shape[1])), signal])
                for k in range(kernel):
                    begin = k * source.dilation
                    z += padded[begin : begin + steps] @ source.weights[k]
            values[node.name + ":pre"] = z
            values[node.name] = node.activation.apply(z)
        return values

    def outputs_of(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """The graph outputs (T, C_out) from ``run``'s tensors."""
        return np.stack([values[t][:, c] for t, c in self.outputs], axis=1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.outputs_of(self.run(x))
