"""cocotb bench for hdl/wc_ring_ptr.sv (one ring's pointer state) against an independent
Python model written from the module's header contract.

Ring. Words [BASE, BASE + SIZE): COLS columns of W words (SIZE = COLS * W), column j at
BASE + j * W; span 1..COLS, SPANW = span * W; BASE, SIZE, W, SPANW < 2**ADDR_W and
BASE + SIZE <= 2**ADDR_W. The pytest side
(tests/test_hdl_cache.py) passes the ``Ring`` as JSON in $WC_RING_PARAMS and its parameters
to the build; the bench checks the parameters it can read back against it.

Model (by the number n of commits since the last reset, not by stepping pointers):
pend = BASE + (n mod COLS) * W (reset: column 0; each commit advances one column, wrapping),
newest = BASE + ((n - 1) mod COLS) * W (reset: the last column; a commit makes newest the old
pend), countw = min(n * W, SPANW), full = (n >= COLS). rst wins over commit; before the first
rst edge nothing is checked.

Timing. Inputs change 1 ns after a falling edge; the outputs are checked then (they must
still show the state from the previous edge: newest and countw are combinational from the
registers, not from commit) and at the next falling edge (the state after the rising edge).

Stimulus: phases of commits with probability 0.02 .. 1 per cycle (runs of back-to-back
commits, long idle stretches), resets at random (some with commit high in the same cycle,
some back to back), thousands of cycles and many wraps per parameter set.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict, dataclass

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

RING_ENV = "WC_RING_PARAMS"


@dataclass(frozen=True)
class Ring:
    base: int
    words: int  # W
    cols: int  # COLS
    span: int  # 1..COLS
    addr_w: int

    @property
    def size(self) -> int:
        return self.cols * self.words

    @property
    def spanw(self) -> int:
        return self.span * self.words

    def check(self) -> None:
        assert self.words >= 1 and 1 <= self.span <= self.cols, self
        assert self.base >= 0 and self.base + self.size <= 1 << self.addr_w, self
        assert max(self.base, self.size, self.spanw) < 1 << self.addr_w, self

    def params(self) -> dict[str, int]:
        return {
            "BASE": self.base,
            "SIZE": self.size,
            "W": self.words,
            "SPANW": self.spanw,
            "ADDR_W": self.addr_w,
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Ring:
        return cls(**json.loads(text))


class RingModel:
    def __init__(self, ring: Ring):
        self.ring = ring
        self.n: int | None = None  # commits since the last reset (None: not reset yet)

    def step(self, rst: int, commit: int) -> None:
        if rst:
            self.n = 0
        elif commit and self.n is not None:
            self.n += 1

    def expect(self) -> dict[str, int] | None:
        r, n = self.ring, self.n
        if n is None:
            return None
        return {
            "pend": r.base + (n % r.cols) * r.words,
            "newest": r.base + ((n - 1) % r.cols) * r.words,
            "countw": min(n * r.words, r.spanw),
            "full": int(n >= r.cols),
        }


def ring_from_env(dut) -> Ring:
    ring = Ring.from_json(os.environ[RING_ENV])
    ring.check()
    for name, value in ring.params().items():
        got = int(getattr(dut, name).value)
        assert got == value, f"parameter {name} = {got}, ring says {value}"
    return ring


def stimulus(ring: Ring, rng: random.Random, n_cycles: int) -> list[tuple[int, int]]:
    """(rst, commit) per cycle; starts with a reset."""
    ops = [(1, rng.randrange(2))]
    while len(ops) < n_cycles:
        p = rng.choice([0.02, 0.1, 0.3, 0.5, 0.8, 1.0, 1.0])
        for _ in range(rng.randint(5, 6 * ring.cols + 10)):
            r = rng.random()
            if r < 0.004:
                ops.append((1, 1))  # commit in a reset cycle: the reset wins
            elif r < 0.008:
                ops.append((1, 0))
            else:
                ops.append((0, int(rng.random() < p)))
    return ops


async def run(dut, ring: Ring, ops: list[tuple[int, int]]) -> dict[str, int]:
    model = RingModel(ring)
    stats = {"checks": 0, "commits": 0, "wraps": 0, "resets": 0, "full": 0, "saturated": 0}
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 0
    dut.commit.value = 0
    await FallingEdge(dut.clk)

    def check(when: str, cycle: int) -> None:
        want = model.expect()
        if want is None:
            return
        got = {name: int(getattr(dut, name).value) for name in want}
        assert got == want, f"cycle {cycle} ({when}): got {got}, want {want} (n = {model.n})"
        stats["checks"] += 1

    for cycle, (rst, commit) in enumerate(ops):
        dut.rst.value = rst
        dut.commit.value = commit
        await Timer(1, unit="ns")
        check("inputs just changed: state from before the edge", cycle)
        before = model.expect()
        model.step(rst, commit)
        await FallingEdge(dut.clk)
        check("after the edge", cycle)
        after = model.expect()
        stats["resets"] += rst
        if not rst and commit and before is not None and after is not None:
            stats["commits"] += 1
            stats["wraps"] += after["pend"] == ring.base
            stats["full"] += after["full"]
            stats["saturated"] += after["countw"] == ring.spanw and not after["full"]
    return stats


@cocotb.test()
async def ring_random(dut):
    """Random commit/reset streams over many wraps of the ring."""
    ring = ring_from_env(dut)
    seed = int(os.environ.get("WC_SEED", "1")) * 7919 + sum(ring.params().values())
    rng = random.Random(seed)
    n_cycles = max(3000, 80 * ring.cols)
    stats = await run(dut, ring, stimulus(ring, rng, n_cycles))
    assert stats["checks"] >= 2 * n_cycles - 2
    assert stats["resets"] >= 5 and stats["wraps"] >= 10 and stats["full"] >= 100
    if ring.span < ring.cols:  # countw saturated before the ring filled
        assert stats["saturated"] >= 5
    dut._log.info(f"{ring}: {n_cycles} cycles, {stats}")


@cocotb.test()
async def ring_fill_after_reset(dut):
    """From each reset, commits back to back through two wraps, then one every few cycles."""
    ring = ring_from_env(dut)
    ops = []
    for gap in (0, 1, 3):
        ops.append((1, 0))
        for _ in range(2 * ring.cols + 2):
            ops.append((0, 1))
            ops.extend([(0, 0)] * gap)
    ops.append((1, 1))
    ops.extend([(0, 1)] * (ring.cols + 1))
    stats = await run(dut, ring, ops)
    assert stats["wraps"] >= 6
