"""cocotb tests for hdl/wc_requant.sv: accumulator -> Q4.12 (floor shift, saturate, ReLU).

The expected value comes from the numerics contract written directly in Python:
``max(-32768, min(32767, acc >> (12 + shift)))`` (Python's ``>>`` on ints is a floor), then
ReLU. Every shift 0..MAX_SHIFT is checked; larger shifts never occur (unspecified output).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.triggers import Timer

SEED = 0x5EC0_0001
N_RANDOM = 3000


def requant_model(acc: int, shift: int, relu: bool) -> int:
    y = max(-32768, min(32767, acc >> (12 + shift)))
    return max(y, 0) if relu else y


def params(dut) -> tuple[int, int]:
    acc_w, max_shift = int(dut.ACC_W.value), int(dut.MAX_SHIFT.value)
    assert 0 <= max_shift <= 3 and acc_w >= 29 + max_shift, f"bad set {acc_w=} {max_shift=}"
    return acc_w, max_shift


def boundary_values(acc_w: int, shift: int) -> list[int]:
    """Accumulators just inside/outside the saturation edges at this shift, around the floor
    steps of 2^(12+shift), and just past every high bit the saturation logic looks at."""
    lo, hi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    one = 1 << (12 + shift)  # one output step
    values = {0, -1, 1, lo, hi, lo + 1, hi - 1}
    for base in (0, one, -one, 32767 * one, -32767 * one, -32768 * one, 32768 * one):
        for delta in (0, 1, one - 1, one, one + 1, 4095, 4096, 4097):
            values.update((base + delta, base - delta))
    for bit in range(27 + shift, acc_w - 1):
        values.update((1 << bit, (1 << bit) - 1, -(1 << bit), -(1 << bit) - 1))
    return sorted(v for v in values if lo <= v <= hi)


def random_values(acc_w: int, shift: int, rng: random.Random, n: int) -> list[int]:
    lo, hi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # anywhere in the accumulator range (mostly saturating for wide ACC_W)
            out.append(rng.randint(lo, hi))
        elif kind == 1:  # in or near the representable range at this shift
            out.append(rng.randint(-(1 << (29 + shift)), 1 << (29 + shift)))
        else:  # random bit width: exercises every magnitude
            w = rng.randint(1, acc_w - 1)
            out.append(rng.randint(-(1 << w), (1 << w) - 1))
    return [max(lo, min(hi, v)) for v in out]


async def check(dut, acc_w: int, acc: int, shift: int, relu: bool) -> None:
    dut.acc.value = acc & ((1 << acc_w) - 1)
    dut.shift.value = shift
    dut.relu.value = int(relu)
    await Timer(1, "ns")
    got = dut.y.value.to_signed()
    want = requant_model(acc, shift, relu)
    assert got == want, (
        f"ACC_W={acc_w} acc={acc} ({acc:#x}) shift={shift} relu={int(relu)}: y={got}, want {want}"
    )


@cocotb.test()
async def boundaries(dut):
    """Every boundary value of every shift, at every shift, with and without ReLU."""
    acc_w, max_shift = params(dut)
    values = sorted({v for s in range(max_shift + 1) for v in boundary_values(acc_w, s)})
    for acc in values:
        for shift in range(max_shift + 1):
            for relu in (False, True):
                await check(dut, acc_w, acc, shift, relu)
    n = len(values) * (max_shift + 1) * 2
    dut._log.info("ACC_W=%d MAX_SHIFT=%d: %d boundary checks", acc_w, max_shift, n)


@cocotb.test()
async def random_accumulators(dut):
    """Seeded random accumulators over all magnitudes, per shift, random ReLU; then random
    shifts from one input to the next."""
    acc_w, max_shift = params(dut)
    rng = random.Random(SEED + acc_w + 100 * max_shift)
    for shift in range(max_shift + 1):
        for acc in random_values(acc_w, shift, rng, N_RANDOM):
            await check(dut, acc_w, acc, shift, rng.random() < 0.5)
    for acc in random_values(acc_w, max_shift, rng, N_RANDOM):
        await check(dut, acc_w, acc, rng.randint(0, max_shift), rng.random() < 0.5)
    n = (max_shift + 2) * N_RANDOM
    dut._log.info("ACC_W=%d MAX_SHIFT=%d: %d random checks", acc_w, max_shift, n)
