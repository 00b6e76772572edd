"""cocotb tests for hdl/wc_drain.sv: one finished group -> up to D requantised channels per cycle
(a wide group) or one per cycle (a narrow group).

Expected outputs are built from the list of loads, straight from the interface contract: a load
in cycle c with count n shows B beats in cycles c+1 .. c+B. Wide: B = ceil(n/D), beat j carries
columns jD .. min(jD+D, n)-1 in lanes 0.., out_ch = base+jD, out_lanes = the low min(D, n-jD)
bits. Narrow: B = n, beat j carries column j in lane 0, out_ch = base+j, out_lanes = 1. Busy in
c+1 .. c+B-1. A load in cycle c' <= c+B-1 (while busy) collides: the sticky collision rises in
c'+1 and the new group replaces what was left of the old one. The requantiser (with the group's
weight shift 0..MAX_SHIFT) is written from the numerics contract. A NARROW = 0 drain gets only
wide groups (it ignores the narrow input).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_0005


def requant_model(acc: int, shift: int, relu: bool) -> int:
    y = max(-32768, min(32767, acc >> (12 + shift)))
    return max(y, 0) if relu else y


@dataclass
class Params:
    q: int
    d: int
    acc_w: int
    ch_w: int
    tag_w: int
    max_shift: int
    narrow: int  # the NARROW parameter: 1 if narrow groups can occur

    @classmethod
    def of(cls, dut) -> Params:
        names = ("Q", "D", "ACC_W", "CH_W", "TAG_W", "MAX_SHIFT", "NARROW")
        p = cls(*(int(getattr(dut, n).value) for n in names))
        assert 1 <= p.d <= p.q < (1 << (p.ch_w + 1)), f"bad parameter set {p}"
        assert 0 <= p.max_shift <= 3 and p.acc_w >= 29 + p.max_shift, f"bad parameter set {p}"
        assert len(dut.out_lanes) == p.d and len(dut.out_value) == 16 * p.d, p
        return p

    def beats(self, count: int, narrow: int = 0) -> int:
        return count if narrow else -(-count // self.d)


@dataclass
class Load:
    accs: list[int]  # Q signed columns
    base: int
    count: int
    relu: int
    tag: int
    shift: int = 0
    narrow: int = 0


@dataclass(frozen=True)
class Beat:
    lanes: int  # out_lanes mask
    ch: int
    values: tuple[int, ...]  # one per set lane, lane 0 first
    tag: int


def load_beats(p: Params, ld: Load) -> int:
    return p.beats(ld.count, ld.narrow)


def group_beats(p: Params, ld: Load) -> list[Beat]:
    """The beats a load shows, in order (the contract, written out)."""
    width = 1 if ld.narrow else p.d  # columns per beat
    beats = []
    for j in range(load_beats(p, ld)):
        cols = range(j * width, min(j * width + width, ld.count))
        values = tuple(requant_model(ld.accs[q], ld.shift, bool(ld.relu)) for q in cols)
        ch = (ld.base + j * width) % (1 << p.ch_w)
        beats.append(Beat((1 << len(cols)) - 1, ch, values, ld.tag))
    return beats


def clamp_acc(p: Params, v: int) -> int:
    return max(-(1 << (p.acc_w - 1)), min((1 << (p.acc_w - 1)) - 1, v))


def edge_values(p: Params, shift: int) -> list[int]:
    """Accumulators at and just past the saturation edges for this shift, the ReLU edge, the
    accumulator's extremes."""
    one = 1 << (12 + shift)  # one output step
    lo, hi = -(1 << (p.acc_w - 1)), (1 << (p.acc_w - 1)) - 1
    values = [32767 * one, 32768 * one - 1, 32768 * one, -32768 * one, -32768 * one - 1]
    values += [-one - 1, -one, -1, 0, one - 1, one, -(1 << (27 + shift)), lo, hi]
    return [clamp_acc(p, v) for v in values]


