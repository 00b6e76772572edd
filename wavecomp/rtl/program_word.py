"""The bit layout of one word of the per-sample program ROM (``wc_program.hex``).

Its own module because two stages need it: the generator writes the image and slices the
fields in the template with these offsets, and the block-RAM estimate needs the word width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wavecomp.program import Step
    from wavecomp.schedule import Schedule


def bits_for(n: int) -> int:
    """Bits to hold 0..n (at least 1)."""
    return max(1, int(n).bit_length())


@dataclass(frozen=True)
class ProgramFormat:
    """Bit layout of one program word (LSB first); the template slices with the same offsets.

    ``shift``, ``narrow``, ``wunsigned`` and ``mem`` are there only when some step needs them
    (weight shifts, the activation unit, 2**15 identity weights, a second cache memory)."""

    node_w: int
    mem_w: int
    sel_w: int
    lagw_w: int
    word_w: int
    gid_w: int
    ch_w: int
    shift_w: int = 0
    narrow_w: int = 0
    wunsigned_w: int = 0

    def fields(self) -> dict[str, tuple[int, int]]:
        """name -> (lsb, width), fields of width 0 left out."""
        layout = [
            ("valid", 1),
            ("first", 1),
            ("last", 1),
            ("relu", 1),
            ("narrow", self.narrow_w),
            ("wunsigned", self.wunsigned_w),
            ("shift", self.shift_w),
            ("node", self.node_w),
            ("mem", self.mem_w),
            ("sel", self.sel_w),
            ("lagw", self.lagw_w),
            ("word", self.word_w),
            ("group", self.gid_w),
            ("base", self.ch_w),
            ("count", self.ch_w + 1),
        ]
        out, lsb = {}, 0
        for name, width in layout:
            if width:
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
        word = 0
        for name, (lsb, width) in self.fields().items():
            value = int(getattr(step, name)) if step.valid else 0
            assert 0 <= value < (1 << width), (name, value, width)
            word |= value << lsb
        return word


def program_format(sched: Schedule) -> ProgramFormat:
    """The narrowest fields that hold every step of ``sched``'s program."""
    return ProgramFormat(
        node_w=bits_for(len(sched.nodes) - 1),
        mem_w=(len(sched.memories) - 1).bit_length(),
        sel_w=bits_for(max(len(m.tensors) - 1 for m in sched.memories)),
        lagw_w=bits_for(max((t.span - 1) * t.used_words for t in sched.tensors)),
        word_w=bits_for(max(t.used_words - 1 for t in sched.tensors)),
        gid_w=bits_for(sched.n_groups - 1),
        ch_w=bits_for(max(n.pre_channels for n in sched.nodes)),
        shift_w=2 if sched.max_shift else 0,
        narrow_w=1 if sched.has_activation_unit else 0,
        wunsigned_w=1 if sched.unsigned_weights else 0,
    )
