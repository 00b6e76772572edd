"""The core's memories, and how many ECP5 block RAMs (DP16KD) Yosys makes of them.

Why a model of Yosys: block RAM is a budget the schedule reports before anything is
synthesised (DESIGN.md), and counting every memory as DP16KDs said 22 where synthesis used 9:
``synth_ecp5`` (``memory_libmap``) puts each memory where it is cheapest by its own cost
model, so small caches become LUT RAM and small ROMs become logic. This module restates that
choice, with the costs of Yosys' ``techlibs/lattice/{lutrams_trellis,brams_16kd}.txt`` and
``passes/memory/memory_libmap.cc``:

- soft logic: 1 per bit for a RAM, 1/16 per bit for a ROM (``-logic-cost-ram``/``-rom``);
- LUT RAM (RAMs only; ROMs are pruned): TRELLIS_DPR16X4 (16 words x 4 bits) at 4 each;
- block RAM: 128 per DP16KD: 18 kbit as 16384 x 1, 8192 x 2, 4096 x 4, 2048 x 9 or 1024 x 18,
  and a read-only port may also be 512 x 36 (PDPW16KD). A written word is padded to whole
  9-bit bytes in the 9- and 18-bit shapes (a 16-bit cache word takes 18 bits);
- where a memory needs several units across its depth, a read multiplexer (1/2 per data bit
  per extra unit) and a write decoder (1/2 per unit); Yosys' emulation of read-before-write
  on a block RAM (the caches whose ring has no spare column) adds 6.

Ties go to logic, then LUT RAM, then block RAM, in Yosys' order. Checked against synthesis in
tests/test_schedule.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wavecomp.rtl.program_word import program_format

if TYPE_CHECKING:
    from wavecomp.schedule import Schedule

LOGIC_COST_PER_BIT = {"ram": 1.0, "rom": 1.0 / 16.0}
LUTRAM_COST, LUTRAM_DEPTH, LUTRAM_WIDTH = 4, 16, 4
DP16KD_COST = 128
DP16KD_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024))
"""(data bits, words) of one DP16KD port."""
PDPW16KD_READ_SHAPE = (36, 512)
"""The wider read-only shape: its write port is always 36 bits, so Yosys uses it for ROMs."""
BYTE_BITS = 9
BLOCK_BITS = 16 * 1024
"""A DP16KD's capacity at 16-bit words (1024 x 16)."""
TABLE_WORDS = 1024
"""Words per pwl table in hdl/wc_table_rom.sv's dual-port ROM: L[i] for i = 0..1023."""
MUX_COST = 0.5
READ_FIRST_EMULATION_COST = 6  # 3 points per write port, times FACTOR_EMU = 2


@dataclass(frozen=True)
class Memory:
    """One memory of the generated core: ``width`` x ``depth`` bits, one read port."""

    name: str
    width: int
    depth: int
    rom: bool
    read_first: bool = False
    """A read may hit the address written in the same clock and must see the old word."""
    style: str = "auto"
    """``auto``: where Yosys finds it cheapest; ``block`` / ``distributed``: forced by the
    ram_style attribute (the packed activation memories)."""


def core_memories(sched: Schedule) -> list[Memory]:
    """Every memory ``wavecomp_net`` has for ``sched`` (hdl/wc_cache_ram.sv, wc_rom.sv,
    wc_table_rom.sv, wc_activation.sv)."""
    mems = [
        Memory(f"cache {mem.index} bank {bank}", 16, mem.depth, rom=False, style=mem.style)
        for mem in sched.memories
        for bank in range(sched.g)
    ]
    mems.append(Memory("program", program_format(sched).width, sched.program_length, rom=True))
    mems.append(Memory("weights", sched.g * sched.q * 16, sched.program_length, rom=True))
    mems.append(Memory("bias", sched.q * 16, sched.n_groups, rom=True))
    if sched.n_tables:
        mems.append(Memory("tables", 16, TABLE_WORDS * sched.n_tables, rom=True))
    if sched.gate_depth:
        mems.append(Memory("gate buffer", 16, sched.gate_depth, rom=False))
    return mems


