"""Where a network meets the board: which jack feeds each input channel, which output drives
each jack, and how codec samples are scaled on the way in and out.

Why separate from the IR's nodes: the same I/O spec travels with every network kind (chains,
graphs, imported NAM captures), and the firmware and board tops read only this part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from wavecomp import fixed

NUM_JACKS = 4
"""The eurorack-pmod has 4 inputs and 4 outputs."""

InputKind = Literal["audio", "control", "unused"]
INPUT_KINDS: tuple[InputKind, ...] = ("audio", "control", "unused")


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


def io_spec_to_dict(io_: IOSpec) -> dict[str, Any]:
    return {
        "inputs": [ch.__dict__.copy() for ch in io_.inputs],
        "outputs": [ch.__dict__.copy() for ch in io_.outputs],
        "input_shift": io_.input_shift,
        "output_shift": io_.output_shift,
        "sample_rate": io_.sample_rate,
    }


def io_spec_from_dict(d: dict[str, Any]) -> IOSpec:
    return IOSpec(
        inputs=tuple(InputChannel(**ch) for ch in d["inputs"]),
        outputs=tuple(OutputChannel(**ch) for ch in d["outputs"]),
        input_shift=d["input_shift"],
        output_shift=d["output_shift"],
        sample_rate=d.get("sample_rate"),
    )
