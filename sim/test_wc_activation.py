"""cocotb bench for hdl/wc_activation.sv against an independent model written from the rules.

The model is plain Python ints (nothing from wavecomp): ``>>`` is floor, clamp is to int16,
R0 = 2048 and r = 32 for HALF_UP = 1, both 0 for HALF_UP = 0.

- pass: y = p; leaky_relu: y = p if p >= 0 else clamp((p*slope + R0) >> 12);
- pwl with table L: u = p + 32768, i = u >> 6, f = u & 63, y = L[i] + (((L[i+1]-L[i])*f + r) >> 6);
- gated (C = in_half): channel ch < C stores pwl(table_a, p) in entry ch and shows nothing;
  channel ch >= C shows y = clamp((buf[ch-C] * pwl(table_b, p) + R0) >> 12) as ch - C.

Timing contract (the module's LATENCY = 7, counted like wc_drain): a beat driven with
in_valid=1 in cycle c shows in cycle c+7 (out_valid, out_ch, out_y, out_tag); in every other
cycle out_valid = 0. A reset in any of the cycles c .. c+6 drops the beat; beats driven while
rst = 1 are dropped. Every output is checked in every cycle.

Tables: ``make_tables(n, seed)`` builds them from a seed (table t: t % 3 = 0 arbitrary int16
with -32768/32767 knots and full-scale jumps between neighbours, 1 monotone tanh-like, 2
monotone sigmoid-like); the pytest side writes L[0..1023] with ``write_table_image`` into the
build folder, passes the path as TABLE_FILE, the last knots L[1024] as TABLE_ENDS
(``table_ends``) and the seed in $WC_ACT_TABLE_SEED; this bench rebuilds the same tables from
the seed (it never reads the file), so a wrong image load, word order, knot pair or last knot
shows up as a mismatch (every table's L[1024] differs from its L[0], the word port B wraps to
in the last segment).
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_000A
LATENCY = 7
TABLE_SEED_ENV = "WC_ACT_TABLE_SEED"
KNOTS = 1025  # L[0..1024]: L[0..1023] in TABLE_FILE, L[1024] in TABLE_ENDS
SPECIAL_P = (-32768, -32767, -1, 0, 1, 32767)
SPECIAL_SLOPES = (-32768, 32767, 0, 1, -1, 4096, -4096, 410)
PASS, LEAKY, PWL, GATED = 0, 1, 2, 3


def clamp16(v: int) -> int:
    return max(-32768, min(32767, v))


# ---- tables -------------------------------------------------------------------------------
def knot_x(i: int) -> float:
    """The pre-activation (as a real value) of knot i: p = 64 i - 32768 in Q4.12."""
    return (64 * i - 32768) / 4096


def arbitrary_table(rng: random.Random) -> list[int]:
    """Runs of full-range noise, alternating extremes, small values, constants and ramps, with
    -32768/32767 knots at both ends and full-scale jumps between neighbours (L[1024] = 32767,
    L[0] = -32768)."""
    table: list[int] = []
    while len(table) < KNOTS:
        n = rng.randint(1, 40)
        kind = rng.randrange(5)
        if kind == 0:
            run = [rng.randint(-32768, 32767) for _ in range(n)]
        elif kind == 1:
            run = [rng.choice((-32768, 32767)) for _ in range(n)]
        elif kind == 2:
            run = [rng.randint(-300, 300) for _ in range(n)]
        elif kind == 3:
            run = [rng.randint(-32768, 32767)] * n
        else:
            a, b = rng.randint(-32768, 32767), rng.randint(-32768, 32767)
            run = [a + (b - a) * k // n for k in range(n)]
        table += run
    table = table[:KNOTS]
    table[0], table[1], table[-2], table[-1] = -32768, 32767, -32768, 32767
    return table


def tanh_table(rng: random.Random) -> list[int]:
    amp = rng.choice([4096, rng.randint(1000, 32767), 32767]) * rng.choice([1, -1])
    x0, w = rng.uniform(-2, 2), rng.uniform(0.05, 3)
    return [clamp16(round(amp * math.tanh((knot_x(i) - x0) / w))) for i in range(KNOTS)]


def sigmoid_table(rng: random.Random) -> list[int]:
    amp = rng.choice([4096, rng.randint(1000, 32767), 32767])
    x0, w = rng.uniform(-2, 2), rng.uniform(0.05, 3)
    lo = rng.choice([0, 0, -amp // 2])
    return [clamp16(lo + round(amp / (1 + math.exp(-(knot_x(i) - x0) / w)))) for i in range(KNOTS)]


def make_tables(n_tables: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    kinds = (arbitrary_table, tanh_table, sigmoid_table)
    return [kinds[t % 3](rng) for t in range(n_tables)]


def write_table_image(path: Path, tables: list[list[int]]) -> None:
    """$readmemh image: word t*1024 + i = L_t[i] (i < 1024) as 4 hex digits."""
    path.write_text("".join(f"{v & 0xFFFF:04x}\n" for table in tables for v in table[:-1]))


def table_ends(tables: list[list[int]]) -> str:
    """The TABLE_ENDS literal: L_t[1024] at [16*t +: 16]."""
    packed = sum((table[-1] & 0xFFFF) << (16 * t) for t, table in enumerate(tables))
    return f"{16 * len(tables)}'h{packed:x}"


# ---- the model ----------------------------------------------------------------------------
@dataclass
class Params:
    n_tables: int
    tbl_w: int
    ch_w: int
    tag_w: int
    gate_depth: int
    half_up: int

    @classmethod
    def of(cls, dut) -> Params:
        names = ("N_TABLES", "TBL_W", "CH_W", "TAG_W", "GATE_DEPTH", "HALF_UP")
        p = cls(*(int(getattr(dut, n).value) for n in names))
        assert p.n_tables <= 1 << p.tbl_w and p.gate_depth <= 1 << p.ch_w, p
        return p

    @property
    def max_half(self) -> int:
        """Largest C of a gated node: 2C channels fit CH_W bits and C entries the buffer."""
        return min(self.gate_depth, 1 << (self.ch_w - 1))


@dataclass
class Beat:
    mode: int
    ch: int
    p: int
    slope: int
    table_a: int
    table_b: int
    half: int
    tag: int


class Model:
    def __init__(self, prm: Params, tables: list[list[int]]):
        self.tables = tables
        self.r0 = 2048 if prm.half_up else 0
        self.r = 32 if prm.half_up else 0
        self.buf: dict[int, int] = {}  # gate buffer entries written since the last reset

    def pwl(self, t: int, p: int) -> int:
        table = self.tables[t]
        u = p + 32768
        i, f = u >> 6, u & 63
        return table[i] + (((table[i + 1] - table[i]) * f + self.r) >> 6)

    def beat(self, b: Beat) -> tuple[int, int, int] | None:
        """(out_ch, out_y, out_tag) for a beat, or None for a gated first half."""
        if b.mode == PASS:
            return b.ch, b.p, b.tag
        if b.mode == LEAKY:
            y = b.p if b.p >= 0 else clamp16((b.p * b.slope + self.r0) >> 12)
            return b.ch, y, b.tag
        if b.mode == PWL:
            return b.ch, self.pwl(b.table_a, b.p), b.tag
        if b.ch < b.half:
            self.buf[b.ch] = self.pwl(b.table_a, b.p)
            return None
        entry = b.ch - b.half
        assert entry in self.buf, f"bench bug: gate entry {entry} read before it was written"
        y = clamp16((self.buf[entry] * self.pwl(b.table_b, b.p) + self.r0) >> 12)
        return entry, y, b.tag


# ---- stimulus -----------------------------------------------------------------------------
def boundary_p(rng: random.Random) -> int:
    """p at a table boundary: u a multiple of 64 (a knot), or one either side."""
    u = 64 * rng.randrange(1025) + rng.choice((-1, 0, 1))
    return max(0, min(65535, u)) - 32768


def random_p(rng: random.Random) -> int:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(SPECIAL_P)
    if kind == 1:
        return boundary_p(rng)
    if kind == 2:
        return rng.randint(-6000, 6000)
    return rng.randint(-32768, 32767)


def random_slope(rng: random.Random) -> int:
    if rng.random() < 0.3:
        return rng.choice(SPECIAL_SLOPES)
    return rng.randint(-32768, 32767) if rng.random() < 0.5 else rng.randint(0, 4096)


class Stimulus:
    def __init__(self, prm: Params, rng: random.Random):
        self.prm, self.rng = prm, rng

    def table(self) -> int:
        return self.rng.randrange(self.prm.n_tables)

    def junk(self, mode: int | None = None) -> Beat:
        """A beat with every field random (the fields a mode ignores stay random)."""
        rng, prm = self.rng, self.prm
        return Beat(
            mode=rng.randrange(4) if mode is None else mode,
            ch=rng.randrange(1 << prm.ch_w),
            p=random_p(rng),
            slope=random_slope(rng),
            table_a=self.table(),
            table_b=self.table(),
            half=rng.randrange(1 << prm.ch_w),
            tag=rng.randrange(1 << prm.tag_w),
        )

    def single(self) -> Beat:
        """A pass, leaky_relu or pwl beat."""
        return self.junk(self.rng.choice((PASS, LEAKY, PWL)))

    def gated_node(self, half: int | None = None) -> list[Beat]:
        """A gated node's 2C beats: first half (any order), then second half (any order),
        often with the second half starting on the entry the first half wrote last."""
        rng = self.rng
        c = half or rng.choice((1, self.prm.max_half, rng.randint(1, self.prm.max_half)))
        ta, tb = self.table(), self.table()
        first, second = list(range(c)), list(range(c))
        if rng.random() < 0.5:
            rng.shuffle(first)
        if rng.random() < 0.5:
            rng.shuffle(second)
        if rng.random() < 0.5:  # the immediate follow: the entry just written is read first
            second.remove(first[-1])
            second.insert(0, first[-1])
        beats = []
        for ch in first + [c + e for e in second]:
            b = self.junk(GATED)
            b.ch, b.half = ch, c
            # the table a half ignores carries junk
            b.table_a, b.table_b = (ta, b.table_b) if ch < c else (b.table_a, tb)
            beats.append(b)
        return beats

    def stream(self, n: int, bubble: float, gated: float, interleave: float) -> list[Beat | None]:
        """n cycles: single beats, bubbles (probability `bubble`) and gated nodes (a share
        `gated` of the starts), with singles/bubbles between a node's beats (`interleave`)."""
        rng = self.rng
        out: list[Beat | None] = []

        def filler() -> Beat | None:
            return None if rng.random() < bubble else self.single()

        while len(out) < n:
            if rng.random() < gated:
                for b in self.gated_node():
                    while rng.random() < interleave:
                        out.append(filler())
                    out.append(b)
            else:
                out.append(filler())
        return out[:n]


