"""The network IR: the only thing backends see.

A network is an ordered list of causal 1-D convolutions (kernel size K >= 1, dilation d >= 1,
int16 Q4.12 weights ``W[K][C_in][C_out]`` and bias ``[C_out]``, activation relu or linear) plus
an I/O spec saying which physical jack feeds each input channel, which output channel drives
each physical output, and how codec samples are scaled. 1x1 convs and a final dense
"regression" are just K=1 layers.

The IR validates itself with messages that name the layer, and round-trips losslessly through
a single ``.npz`` file (a JSON header plus one ``.npy`` per array), written byte-for-byte
deterministically so compiled artefacts are reproducible.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from wavecomp import fixed
from wavecomp.errors import WavecompError

FORMAT_VERSION = 1
NUM_JACKS = 4
"""The eurorack-pmod has 4 inputs and 4 outputs."""

InputKind = Literal["audio", "control", "unused"]
INPUT_KINDS: tuple[InputKind, ...] = ("audio", "control", "unused")


class IRError(WavecompError, ValueError):
    """A network that breaks an IR rule; the message names the layer or channel and the fix."""


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


@dataclass(frozen=True)
class LayerSummary(LayerShape):
    activation: str
    params: int
    macs: int
    cache_columns: int
    cache_bytes: int
    accumulator_bits: int
    """Width that holds the largest per-channel accumulator bound (half_up rounding)."""


@dataclass(frozen=True)
class NetworkSummary:
    name: str
    layers: tuple[LayerSummary, ...]
    params: int
    macs_per_sample: int
    receptive_field: int
    cache_bytes: int
    weight_bytes: int
    max_accumulator_bits: int
    in_channels: int
    out_channels: int

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["layers"] = [dict(layer.__dict__) for layer in self.layers]
        return d


@dataclass(eq=False)
class Network:
    """An ordered stack of causal convs plus the I/O spec. Call ``validate()`` after edits."""

    layers: list[ConvLayer]
    io: IOSpec
    name: str = "network"
    metadata: dict[str, Any] = field(default_factory=dict)
    """JSON-serialisable notes (provenance, training figures, quantisation error)."""

    def __post_init__(self) -> None:
        self.layers = [_normalised(layer, i) for i, layer in enumerate(self.layers)]
        self.validate()

    # ---- shape facts -------------------------------------------------------------------
    @property
    def in_channels(self) -> int:
        return self.layers[0].in_channels

    @property
    def out_channels(self) -> int:
        return self.layers[-1].out_channels

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs_per_sample(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def receptive_field(self) -> int:
        """Input samples that influence one output: 1 + sum((K-1)*d)."""
        return 1 + sum(layer.span - 1 for layer in self.layers)

    def accumulator_bounds(
        self, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
    ) -> list[np.ndarray]:
        return [layer.accumulator_bound(rounding) for layer in self.layers]

    # ---- validation ----------------------------------------------------------------------
    def validate(self) -> None:
        """Raise IRError naming the offending layer/channel if any rule is broken."""
        if not self.layers:
            raise IRError(f"network {self.name!r} has no layers: add at least one conv layer")
        names = [layer.name for layer in self.layers]
        for i, layer in enumerate(self.layers):
            if names.count(layer.name) > 1:
                raise IRError(
                    f"layer {i} {layer.name!r}: name used twice; layer names must be unique"
                )
            if i > 0 and layer.in_channels != self.layers[i - 1].out_channels:
                prev = self.layers[i - 1]
                raise IRError(
                    f"layer {i} {layer.name!r}: expects C_in={layer.in_channels} but layer "
                    f"{i - 1} {prev.name!r} outputs {prev.out_channels} channels"
                )
        self._validate_io()

    def _validate_io(self) -> None:
        io_ = self.io
        if len(io_.inputs) != self.in_channels:
            raise IRError(
                f"I/O spec names {len(io_.inputs)} input channels but layer 0 "
                f"{self.layers[0].name!r} takes C_in={self.in_channels}"
            )
        if len(io_.outputs) != self.out_channels:
            raise IRError(
                f"I/O spec names {len(io_.outputs)} output channels but the last layer "
                f"{self.layers[-1].name!r} has C_out={self.out_channels}"
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
        """Params, MACs/sample, receptive field, memory and accumulator widths."""
        rows = []
        for layer in self.layers:
            bound = int(layer.accumulator_bound("half_up").max())
            rows.append(
                LayerSummary.of(
                    layer,
                    activation=layer.activation,
                    params=layer.params,
                    macs=layer.macs,
                    cache_columns=layer.span,
                    cache_bytes=layer.span * layer.in_channels * 2,
                    accumulator_bits=fixed.accumulator_bits(bound),
                )
            )
        return NetworkSummary(
            name=self.name,
            layers=tuple(rows),
            params=self.params,
            macs_per_sample=self.macs_per_sample,
            receptive_field=self.receptive_field,
            cache_bytes=sum(r.cache_bytes for r in rows),
            weight_bytes=2 * self.params,
            max_accumulator_bits=max(r.accumulator_bits for r in rows),
            in_channels=self.in_channels,
            out_channels=self.out_channels,
        )

    # ---- equality and identity -----------------------------------------------------------
    def equals(self, other: Network) -> bool:
        """Same layers (bit for bit), I/O spec, name and metadata."""
        return (
            self.name == other.name
            and self.io == other.io
            and self.metadata == other.metadata
            and len(self.layers) == len(other.layers)
            and all(a.equals(b) for a, b in zip(self.layers, other.layers, strict=True))
        )

    def fingerprint(self) -> str:
        """sha256 of the computational content (layers + I/O), ignoring name and metadata."""
        h = hashlib.sha256()
        h.update(json.dumps(_io_to_dict(self.io), sort_keys=True).encode())
        for layer in self.layers:
            h.update(json.dumps([layer.dilation, layer.activation, layer.weights.shape]).encode())
            h.update(layer.weights.astype("<i2").tobytes())
            h.update(layer.bias.astype("<i2").tobytes())
        return h.hexdigest()

    # ---- serialisation -------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a deterministic ``.npz`` (JSON header + int16 arrays). Returns the path."""
        path = Path(path)
        header = {
            "format": "wavecomp-network",
            "version": FORMAT_VERSION,
            "name": self.name,
            "io": _io_to_dict(self.io),
            "layers": [
                {
                    "name": layer.name,
                    "kernel_size": layer.kernel_size,
                    "dilation": layer.dilation,
                    "in_channels": layer.in_channels,
                    "out_channels": layer.out_channels,
                    "activation": layer.activation,
                }
                for layer in self.layers
            ],
            "metadata": self.metadata,
        }
        members = {"network.json": json.dumps(header, indent=2, sort_keys=True).encode() + b"\n"}
        for i, layer in enumerate(self.layers):
            members[f"layer{i}_weights.npy"] = _npy_bytes(layer.weights)
            members[f"layer{i}_bias.npy"] = _npy_bytes(layer.bias)
        tmp = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a file written by ``save``; errors name the file and what is wrong."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as zf:
                header = json.loads(zf.read("network.json"))
                if header.get("format") != "wavecomp-network":
                    raise IRError(f"{path}: not a wavecomp network file")
                if header.get("version") != FORMAT_VERSION:
                    raise IRError(
                        f"{path}: format version {header.get('version')} is not supported "
                        f"(this wavecomp reads version {FORMAT_VERSION}); re-export the model"
                    )
                layers = []
                for i, spec in enumerate(header["layers"]):
                    weights = np.load(io.BytesIO(zf.read(f"layer{i}_weights.npy")))
                    bias = np.load(io.BytesIO(zf.read(f"layer{i}_bias.npy")))
                    layers.append(
                        ConvLayer(
                            name=spec["name"],
                            weights=weights,
                            bias=bias,
                            dilation=spec["dilation"],
                            activation=spec["activation"],
                        )
                    )
        except FileNotFoundError:
            raise IRError(f"{path}: no such file") from None
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, ValueError) as err:
            if isinstance(err, IRError):
                raise
            raise IRError(
                f"{path}: not a readable wavecomp network file ({err}); "
                "expected a .npz written by wavecomp (train/import)"
            ) from None
        return cls(
            layers=layers,
            io=_io_from_dict(header["io"]),
            name=header["name"],
            metadata=header.get("metadata", {}),
        )


