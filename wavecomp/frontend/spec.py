"""Model specs: the shape of a network before it has weights (no TensorFlow here).

A ``ModelSpec`` is what ``wavecomp train`` builds a QKeras model from and what ``inspect`` can
size without training: the I/O spec plus a stack of (kernel size, dilation, filters,
activation) layers. Specs are small and importable anywhere, so the CLI can print the presets'
params, MACs/sample and receptive field instantly.

The compact layer syntax used on the command line is ``KxD:F[:act]`` per layer, comma
separated, e.g. ``4x1:16:relu,4x4:16:relu,4x16:4:linear`` (``K:F`` means dilation 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from wavecomp import fixed
from wavecomp.errors import WavecompError
from wavecomp.ir import InputChannel, IOSpec, OutputChannel

__all__ = [
    "PRESETS",
    "LayerSpec",
    "ModelSpec",
    "SpecError",
    "format_layers",
    "parse_layers",
]

LAYERS_EXAMPLE = "4x1:16:relu,4x4:16:relu,4x16:4:linear"
"""Shown in error messages so a user can copy a valid layer string."""


class SpecError(WavecompError, ValueError):
    """A model spec or layer string that cannot describe a network; says which layer and why."""


@dataclass(frozen=True)
class LayerSpec:
    """One causal conv layer before training: kernel size K, dilation d, output channels."""

    kernel_size: int
    dilation: int
    filters: int
    activation: Literal["relu", "linear"]
    name: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A network's shape: I/O spec (which gives C_in) plus its layer stack."""

    name: str
    io: IOSpec
    layers: tuple[LayerSpec, ...]

    @property
    def in_channels(self) -> int:
        return len(self.io.inputs)

    @property
    def out_channels(self) -> int:
        return self.layers[-1].filters

    def layer_names(self) -> tuple[str, ...]:
        """Every layer's name, unnamed layers numbered ``qconv_<i>`` (as in the ``fpga`` preset)."""
        return tuple(
            layer.name if layer.name is not None else f"qconv_{i}"
            for i, layer in enumerate(self.layers)
        )

    def layer_in_channels(self) -> tuple[int, ...]:
        """C_in of each layer (the previous layer's filters; the I/O spec's inputs first)."""
        return (self.in_channels, *(layer.filters for layer in self.layers[:-1]))

    @property
    def macs_per_sample(self) -> int:
        return sum(
            layer.kernel_size * c_in * layer.filters
            for layer, c_in in zip(self.layers, self.layer_in_channels(), strict=True)
        )

    @property
    def params(self) -> int:
        return self.macs_per_sample + sum(layer.filters for layer in self.layers)

    @property
    def receptive_field(self) -> int:
        """Input samples that influence one output: 1 + sum((K-1)*d)."""
        return 1 + sum((layer.kernel_size - 1) * layer.dilation for layer in self.layers)

    def validate(self) -> None:
        """Raise SpecError naming the offending layer if the spec cannot become a network."""
        if not self.layers:
            raise SpecError(f"model {self.name!r} has no layers; e.g. {LAYERS_EXAMPLE!r}")
        if not self.io.inputs:
            raise SpecError(f"model {self.name!r}: the I/O spec has no input channels")
        names = self.layer_names()
        for i, (layer, name) in enumerate(zip(self.layers, names, strict=True)):
            where = f"model {self.name!r} layer {i} {name!r}"
            for label, value in (
                ("kernel_size", layer.kernel_size),
                ("dilation", layer.dilation),
                ("filters", layer.filters),
            ):
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise SpecError(f"{where}: {label} must be an integer >= 1, got {value!r}")
            if layer.activation not in fixed.ACTIVATIONS:
                raise SpecError(
                    f"{where}: activation {layer.activation!r} is not supported; "
                    f"use one of {', '.join(fixed.ACTIVATIONS)}"
                )
            if not name:
                raise SpecError(f"{where}: layer names must be non-empty")
            if name in names[:i]:
                raise SpecError(f"{where}: name used twice; layer names must be unique")
        if len(self.io.outputs) != self.out_channels:
            raise SpecError(
                f"model {self.name!r}: the I/O spec names {len(self.io.outputs)} output channels "
                f"but the last layer {names[-1]!r} has {self.out_channels} filters"
            )


