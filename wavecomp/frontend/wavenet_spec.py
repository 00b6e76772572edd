"""WaveNet specs: the shape of a NAM-like WaveNet before it has weights (no TensorFlow here).

A ``WaveNetSpec`` is what ``wavecomp train --arch wavenet`` builds a QKeras functional model
from (``wavenet_model``). The structure is one layer array, as in Neural Amp Modeler's WaveNet:

- ``rechannel``: a 1x1 conv (no bias) from the input to ``channels``;
- layer i (dilation d_i): ``a_i = act(conv_K,d_i(x_i) + bias + mixin_1x1(input))``, then the
  residual ``x_{i+1} = x_i + conv1x1(a_i) + bias`` (dropped for the last layer: nothing reads it);
- the skip sum ``a_0 + ... + a_{L-1}``;
- the head: a 1x1 conv to ``head`` channels with relu, then a linear 1x1 conv to the outputs.

The command-line syntax is comma-separated ``key=value`` items, dilations joined by ``-``,
e.g. ``channels=8,kernel=3,dilations=1-2-4-8,repeats=2,activation=tanh,head=8``; keys left out
keep their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

from wavecomp.frontend.spec import SpecError
from wavecomp.ir import IOSpec

__all__ = [
    "WAVENET_ACTIVATIONS",
    "WAVENET_EXAMPLE",
    "WAVENET_KEYS",
    "WaveNetSpec",
    "format_wavenet",
    "parse_wavenet",
]

WAVENET_EXAMPLE = "channels=8,kernel=3,dilations=1-2-4-8,repeats=2,activation=tanh,head=8"
"""Shown in error messages so a user can copy a valid WaveNet string."""
WAVENET_ACTIVATIONS: tuple[str, ...] = ("tanh", "relu")

WAVENET_KEYS: dict[str, str] = {
    "inputs": "in_channels",
    "channels": "channels",
    "kernel": "kernel_size",
    "dilations": "dilations",
    "repeats": "repeats",
    "activation": "activation",
    "head": "head",
    "outputs": "out_channels",
}
"""Command-line key -> ``WaveNetSpec`` field, in the order ``format_wavenet`` writes them."""


@dataclass(frozen=True)
class WaveNetSpec:
    """One NAM-like layer array: sizes only (see the module docstring for the structure)."""

    in_channels: int = 1
    channels: int = 8
    kernel_size: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    repeats: int = 1
    """The dilation pattern is used this many times in a row (1-2-4-8 twice is 8 layers)."""
    activation: Literal["tanh", "relu"] = "tanh"
    head: int = 8
    """Hidden width of the head (a relu 1x1 conv) before the linear output conv."""
    out_channels: int = 1
    name: str = "wavenet"
    sample_rate: int | None = None
    """Written into the I/O spec (informational, as for chain models)."""

    @property
    def layer_dilations(self) -> tuple[int, ...]:
        return tuple(self.dilations) * self.repeats

    @property
    def n_layers(self) -> int:
        return len(self.layer_dilations)

    @property
    def io(self) -> IOSpec:
        """Input i from jack i, output o to jack o (``IOSpec.default``), at ``sample_rate``."""
        return replace(
            IOSpec.default(self.in_channels, self.out_channels), sample_rate=self.sample_rate
        )

    @property
    def receptive_field(self) -> int:
        """1 + sum((K-1)*d): only the dilated convs look back (everything else is 1x1)."""
        return 1 + (self.kernel_size - 1) * sum(self.layer_dilations)

    @property
    def macs_per_sample(self) -> int:
        c, n = self.channels, self.n_layers
        layer = self.kernel_size * c * c + self.in_channels * c  # dilated conv + input mixin
        return (
            self.in_channels * c  # rechannel
            + n * layer
            + (n - 1) * c * c  # residual 1x1s (the last layer has none)
            + c * self.head
            + self.head * self.out_channels
        )

    @property
    def params(self) -> int:
        """Trainable parameters of the Keras model. The IR's count is higher by the zero
        biases it stores for the rechannel node and the skip sum (an identity-only node)."""
        biases = self.n_layers * self.channels  # dilated convs
        biases += (self.n_layers - 1) * self.channels + self.head + self.out_channels
        return self.macs_per_sample + biases

    def validate(self) -> None:
        """Raise SpecError naming the field and the fix if this cannot become a network."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in WAVENET_KEYS.values() or f.name in ("dilations", "activation"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(
                    f"WaveNet {self.name!r}: {_key(f.name)} must be an integer >= 1, got "
                    f"{value!r}; e.g. {WAVENET_EXAMPLE!r}"
                )
        if not self.dilations:
            raise SpecError(
                f"WaveNet {self.name!r}: needs at least one dilation; e.g. {WAVENET_EXAMPLE!r}"
            )
        for d in self.dilations:
            if isinstance(d, bool) or not isinstance(d, int) or d < 1:
                raise SpecError(
                    f"WaveNet {self.name!r}: dilation {d!r} must be an integer >= 1; "
                    f"e.g. {WAVENET_EXAMPLE!r}"
                )
        if self.activation not in WAVENET_ACTIVATIONS:
            raise SpecError(
                f"WaveNet {self.name!r}: activation {self.activation!r} is not supported; "
                f"use {' or '.join(WAVENET_ACTIVATIONS)}"
            )
        if not self.name:
            raise SpecError("a WaveNet needs a non-empty name")


