"""numpy int64 twins of the spec: whole-signal batch and per-sample streaming.

Both walk the nodes in topological order, compute every accumulator exactly in int64 (the
static bound is checked to fit) and apply the rules of ``wavecomp.fixed`` — the only place the
arithmetic lives. A plain conv chain is just a graph whose nodes each read the one before.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wavecomp import fixed
from wavecomp.ir import INPUT, ConvSource, Network, Node

_INT64_SAFE = 1 << 62


def signal_array(net: Network, x: np.ndarray, kind: type[np.generic], takes: str) -> np.ndarray:
    """``x`` as a (T, C_in) array of dtype ``kind``, or a ValueError saying what the reference
    ``takes`` instead (every reference checks its inputs the same way)."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != net.in_channels:
        raise ValueError(
            f"inputs must have shape (T, {net.in_channels}) for network {net.name!r}, got {x.shape}"
        )
    if not np.issubdtype(x.dtype, kind):
        raise ValueError(f"inputs are {x.dtype}; {takes}")
    return x


def check_inputs(net: Network, x: np.ndarray) -> np.ndarray:
    """Inputs as an int64 (T, C_in) array of Q4.12 raw values, or a ValueError saying why not."""
    x = signal_array(
        net,
        x,
        np.integer,
        "the reference takes Q4.12 raw integers (convert floats with wavecomp.fixed.to_q12)",
    )
    if x.size and (x.min() < fixed.RAW_MIN or x.max() > fixed.RAW_MAX):
        raise ValueError("inputs are outside the int16 Q4.12 range")
    return x.astype(np.int64)