def _parse_int(text: str, what: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SpecError(
            f"{where}: {what} {text!r} is not an integer; expected 'KxD:F[:act]', "
            f"e.g. {LAYERS_EXAMPLE!r}"
        ) from None
    if value < 1:
        raise SpecError(f"{where}: {what} must be >= 1, got {value}; e.g. {LAYERS_EXAMPLE!r}")
    return value


def parse_layers(text: str) -> tuple[LayerSpec, ...]:
    """Parse ``KxD:F[:act],...`` (the CLI's ``--layers``) into layer specs.

    The activation defaults to relu for hidden layers and linear for the last one, which is
    what a streaming regression net wants; ``K:F`` is shorthand for dilation 1.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise SpecError(
            f"layer string {text!r} has an empty item; expected comma-separated "
            f"'KxD:F[:act]', e.g. {LAYERS_EXAMPLE!r}"
        )
    layers = []
    for i, item in enumerate(items):
        where = f"layer {i} ({item!r})"
        parts = [p.strip() for p in item.split(":")]
        if len(parts) not in (2, 3):
            raise SpecError(
                f"{where}: expected 'KxD:F' or 'KxD:F:act' (kernel x dilation : filters "
                f"[: relu|linear]), e.g. {LAYERS_EXAMPLE!r}"
            )
        shape = parts[0].lower().split("x")
        if len(shape) > 2:
            raise SpecError(f"{where}: expected 'KxD' before the colon, e.g. '4x16'")
        kernel = _parse_int(shape[0], "kernel size", where)
        dilation = _parse_int(shape[1], "dilation", where) if len(shape) == 2 else 1
        filters = _parse_int(parts[1], "filters", where)
        last = i == len(items) - 1
        activation = parts[2].lower() if len(parts) == 3 else ("linear" if last else "relu")
        if activation not in fixed.ACTIVATIONS:
            raise SpecError(
                f"{where}: activation {parts[2]!r} is not supported; use relu or linear, "
                f"e.g. {LAYERS_EXAMPLE!r}"
            )
        layers.append(LayerSpec(kernel, dilation, filters, activation))  # type: ignore[arg-type]
    return tuple(layers)


def format_layers(layers: Iterable[LayerSpec]) -> str:
    """The compact ``KxD:F:act`` string (inverse of ``parse_layers``; names are dropped)."""
    return ",".join(
        f"{layer.kernel_size}x{layer.dilation}:{layer.filters}:{layer.activation}"
        for layer in layers
    )


WAVESHAPER_INPUTS = (
    InputChannel("audio", "audio", 0),
    InputChannel("e0", "control", 1, 0.0),
    InputChannel("e1", "control", 2, 0.0),
)
"""Both presets' first inputs: the audio, then the 2-D embedding (knobs/CV) choosing the shape."""


def _fpga_preset() -> ModelSpec:
    # The waveshaper of the FPGA write-up: audio + 2-D embedding in, four "mirrored voices" out.
    # Voice k is the shape at the embedding mirrored to (e0, e1), (1-e0, e1), (e0, 1-e1),
    # (1-e0, 1-e1), so one net plays four related waveforms at once.
    io = IOSpec(
        inputs=(*WAVESHAPER_INPUTS, InputChannel("spare", "unused", 3, 0.0)),
        outputs=tuple(OutputChannel(f"voice{k}", k) for k in range(4)),
        sample_rate=48000,
    )
    layers = (
        LayerSpec(4, 1, 16, "relu", "qconv_0"),
        LayerSpec(4, 4, 16, "relu", "qconv_1"),
        LayerSpec(4, 16, 4, "linear", "qconv_2"),
    )
    return ModelSpec("fpga", io, layers)


def _mcu_preset() -> ModelSpec:
    # The Daisy waveshaper of the MCU write-up: dilated K=4 convs each followed by a 1x1 mix,
    # ending in a single-channel 1x1 regression.
    io = IOSpec(
        inputs=WAVESHAPER_INPUTS,
        outputs=(OutputChannel("out", 0),),
        sample_rate=48000,
    )
    layers = (
        LayerSpec(4, 1, 4, "relu", "c0a"),
        LayerSpec(1, 1, 4, "relu", "c0b"),
        LayerSpec(4, 4, 4, "relu", "c1a"),
        LayerSpec(1, 1, 4, "relu", "c1b"),
        LayerSpec(4, 16, 4, "relu", "c2a"),
        LayerSpec(1, 1, 4, "relu", "c2b"),
        LayerSpec(4, 64, 8, "relu", "c3a"),
        LayerSpec(1, 1, 8, "relu", "c3b"),
        LayerSpec(1, 1, 1, "linear", "y_pred"),
    )
    return ModelSpec("mcu", io, layers)


PRESETS: dict[str, ModelSpec] = {"fpga": _fpga_preset(), "mcu": _mcu_preset()}
"""Named model shapes: ``fpga`` (4->16->16->4 waveshaper) and ``mcu`` (Daisy waveshaper)."""

for _spec in PRESETS.values():
    _spec.validate()
del _spec
