"""The Daisy boards the emitted firmware runs on, and how each feeds the network.

Why a table: ``main.cpp``, the Makefile, the README and the CLI all need the same facts per
board. They come from libDaisy (``src/daisy_patch.h``, ``src/daisy_pod.h``,
``src/daisy_seed.h``; ``DaisySeed`` sets the audio post-gain to 1, ``DaisyPatch::Init`` to
0.5). The Patch is a eurorack module: knobs/CV drive the network's control inputs and its
four jacks its audio. The Pod and the bare Seed run the network as a mono guitar pedal:
audio in 1 through an input gain, the network and an output level to outs 1 and 2, with a
bypass switch and the CPU load on the USB serial log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wavecomp.errors import WavecompError
from wavecomp.ir import Network


@dataclass(frozen=True)
class DaisyBoard:
    """One Daisy board: libDaisy's class for it and the firmware template that drives it."""

    key: str
    title: str
    device: str
    """libDaisy's class (``DaisyPatch``, ``DaisyPod``, ``DaisySeed``)."""
    header: str
    template: str
    """The firmware template in ``firmware/daisy/``."""
    log: str
    """The object whose ``StartLog``/``PrintLine`` reach the USB serial port."""
    controls_summary: str
    gain_pin: str = ""
    level_pin: str = ""
    bypass_pin: str = ""
    """Seed only: where the pedal's pots and footswitch connect (``seed::`` pin names)."""

    @property
    def is_pedal(self) -> bool:
        return self.template == "pedal.cpp.j2"


BOARDS: dict[str, DaisyBoard] = {
    "patch": DaisyBoard(
        "patch",
        "Daisy Patch",
        "DaisyPatch",
        "daisy_patch.h",
        "main.cpp.j2",
        "patch.seed",
        "Knobs/CV drive the control inputs, the OLED shows the CPU load.",
    ),
    "pod": DaisyBoard(
        "pod",
        "Daisy Pod",
        "DaisyPod",
        "daisy_pod.h",
        "pedal.cpp.j2",
        "hw.seed",
        "Knob 1: input gain, knob 2: output level, button 1: bypass (LED 1 green = on, "
        "red = bypassed).",
    ),
    "seed": DaisyBoard(
        "seed",
        "Daisy Seed",
        "DaisySeed",
        "daisy_seed.h",
        "pedal.cpp.j2",
        "hw",
        "A pot on A0: input gain, a pot on A1: output level, a footswitch from D7 to ground: "
        "bypass (the Seed's LED is on while the network runs).",
        gain_pin="A0",
        level_pin="A1",
        bypass_pin="D7",
    ),
}
DEFAULT_BOARD = "patch"
MAX_INPUT_GAIN = 2.0
"""The pedal's input gain knob at full travel (+6 dB)."""


class BoardError(WavecompError, ValueError):
    """The network cannot run on the chosen board as asked; the message names the fix."""


def board(key: str) -> DaisyBoard:
    """The board for ``--board KEY``, or an error listing the boards."""
    if key not in BOARDS:
        raise BoardError(f"board {key!r} is not supported: use one of {', '.join(BOARDS)}")
    return BOARDS[key]


def pedal_sources(net: Network, values: dict[int, str]) -> list[dict[str, Any]]:
    """Where a pedal gets each network input: its first audio input from audio in 1, every
    other input held at its I/O spec default (``values``: the C literal per input index)."""
    audio = [i for i, ch in enumerate(net.io.inputs) if ch.kind == "audio"]
    if not audio:
        raise BoardError(
            f"network {net.name!r} has no audio input (its I/O spec: "
            f"{', '.join(f'{ch.name} ({ch.kind})' for ch in net.io.inputs)}), so it cannot run "
            "as a pedal; use --board patch, whose knobs drive control inputs"
        )
    sources = []
    for i, ch in enumerate(net.io.inputs):
        entry: dict[str, Any] = {"index": i, "name": ch.name, "kind": ch.kind}
        if i == audio[0]:
            entry["source"] = "audio"
        else:
            entry.update(source="constant", value=values[i])
        sources.append(entry)
    return sources
