"""cocotb bench for hdl/wc_mac_array.sv against an independent Python model.

Every cycle is checked: out_valid against the exact cycle the model predicts (LATENCY =
3 + clog2(G) cycles after the in_last step), every out_acc column against the exact group sum
when out_valid is high, and out_acc held between pulses. Stimulus is seeded random (groups of
1..20 steps, bubbles inside and between groups, back-to-back groups) with operands at the
Q4.12 range ends (-32768, 32767) mixed in; init values span +-2**(ACC_W-2) (reduced where a
long group could otherwise exceed the ACC_W bound, which the model asserts never happens).
With UNSIGNED_W = 1, a quarter of the steps are unsigned-weight steps (in_wunsigned) whose
weights are what the compiler puts there, powers of two up to 2**15 (0x8000 read unsigned) or
0; with UNSIGNED_W = 0 in_wunsigned is random and must be ignored.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge
from lanes import pack, unpack_signed

EDGE_VALUES = (-32768, 32767, -32767, 0, 1, -1)
MAX_PRODUCT = 32768 * 32768  # |x*w| <= 2**30, reached by (-32768)*(-32768)


@dataclass
class Step:
    valid: int = 0
    first: int = 0
    last: int = 0
    x: list[int] = field(default_factory=list)
    w: list[list[int]] = field(default_factory=list)  # w[g][q]
    init: list[int] = field(default_factory=list)
    rst: int = 0
    wunsigned: int = 0


@dataclass
class Shape:
    G: int
    Q: int
    ACC_W: int
    UNSIGNED_W: int = 0

    @property
    def latency(self) -> int:
        return 3 + math.ceil(math.log2(self.G)) if self.G > 1 else 3


def shape_of(dut) -> Shape:
    return Shape(
        int(dut.G.value), int(dut.Q.value), int(dut.ACC_W.value), int(dut.UNSIGNED_W.value)
    )


def rand_operand(rng: random.Random) -> int:
    if rng.random() < 0.25:
        return rng.choice(EDGE_VALUES)
    return rng.randint(-32768, 32767)


def rand_power_of_two(rng: random.Random) -> int:
    """An identity step's weight as the compiler writes it: 0 or 2**k, k <= 15 (0x8000 is
    -32768 as int16, +32768 read unsigned)."""
    if rng.random() < 0.3:
        return 0
    k = 15 if rng.random() < 0.4 else rng.randint(0, 14)
    return (1 << k) - (1 << 16) * (k == 15)


def rand_step(rng: random.Random, s: Shape, *, valid: int, first: int, last: int) -> Step:
    wunsigned = int(rng.random() < 0.25)
    draw = rand_power_of_two if (wunsigned and s.UNSIGNED_W) else rand_operand
    return Step(
        valid=valid,
        first=first,
        last=last,
        x=[rand_operand(rng) for _ in range(s.G)],
        w=[[draw(rng) for _ in range(s.Q)] for _ in range(s.G)],
        init=[rng.randint(-(1 << (s.ACC_W - 1)), (1 << (s.ACC_W - 1)) - 1) for _ in range(s.Q)],
        wunsigned=wunsigned,
    )


def weight_value(st: Step, s: Shape, g: int, q: int) -> int:
    """The weight the array multiplies by: unsigned 16-bit on in_wunsigned steps."""
    w = st.w[g][q]
    return w & 0xFFFF if (st.wunsigned and s.UNSIGNED_W) else w


def bubble(rng: random.Random, s: Shape) -> Step:
    # first/last/data are garbage on a bubble: the array must ignore them
    return rand_step(rng, s, valid=0, first=rng.randint(0, 1), last=rng.randint(0, 1))


def init_values(rng: random.Random, s: Shape, n_steps: int) -> list[int]:
    """Random per-column init in +-2**(ACC_W-2), shrunk so that no partial sum can leave ACC_W."""
    limit = min(1 << (s.ACC_W - 2), (1 << (s.ACC_W - 1)) - 1 - n_steps * s.G * MAX_PRODUCT)
    assert limit > 0, "group too long for ACC_W"
    vals = []
    for _ in range(s.Q):
        r = rng.random()
        if r < 0.1:
            vals.append(limit)
        elif r < 0.2:
            vals.append(-limit)
        elif r < 0.3:
            vals.append(0)
        else:
            vals.append(rng.randint(-limit, limit))
    return vals


def make_group(rng: random.Random, s: Shape, n_steps: int, *, p_bubble=0.25, operands=None):
    """One group (list of Steps, bubbles included). operands=(xv, wv) forces all x and w."""
    steps: list[Step] = []
    init = init_values(rng, s, n_steps)
    for k in range(n_steps):
        if k > 0:
            while rng.random() < p_bubble:
                steps.append(bubble(rng, s))
        st = rand_step(rng, s, valid=1, first=int(k == 0), last=int(k == n_steps - 1))
        if operands is not None:
            st.x = [operands[0]] * s.G
            st.w = [[operands[1]] * s.Q for _ in range(s.G)]
            st.wunsigned = 0
        if k == 0:
            st.init = list(init)
        steps.append(st)
    return steps


def model(steps: list[Step], s: Shape) -> dict[int, list[int]]:
    """Expected outputs: {observation index: [acc per column]}.

    Step i is driven in cycle i; its out_valid shows in observation i + LATENCY. A group whose
    in_last step is at cycle c is lost if rst is high in any cycle c .. c + LATENCY - 1 (the
    step is still in the pipeline). A group cut by rst (no in_last) gives nothing.
    """
    lo, hi = -(1 << (s.ACC_W - 1)), (1 << (s.ACC_W - 1)) - 1
    rst_cycles = [i for i, st in enumerate(steps) if st.rst]
    expected: dict[int, list[int]] = {}
    acc: list[int] | None = None
    for i, st in enumerate(steps):
        if st.rst:
            acc = None  # the cut group is lost; inputs in the rst cycle are ignored
            continue
        if not st.valid:
            continue
        if st.first:
            acc = list(st.init)
        assert acc is not None, f"step {i}: valid step outside a group in the stimulus"
        for q in range(s.Q):
            acc[q] += sum(st.x[g] * weight_value(st, s, g, q) for g in range(s.G))
            assert lo <= acc[q] <= hi, f"stimulus exceeds ACC_W at step {i}"
        if st.last:
            lost = any(i <= r <= i + s.latency - 1 for r in rst_cycles)
            if not lost:
                expected[i + s.latency] = list(acc)
            acc = None
    return expected


async def run(dut, steps: list[Step], s: Shape, *, check_hold: bool = True) -> int:
    """Drive steps (one per cycle), check every cycle; return the number of results checked."""
    expected = model(steps, s)
    tail = [Step(x=[0] * s.G, w=[[0] * s.Q] * s.G, init=[0] * s.Q)] * (s.latency + 2)
    stim = steps + tail
    held: list[int] | None = None
    n_checked = 0
    for i, st in enumerate(stim):
        await FallingEdge(dut.clk)
        # observation i = state after i rising edges = after steps 0..i-1 were sampled
        got_valid = int(dut.out_valid.value)
        got_acc = unpack_signed(int(dut.out_acc.value), s.ACC_W, s.Q)
        want = expected.get(i)
        assert got_valid == int(want is not None), (
            f"cycle {i}: out_valid={got_valid}, model expects {int(want is not None)}"
        )
        if want is not None:
            assert got_acc == want, f"cycle {i}: out_acc={got_acc}, model expects {want}"
            held = want
            n_checked += 1
        elif check_hold and held is not None:
            assert got_acc == held, f"cycle {i}: out_acc changed to {got_acc} without out_valid"
        dut.rst.value = st.rst
        dut.in_valid.value = st.valid
        dut.in_first.value = st.first
        dut.in_last.value = st.last
        dut.x.value = pack(st.x, 16)
        dut.w.value = pack([st.w[g][q] for g in range(s.G) for q in range(s.Q)], 16)
        dut.in_wunsigned.value = st.wunsigned
        dut.init.value = pack(st.init, s.ACC_W)
    assert n_checked == len(expected)
    return n_checked


async def start(dut, s: Shape) -> None:
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_first.value = 0
    dut.in_last.value = 0
    dut.x.value = 0
    dut.w.value = 0
    dut.in_wunsigned.value = 0
    dut.init.value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0


def seed(name: str) -> int:
    return int(os.environ.get("WC_SEED", "1")) * 1000 + sum(map(ord, name))


@cocotb.test()
async def random_groups(dut):
    """Random groups with bubbles, back-to-back groups, edge operands; every cycle checked."""
    s = shape_of(dut)
    rng = random.Random(seed("random_groups") + s.G * 100 + s.Q)
    await start(dut, s)
    steps: list[Step] = []
    # extreme groups first: all products +2**30, all products -(2**30 - 2**15), mixed signs
    for xv, wv in ((-32768, -32768), (-32768, 32767), (32767, 32767), (32767, -32768)):
        steps += make_group(rng, s, 20, p_bubble=0.1, operands=(xv, wv))
    for _ in range(250):
        gap = rng.random()
        if gap < 0.4:
            pass  # back to back: new in_first right after the previous in_last
        else:
            steps += [bubble(rng, s) for _ in range(rng.randint(1, 4))]
        n = rng.choice([1, 1, 2, rng.randint(1, 20), rng.randint(1, 20)])
        steps += make_group(rng, s, n)
    n = await run(dut, steps, s)
    dut._log.info(
        f"G={s.G} Q={s.Q} ACC_W={s.ACC_W} UNSIGNED_W={s.UNSIGNED_W}: {n} results, "
        f"{len(steps)} cycles checked"
    )


@cocotb.test()
async def single_step_groups_every_cycle(dut):
    """One-step groups on every cycle: each needs its own init in flight."""
    s = shape_of(dut)
    rng = random.Random(seed("single_step") + s.G * 100 + s.Q)
    await start(dut, s)
    steps = []
    for _ in range(60):
        steps += make_group(rng, s, 1)
    assert await run(dut, steps, s) == 60


@cocotb.test()
async def reset_mid_group(dut):
    """rst mid-group drops the in-flight group; the array then runs fresh groups correctly."""
    s = shape_of(dut)
    rng = random.Random(seed("reset_mid_group") + s.G * 100 + s.Q)
    await start(dut, s)
    steps: list[Step] = []
    for _ in range(6):
        steps += make_group(rng, s, rng.randint(1, 6))
        cut = make_group(rng, s, rng.randint(3, 12))
        k = rng.randint(1, len(cut) - 1)
        steps += cut[:k]  # group cut before its in_last step
        r = rand_step(rng, s, valid=rng.randint(0, 1), first=0, last=rng.randint(0, 1))
        r.rst = 1  # inputs in the rst cycle are dropped too
        steps.append(r)
        if rng.random() < 0.5:
            steps += [bubble(rng, s) for _ in range(rng.randint(1, 3))]
    steps += make_group(rng, s, 5)
    await run(dut, steps, s, check_hold=False)