def _key(field_name: str) -> str:
    return next(k for k, f in WAVENET_KEYS.items() if f == field_name)


def _parse_int(text: str, key: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SpecError(
            f"{where}: {key} {text!r} is not an integer; e.g. {WAVENET_EXAMPLE!r}"
        ) from None
    if value < 1:
        raise SpecError(f"{where}: {key} must be >= 1, got {value}; e.g. {WAVENET_EXAMPLE!r}")
    return value


def parse_wavenet(text: str, *, name: str = "wavenet") -> WaveNetSpec:
    """Parse ``key=value,...`` (the CLI's ``--wavenet``) into a validated spec.

    Keys: inputs, channels, kernel, dilations (``1-2-4-8``), repeats, activation (tanh or
    relu), head, outputs. Each may appear once; keys left out keep ``WaveNetSpec``'s defaults.
    """
    items = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not item for item in items):
        raise SpecError(
            f"WaveNet string {text!r} has an empty item; expected comma-separated key=value "
            f"items, e.g. {WAVENET_EXAMPLE!r}"
        )
    values: dict[str, object] = {}
    seen: set[str] = set()
    for item in items:
        where = f"WaveNet item {item!r}"
        key, sep, value = (part.strip() for part in item.partition("="))
        key = key.lower()
        if not sep or not value:
            raise SpecError(f"{where}: expected key=value, e.g. {WAVENET_EXAMPLE!r}")
        if key not in WAVENET_KEYS:
            raise SpecError(
                f"{where}: unknown key {key!r}; use {', '.join(WAVENET_KEYS)}, "
                f"e.g. {WAVENET_EXAMPLE!r}"
            )
        if key in seen:
            raise SpecError(f"{where}: {key} is given twice; give each key once")
        seen.add(key)
        if key == "activation":
            if value.lower() not in WAVENET_ACTIVATIONS:
                raise SpecError(
                    f"{where}: activation {value!r} is not supported; use "
                    f"{' or '.join(WAVENET_ACTIVATIONS)}"
                )
            values[WAVENET_KEYS[key]] = value.lower()
        elif key == "dilations":
            parts = [p.strip() for p in value.split("-")]
            values["dilations"] = tuple(_parse_int(p, "dilation", where) for p in parts)
        else:
            values[WAVENET_KEYS[key]] = _parse_int(value, key, where)
    spec = replace(WaveNetSpec(name=name), **values)  # type: ignore[arg-type]
    spec.validate()
    return spec


def format_wavenet(spec: WaveNetSpec) -> str:
    """The ``key=value`` string of every size (inverse of ``parse_wavenet``; drops the name)."""
    items = []
    for key, field_name in WAVENET_KEYS.items():
        value = getattr(spec, field_name)
        if key == "dilations":
            value = "-".join(str(d) for d in value)
        items.append(f"{key}={value}")
    return ",".join(items)