def random_acc(p: Params, rng: random.Random) -> int:
    shift = rng.randint(0, p.max_shift)  # near the range of some shift the group may have
    v = rng.choice(
        [
            rng.randint(-(1 << (28 + shift)), 1 << (28 + shift)),  # in range, both signs
            rng.randint(-(1 << (28 + shift)), 1 << (28 + shift)),
            rng.randint(-(1 << (p.acc_w - 1)), (1 << (p.acc_w - 1)) - 1),  # mostly saturating
            rng.choice(edge_values(p, shift)),
        ]
    )
    return clamp_acc(p, v)


def random_load(p: Params, rng: random.Random, count: int | None = None,
                narrow: int | None = None) -> Load:  # fmt: skip
    return Load(
        accs=[random_acc(p, rng) for _ in range(p.q)],
        base=rng.randrange(1 << p.ch_w),
        count=rng.randint(1, p.q) if count is None else count,
        relu=rng.randint(0, 1),
        tag=rng.randrange(1 << p.tag_w),
        shift=rng.randint(0, p.max_shift),
        narrow=rng.randint(0, p.narrow) if narrow is None else narrow,
    )


def drive(dut, p: Params, load: Load | None, rng: random.Random) -> None:
    """Apply one cycle's inputs; without a load the data inputs carry random junk (any shift,
    either narrow)."""
    if load is None:
        load_bit, junk = 0, random_load(p, rng)
        load = Load(junk.accs, junk.base, rng.randrange(1 << (p.ch_w + 1)), junk.relu, junk.tag,
                    rng.randint(0, 3), rng.randint(0, 1))  # fmt: skip
    else:
        load_bit = 1
    mask = (1 << p.acc_w) - 1
    dut.load.value = load_bit
    dut.acc.value = sum((a & mask) << (i * p.acc_w) for i, a in enumerate(load.accs))
    dut.base.value = load.base
    dut.count.value = load.count
    dut.relu.value = load.relu
    dut.shift.value = load.shift
    dut.narrow.value = load.narrow
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
        n_beats = load_beats(p, schedule[c])
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


@dataclass
class Tally:
    """What a test checked: cycles (outputs compared), channels shown, loads driven."""

    cycles: int = 0
    channels: int = 0
    loads: int = 0

    def log(self, dut, p: Params) -> None:
        dut._log.info("%s: %d cycles, %d channels, %d loads checked", p, self.cycles,
                      self.channels, self.loads)  # fmt: skip


async def run_schedule(dut, p: Params, schedule: dict[int, Load], n_cycles: int, seed: int,
                       tally: Tally | None = None) -> int:  # fmt: skip
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
    if tally is not None:
        tally.cycles += n_cycles + 1
        tally.channels += shown
        tally.loads += len(schedule)
    return shown


def build_schedule(p: Params, rng: random.Random, n_loads: int, extra_gaps: list[int],
                   counts: list[int] | None = None, narrow: int | None = None):  # fmt: skip
    """Loads with random counts (and random kinds unless `narrow` is given); each next load B
    cycles (at least 1) plus a random extra gap later, so none collides."""
    schedule: dict[int, Load] = {}
    c = 1
    for _ in range(n_loads):
        ld = random_load(p, rng, count=rng.choice(counts) if counts else None, narrow=narrow)
        schedule[c] = ld
        c += max(load_beats(p, ld), 1) + rng.choice(extra_gaps)
    return schedule, c + p.q + 2


@cocotb.test()
async def back_to_back_groups(dut):
    """Every load exactly B cycles after the previous one: a continuous stream of wide and
    narrow groups mixed, then full groups only, then (NARROW = 1) full narrow groups only."""
    p = Params.of(dut)
    rng = random.Random(SEED + 13 * p.q + p.d + 1000 * p.max_shift)
    tally = Tally()
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, n = build_schedule(p, rng, 200, extra_gaps=[0])
    shown = await run_schedule(dut, p, schedule, n, SEED, tally)
    assert shown == sum(ld.count for ld in schedule.values())
    for k, narrow in enumerate([None, *([1] if p.narrow else [])]):
        await reset(dut, p)
        schedule, n = build_schedule(p, rng, 40, extra_gaps=[0], counts=[p.q], narrow=narrow)
        shown = await run_schedule(dut, p, schedule, n, SEED + 4 + k, tally)
        assert shown == 40 * p.q
    tally.log(dut, p)


