"""When each node runs: the alignment that lets every node of a sample period run without waiting.

Every node runs once per sample period and reads only columns committed at earlier strobes.
Node N computes the reference time ``t = p - tau(N)`` in period p, with ``tau(N) = 1 + max
tau(source)`` and ``tau(input) = -1`` (the input writer commits the new sample before any node
reads it). A source X is read ``delta = tau(N) - tau(X) - 1`` columns back, plus its taps' lags,
so every path stays aligned: the network has a fixed latency ``tau(outputs)`` samples. For a
plain chain this is the classic "layers last to first" schedule with latency
``n_layers - 1``.
"""

from __future__ import annotations

import numpy as np

from wavecomp import fixed
from wavecomp.ir import INPUT, ConvSource, Network, Node


def node_delays(net: Network, pinned: dict[str, int] | None = None) -> dict[str, int]:
    """tau per tensor: ``1 + max tau(source)`` (``tau(input) = -1``), or a ``pinned`` larger
    value (the output copies below)."""
    tau = {INPUT: -1}
    for node in net.nodes:
        natural = 1 + max(tau[s.tensor] for s in node.sources)
        tau[node.name] = max(natural, (pinned or {}).get(node.name, 0))
    return tau


def hardware_network(net: Network) -> tuple[Network, dict[str, int]]:
    """The network the core computes, and its taus: ``net`` plus one *output copy* node per
    output tensor that is ready before the last one.

    All outputs must leave the core in the same period, but an output tensor may also feed
    another (a skip that is an output too), so its tau cannot simply be raised. The copy
    (K = 1, weight 1.0 on the channels that are outputs, bias 0, linear) runs at the latest
    output's tau and reads its tensor that many columns back: exact, since
    ``(X << 12) + R_0 >> 12 = X`` in both roundings.
    """
    tau = node_delays(net)
    latency = max(tau[tensor] for tensor, _ in net.outputs)
    early = [t for t in dict.fromkeys(t for t, _ in net.outputs) if tau[t] < latency]
    if not early:
        return net, tau
    nodes = list(net.nodes)
    renamed: dict[tuple[str, int], tuple[str, int]] = {}
    for tensor in early:
        channels = sorted({c for t, c in net.outputs if t == tensor})
        weights = np.zeros((1, net.channels(tensor), len(channels)), np.int16)
        for j, c in enumerate(channels):
            weights[0, c, j] = fixed.ONE
            renamed[(tensor, c)] = (f"{tensor}.out", j)
        nodes.append(
            Node(f"{tensor}.out", (ConvSource(tensor, weights),), np.zeros(len(channels), np.int16))
        )
    outputs = tuple(renamed.get(o, o) for o in net.outputs)
    hw = Network(nodes, net.io, name=net.name, outputs=outputs)
    return hw, node_delays(hw, {f"{t}.out": latency for t in early})


def source_delay(tau: dict[str, int], node: Node, tensor: str) -> int:
    """Columns back from the newest committed one at which ``node`` reads ``tensor``'s time t."""
    return tau[node.name] - tau[tensor] - 1
