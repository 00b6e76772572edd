"""cocotb bench for hdl/wc_table_rom.sv against a model written from its contract.

Contract: table t has 1,025 int16 knots L_t[0..1024]; TABLE_FILE holds word t*1024 + i =
L_t[i] for i = 0..1023 (16-bit hex) and TABLE_ENDS[16*t +: 16] = L_t[1024]. A (table_i, i)
sampled by clock edge e shows low = L_t[i], high = L_t[i+1] after edge e+1 (latency 2, no
enable, no reset); a table index >= N_TABLES is not used (its output is not checked, and it
must not disturb the reads around it). Outputs are checked in every cycle from the third on
(the first two show the random power-up state).

Tables: ``make_tables(n, seed)`` (full-range noise, runs of -32768/32767, full-scale jumps,
every table's L[1024] different from its L[0] and L[1023] and from the other tables' ends, so
a port B that wraps to L[0], reads L[i] or picks another table's end shows up). The pytest side
writes the image with ``write_image`` and passes ``table_ends(tables)`` as TABLE_ENDS and the
seed in $WC_TROM_TABLE_SEED; this bench rebuilds the tables from the seed (it never reads the
file or the parameter back).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

SEED = 0x5EC0_000B
LATENCY = 2
KNOTS = 1025
TABLE_SEED_ENV = "WC_TROM_TABLE_SEED"
EXTREMES = (-32768, 32767, -1, 0, 1, -32767)


# ---- tables -------------------------------------------------------------------------------
def make_tables(n_tables: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    tables: list[list[int]] = []
    for _ in range(n_tables):
        table: list[int] = []
        while len(table) < KNOTS:
            run = rng.randint(1, 30)
            kind = rng.randrange(3)
            if kind == 0:
                table += [rng.randint(-32768, 32767) for _ in range(run)]
            elif kind == 1:
                table += [rng.choice(EXTREMES) for _ in range(run)]
            else:  # full-scale jumps between neighbours
                start = rng.randrange(2)
                table += [(-32768, 32767)[(start + k) % 2] for k in range(run)]
        table = table[:KNOTS]
        table[0] = rng.choice((-32768, 32767, rng.randint(-32768, 32767)))
        ends = {t[-1] for t in tables}
        while table[-1] in ends or table[-1] in (table[0], table[-2]):
            table[-1] = rng.choice((*EXTREMES, rng.randint(-32768, 32767)))
        tables.append(table)
    return tables


def write_image(path: Path, tables: list[list[int]]) -> None:
    """$readmemh image: word t*1024 + i = L_t[i] (i < 1024) as 4 hex digits."""
    path.write_text("".join(f"{v & 0xFFFF:04x}\n" for table in tables for v in table[:-1]))


def table_ends(tables: list[list[int]]) -> str:
    """The TABLE_ENDS literal: L_t[1024] at [16*t +: 16]."""
    packed = sum((table[-1] & 0xFFFF) << (16 * t) for t, table in enumerate(tables))
    return f"{16 * len(tables)}'h{packed:x}"


# ---- model, driving and checking ----------------------------------------------------------
def segment(tables: list[list[int]], t: int, i: int) -> tuple[int, int]:
    return tables[t][i], tables[t][i + 1]


def signed16(v: int) -> int:
    return v - ((v >> 15) << 16)


async def run(dut, reads: list[tuple[int, int]]) -> int:
    """Drive one (table, i) per cycle, back to back; check low/high in every cycle from the
    third on against the read sampled two edges before. Returns the reads checked."""
    n_tables = int(dut.N_TABLES.value)
    tables = make_tables(n_tables, int(os.environ[TABLE_SEED_ENV]))
    Clock(dut.clk, 10, unit="ns").start()
    sampled: list[tuple[int, int]] = []
    checked = 0
    for cycle, (t, i) in enumerate([*reads, *[(0, 0)] * LATENCY]):
        if cycle >= LATENCY:
            t_in, i_in = sampled[cycle - LATENCY]
            if t_in < n_tables:
                got = (signed16(int(dut.low.value)), signed16(int(dut.high.value)))
                want = segment(tables, t_in, i_in)
                assert got == want, (
                    f"cycle {cycle}: (low, high)={got}, want {want} for table {t_in} i {i_in} "
                    f"(N_TABLES={n_tables})"
                )
                checked += 1
        dut.table_i.value = t
        dut.i.value = i
        sampled.append((t, i))
        await FallingEdge(dut.clk)
    return checked


def params(dut) -> tuple[int, int]:
    n_tables, tbl_w = int(dut.N_TABLES.value), int(dut.TBL_W.value)
    assert n_tables <= 1 << tbl_w
    return n_tables, tbl_w


@cocotb.test()
async def sweep_every_segment(dut):
    """Every (t, i) in order, then in reverse, back to back."""
    n_tables, _ = params(dut)
    order = [(t, i) for t in range(n_tables) for i in range(1024)]
    checked = await run(dut, order + order[::-1])
    assert checked == 2 * len(order)


@cocotb.test()
async def random_reads(dut):
    """Random (t, i) back to back, half of them at i = 0, 1, 1022, 1023 (the last segment next
    to other tables' last and first ones), with unused table indices (>= N_TABLES) between."""
    n_tables, tbl_w = params(dut)
    rng = random.Random(SEED + n_tables)
    reads = [(t, i) for t in range(n_tables) for i in (0, 1023)]
    while len(reads) < 12000:
        if rng.random() < 0.05 and n_tables < 1 << tbl_w:
            t = rng.randrange(n_tables, 1 << tbl_w)
        else:
            t = rng.randrange(n_tables)
        edge = rng.random() < 0.5
        reads.append((t, rng.choice((0, 1, 1022, 1023)) if edge else rng.randrange(1024)))
    checked = await run(dut, reads)
    assert checked == sum(t < n_tables for t, _ in reads)
    dut._log.info(f"{len(reads)} reads, {checked} checked")


@cocotb.test()
async def last_segment_runs(dut):
    """Runs of i = 1023 on every table (the TABLE_ENDS select held over several cycles and
    switching tables), alternating with i = 0 and i = 1022 (the select released)."""
    n_tables, _ = params(dut)
    rng = random.Random(SEED + 100 + n_tables)
    reads: list[tuple[int, int]] = []
    for _ in range(500):
        reads += [(rng.randrange(n_tables), 1023) for _ in range(rng.randint(1, 4))]
        for _ in range(rng.randint(1, 3)):
            reads.append((rng.randrange(n_tables), rng.choice((0, 1022))))
    checked = await run(dut, reads)
    assert checked == len(reads)