@cocotb.test()
async def gaps_counts_relu_shift_saturation(dut):
    """Random gaps, then every count 0..Q (n < Q, n = Q, n not a multiple of D, n = 0) with
    relu on/off, wide and narrow, every shift 0..MAX_SHIFT, columns at the saturation edges
    of that shift."""
    p = Params.of(dut)
    rng = random.Random(SEED + 7 * p.q + p.acc_w + 101 * p.d + 1000 * p.max_shift)
    tally = Tally()
    Clock(dut.clk, 10, unit="ns").start()
    await reset(dut, p)
    schedule, c = build_schedule(
        p, rng, 150, extra_gaps=[0, 0, 1, 2, 5], counts=list(range(p.q + 1))
    )
    for count in range(p.q + 1):
        for relu in (0, 1):
            for narrow in range(p.narrow + 1):
                for shift in range(p.max_shift + 1):
                    edges = edge_values(p, shift)
                    first = rng.randrange(len(edges))
                    accs = [edges[(first + i) % len(edges)] for i in range(p.q)]
                    base, tag = rng.randrange(1 << p.ch_w), count % (1 << p.tag_w)
                    schedule[c] = Load(accs, base, count, relu, tag, shift, narrow)
                    c += max(p.beats(count, narrow), 1) + rng.choice([0, 0, 1])
    await run_schedule(dut, p, schedule, c + p.q + 2, SEED + 1, tally)
    tally.log(dut, p)


@cocotb.test()
async def collision_is_sticky_until_reset(dut):
    """A load one cycle too early (c+B-1, or earlier) after a full wide or narrow group sets
    collision; it stays set until rst, and the new group replaces the rest of the old one."""
    p = Params.of(dut)
    rng = random.Random(SEED + 99 + p.d + 1000 * p.max_shift)
    tally = Tally()
    Clock(dut.clk, 10, unit="ns").start()
    for narrow in range(p.narrow + 1):
        await reset(dut, p)
        full = p.beats(p.q, narrow)
        if full == 1:
            # such a group never outlasts its load cycle's next cycle: loads in every cycle
            # are legal
            schedule = {
                t: random_load(p, rng, count=rng.randint(0, p.q), narrow=narrow)
                for t in range(1, 40)
            }
            await run_schedule(dut, p, schedule, 42, SEED + 2, tally)
            assert int(dut.collision.value) == 0
            continue
        for k, early in enumerate(sorted({full - 1, rng.randint(1, full - 1), 1})):
            # a full group at cycle 1, the next load `early` cycles later (B = full is legal),
            # then a few legal loads of either kind: collision from cycle 2 + early on
            schedule = {1: random_load(p, rng, count=p.q, narrow=narrow)}
            c = 1 + early
            for _ in range(6):
                schedule[c] = random_load(p, rng, count=rng.randint(0, p.q))
                c += max(load_beats(p, schedule[c]), 1)
            await run_schedule(dut, p, schedule, c + p.q + 5, SEED + 10 + k, tally)
            assert int(dut.collision.value) == 1
            await reset(dut, p)
            assert int(dut.collision.value) == 0 and int(dut.out_valid.value) == 0
            assert int(dut.busy.value) == 0 and int(dut.out_lanes.value) == 0
    # works normally again after the reset
    schedule, cycles = build_schedule(p, rng, 20, extra_gaps=[0, 1])
    await run_schedule(dut, p, schedule, cycles, SEED + 3, tally)
    tally.log(dut, p)


@cocotb.test()
async def random_loads_with_collisions(dut):
    """Loads in random cycles (from rare to almost every cycle), random groups of both kinds:
    collisions and replaced groups wherever they fall, every output checked in every cycle."""
    p = Params.of(dut)
    rng = random.Random(SEED + 31 * p.q + p.d + 1000 * p.max_shift)
    tally = Tally()
    Clock(dut.clk, 10, unit="ns").start()
    for k, rate in enumerate([0.1, 0.25, 0.5, 0.9]):
        await reset(dut, p)
        n = 300
        schedule = {
            t: random_load(p, rng, count=rng.randint(0, p.q))
            for t in range(1, n - p.q - 2)
            if rng.random() < rate
        }
        await run_schedule(dut, p, schedule, n, SEED + 20 + k, tally)
    tally.log(dut, p)