# ---- helpers ---------------------------------------------------------------------------------
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
    if layer.activation not in fixed.ACTIVATIONS:
        raise IRError(
            f"{where}: activation {layer.activation!r} is not supported; "
            f"use one of {', '.join(fixed.ACTIVATIONS)}"
        )
    weights = weights.astype(np.int16)
    bias = bias.astype(np.int16)
    weights.flags.writeable = False
    bias.flags.writeable = False
    return ConvLayer(layer.name, weights, bias, int(layer.dilation), layer.activation)


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array, dtype="<i2"), allow_pickle=False)
    return buf.getvalue()


def _io_to_dict(io_: IOSpec) -> dict[str, Any]:
    return {
        "inputs": [ch.__dict__.copy() for ch in io_.inputs],
        "outputs": [ch.__dict__.copy() for ch in io_.outputs],
        "input_shift": io_.input_shift,
        "output_shift": io_.output_shift,
        "sample_rate": io_.sample_rate,
    }


def _io_from_dict(d: dict[str, Any]) -> IOSpec:
    return IOSpec(
        inputs=tuple(InputChannel(**ch) for ch in d["inputs"]),
        outputs=tuple(OutputChannel(**ch) for ch in d["outputs"]),
        input_shift=d["input_shift"],
        output_shift=d["output_shift"],
        sample_rate=d.get("sample_rate"),
    )