# ---- driving and checking -----------------------------------------------------------------
@dataclass
class Cycle:
    rst: int
    beat: Beat | None  # None: in_valid = 0 (junk on the other inputs)


def drive(dut, beat: Beat, valid: int) -> None:
    dut.in_valid.value = valid
    dut.in_ch.value = beat.ch
    dut.in_p.value = beat.p & 0xFFFF
    dut.in_tag.value = beat.tag
    dut.in_mode.value = beat.mode
    dut.in_slope.value = beat.slope & 0xFFFF
    dut.in_table_a.value = beat.table_a
    dut.in_table_b.value = beat.table_b
    dut.in_half.value = beat.half


def expected(prm: Params, tables: list[list[int]], cycles: list[Cycle]) -> dict[int, tuple]:
    """Cycle -> (out_ch, out_y, out_tag) for every cycle with out_valid = 1. A reset starts
    a fresh model (the bench never reads a gate entry written before it)."""
    model = Model(prm, tables)
    rst_cycles = [c for c, cy in enumerate(cycles) if cy.rst]
    want = {}
    for c, cy in enumerate(cycles):
        if cy.rst:
            model = Model(prm, tables)
            continue
        if cy.beat is None:
            continue
        out = model.beat(cy.beat)
        if out is not None and not any(c <= r <= c + LATENCY - 1 for r in rst_cycles):
            want[c + LATENCY] = out
    return want


