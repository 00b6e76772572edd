"""Seeded random networks for differential tests and benchmarks (test-only, not shipped).

Random networks deliberately include weights at both ends of the Q4.12 range (-8 and
8 - 2**-12), because that is where wrap, saturation and rounding bugs hide. Everything is a
pure function of the seed so a failure can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavecomp import fixed
from wavecomp.frontend.nam_file import read_nam_document
from wavecomp.frontend.nam_import import codec_samples, quantize_capture
from wavecomp.frontend.nam_presets import random_capture
from wavecomp.frontend.spec import PRESETS
from wavecomp.ir import INPUT, ConvLayer, ConvSource, IdentitySource, IOSpec, Network, Node
from wavecomp.stimulus import strummed_chords


@dataclass(frozen=True)
class RandomNetLimits:
    """Ranges random networks are drawn from (inclusive)."""

    layers: tuple[int, int] = (1, 4)
    kernel: tuple[int, int] = (1, 5)
    dilation: tuple[int, int] = (1, 64)
    channels: tuple[int, int] = (1, 32)


def random_layer_weights(
    rng: np.random.Generator, kernel: int, c_in: int, c_out: int, n_extremes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Weights scaled so activations stay lively, plus a few at the range ends."""
    sigma = fixed.ONE * 1.5 / np.sqrt(kernel * c_in)
    weights = np.clip(rng.normal(0.0, sigma, (kernel, c_in, c_out)), fixed.RAW_MIN, fixed.RAW_MAX)
    weights = np.rint(weights).astype(np.int64)
    flat = weights.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 2 * n_extremes), replace=False)
    flat[picks[: len(picks) // 2]] = fixed.RAW_MIN
    flat[picks[len(picks) // 2 :]] = fixed.RAW_MAX
    bias = np.rint(rng.normal(0.0, fixed.ONE * 0.25, c_out)).astype(np.int64)
    if c_out > 1:
        bias[rng.integers(c_out)] = rng.choice([fixed.RAW_MIN, fixed.RAW_MAX])
    return weights.astype(np.int16), bias.astype(np.int16)


def preset_network(preset: str, seed: int, *, range_ends: bool = False) -> Network:
    """A preset's shape (``fpga``, ``mcu``) with seeded weights instead of trained ones.

    By default the weights are spread like a trained net's (sigma = 1/sqrt(K * C_in), bias
    sigma 1/4, nothing at the range ends), so backends choose accumulators as they would for a
    trained model. ``range_ends`` draws them with ``random_layer_weights`` instead (-8 and
    8 - 2**-12 included), which pushes static accumulator bounds up (wide accumulators).
    """
    spec = PRESETS[preset]
    rng = np.random.default_rng(seed)
    layers = []
    c_in = spec.in_channels
    for name, ls in zip(spec.layer_names(), spec.layers, strict=True):
        if range_ends:
            w, b = random_layer_weights(rng, ls.kernel_size, c_in, ls.filters)
        else:
            sigma = fixed.ONE / np.sqrt(ls.kernel_size * c_in)
            w = np.rint(rng.normal(0, sigma, (ls.kernel_size, c_in, ls.filters))).astype(np.int16)
            b = np.rint(rng.normal(0, fixed.ONE / 4, ls.filters)).astype(np.int16)
        layers.append(ConvLayer(name, w, b, ls.dilation, ls.activation))
        c_in = ls.filters
    suffix = "-range-ends" if range_ends else ""
    return Network(layers, spec.io, name=f"{preset}{suffix}", metadata={"seed": seed})


def random_network(seed: int, limits: RandomNetLimits = RandomNetLimits()) -> Network:
    """A random valid network: K, dilation, channels and activations drawn from ``limits``."""
    rng = np.random.default_rng([seed, 0x5EED])
    n_layers = int(rng.integers(limits.layers[0], limits.layers[1] + 1))
    channels = [
        int(rng.integers(limits.channels[0], limits.channels[1] + 1)) for _ in range(n_layers + 1)
    ]
    layers = []
    for i in range(n_layers):
        kernel = int(rng.integers(limits.kernel[0], limits.kernel[1] + 1))
        dilation = int(rng.integers(limits.dilation[0], limits.dilation[1] + 1))
        weights, bias = random_layer_weights(rng, kernel, channels[i], channels[i + 1])
        activation = "relu" if rng.random() < 0.6 else "linear"
        layers.append(ConvLayer(f"conv{i}", weights, bias, dilation, activation))
    return Network(
        layers,
        IOSpec.default(channels[0], channels[-1]),
        name=f"random{seed}",
        metadata={"seed": seed},
    )


# ---- networks whose cache spans sit where ring sizing goes wrong ---------------------------
Chain = list[tuple[int, int, int, str]]
"""(K, dilation, C_out, activation) per layer."""

EDGE_SPAN_CHAINS: dict[str, tuple[int, Chain]] = {
    # (C_in, layers): cache spans (K-1)*d+1 at 2**n - 1, 2**n and 2**n + 1 and K = 1 (span 1),
    # where a ring one column too short, or a one-column ring, would show
    "n1-n2": (
        2,
        [
            (3, 2, 3, "relu"),
            (1, 1, 3, "linear"),
            (2, 3, 2, "relu"),
            (2, 2, 3, "relu"),
            (2, 1, 2, "linear"),
        ],
    ),  # spans 5, 1, 4, 3, 2
    "n3": (3, [(4, 2, 4, "relu"), (8, 1, 3, "relu"), (3, 4, 5, "linear"), (1, 1, 2, "linear")]),
    # spans 7, 8, 9, 1
    "n4-n5": (
        2,
        [
            (3, 7, 3, "relu"),
            (4, 5, 4, "relu"),
            (5, 4, 3, "relu"),
            (4, 10, 2, "relu"),
            (2, 31, 3, "linear"),
            (3, 16, 2, "linear"),
        ],
    ),  # spans 15, 16, 17, 31, 32, 33
    "n6": (3, [(3, 31, 2, "relu"), (2, 63, 3, "linear"), (5, 16, 2, "relu")]),  # 63, 64, 65
}


def chain_network(name: str, seed: int = 0) -> Network:
    """An ``EDGE_SPAN_CHAINS`` network with seeded weights (range ends included)."""
    c_in, layers = EDGE_SPAN_CHAINS[name]
    rng = np.random.default_rng(seed)
    convs = []
    for i, (k, d, c_out, act) in enumerate(layers):
        w, b = random_layer_weights(rng, k, c_in, c_out)
        convs.append(ConvLayer(f"l{i}", w, b, d, act))
        c_in = c_out
    return Network(convs, IOSpec.default(EDGE_SPAN_CHAINS[name][0], c_in), name=f"span-{name}")


# ---- graph networks: residual/skip WaveNets with every activation ----------------------------
GRAPH_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gated", "linear")
"""What a random graph node applies; tanh and sigmoid are pwl tables (scaled at random)."""


def random_table(rng: np.random.Generator, kind: str) -> np.ndarray:
    """A tanh or sigmoid pwl table read at a random input scale and stored at a random output
    scale (some saturate at the knots, as an importer's folded scales can)."""
    gain = float(rng.choice([0.5, 1.0, 2.0, 4.0]))
    level = float(rng.choice([0.25, 1.0, 2.0, 4.0, 9.0], p=[0.2, 0.3, 0.2, 0.2, 0.1]))
    if kind == "tanh":
        return fixed.pwl_table(lambda x: level * np.tanh(gain * x))
    return fixed.pwl_table(lambda x: level * 0.5 * (1 + np.tanh(0.5 * gain * x)))


def _graph_weights(
    rng: np.random.Generator,
    kernel: int,
    c_in: int,
    c_out: int,
    fan_in: int,
    shift: int,
    gain: float = 0.4,
    extremes: float = 0.5,
) -> np.ndarray:
    """Weights of one conv source, spread so the node's sum stays lively (most values neither
    tiny nor saturated on ``random_inputs``), a few at the int16 range ends."""
    sigma = fixed.ONE * (1 << shift) * gain / np.sqrt(fan_in)
    w = np.rint(np.clip(rng.normal(0, sigma, (kernel, c_in, c_out)), fixed.RAW_MIN, fixed.RAW_MAX))
    flat = w.reshape(-1)
    if flat.size >= 4 and rng.random() < extremes:
        picks = rng.choice(flat.size, 2, replace=False)
        flat[picks] = [fixed.RAW_MIN, fixed.RAW_MAX]
    return w.astype(np.int16)


def random_graph_network(seed: int) -> Network:
    """A seeded WaveNet-like graph: rechannel, residual layers with input mixins and extra
    sources, skip sums into a head, every activation, weight shifts 0..3 and identity shifts.

    Layer l of seed s uses activation ``GRAPH_ACTIVATIONS[(s + l) % 6]`` and weight shift
    ``(s + l) % 4``, so a handful of seeds covers every kind; the rest is drawn at random.
    """
    rng = np.random.default_rng([seed, 0x62A9])
    c_in = int(rng.integers(1, 4))
    width = int(rng.integers(2, 7))
    n_layers = int(rng.integers(2, 5))
    nodes: list[Node] = [
        Node(
            "rechannel",
            (ConvSource(INPUT, _graph_weights(rng, 1, c_in, width, c_in, 0, extremes=0)),),
            np.zeros(width, np.int16),
        )
    ]
    stream, acts = "rechannel", []
    for layer in range(n_layers):
        kind = GRAPH_ACTIVATIONS[(seed + layer) % len(GRAPH_ACTIVATIONS)]
        shift = (seed + layer) % (fixed.MAX_WEIGHT_SHIFT + 1)
        pre = 2 * width if kind == "gated" else width
        reads = [(stream, int(rng.integers(1, 5)), int(rng.integers(1, 9)))]
        if rng.random() < 0.8:
            reads.append((INPUT, 1, 1))  # the input mixin
        earlier = [n.name for n in nodes if n.name != stream]
        if earlier and rng.random() < 0.7:
            reads.append(
                (str(rng.choice(earlier)), int(rng.integers(1, 4)), int(rng.integers(1, 17)))
            )
        fan_in = sum(k for _, k, _ in reads) * width
        sources = tuple(
            ConvSource(
                t, _graph_weights(rng, k, nodes_width(nodes, t, c_in), pre, fan_in, shift), d
            )
            for t, k, d in reads
        )
        bias = np.rint(rng.normal(0, fixed.ONE / 4, pre)).astype(np.int16)
        activation, tables, slope = kind, (), 0
        if kind in ("tanh", "sigmoid"):
            activation, tables = "pwl", (random_table(rng, kind),)
        elif kind == "gated":
            tables = (random_table(rng, "tanh"), random_table(rng, "sigmoid"))
        elif kind == "leaky_relu":
            slope = int(rng.choice([41, 410, 2048, -1024, fixed.RAW_MAX]))
        act = f"act{layer}"
        nodes.append(Node(act, sources, bias, activation, shift, slope, tables))
        acts.append(act)
        residual = (
            ConvSource(act, _graph_weights(rng, 1, width, width, width, 0)),
            IdentitySource(stream, int(rng.integers(0, 3))),
        )
        nodes.append(Node(f"res{layer}", residual, np.zeros(width, np.int16)))
        stream = f"res{layer}"
    skips = tuple(IdentitySource(a, int(rng.integers(0, 4))) for a in acts)
    nodes.append(
        Node("skips", skips, np.zeros(width, np.int16), str(rng.choice(["linear", "relu"])))
    )
    c_out = int(rng.integers(1, 4))
    head_k = int(rng.integers(1, 4))
    head = (
        ConvSource("skips", _graph_weights(rng, head_k, width, c_out, head_k * width, 1, 0.2), 2),
        ConvSource(stream, _graph_weights(rng, 1, width, c_out, width, 1, 0.2)),
    )
    nodes.append(Node("head", head, np.zeros(c_out, np.int16), shift=1))
    outputs = [("head", c) for c in range(c_out)] + [(acts[-1], 0)]
    order = rng.permutation(len(outputs))
    outputs = tuple(outputs[i] for i in order)
    return Network(
        nodes,
        IOSpec.default(c_in, len(outputs)),
        name=f"graph{seed}",
        metadata={"seed": seed},
        outputs=outputs,
    )


def nodes_width(nodes: list[Node], tensor: str, c_in: int) -> int:
    """Channels of ``tensor`` among ``nodes`` built so far (``input`` has ``c_in``)."""
    return c_in if tensor == INPUT else next(n.out_channels for n in nodes if n.name == tensor)


def nam_network(preset: str, rounding: fixed.Rounding, seed: int = 3) -> Network:
    """A NAM preset's shape (``a1_standard``, ``a2_full``...) with seeded weights of a trained
    capture's scale, imported as a user's ``.nam`` file would be."""
    capture = read_nam_document(random_capture(preset, seed=seed), preset)
    return quantize_capture(capture, preset, preset, rounding)[0]


def nam_stream(n: int, seed: int) -> np.ndarray:
    """Guitar-level strummed chords at codec resolution with full-scale bursts mixed in."""
    x = codec_samples(strummed_chords(seconds=n / 48_000 + 0.01, seed=seed))[:n, 0]
    rng = np.random.default_rng(seed)
    for start in rng.integers(0, n - 64, 8):
        x[start : start + int(rng.integers(4, 64))] = rng.choice([fixed.RAW_MIN, fixed.RAW_MAX])
    return x[:, None].astype(np.int16)
