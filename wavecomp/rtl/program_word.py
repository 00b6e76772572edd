"""The bit layout of one word of the per-sample program ROM (``wc_program.hex``).

Its own module because two stages need it: the generator writes the image and slices the
fields in the template with these offsets, and the block-RAM estimate needs the word width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wavecomp.schedule import Schedule, Step


def bits_for(n: int) -> int:
    """Bits to hold 0..n (at least 1)."""
    return max(1, int(n).bit_length())


@dataclass(frozen=True)
class ProgramFormat:
    """Bit layout of one program word (LSB first); the template slices with the same offsets."""

    layer_w: int
    lag_w: int
    word_w: int
    gid_w: int
    ch_w: int

    def fields(self) -> dict[str, tuple[int, int]]:
        """name -> (lsb, width)."""
        layout = [
            ("valid", 1),
            ("first", 1),
            ("last", 1),
            ("relu", 1),
            ("layer", self.layer_w),
            ("lag", self.lag_w),
            ("word", self.word_w),
            ("group", self.gid_w),
            ("base", self.ch_w),
            ("count", self.ch_w + 1),
        ]
        out, lsb = {}, 0
        for name, width in layout:
            out[name] = (lsb, width)
            lsb += width
        return out

    @property
    def width(self) -> int:
        return sum(w for _, w in self.fields().values())

    def slices(self) -> dict[str, str]:
        return {
            name: (str(lsb) if width == 1 else f"{lsb + width - 1}:{lsb}")
            for name, (lsb, width) in self.fields().items()
        }

    def encode(self, step: Step) -> int:
        values = {
            "valid": int(step.valid),
            "first": int(step.first),
            "last": int(step.last),
            "relu": int(step.relu),
            "layer": step.layer,
            "lag": step.lag,
            "word": step.word,
            "group": step.group,
            "base": step.base,
            "count": step.count,
        }
        word = 0
        for name, (lsb, width) in self.fields().items():
            value = values[name] if step.valid else 0
            assert 0 <= value < (1 << width), (name, value, width)
            word |= value << lsb
        return word


def program_format(sched: Schedule) -> ProgramFormat:
    """The narrowest fields that hold every step of ``sched``'s program."""
    return ProgramFormat(
        layer_w=bits_for(len(sched.layers) - 1),
        lag_w=bits_for(max(p.span - 1 for p in sched.layers)),
        word_w=bits_for(max(p.words - 1 for p in sched.layers)),
        gid_w=bits_for(sched.n_groups - 1),
        ch_w=bits_for(max(p.out_channels for p in sched.layers)),
    )
