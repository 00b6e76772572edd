"""Neural Amp Modeler ``.nam`` files -> a float graph, in NAM's own semantics.

What is read (facts from NeuralAmpModelerCore's ``wavenet/model.cpp`` and the trainer's export,
checked against outputs of NAM's own code in ``tests/fixtures/nam``):

- a WaveNet is a list of layer arrays; each array rechannels its input (1x1, no bias), then per
  layer computes ``a = act(conv_K,d(x) + bias + mixin_1x1(input))`` and the residual
  ``x' = x + layer1x1(a) + bias``; every layer's skip (``a``, or ``head1x1(a)``) is summed,
  starting from the previous array's head output, and the array's head conv (K, optional bias)
  reads the sum; the next array reads the last residual;
- weights are one flat list in module order, convs as (out, in, K) row-major then the bias;
  the **last float is head_scale**, which scales the output (it overrides ``config.head_scale``);
- 0.5.x files give ``kernel_size``, ``head_size``/``head_bias``, ``gated`` and activation names;
  0.6/0.7 files give ``kernel_sizes``, a ``head`` object, ``layer1x1``/``head1x1``,
  ``gating_mode`` and activation objects; a ``SlimmableContainer`` holds several WaveNets.

Features wavecomp cannot compile yet are refused with a ``NamError`` naming the feature and
where it appears, never imported approximately.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp.errors import WavecompError
from wavecomp.frontend.float_graph import (
    FloatActivation,
    FloatAdd,
    FloatConv,
    FloatGraph,
    FloatNode,
)
from wavecomp.ir import INPUT

SUPPORTED_VERSIONS = ((0, 5), (0, 6), (0, 7))
ACTIVATION_NAMES = {
    "tanh": "tanh",
    "relu": "relu",
    "leakyrelu": "leaky_relu",
    "sigmoid": "sigmoid",
    "hardtanh": "hardtanh",
}
"""NAM activation type (lower case) -> float activation kind."""
FILM_KEYS = (
    "conv_pre_film",
    "conv_post_film",
    "input_mixin_pre_film",
    "input_mixin_post_film",
    "activation_pre_film",
    "activation_post_film",
    "layer1x1_post_film",
    "head1x1_post_film",
)


class NamError(WavecompError, ValueError):
    """A ``.nam`` file wavecomp cannot read or compile; the message names the file, the feature
    and where it appears."""


@dataclass(frozen=True)
class NamCapture:
    """A parsed capture: its float graph plus what the file says about itself."""

    graph: FloatGraph
    version: str
    sample_rate: float | None
    head_scale: float
    submodel: str | None
    """Which submodel of a SlimmableContainer this is (None for a plain WaveNet)."""


def read_nam(path: str | Path, submodel: int | None = None) -> NamCapture:
    """Parse a ``.nam`` file; ``submodel`` picks a SlimmableContainer entry (default: the
    largest). Every failure is a NamError naming the file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise NamError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise NamError(f"{path}: cannot read it as a .nam (JSON) file: {err}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise NamError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "a .nam file is the JSON that NAM's trainer exports"
        ) from None
    try:
        return read_nam_document(doc, path.stem, submodel)
    except NamError as err:
        raise NamError(f"{path}: {err}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise NamError(
            f"{path}: malformed NAM WaveNet config ({type(err).__name__}: {err}); "
            "re-export the capture with NAM's trainer"
        ) from None


def read_nam_document(doc: Any, name: str, submodel: int | None = None) -> NamCapture:
    """Parse an already-loaded ``.nam`` JSON document (see ``read_nam``)."""
    return _read_model(doc, name, submodel)