def run_stepwise(
    net: Network, x: np.ndarray, step: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Drive a per-sample ``step`` over a whole (T, C_in) signal: int16 (T, C_out)."""
    x = check_inputs(net, x)
    out = np.empty((x.shape[0], net.out_channels), dtype=np.int16)
    for t in range(x.shape[0]):
        out[t] = step(x[t])
    return out


def check_int64_fits(net: Network, rounding: fixed.Rounding) -> None:
    """Refuse a network whose exact accumulators could leave int64 (name the node)."""
    for name, bound in net.node_bounds(rounding).items():
        if int(bound.max()) >= _INT64_SAFE:
            raise ValueError(
                f"node {name!r}: accumulator bound exceeds 2**62; "
                "the int64 reference cannot hold it exactly (use engine='fxpmath')"
            )


def node_output(node: Node, acc: np.ndarray, rounding: fixed.Rounding) -> np.ndarray:
    """Exact accumulators (last axis = pre-activations) -> the node's int64 outputs."""
    p = fixed.pre_activation(acc, node.shift)
    y = fixed.activate(p, node.activation, slope=node.slope, tables=node.tables, rounding=rounding)
    return y.astype(np.int64)


def run_batch_tensors(
    net: Network, x: np.ndarray, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> dict[str, np.ndarray]:
    """Every tensor (the input and each node's output) over the whole signal, int64 (T, C)."""
    values = {INPUT: check_inputs(net, x)}
    check_int64_fits(net, rounding)
    steps = values[INPUT].shape[0]
    for node in net.nodes:
        start = fixed.bias_term(node.bias, rounding, node.shift)
        acc = np.broadcast_to(start, (steps, node.pre_channels)).copy()
        for source in node.sources:
            signal = values[source.tensor]
            if isinstance(source, ConvSource):
                padded = np.concatenate(
                    [np.zeros((source.span - 1, signal.shape[1]), dtype=np.int64), signal]
                )
                weights = source.weights.astype(np.int64)
                for k in range(source.kernel_size):
                    # tap k reads X[t - (K-1-k)*d], which sits at padded[t + k*d]
                    begin = k * source.dilation
                    acc += padded[begin : begin + steps] @ weights[k]
            else:
                acc += fixed.identity_term(signal, node.shift, source.shift)
        values[node.name] = node_output(node, acc, rounding)
    return values


def gather_outputs(net: Network, values: dict[str, np.ndarray]) -> np.ndarray:
    """The network outputs, (tensor, channel) pairs in order, from per-tensor values: int16."""
    return np.stack([values[t][..., c] for t, c in net.outputs], axis=-1).astype(np.int16)


def run_batch_layers(
    net: Network, x: np.ndarray, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> list[np.ndarray]:
    """Every node's int16 output for the whole signal (for debugging backends node by node)."""
    values = run_batch_tensors(net, x, rounding=rounding)
    return [values[node.name].astype(np.int16) for node in net.nodes]


def run_batch(
    net: Network, x: np.ndarray, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> np.ndarray:
    """The network over a whole signal from reset: int16 (T, C_out)."""
    return gather_outputs(net, run_batch_tensors(net, x, rounding=rounding))


class _Ring:
    """A tensor's activation cache: a power-of-two ring of its last columns.

    Like the hardware's cache RAM: a write pointer advances once per sample and a tap that
    lags ``l`` samples is read at ``(wp - l) mod size``, so indexing is a mask, not a modulo.
    """

    def __init__(self, columns: int, channels: int) -> None:
        self.size = 1 << (columns - 1).bit_length()
        self.mask = self.size - 1
        self.ring = np.zeros((self.size, channels), dtype=np.int64)
        self.write = 0

    def push(self, column: np.ndarray) -> None:
        self.write = (self.write + 1) & self.mask
        self.ring[self.write] = column

    def taps(self, lags: np.ndarray) -> np.ndarray:
        return self.ring[(self.write - lags) & self.mask]


class StreamingReference:
    """Per-sample numpy reference with one ring buffer per delayed tensor (the hardware's state).

    A tensor that is only ever read at delay 0 keeps no ring: its readers use the value
    computed earlier in the same sample.
    """

    def __init__(self, net: Network, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING) -> None:
        fixed.rounding_constant(rounding)  # reject unknown modes up front
        check_int64_fits(net, rounding)
        self.net = net
        self.rounding = rounding
        self.starts = {n.name: fixed.bias_term(n.bias, rounding, n.shift) for n in net.nodes}
        # per conv source, precomputed: int64 weights and each tap's lag (K-1-k)*d
        self.convs = {
            (n.name, j): (
                s.weights.astype(np.int64),
                (s.kernel_size - 1 - np.arange(s.kernel_size)) * s.dilation,
            )
            for n in net.nodes
            for j, s in enumerate(n.sources)
            if isinstance(s, ConvSource)
        }
        self.reset()

    def reset(self) -> None:
        """Zero every cache, as at hardware reset (every tensor is 0 for t < 0)."""
        self.rings = {
            tensor: _Ring(columns, self.net.channels(tensor))
            for tensor, columns in self.net.cache_columns().items()
            if columns > 1
        }

    def _store(self, current: dict[str, np.ndarray], tensor: str, column: np.ndarray) -> None:
        current[tensor] = column
        if tensor in self.rings:
            self.rings[tensor].push(column)

    def step(self, column: np.ndarray) -> np.ndarray:
        """One sample in (C_in,) -> one sample out (C_out,), int16."""
        current: dict[str, np.ndarray] = {}
        self._store(current, INPUT, np.asarray(column, dtype=np.int64))
        for node in self.net.nodes:
            acc = self.starts[node.name].copy()
            for j, source in enumerate(node.sources):
                if not isinstance(source, ConvSource):
                    acc += fixed.identity_term(current[source.tensor], node.shift, source.shift)
                    continue
                weights, lags = self.convs[node.name, j]
                if source.span == 1:
                    acc += current[source.tensor] @ weights[0]
                else:
                    taps = self.rings[source.tensor].taps(lags)
                    acc += np.einsum("kc,kco->o", taps, weights)
            self._store(current, node.name, node_output(node, acc, self.rounding))
        return gather_outputs(self.net, current)

    def run(self, x: np.ndarray) -> np.ndarray:
        """Feed a whole signal sample by sample (continuing from the current state)."""
        return run_stepwise(self.net, x, self.step)
