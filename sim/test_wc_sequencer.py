"""cocotb tests for hdl/wc_sequencer.sv: one LEN-step run per accepted strobe, sticky overrun,
and a strobe held high over reset (upstream eurorack-pmod's top.sv) is no sample.

The expected outputs are computed from the strobe history directly (cycles since the last
accepted strobe), not by mirroring the RTL's state machine.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

SEED = 0x5EC0_0004


def accepted(events: list[tuple[int, int]]) -> list[bool]:
    """Which (rst, strobe) cycles start a run: strobe high, rst low, and strobe seen low at
    or after the last reset cycle (a strobe still high from reset is no sample). The cycle
    before the list is a reset cycle with strobe low."""
    out = []
    low_since_reset = True
    for rst, strobe in events:
        if rst:
            low_since_reset = not strobe
            out.append(False)
        else:
            out.append(bool(strobe) and low_since_reset)
            low_since_reset = low_since_reset or not strobe
    return out


def expected(events: list[tuple[int, int]], length: int) -> list[tuple[int, int, int, int]]:
    """(run, pc, overrun, start) in each cycle, given (rst, strobe) of each cycle.

    In cycle t, with s the last accepted strobe after the last reset: run=1 and pc=t-s-1 when
    t-s <= LEN, else run=0 and pc=0. overrun is set once two consecutive accepted strobes
    (after the last reset) are fewer than LEN cycles apart. start is 1 in accepted cycles.
    """
    starts = accepted(events)
    out = []
    strobes: list[int] = []  # accepted strobes since the last reset
    overrun = 0
    for t in range(len(events) + 1):
        start = int(starts[t]) if t < len(events) else 0
        if strobes and t - strobes[-1] <= length:
            out.append((1, t - strobes[-1] - 1, overrun, start))
        else:
            out.append((0, 0, overrun, start))
        if t == len(events):
            break
        if events[t][0]:
            strobes, overrun = [], 0
        elif starts[t]:
            if strobes and t - strobes[-1] < length:
                overrun = 1
            strobes.append(t)
    return out


async def run(dut, events: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    length, pc_w = int(dut.LEN.value), int(dut.PC_W.value)
    want_all = expected(events, length)
    dut.rst.value = 1
    dut.strobe.value = 0
    Clock(dut.clk, 10, unit="ns").start()
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    for t, want in enumerate(want_all):
        if t < len(events):
            dut.rst.value, dut.strobe.value = events[t]
        await Timer(1, unit="ns")  # start is combinational from strobe
        got = (
            int(dut.run.value),
            int(dut.pc.value),
            int(dut.overrun.value),
            int(dut.start.value),
        )
        assert got == want, (
            f"cycle {t}: (run, pc, overrun, start)={got}, want {want} (LEN={length} "
            f"PC_W={pc_w}); (rst, strobe) so far {events[: t + 1]}"
        )
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
    assert not any(o for _, _, o, _ in out)
    assert sum(r for r, _, _, _ in out) == length * (len(gaps) + 1)


@cocotb.test()
async def back_to_back_and_short_gaps(dut):
    """Strobes every cycle and LEN-1 apart restart at pc=0; overrun iff LEN > 1, sticky."""
    length = int(dut.LEN.value)
    gaps = [1, 1, 1, max(1, length - 1), length, max(1, length // 2), length + 2]
    out = await run(dut, strobe_train(gaps, tail=length + 5))
    assert out[-1][2] == int(length > 1)


@cocotb.test()
async def strobe_held_over_reset_is_ignored(dut):
    """Upstream's pattern: strobe high through reset and still high in the first one or two
    cycles after it (top.sv registers strobe from a counter that reset holds at 0), then a
    strobe every LEN + 3 cycles: the held strobe starts nothing, the rest run cleanly, no
    overrun. A reset with strobe low accepts a strobe in its very first cycle after it."""
    length = int(dut.LEN.value)
    period = length + 3
    events: list[tuple[int, int]] = []
    held_at = []
    for held in (1, 2):
        held_at.append(len(events) + 3)
        events += [(1, 1)] * 3 + [(0, 1)] * held + [(0, 0)] * period
        events += strobe_train([period] * 3, tail=period)[2:]
    events += [(1, 0)] * 2 + strobe_train([period], tail=period)[2:]
    out = await run(dut, events)
    for t in held_at:
        assert out[t][3] == 0 and out[t + 1][3] == 0, f"strobe held over reset accepted ({t})"
    assert not any(o for _, _, o, _ in out)
    assert sum(s for _, _, _, s in out) == 4 + 4 + 2


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
