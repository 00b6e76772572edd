"""cocotb tests for hdl/wc_drain.sv: one finished group -> one requantised channel per cycle.

Expected outputs are built from the list of loads (load in cycle c with count n shows its
values in cycles c+1 .. c+n; busy in c+1 .. c+n-1), with the requantiser written from the
numerics contract.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_0005


def requant_model(acc: int, relu: bool) -> int:
    y = max(-32768, min(32767, acc >> 12))
    return max(y, 0) if relu else y


@dataclass
class Params:
    q: int
    acc_w: int
    ch_w: int
    tag_w: int

    @classmethod
    def of(cls, dut) -> Params:
        return cls(*(int(getattr(dut, n).value) for n in ("Q", "ACC_W", "CH_W", "TAG_W")))


@dataclass
class Load:
    accs: list[int]  # Q signed columns
    base: int
    count: int
    relu: int
    tag: int


def random_acc(p: Params, rng: random.Random) -> int:
    lo, hi = -(1 << (p.acc_w - 1)), (1 << (p.acc_w - 1)) - 1
    edge = 32767 << 12
    v = rng.choice(
        [
            rng.randint(-(1 << 28), 1 << 28),  # in range, both signs
            rng.randint(-(1 << 28), 1 << 28),
            rng.randint(lo, hi),  # anywhere (mostly saturating)
            rng.choice([edge, edge + 4095, edge + 4096, -edge - 4096, -edge - 4097, -1, 0, lo, hi]),
        ]
    )
    return max(lo, min(hi, v))


def random_load(p: Params, rng: random.Random, count: int | None = None) -> Load:
    return Load(
        accs=[random_acc(p, rng) for _ in range(p.q)],
        base=rng.randrange(1 << p.ch_w),
        count=rng.randint(1, p.q) if count is None else count,
        relu=rng.randint(0, 1),
        tag=rng.randrange(1 << p.tag_w),
    )


def drive(dut, p: Params, load: Load | None, rng: random.Random) -> None:
    """Apply one cycle's inputs; without a load the data inputs carry random junk."""
    if load is None:
        load_bit, junk = 0, random_load(p, rng)
        load = Load(junk.accs, junk.base, rng.randrange(1 << (p.ch_w + 1)), junk.relu, junk.tag)
    else:
        load_bit = 1
    mask = (1 << p.acc_w) - 1
    dut.load.value = load_bit
    dut.acc.value = sum((a & mask) << (i * p.acc_w) for i, a in enumerate(load.accs))
    dut.base.value = load.base
    dut.count.value = load.count
    dut.relu.value = load.relu
    dut.tag.value = load.tag


def expected_outputs(p: Params, schedule: dict[int, Load], n_cycles: int):
    """Per cycle: (valid, (ch, value, tag) or None, busy) for a collision-free schedule."""
    emits: dict[int, tuple[int, int, int]] = {}
    busy = [0] * (n_cycles + 1)
    for c, ld in schedule.items():
        for q in range(ld.count):
            assert c + 1 + q not in emits, "test bug: schedule collides"
            value = requant_model(ld.accs[q], bool(ld.relu))
            emits[c + 1 + q] = ((ld.base + q) % (1 << p.ch_w), value, ld.tag)
        for t in range(c + 1, min(c + ld.count, n_cycles + 1)):
            busy[t] = 1
    return [(int(t in emits), emits.get(t), busy[t]) for t in range(n_cycles + 1)]


