"""Hardware facts about the FPGA targets (from FACTS.md), shared by inspect, schedulers and
reports. The Daisy's memory map and fit live in ``wavecomp.mcu.daisy_fit``."""

from __future__ import annotations

import math
from dataclasses import dataclass

EUROPMOD_CYCLES_PER_SAMPLE = 256
"""The eurorack-pmod core runs on clk_256fs: exactly 256 clocks per sample."""
CLOCK_MULTIPLES = (1, 2, 4)
"""Board builds may run everything at M x 256 fs (``--core-clock M``): the codec serial port
divides BICK by 2M, so the core gets M x 256 cycles per sample in one clock domain."""


@dataclass(frozen=True)
class Ecp5Part:
    name: str
    luts: int
    mult18: int
    dp16kd: int


ECP5_PARTS: dict[str, Ecp5Part] = {  # smallest first (schedule.auto_clock relies on it)
    "25F": Ecp5Part("LFE5U-25F", 24_000, 28, 56),
    "45F": Ecp5Part("LFE5U-45F", 44_000, 72, 108),
    "85F": Ecp5Part("LFE5U-85F", 84_000, 156, 208),
}


def min_multipliers(macs_per_sample: int, cycles_per_sample: int) -> int:
    """Physical lower bound on multipliers: ceil(MACs/sample / cycles/sample)."""
    return math.ceil(macs_per_sample / cycles_per_sample)