def _read_model(doc: Any, name: str, submodel: int | None) -> NamCapture:
    if not isinstance(doc, dict) or "architecture" not in doc:
        raise NamError("no 'architecture' key: not a NAM model file")
    architecture = doc["architecture"]
    if architecture == "SlimmableContainer":
        return _pick_submodel(doc, name, submodel)
    if submodel is not None:
        raise NamError(
            f"--submodel {submodel} given, but this is a {architecture}, not a "
            "SlimmableContainer; leave the option out"
        )
    version = str(doc.get("version", ""))
    try:
        major_minor = tuple(int(v) for v in version.split(".")[:2])
    except ValueError:
        major_minor = ()
    if major_minor not in SUPPORTED_VERSIONS:
        raise NamError(
            f"file version {version!r} is not supported; wavecomp reads NAM files of versions "
            f"{', '.join(f'{a}.{b}.x' for a, b in SUPPORTED_VERSIONS)}"
        )
    if architecture != "WaveNet":
        raise NamError(
            f"architecture {architecture!r} is not supported: wavecomp compiles NAM WaveNets "
            "(the A1 and A2 presets); LSTM, ConvNet and Linear captures are not"
        )
    weights = doc["weights"]
    if not isinstance(weights, list):
        raise NamError("'weights' is not a list of numbers")
    graph, head_scale = _wavenet(doc["config"], np.asarray(weights, dtype=np.float64), name)
    rate = doc.get("sample_rate")
    graph.metadata.update({"nam_version": version, "sample_rate": rate, "head_scale": head_scale})
    return NamCapture(graph, version, rate, head_scale, None)


def _pick_submodel(doc: dict[str, Any], name: str, submodel: int | None) -> NamCapture:
    entries = doc["config"]["submodels"]
    if not entries:
        raise NamError("SlimmableContainer has no submodels")
    sizes = [len(entry["model"]["weights"]) for entry in entries]
    index = int(np.argmax(sizes)) if submodel is None else submodel
    if not 0 <= index < len(entries):
        raise NamError(
            f"--submodel {submodel}: this SlimmableContainer has submodels 0..{len(entries) - 1} "
            f"({', '.join(f'{i}: {n:,} weights' for i, n in enumerate(sizes))})"
        )
    inner = _read_model(entries[index]["model"], f"{name}[{index}]", None)
    label = f"submodel {index} of {len(entries)} ({sizes[index]:,} weights)"
    inner.graph.metadata["submodel"] = label
    return NamCapture(inner.graph, inner.version, inner.sample_rate, inner.head_scale, label)