async def reset(dut, p: Params) -> None:
    dut.rst.value = 1
    drive(dut, p, None, random.Random(0))
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run_schedule(dut, p: Params, schedule: dict[int, Load], n_cycles: int, seed: int):
    """Drive loads at the given cycles and check every output in every cycle."""
    rng = random.Random(seed)
    want = expected_outputs(p, schedule, n_cycles)
    emitted = 0
    for t in range(n_cycles + 1):
        valid, emit, busy = want[t]
        got_valid, got_busy = int(dut.out_valid.value), int(dut.busy.value)
        assert (got_valid, got_busy) == (valid, busy), (
            f"cycle {t}: (out_valid, busy)=({got_valid}, {got_busy}), want ({valid}, {busy}) {p}"
        )
        if valid:
            got = (int(dut.out_ch.value), dut.out_value.value.to_signed(), int(dut.out_tag.value))
            assert got == emit, f"cycle {t}: (ch, value, tag)={got}, want {emit} {p}"
            emitted += 1
        assert int(dut.collision.value) == 0, f"cycle {t}: collision without a colliding load"
        if t < n_cycles:
            drive(dut, p, schedule.get(t), rng)
        await FallingEdge(dut.clk)
    return emitted


def build_schedule(p: Params, rng: random.Random, n_loads: int, extra_gaps: list[int]):
    """Loads with random counts; each next load n + (a random extra gap) cycles later."""
    schedule: dict[int, Load] = {}
    c = 1
    for _ in range(n_loads):
        ld = random_load(p, rng)
        schedule[c] = ld
        c += ld.count + rng.choice(extra_gaps)
    return schedule, c + p.q + 2


@cocotb.test()
async def back_to_back_groups(dut):
    """Every load exactly n cycles after the previous one: a continuous stream of values."""
    p = Params.of(dut)
    rng = random.Random(SEED + p.q)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, n = build_schedule(p, rng, 150, extra_gaps=[0])
    emitted = await run_schedule(dut, p, schedule, n, SEED)
    assert emitted == sum(ld.count for ld in schedule.values())


@cocotb.test()
async def gaps_counts_relu_saturation(dut):
    """Random gaps, every count 1..Q (so counts < Q), relu on/off, saturating columns."""
    p = Params.of(dut)
    rng = random.Random(SEED + 7 * p.q + p.acc_w)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, n = build_schedule(p, rng, 150, extra_gaps=[0, 0, 1, 2, 5])
    # a group per count, with every column saturating high/low or a ReLU-zeroed negative
    c = n
    big = (1 << (p.acc_w - 1)) - 1
    extremes = [big, -big - 1, -(1 << 12) - 1, 32767 << 12]
    for count in range(1, p.q + 1):
        for relu in (0, 1):
            accs = [extremes[(i + count) % 4] for i in range(p.q)]
            base, tag = rng.randrange(1 << p.ch_w), count % (1 << p.tag_w)
            schedule[c] = Load(accs, base, count, relu, tag)
            c += count
    await run_schedule(dut, p, schedule, c + p.q + 2, SEED + 1)


@cocotb.test()
async def collision_is_sticky_until_reset(dut):
    """A load one cycle too early (c+n-1) sets collision; it stays set until rst."""
    p = Params.of(dut)
    rng = random.Random(SEED + 99)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    if p.q == 1:
        # count=1 never leaves anything behind: loads in every cycle are legal
        schedule = {t: random_load(p, rng, count=1) for t in range(1, 40)}
        await run_schedule(dut, p, schedule, 42, SEED + 2)
        return
    n = p.q
    drive(dut, p, random_load(p, rng, count=n), rng)  # load in cycle 0
    await FallingEdge(dut.clk)
    for _ in range(n - 2):  # cycles 1 .. n-2: busy, no load
        assert int(dut.busy.value) == 1
        drive(dut, p, None, rng)
        await FallingEdge(dut.clk)
    assert int(dut.busy.value) == 1 and int(dut.collision.value) == 0
    drive(dut, p, random_load(p, rng), rng)  # cycle n-1: collides
    await FallingEdge(dut.clk)
    for _ in range(2 * p.q + 5):
        assert int(dut.collision.value) == 1
        drive(dut, p, None, rng)
        await FallingEdge(dut.clk)
    await reset(dut, p)
    assert int(dut.collision.value) == 0 and int(dut.out_valid.value) == 0
    assert int(dut.busy.value) == 0
    # works normally again after the reset
    schedule, cycles = build_schedule(p, rng, 20, extra_gaps=[0, 1])
    await run_schedule(dut, p, schedule, cycles, SEED + 3)
