"""cocotb tests for hdl/wc_rom.sv: $readmemh image, registered read (latency 1), en holds data.

The pytest wrapper writes the image with ``write_image(path, rom_words(...))``; the tests here
regenerate the same words from the parameters and the seed (they never read the file back), so
a wrong image load, a wrong address or a wrong latency all show up as a mismatch.
"""

from __future__ import annotations

import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_0002


def rom_words(width: int, depth: int, seed: int = SEED) -> list[int]:
    """The image: edge patterns first (all ones, top bit, alternating, zero), then random."""
    mask = (1 << width) - 1
    edges = [mask, 1 << (width - 1), int("10" * width, 2) & mask, 0, 1]
    rng = random.Random(seed + 1000 * width + depth)
    words = edges + [rng.getrandbits(width) for _ in range(depth)]
    return words[:depth]


def write_image(path: Path, width: int, words: list[int]) -> None:
    digits = (width + 3) // 4
    path.write_text("".join(f"{w:0{digits}x}\n" for w in words))


def params(dut) -> tuple[int, int, int]:
    return int(dut.WIDTH.value), int(dut.DEPTH.value), int(dut.ADDR_W.value)


class RomModel:
    """data is a register: on a clock edge with en=1 it takes mem[addr]."""

    def __init__(self, words: list[int]):
        self.words = words
        self.data: int | None = None  # undefined until the first enabled read

    def step(self, en: int, addr: int) -> None:
        if en:
            self.data = self.words[addr]


async def run_reads(dut, reads: list[tuple[int, int]]) -> int:
    """Drive (en, addr) one per cycle; check data every cycle once it is defined."""
    width, depth, _ = params(dut)
    model = RomModel(rom_words(width, depth))
    dut.en.value = 0
    dut.addr.value = 0
    Clock(dut.clk, 10, unit="ns").start()
    await FallingEdge(dut.clk)
    checked = 0
    for cycle, (en, addr) in enumerate([*reads, (0, 0)]):
        if model.data is not None:
            got = int(dut.data.value)
            assert got == model.data, (
                f"cycle {cycle}: data={got:#x}, want {model.data:#x} (WIDTH={width} DEPTH={depth})"
            )
            checked += 1
        dut.en.value = en
        dut.addr.value = addr
        model.step(en, addr)
        await FallingEdge(dut.clk)
    return checked


@cocotb.test()
async def sweep_every_address(dut):
    """Read every word in order, then in reverse, back to back."""
    _, depth, _ = params(dut)
    order = list(range(depth)) + list(reversed(range(depth)))
    checked = await run_reads(dut, [(1, a) for a in order])
    assert checked == len(order)


@cocotb.test()
async def enable_holds_data(dut):
    """en=0 keeps the last word whatever the address does; random enables and addresses."""
    _, depth, _ = params(dut)
    rng = random.Random(SEED)
    reads: list[tuple[int, int]] = []
    for a in range(depth):
        reads.append((1, a))
        # hold for a few cycles while the address moves to a word with different content
        reads += [(0, rng.randrange(depth)) for _ in range(3)]
        reads.append((0, (a + 1) % depth))
    reads += [(int(rng.random() < 0.5), rng.randrange(depth)) for _ in range(300)]
    await run_reads(dut, reads)