class _Weights:
    """The flat weight list, consumed in module order with a named error when it runs out.

    With ``values`` None it only counts (and hands out zeros): ``weight_count`` uses that.
    """

    def __init__(self, values: np.ndarray | None) -> None:
        self.values = values
        self.used = 0

    def take(self, count: int, what: str) -> np.ndarray:
        if self.values is None:
            self.used += count
            return np.zeros(count)
        if self.used + count > len(self.values):
            raise NamError(
                f"weight count mismatch: the config needs more than the file's "
                f"{len(self.values):,} weights (ran out at {what})"
            )
        out = self.values[self.used : self.used + count]
        self.used += count
        return out

    def conv(
        self, out: int, inp: int, kernel: int, bias: bool, what: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(K, in, out) weights from NAM's (out, in, K) order, and the bias (zeros if none)."""
        w = self.take(out * inp * kernel, what).reshape(out, inp, kernel).transpose(2, 1, 0)
        b = self.take(out, what + " bias") if bias else np.zeros(out)
        return w.copy(), b.copy()


def _per_layer(value: Any, count: int, what: str) -> list[Any]:
    if isinstance(value, list):
        if len(value) != count:
            raise NamError(f"{what}: {len(value)} entries for {count} layers")
        return value
    return [value] * count


def _activation(spec: Any, where: str) -> tuple[str, float]:
    kind = spec.get("type") if isinstance(spec, dict) else spec
    key = str(kind).lower().replace("_", "")
    if key not in ACTIVATION_NAMES:
        raise NamError(
            f"{where}: activation {kind!r} is not supported; wavecomp compiles "
            "Tanh, ReLU, LeakyReLU, Sigmoid and Hardtanh"
        )
    slope = float(spec.get("negative_slope", 0.01)) if isinstance(spec, dict) else 0.01
    limits = (spec.get("min_val", -1.0), spec.get("max_val", 1.0)) if isinstance(spec, dict) else ()
    if key == "hardtanh" and limits and limits != (-1.0, 1.0):
        raise NamError(f"{where}: Hardtanh with limits other than -1..1 is not supported")
    return ACTIVATION_NAMES[key], slope if key == "leakyrelu" else 0.0


def _gates(config: dict[str, Any], count: int, where: str) -> Iterator[str | None]:
    """Per layer: None (no gating) or the secondary activation of a gated layer."""
    if "gating_mode" in config:
        modes = _per_layer(config["gating_mode"], count, f"{where} gating_mode")
        secondaries = _per_layer(
            config.get("secondary_activation"), count, f"{where} secondary_activation"
        )
    else:
        modes = ["gated" if config.get("gated", False) else "none"] * count
        secondaries = [None] * count
    for i, (mode, secondary) in enumerate(zip(modes, secondaries, strict=True)):
        if mode == "none":
            yield None
        elif mode == "gated":
            yield _activation(secondary or "Sigmoid", f"{where} layer {i} secondary")[0]
        else:
            raise NamError(
                f"{where} layer {i}: gating mode {mode!r} is not supported (only none and gated)"
            )


def _check_array_features(config: dict[str, Any], where: str) -> None:
    for key in FILM_KEYS:
        film = config.get(key)
        if film and (film.get("active", True) if isinstance(film, dict) else True):
            raise NamError(f"{where}: FiLM ({key}) is not supported")
    for key in ("groups_input", "groups_input_mixin"):
        if config.get(key, 1) != 1:
            raise NamError(
                f"{where}: {key} = {config[key]}; grouped convs (groups != 1) are not supported"
            )
    for key in ("layer1x1", "head1x1"):
        if isinstance(config.get(key), dict) and config[key].get("groups", 1) != 1:
            raise NamError(
                f"{where}: {key}.groups = {config[key]['groups']}; groups != 1 is not supported"
            )
    if config.get("bottleneck", config["channels"]) != config["channels"]:
        raise NamError(
            f"{where}: bottleneck {config['bottleneck']} != channels {config['channels']} "
            "is not supported"
        )
    if config.get("slimmable"):
        raise NamError(f"{where}: slimmable layer arrays are not supported")
    if config["condition_size"] != 1:
        raise NamError(
            f"{where}: condition_size {config['condition_size']}; more than one input channel "
            "is not supported (NAM captures take one audio input)"
        )


def weight_count(config: dict[str, Any]) -> int:
    """How many floats a WaveNet ``config`` needs in ``weights`` (head_scale included)."""
    weights = _Weights(None)
    _wavenet(config, None, "count", weights)
    return weights.used


def _wavenet(
    config: dict[str, Any], flat: np.ndarray | None, name: str, weights: _Weights | None = None
) -> tuple[FloatGraph, float]:
    if config.get("condition_dsp"):
        raise NamError(
            "config.condition_dsp (a conditioning DSP before the WaveNet) is not supported"
        )
    if config.get("head"):
        raise NamError("config.head (a post-stack head after the layer arrays) is not supported")
    arrays = config["layers"]
    if arrays and arrays[0]["input_size"] != 1:
        raise NamError(
            f"layer array 0: input_size {arrays[0]['input_size']}; more than one input channel "
            "is not supported"
        )
    weights = weights or _Weights(flat)
    nodes: list[FloatNode] = []
    array_input, previous_head = INPUT, None
    for ai, arr in enumerate(arrays):
        where = f"layer array {ai}"
        _check_array_features(arr, where)
        last_array = ai == len(arrays) - 1
        channels, dilations = arr["channels"], arr["dilations"]
        count = len(dilations)
        kernels = _per_layer(
            arr["kernel_sizes"] if "kernel_sizes" in arr else arr["kernel_size"],
            count,
            f"{where} kernel_sizes",
        )
        activations = _per_layer(arr["activation"], count, f"{where} activation")
        gates = list(_gates(arr, count, where))
        head = arr.get("head")
        head_size = head["out_channels"] if head else arr["head_size"]
        head_kernel = head["kernel_size"] if head else 1
        head_bias = head["bias"] if head else arr["head_bias"]
        head_dilation = head.get("head_dilation", 1) if head else 1
        layer1x1 = arr.get("layer1x1", {"active": True}).get("active", True)
        head1x1 = arr.get("head1x1") or {"active": False}
        skip_channels = head1x1["out_channels"] if head1x1.get("active") else channels

        w, _ = weights.conv(channels, arr["input_size"], 1, False, f"{where} rechannel")
        stream = f"a{ai}_rechannel"
        nodes.append(FloatNode(stream, (FloatConv(array_input, w),), np.zeros(channels)))
        skips: list[FloatConv | FloatAdd] = []
        skip_bias = np.zeros(skip_channels)
        for li in range(count):
            lw = f"{where} layer {li}"
            pre = 2 * channels if gates[li] else channels
            kind, slope = _activation(activations[li], lw)
            conv_w, conv_b = weights.conv(pre, channels, kernels[li], True, f"{lw} conv")
            mix_w, _ = weights.conv(pre, arr["condition_size"], 1, False, f"{lw} input mixin")
            act = f"a{ai}_l{li}_act"
            nodes.append(
                FloatNode(
                    act,
                    (FloatConv(stream, conv_w, dilations[li]), FloatConv(INPUT, mix_w)),
                    conv_b,
                    FloatActivation(kind, slope, gates[li]),
                )
            )
            residual: tuple[FloatConv | FloatAdd, ...]
            if layer1x1:
                res_w, res_b = weights.conv(channels, channels, 1, True, f"{lw} layer1x1")
                residual = (FloatConv(act, res_w), FloatAdd(stream))
            else:
                res_b, residual = np.zeros(channels), (FloatAdd(act), FloatAdd(stream))
            if head1x1.get("active"):
                h_w, h_b = weights.conv(skip_channels, channels, 1, True, f"{lw} head1x1")
                skips.append(FloatConv(act, h_w))
                skip_bias = skip_bias + h_b
            else:
                skips.append(FloatAdd(act))
            if not (last_array and li == count - 1):  # the very last residual feeds nothing
                nodes.append(FloatNode(f"a{ai}_l{li}_res", residual, res_b))
                stream = f"a{ai}_l{li}_res"
        if previous_head is not None:
            width = next(n.out_channels for n in nodes if n.name == previous_head)
            if width != skip_channels:
                raise NamError(
                    f"{where}: the previous array's head gives {width} channels but this "
                    f"array's skips have {skip_channels}"
                )
            skips.insert(0, FloatAdd(previous_head))
        nodes.append(FloatNode(f"a{ai}_skips", tuple(skips), skip_bias))
        head_w, head_b = weights.conv(
            head_size, skip_channels, head_kernel, head_bias, f"{where} head"
        )
        nodes.append(
            FloatNode(f"a{ai}_head", (FloatConv(f"a{ai}_skips", head_w, head_dilation),), head_b)
        )
        array_input, previous_head = stream, f"a{ai}_head"
    head_scale = float(weights.take(1, "head_scale")[0])
    if flat is not None and weights.used != len(flat):
        raise NamError(
            f"weight count mismatch: the config uses {weights.used:,} weights (head_scale "
            f"last) but the file has {len(flat):,}"
        )
    last = nodes[-1]
    nodes[-1] = FloatNode(
        last.name,
        (
            FloatConv(
                last.sources[0].tensor,
                last.sources[0].weights * head_scale,
                last.sources[0].dilation,
            ),
        ),
        last.bias * head_scale,
    )
    outputs = tuple((last.name, c) for c in range(last.out_channels))
    return FloatGraph(name, 1, nodes, outputs, {"source": "nam"}), head_scale
