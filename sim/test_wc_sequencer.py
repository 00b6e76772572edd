"""cocotb tests for hdl/wc_sequencer.sv: one LEN-step run per strobe, sticky overrun.

The expected outputs are computed from the strobe history directly (cycles since the last
strobe), not by mirroring the RTL's state machine.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_0004


def expected(events: list[tuple[int, int]], length: int) -> list[tuple[int, int, int]]:
    """(run, pc, overrun) in each cycle, given (rst, strobe) sampled at the end of each cycle.

    The cycle before the list is a reset cycle. In cycle t, with s the last strobe after the
    last reset: run=1 and pc=t-s-1 when t-s <= LEN, else run=0 and pc=0. overrun is set once
    two consecutive strobes (after the last reset) are fewer than LEN cycles apart.
    """
    out = []
    strobes: list[int] = []  # strobes since the last reset
    overrun = 0
    for t in range(len(events) + 1):
        if strobes and t - strobes[-1] <= length:
            out.append((1, t - strobes[-1] - 1, overrun))
        else:
            out.append((0, 0, overrun))
        if t == len(events):
            break
        rst, strobe = events[t]
        if rst:
            strobes, overrun = [], 0
        elif strobe:
            if strobes and t - strobes[-1] < length:
                overrun = 1
            strobes.append(t)
    return out


async def run(dut, events: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    length, pc_w = int(dut.LEN.value), int(dut.PC_W.value)
    want_all = expected(events, length)
    dut.rst.value = 1
    dut.strobe.value = 0
    Clock(dut.clk, 10, unit="ns").start()
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    for t, want in enumerate(want_all):
        got = (int(dut.run.value), int(dut.pc.value), int(dut.overrun.value))
        assert got == want, (
            f"cycle {t}: (run, pc, overrun)={got}, want {want} (LEN={length} PC_W={pc_w}); "
            f"strobes at {[i for i, (r, s) in enumerate(events[:t]) if s and not r]}"
        )
        if t < len(events):
            dut.rst.value, dut.strobe.value = events[t]
        await FallingEdge(dut.clk)
    return want_all


def strobe_train(gaps: list[int], tail: int) -> list[tuple[int, int]]:
    """A strobe at cycle 2, then one after each gap; `tail` idle cycles at the end."""
    events = [(0, 0)] * 2
    for gap in [*gaps, None]:
        events.append((0, 1))
        events += [(0, 0)] * ((gap if gap is not None else tail) - 1)
    return events


@cocotb.test()
async def spaced_at_least_len(dut):
    """Strobes exactly LEN apart (back-to-back runs) and further apart never overrun."""
    length = int(dut.LEN.value)
    gaps = [length, length, length + 1, 2 * length + 3, length, length]
    out = await run(dut, strobe_train(gaps, tail=length + 5))
    assert not any(o for _, _, o in out)
    assert sum(r for r, _, _ in out) == length * (len(gaps) + 1)


@cocotb.test()
async def back_to_back_and_short_gaps(dut):
    """Strobes every cycle and LEN-1 apart restart at pc=0; overrun iff LEN > 1, sticky."""
    length = int(dut.LEN.value)
    gaps = [1, 1, 1, max(1, length - 1), length, max(1, length // 2), length + 2]
    out = await run(dut, strobe_train(gaps, tail=length + 5))
    assert out[-1][2] == int(length > 1)


@cocotb.test()
async def random_strobes_and_resets(dut):
    """Seeded random gaps around LEN, strobes during reset, resets in the middle of runs."""
    length = int(dut.LEN.value)
    rng = random.Random(SEED + length)
    events = []
    for _ in range(30):
        gap = rng.choice([1, 2, length - 1, length, length, length + 1, rng.randint(1, 2 * length)])
        gap = max(1, gap)
        events.append((0, 1))
        events += [(0, 0)] * (gap - 1)
        if rng.random() < 0.15:  # a reset (possibly with a strobe) somewhere in the run
            events.insert(len(events) - rng.randint(0, gap - 1), (1, rng.randint(0, 1)))
    events += [(0, 0)] * (length + 3)
    await run(dut, events)