async def run(dut, prm: Params, tables: list[list[int]], cycles: list[Cycle], seed: int) -> int:
    """Drive the cycles (after a 2-cycle reset) and check every output in every cycle.
    Returns the number of outputs checked."""
    rng = random.Random(seed)
    stim = Stimulus(prm, rng)
    cycles = [Cycle(1, None), Cycle(1, stim.junk()), *cycles]
    cycles += [Cycle(0, None)] * (LATENCY + 2)
    want = expected(prm, tables, cycles)
    shown = 0
    for t, cy in enumerate(cycles):
        if t >= 1:  # cycle 0 shows the random power-up state
            valid = int(dut.out_valid.value)
            assert valid == int(t in want), f"cycle {t}: out_valid={valid}, want {t in want} {prm}"
            if valid:
                y = int(dut.out_y.value)
                got = (int(dut.out_ch.value), y - ((y >> 15) << 16), int(dut.out_tag.value))
                assert got == want[t], (
                    f"cycle {t}: (out_ch, out_y, out_tag)={got}, want {want[t]}; input "
                    f"{cycles[t - LATENCY]} {prm}"
                )
                shown += 1
        dut.rst.value = cy.rst
        if cy.beat is None:
            drive(dut, stim.junk(), 0)
        else:
            drive(dut, cy.beat, 1)
        await FallingEdge(dut.clk)
    assert shown == len(want)
    return shown


