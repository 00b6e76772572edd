"""cocotb tests for hdl/wc_requant.sv: accumulator -> Q4.12 (floor shift, saturate, ReLU).

The expected value comes from the numerics contract written directly in Python:
``max(-32768, min(32767, acc >> 12))`` (Python's ``>>`` on ints is a floor), then ReLU.
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import Timer

SEED = 0x5EC0_0001
N_RANDOM = 3000


def requant_model(acc: int, relu: bool) -> int:
    y = max(-32768, min(32767, acc >> 12))
    return max(y, 0) if relu else y


def boundary_values(acc_w: int) -> list[int]:
    lo, hi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    edge = 32767 << 12
    values = {0, -1, 1, 4095, 4096, 4097, -4095, -4096, -4097, lo, hi, lo + 1, hi - 1}
    for base in (edge, -edge, -(32768 << 12)):
        for delta in (0, 1, 4095, 4096, 4097):
            values.update((base + delta, base - delta))
    # just past every high bit the saturation logic looks at
    for bit in range(27, acc_w - 1):
        values.update((1 << bit, (1 << bit) - 1, -(1 << bit), -(1 << bit) - 1))
    return sorted(v for v in values if lo <= v <= hi)


def random_values(acc_w: int, rng: random.Random, n: int) -> list[int]:
    lo, hi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # anywhere in the accumulator range (mostly saturating for wide ACC_W)
            out.append(rng.randint(lo, hi))
        elif kind == 1:  # in or near the representable range
            out.append(rng.randint(-(1 << 29), (1 << 29)))
        else:  # random bit width: exercises every magnitude
            w = rng.randint(1, acc_w - 1)
            out.append(rng.randint(-(1 << w), (1 << w) - 1))
    return [max(lo, min(hi, v)) for v in out]


async def check(dut, acc_w: int, acc: int, relu: bool) -> None:
    dut.acc.value = acc & ((1 << acc_w) - 1)
    dut.relu.value = int(relu)
    await Timer(1, "ns")
    got = dut.y.value.to_signed()
    want = requant_model(acc, relu)
    assert got == want, f"ACC_W={acc_w} acc={acc} ({acc:#x}) relu={int(relu)}: y={got}, want {want}"


@cocotb.test()
async def boundaries(dut):
    """Every boundary value, with and without ReLU."""
    acc_w = int(dut.ACC_W.value)
    values = boundary_values(acc_w)
    for acc in values:
        for relu in (False, True):
            await check(dut, acc_w, acc, relu)
    dut._log.info("ACC_W=%d: %d boundary values checked", acc_w, len(values))


@cocotb.test()
async def random_accumulators(dut):
    """Seeded random accumulators over all magnitudes, random ReLU."""
    acc_w = int(dut.ACC_W.value)
    rng = random.Random(SEED + acc_w)
    for acc in random_values(acc_w, rng, N_RANDOM):
        await check(dut, acc_w, acc, rng.random() < 0.5)
