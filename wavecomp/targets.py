"""Hardware facts about the targets (from FACTS.md), shared by inspect, schedulers and reports."""

from __future__ import annotations

import math
from dataclasses import dataclass

EUROPMOD_CYCLES_PER_SAMPLE = 256
"""The eurorack-pmod core runs on clk_256fs: exactly 256 clocks per sample."""


@dataclass(frozen=True)
class Ecp5Part:
    name: str
    luts: int
    mult18: int
    dp16kd: int


ECP5_PARTS: dict[str, Ecp5Part] = {
    "25F": Ecp5Part("LFE5U-25F", 24_000, 28, 56),
    "45F": Ecp5Part("LFE5U-45F", 44_000, 72, 108),
    "85F": Ecp5Part("LFE5U-85F", 84_000, 156, 208),
}


@dataclass(frozen=True)
class McuTarget:
    name: str
    clock_hz: int
    flash_bytes: int
    dtcm_bytes: int
    sram_bytes: int


DAISY = McuTarget("Daisy (STM32H750, Cortex-M7)", 480_000_000, 128 * 1024, 128 * 1024, 512 * 1024)


def min_multipliers(macs_per_sample: int, cycles_per_sample: int) -> int:
    """Physical lower bound on multipliers: ceil(MACs/sample / cycles/sample)."""
    return math.ceil(macs_per_sample / cycles_per_sample)