def _spread_cost(mem: Memory, units_deep: int) -> float:
    """Read multiplexer (and a RAM's write decoder) across ``units_deep`` units of depth."""
    if units_deep == 1:
        return 0.0
    return MUX_COST * (units_deep - 1) * mem.width + (0 if mem.rom else MUX_COST * units_deep)


def _block_ram(mem: Memory) -> tuple[float, int]:
    """(cost, DP16KDs) of the cheapest block-RAM shape."""
    shapes = [*DP16KD_SHAPES, PDPW16KD_READ_SHAPE] if mem.rom else DP16KD_SHAPES
    best: tuple[float, int] | None = None
    for bits, words in shapes:
        padded = mem.width
        if not mem.rom and bits >= BYTE_BITS:
            padded = math.ceil(mem.width / BYTE_BITS) * BYTE_BITS
        deep = math.ceil(mem.depth / words)
        blocks = math.ceil(padded / bits) * deep
        cost = DP16KD_COST * blocks + _spread_cost(mem, deep)
        if mem.read_first:
            cost += READ_FIRST_EMULATION_COST
        if best is None or cost < best[0]:
            best = (cost, blocks)
    assert best is not None
    return best


def lut_ram_units(mem: Memory) -> int:
    """TRELLIS_DPR16X4s (16 words x 4 bits) of a RAM that is LUT RAM (0 otherwise)."""
    if mem.rom or dp16kd_count(mem) or mem.style == "block":
        return 0
    if mem.style == "auto" and mem.width * mem.depth <= _lut_ram_cost(mem):
        return 0  # logic
    return math.ceil(mem.width / LUTRAM_WIDTH) * math.ceil(mem.depth / LUTRAM_DEPTH)


def lut_ram_estimate(sched: Schedule) -> int:
    """TRELLIS_DPR16X4s of the whole core."""
    return sum(lut_ram_units(mem) for mem in core_memories(sched))


def _lut_ram_cost(mem: Memory) -> float:
    deep = math.ceil(mem.depth / LUTRAM_DEPTH)
    units = math.ceil(mem.width / LUTRAM_WIDTH) * deep
    return LUTRAM_COST * units + _spread_cost(mem, deep)


def dp16kd_count(mem: Memory) -> int:
    """DP16KDs Yosys uses for ``mem``: 0 when logic or LUT RAM is cheaper (or forced)."""
    if mem.style != "auto":
        return _block_ram(mem)[1] if mem.style == "block" else 0
    cost = mem.width * mem.depth * LOGIC_COST_PER_BIT["rom" if mem.rom else "ram"]
    if not mem.rom:
        cost = min(cost, _lut_ram_cost(mem))
    bram_cost, blocks = _block_ram(mem)
    return blocks if bram_cost < cost else 0


def dp16kd_estimate(sched: Schedule) -> int:
    """DP16KDs of the whole core (the memories; Yosys puts nothing else in block RAM)."""
    return sum(dp16kd_count(mem) for mem in core_memories(sched))


def block_rams_by_kind(sched: Schedule) -> dict[str, int]:
    """DP16KDs per kind of memory: activation caches, weights, program, bias, tables."""
    out: dict[str, int] = {}
    for mem in core_memories(sched):
        kind = "activation caches" if mem.name.startswith("cache ") else mem.name
        out[kind] = out.get(kind, 0) + dp16kd_count(mem)
    return out


def cache_bits(sched: Schedule) -> int:
    """Bits the activation caches must hold: every tensor's span x channels x 16."""
    return sum(t.span * t.channels * 16 for t in sched.tensors)


def weight_bits(sched: Schedule) -> int:
    """Bits the weights must hold: the model's MACs/sample x 16."""
    return sched.macs_per_sample * 16


def block_ram_efficiency(sched: Schedule) -> float:
    """DP16KDs used x 16 kbit (their capacity at 16-bit words) / the bits the caches and
    weights need: 1.0 is perfect packing."""
    return sched.block_ram_estimate() * BLOCK_BITS / (cache_bits(sched) + weight_bits(sched))
