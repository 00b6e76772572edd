"""cocotb tests for hdl/wc_delay.sv: q(t) = d(t - DEPTH), synchronous reset clears the stages."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

SEED = 0x5EC0_0003


class DelayModel:
    """A list of the last DEPTH inputs, newest first; DEPTH = 0 passes d straight through."""

    def __init__(self, depth: int):
        self.depth = depth
        self.history = [0] * depth

    def q(self, d: int) -> int:
        return self.history[-1] if self.depth else d

    def step(self, rst: int, d: int) -> None:
        self.history = [0] * self.depth if rst else ([d, *self.history])[: self.depth]


async def run(dut, stimulus: list[tuple[int, int]]) -> None:
    width, depth = int(dut.WIDTH.value), int(dut.DEPTH.value)
    model = DelayModel(depth)
    dut.rst.value = 1
    dut.d.value = 0
    Clock(dut.clk, 10, unit="ns").start()
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)  # one edge with rst=1 has cleared the stages
    for cycle, (rst, d) in enumerate(stimulus):
        dut.rst.value = rst
        dut.d.value = d
        await Timer(1, "ns")  # q may depend on d combinationally (DEPTH = 0)
        got, want = int(dut.q.value), model.q(d)
        assert got == want, (
            f"cycle {cycle}: q={got:#x}, want {want:#x} (WIDTH={width} DEPTH={depth})"
        )
        model.step(rst, d)
        await FallingEdge(dut.clk)


@cocotb.test()
async def random_stream_with_resets(dut):
    """Random data including all-ones/zero words, with a few mid-stream resets."""
    width = int(dut.WIDTH.value)
    rng = random.Random(SEED + width)
    mask = (1 << width) - 1
    stimulus = []
    for i in range(400):
        rst = int(i in (50, 51, 52, 200) or (i > 300 and rng.random() < 0.05))
        d = rng.choice([0, mask, 1 << (width - 1), rng.getrandbits(width), rng.getrandbits(width)])
        stimulus.append((rst, d))
    await run(dut, stimulus)


@cocotb.test()
async def single_pulse(dut):
    """One all-ones word among zeros appears exactly DEPTH cycles later, once."""
    mask = (1 << int(dut.WIDTH.value)) - 1
    stimulus = [(0, 0)] * 5 + [(0, mask)] + [(0, 0)] * 20
    await run(dut, stimulus)
