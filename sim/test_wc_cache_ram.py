"""cocotb bench for hdl/wc_cache_ram.sv (banked RAM with read zeroing) against a Python model.

The model keeps the words per (bank, address). A write (we) stores wdata lane b at waddr lane
b in every bank b with wbank_en[b] = 1. A read (re) sampled at edge e shows on rdata after
edge e+2 (observed 2 cycles after it was driven): lane b = the word at raddr in bank b as
written before edge e, or 0 in every lane if rzero was 1. rdata holds in every cycle that
no read completes (checked every cycle once a read has completed). Words never written are
unknown (the RAM powers up random) and so not checked, except that a zeroed read is 0 anyway.
A read and a write of the same address in the same cycle never happen in the design (no_rw_check):
such a read lane is not checked.

Stimulus (seeded random, STYLE does not matter to the simulation but every set runs with the
STYLE it is built with): full-width and partial writes with per-bank addresses (the same
address in every bank, scattered, or runs of consecutive addresses as wc_cache_ptrs gives them
when a drain run straddles two words), reads of recently written, random and never-written
addresses, zeroed reads, reads in consecutive cycles and with gaps, and idle cycles with junk
on every input. The address range covers 0 and DEPTH-1.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge
from lanes import pack, unpack_signed

LATENCY = 2


@dataclass
class Op:
    we: int = 0
    wbank_en: int = 0
    waddr: list[int] = field(default_factory=list)
    wdata: list[int] = field(default_factory=list)
    re: int = 0
    raddr: int = 0
    rzero: int = 0


def rand_value(rng: random.Random) -> int:
    if rng.random() < 0.2:
        return rng.choice((-32768, 32767, 0, -1, 1))
    return rng.randint(-32768, 32767)


class Stimulus:
    def __init__(self, banks: int, depth: int, addr_w: int, rng: random.Random):
        self.banks, self.depth, self.addr_w, self.rng = banks, depth, addr_w, rng
        self.recent: list[int] = [0, depth - 1]
        self.ops: list[Op] = []

    def addr(self) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return rng.choice(self.recent[-32:])
        if r < 0.6:
            return rng.choice([0, self.depth - 1])
        return rng.randrange(self.depth)

    def op(self) -> Op:
        rng, banks = self.rng, self.banks
        op = Op(
            wbank_en=rng.randrange(1 << banks),
            waddr=[rng.randrange(1 << self.addr_w) for _ in range(banks)],
            wdata=[rand_value(rng) for _ in range(banks)],
            raddr=rng.randrange(1 << self.addr_w),
            rzero=rng.randint(0, 1),
        )
        if rng.random() < 0.55:
            op.we = 1
            mode = rng.random()
            a = self.addr() if rng.random() < 0.5 else rng.randrange(self.depth)
            if mode < 0.4:  # every bank the same address
                op.wbank_en = (1 << banks) - 1 if rng.random() < 0.7 else op.wbank_en
                op.waddr = [a] * banks
            elif mode < 0.7:  # a drain run straddling two words: a, a+1
                split = rng.randint(0, banks)
                op.waddr = [a if b >= split else min(a + 1, self.depth - 1) for b in range(banks)]
            else:  # scattered
                op.waddr = [self.addr() for _ in range(banks)]
            self.recent += op.waddr
        if rng.random() < 0.6:
            op.re = 1
            op.raddr = self.addr()
            op.rzero = int(rng.random() < 0.2)
        self.ops.append(op)
        return op


async def run(dut, banks: int, ops: list[Op]) -> dict[str, int]:
    mem: dict[tuple[int, int], int] = {}
    expect: dict[int, list[int | None]] = {}
    current: list[int | None] | None = None  # what rdata holds (None: nothing read yet)
    stats = {"reads": 0, "zero": 0, "known": 0, "held": 0, "collisions": 0}
    idle = Op(waddr=[0] * banks, wdata=[0] * banks)
    for i, op in enumerate([*ops, idle, idle, idle]):
        await FallingEdge(dut.clk)
        if i in expect:
            current = expect[i]
            stats["reads"] += 1
            stats["zero"] += all(v == 0 for v in current)
            stats["known"] += all(v is not None for v in current)
        elif current is not None:
            stats["held"] += 1
        if current is not None:
            got = unpack_signed(int(dut.rdata.value), 16, banks)
            for b in range(banks):
                if current[b] is not None:
                    assert got[b] == current[b], (
                        f"cycle {i}: rdata lane {b} = {got[b]}, want {current[b]}"
                        + (
                            f" (read issued in cycle {i - LATENCY}: {ops[i - LATENCY]})"
                            if i in expect
                            else " (held)"
                        )
                    )
        dut.we.value = op.we
        dut.wbank_en.value = op.wbank_en
        dut.waddr.value = pack(op.waddr, int(dut.ADDR_W.value))
        dut.wdata.value = pack(op.wdata, 16)
        dut.re.value = op.re
        dut.raddr.value = op.raddr
        dut.rzero.value = op.rzero
        writes = [b for b in range(banks) if op.we and (op.wbank_en >> b) & 1]
        if op.re:
            if op.rzero:
                expect[i + LATENCY] = [0] * banks
            else:
                lanes = [mem.get((b, op.raddr)) for b in range(banks)]
                for b in writes:
                    if op.waddr[b] == op.raddr:  # same-cycle read and write: undefined
                        lanes[b] = None
                        stats["collisions"] += 1
                expect[i + LATENCY] = lanes
        for b in writes:
            mem[(b, op.waddr[b])] = op.wdata[b]
    return stats


def seed(name: str, banks: int, depth: int) -> int:
    base = int(os.environ.get("WC_SEED", "1")) * 1000 + sum(map(ord, name))
    return base * 7919 + banks * 100003 + depth


@cocotb.test()
async def ram_random(dut):
    banks, depth, addr_w = (int(getattr(dut, n).value) for n in ("BANKS", "DEPTH", "ADDR_W"))
    assert depth <= 1 << addr_w
    rng = random.Random(seed("ram_random", banks, depth))
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in ("we", "wbank_en", "waddr", "wdata", "re", "raddr", "rzero"):
        getattr(dut, name).value = 0
    await FallingEdge(dut.clk)
    st = Stimulus(banks, depth, addr_w, rng)
    # fill a stretch first so that most later reads hit known data
    for a in range(min(depth, 64)):
        st.ops.append(
            Op(
                we=1,
                wbank_en=(1 << banks) - 1,
                waddr=[a] * banks,
                wdata=[rand_value(rng) for _ in range(banks)],
            )
        )
        st.recent.append(a)
    for _ in range(4000):
        st.op()
        if rng.random() < 0.05:  # a burst of back-to-back reads of known words
            for _ in range(rng.randint(2, 6)):
                a = rng.choice(st.recent[-16:])
                st.ops.append(Op(waddr=[0] * banks, wdata=[0] * banks, re=1, raddr=a))
    stats = await run(dut, banks, st.ops)
    assert stats["reads"] > 2000 and stats["zero"] > 300 and stats["held"] > 1000
    assert stats["known"] > stats["reads"] // 3
    dut._log.info(f"BANKS={banks} DEPTH={depth} ADDR_W={addr_w}: {len(st.ops)} cycles, {stats}")
