"""cocotb tests for hdl/wc_drain.sv: one finished group -> up to D requantised channels per cycle.

Expected outputs are built from the list of loads, straight from the interface contract: a load
in cycle c with count n shows B = ceil(n/D) beats in cycles c+1 .. c+B; beat j carries columns
jD .. min(jD+D, n)-1 in lanes 0.., out_ch = base+jD, out_lanes = the low min(D, n-jD) bits;
busy in c+1 .. c+B-1. A load in cycle c' <= c+B-1 (while busy) collides: the sticky collision
rises in c'+1 and the new group replaces what was left of the old one. The requantiser is
written from the numerics contract.
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
    d: int
    acc_w: int
    ch_w: int
    tag_w: int

    @classmethod
    def of(cls, dut) -> Params:
        p = cls(*(int(getattr(dut, n).value) for n in ("Q", "D", "ACC_W", "CH_W", "TAG_W")))
        assert 1 <= p.d <= p.q < (1 << (p.ch_w + 1)), f"bad parameter set {p}"
        assert len(dut.out_lanes) == p.d and len(dut.out_value) == 16 * p.d, p
        return p

    def beats(self, count: int) -> int:
        return -(-count // self.d)


@dataclass
class Load:
    accs: list[int]  # Q signed columns
    base: int
    count: int
    relu: int
    tag: int


@dataclass(frozen=True)
class Beat:
    lanes: int  # out_lanes mask
    ch: int
    values: tuple[int, ...]  # one per set lane, lane 0 first
    tag: int


def group_beats(p: Params, ld: Load) -> list[Beat]:
    """The beats a load shows, in order (the contract, written out)."""
    beats = []
    for j in range(p.beats(ld.count)):
        cols = range(j * p.d, min(j * p.d + p.d, ld.count))
        values = tuple(requant_model(ld.accs[q], bool(ld.relu)) for q in cols)
        ch = (ld.base + j * p.d) % (1 << p.ch_w)
        beats.append(Beat((1 << len(cols)) - 1, ch, values, ld.tag))
    return beats


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
    """Per cycle 0..n_cycles: (beat or None, busy, collision) for any schedule.

    A load's beats (and busy cycles) stop at the next load, which replaces the rest of the
    group; a next load while busy is a collision, seen from the cycle after it on.
    """
    loads = sorted(schedule)
    beats: dict[int, Beat] = {}
    busy = [0] * (n_cycles + 1)
    collided_at = n_cycles + 1
    for k, c in enumerate(loads):
        stop = loads[k + 1] if k + 1 < len(loads) else n_cycles + 1  # the next load's cycle
        n_beats = p.beats(schedule[c].count)
        for j, beat in enumerate(group_beats(p, schedule[c])):
            if c + 1 + j <= min(stop, n_cycles):
                beats[c + 1 + j] = beat
        for t in range(c + 1, min(c + n_beats - 1, stop, n_cycles) + 1):
            busy[t] = 1
        if stop <= c + n_beats - 1:
            collided_at = min(collided_at, stop + 1)
    return [(beats.get(t), busy[t], int(t >= collided_at)) for t in range(n_cycles + 1)]


def lane_values(dut, p: Params, lanes: int) -> tuple[int, ...]:
    """Signed values of the set lanes of out_value (the set lanes are always 0..k-1)."""
    bus = int(dut.out_value.value)
    words = [(bus >> (16 * i)) & 0xFFFF for i in range(p.d) if lanes >> i & 1]
    return tuple(w - (1 << 16) if w >> 15 else w for w in words)


async def reset(dut, p: Params) -> None:
    dut.rst.value = 1
    drive(dut, p, None, random.Random(0))
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run_schedule(dut, p: Params, schedule: dict[int, Load], n_cycles: int, seed: int):
    """From just after a reset: drive loads at the given cycles and check every output in
    every cycle. Returns the number of channels shown."""
    rng = random.Random(seed)
    want = expected_outputs(p, schedule, n_cycles)
    shown = 0
    for t in range(n_cycles + 1):
        beat, busy, collision = want[t]
        got = tuple(int(s.value) for s in (dut.out_valid, dut.out_lanes, dut.busy, dut.collision))
        lanes = beat.lanes if beat else 0
        assert got == (int(beat is not None), lanes, busy, collision), (
            f"cycle {t}: (out_valid, out_lanes, busy, collision)={got}, "
            f"want {(int(beat is not None), lanes, busy, collision)} {p}"
        )
        if beat:
            got_beat = Beat(lanes, int(dut.out_ch.value), lane_values(dut, p, lanes),
                            int(dut.out_tag.value))  # fmt: skip
            assert got_beat == beat, f"cycle {t}: {got_beat}, want {beat} {p}"
            shown += len(beat.values)
        if t < n_cycles:
            drive(dut, p, schedule.get(t), rng)
        await FallingEdge(dut.clk)
    return shown


def build_schedule(p: Params, rng: random.Random, n_loads: int, extra_gaps: list[int],
                   counts: list[int] | None = None):  # fmt: skip
    """Loads with random counts; each next load B = ceil(n/D) cycles (at least 1) plus a
    random extra gap later, so none collides."""
    schedule: dict[int, Load] = {}
    c = 1
    for _ in range(n_loads):
        ld = random_load(p, rng, count=rng.choice(counts) if counts else None)
        schedule[c] = ld
        c += max(p.beats(ld.count), 1) + rng.choice(extra_gaps)
    return schedule, c + p.beats(p.q) + 2


@cocotb.test()
async def back_to_back_groups(dut):
    """Every load exactly B = ceil(n/D) cycles after the previous one: a continuous stream."""
    p = Params.of(dut)
    rng = random.Random(SEED + 13 * p.q + p.d)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, n = build_schedule(p, rng, 150, extra_gaps=[0])
    shown = await run_schedule(dut, p, schedule, n, SEED)
    assert shown == sum(ld.count for ld in schedule.values())
    # the same with full groups only (n = Q)
    await reset(dut, p)
    schedule, n = build_schedule(p, rng, 40, extra_gaps=[0], counts=[p.q])
    shown = await run_schedule(dut, p, schedule, n, SEED + 4)
    assert shown == 40 * p.q


@cocotb.test()
async def gaps_counts_relu_saturation(dut):
    """Random gaps, every count 0..Q (n < Q, n = Q, n not a multiple of D, n = 0), relu on/off,
    saturating columns."""
    p = Params.of(dut)
    rng = random.Random(SEED + 7 * p.q + p.acc_w + 101 * p.d)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, n = build_schedule(
        p, rng, 150, extra_gaps=[0, 0, 1, 2, 5], counts=list(range(p.q + 1))
    )
    # a group per count, with every column saturating high/low or a ReLU-zeroed negative
    c = n
    big = (1 << (p.acc_w - 1)) - 1
    extremes = [big, -big - 1, -(1 << 12) - 1, 32767 << 12, (32767 << 12) + 4095, -(1 << 27)]
    for count in range(p.q + 1):
        for relu in (0, 1):
            accs = [extremes[(i + count) % len(extremes)] for i in range(p.q)]
            base, tag = rng.randrange(1 << p.ch_w), count % (1 << p.tag_w)
            schedule[c] = Load(accs, base, count, relu, tag)
            c += max(p.beats(count), 1)
    await run_schedule(dut, p, schedule, c + p.beats(p.q) + 2, SEED + 1)


@cocotb.test()
async def collision_is_sticky_until_reset(dut):
    """A load one cycle too early (c+B-1, or earlier) sets collision; it stays set until rst,
    and the new group replaces the rest of the old one."""
    p = Params.of(dut)
    rng = random.Random(SEED + 99 + p.d)
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    full = p.beats(p.q)
    if full == 1:
        # a group never outlasts its load cycle's next cycle: loads in every cycle are legal
        schedule = {t: random_load(p, rng, count=rng.randint(0, p.q)) for t in range(1, 40)}
        await run_schedule(dut, p, schedule, 42, SEED + 2)
        return
    for k, early in enumerate(sorted({full - 1, rng.randint(1, full - 1), 1})):
        # a full group at cycle 1, the next load `early` cycles later (B = full is legal),
        # then a few legal loads: collision from cycle 2 + early on
        schedule = {1: random_load(p, rng, count=p.q)}
        c = 1 + early
        for _ in range(6):
            schedule[c] = random_load(p, rng, count=rng.randint(0, p.q))
            c += max(p.beats(schedule[c].count), 1)
        await run_schedule(dut, p, schedule, c + 2 * full + 5, SEED + 10 + k)
        assert int(dut.collision.value) == 1
        await reset(dut, p)
        assert int(dut.collision.value) == 0 and int(dut.out_valid.value) == 0
        assert int(dut.busy.value) == 0 and int(dut.out_lanes.value) == 0
    # works normally again after the reset
    schedule, cycles = build_schedule(p, rng, 20, extra_gaps=[0, 1])
    await run_schedule(dut, p, schedule, cycles, SEED + 3)