async def setup(dut, salt: int) -> tuple[Params, list[list[int]], Stimulus]:
    prm = Params.of(dut)
    assert int(dut.LATENCY.value) == LATENCY, f"LATENCY={int(dut.LATENCY.value)}"
    tables = make_tables(prm.n_tables, int(os.environ[TABLE_SEED_ENV]))
    Clock(dut.clk, 10, unit="ns").start()
    rng = random.Random(SEED + salt + 1000 * prm.n_tables + 77 * prm.ch_w + prm.tag_w)
    return prm, tables, Stimulus(prm, rng)


@cocotb.test()
async def random_interleaved_stream(dut):
    """All modes interleaved, random bubbles, gated nodes with singles between their beats."""
    prm, tables, stim = await setup(dut, 1)
    cycles = [Cycle(0, b) for b in stim.stream(6000, bubble=0.3, gated=0.15, interleave=0.3)]
    shown = await run(dut, prm, tables, cycles, SEED + 1)
    dut._log.info(f"{len(cycles)} cycles, {shown} outputs checked")


@cocotb.test()
async def back_to_back(dut):
    """No bubbles: singles and gated nodes back to back (C = 1 nodes, full-size nodes, the
    second half right after the first)."""
    prm, tables, stim = await setup(dut, 2)
    beats: list[Beat | None] = []
    for _ in range(150):
        beats += stim.gated_node(half=1)
    while len(beats) < 6000:
        beats += stim.gated_node() if stim.rng.random() < 0.3 else [stim.single()]
    shown = await run(dut, prm, tables, [Cycle(0, b) for b in beats], SEED + 2)
    dut._log.info(f"{len(beats)} beats, {shown} outputs checked")


@cocotb.test()
async def every_table_boundary(dut):
    """pwl on every table at every knot (u = 64k) and one either side; leaky_relu at every
    special p with every special slope; pass at the special p; gated on the boundaries."""
    prm, tables, stim = await setup(dut, 3)
    beats: list[Beat | None] = []
    for t in range(prm.n_tables):
        for k in range(1025):
            for d in (-1, 0, 1):
                u = 64 * k + d
                if 0 <= u <= 65535:
                    b = stim.junk(PWL)
                    b.table_a, b.p = t, u - 32768
                    beats.append(b)
    for p in (*SPECIAL_P, -2, -4096, 4096, -12345):
        for slope in SPECIAL_SLOPES:
            b = stim.junk(LEAKY)
            b.p, b.slope = p, slope
            beats.append(b)
        b = stim.junk(PASS)
        b.p = p
        beats.append(b)
    for _ in range(300):  # gated nodes on boundary and special inputs only
        for b in stim.gated_node():
            b.p = stim.rng.choice(SPECIAL_P) if stim.rng.random() < 0.2 else boundary_p(stim.rng)
            beats.append(b)
    shown = await run(dut, prm, tables, [Cycle(0, b) for b in beats], SEED + 3)
    dut._log.info(f"{len(beats)} beats, {shown} outputs checked")


@cocotb.test()
async def resets_mid_stream(dut):
    """Resets of 1-3 cycles at random points (inside gated nodes too), with valid beats
    driven during reset; in-flight beats are dropped, the stream restarts after each."""
    prm, tables, stim = await setup(dut, 4)
    cycles: list[Cycle] = []
    while len(cycles) < 5000:
        n = stim.rng.choice((1, 3, 6, 7, stim.rng.randint(1, 200)))
        cycles += [Cycle(0, b) for b in stim.stream(n, bubble=0.2, gated=0.3, interleave=0.2)]
        for _ in range(stim.rng.choice((1, 1, 2, 3))):
            cycles.append(Cycle(1, stim.junk() if stim.rng.random() < 0.7 else None))
    shown = await run(dut, prm, tables, cycles, SEED + 4)
    dut._log.info(f"{len(cycles)} cycles, {shown} outputs checked")
