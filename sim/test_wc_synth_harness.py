"""cocotb bench for hdl/wc_synth_harness.sv around a generated ``wavecomp_core``.

Driven from pytest (tests/test_hdl_harness.py). The harness has only clk, rst, din and dout:
its own counter strobes the core every CYCLES_PER_SAMPLE clocks, the four input samples are
the last 64 bits shifted in on ``din`` and the four output samples are shifted out on ``dout``.
This bench treats it as a black box and checks that contract clock by clock:

- after reset, the core's n-th strobe (n = 0, 1, ...) is sampled at the clock edge
  ``(n + 1) * CPS + 1`` (edge 1 is the first with rst low): the counter counts 0..CPS-1 and
  ``strobe`` is a register;
- the input word at that edge is the 64 ``din`` bits of the 64 edges before it, first bit
  shifted in = bit 63, so sample_in0 = the last 16 bits; every other ``din`` bit is random
  noise that must not matter;
- at that edge the output shift register loads the core's outputs (the end of the previous
  sample period) and ``dout`` then shows bits 63, 62, ..., 0 on the 64 following clocks.

The stimulus file (env WAVECOMP_STIM, .npz) holds the codec samples per strobe, the expected
codec outputs per sample (reference + codec scaling, computed by the test), the latency and
CYCLES_PER_SAMPLE.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge

WORD_BITS = 64


def _word(samples: np.ndarray) -> int:
    """Four int16 samples -> {s3, s2, s1, s0}."""
    word = 0
    for j, v in enumerate(samples.tolist()):
        word |= (int(v) & 0xFFFF) << (16 * j)
    return word


def _samples(word: int) -> list[int]:
    out = []
    for j in range(4):
        v = (word >> (16 * j)) & 0xFFFF
        out.append(v - 0x10000 if v & 0x8000 else v)
    return out


@cocotb.test()
async def harness_streams_core_outputs(dut):
    stim = np.load(os.environ["WAVECOMP_STIM"])
    x, expected = stim["x"], stim["expected"]
    latency, cps = int(stim["latency"]), int(stim["cps"])
    assert int(dut.CYCLES_PER_SAMPLE.value) == cps, "bench and build disagree on the period"
    assert cps >= WORD_BITS, "the harness needs >= 64 clocks per sample to shift a word"
    n = x.shape[0]
    rng = random.Random(0x5A17)

    # din for edges 1 .. (n + 1) * cps: noise, except the 64 bits before each strobe edge; the
    # last strobe's word is fully shifted out by then
    n_edges = (n + 1) * cps + 1
    din = [rng.getrandbits(1) for _ in range(n_edges)]
    for p in range(n):
        strobe_edge = (p + 1) * cps + 1
        word = _word(x[p])
        for k in range(WORD_BITS):  # edge strobe_edge - 64 + k shifts in bit 63 - k
            din[strobe_edge - WORD_BITS + k] = (word >> (WORD_BITS - 1 - k)) & 1

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.din.value = 0
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    dut.rst.value = 0

    captured = []  # the word shifted out after each strobe
    bits = 0
    for edge in range(1, n_edges):
        dut.din.value = din[edge]
        await FallingEdge(dut.clk)  # edge `edge` has happened
        since = (edge - 1) % cps  # edges since the last strobe edge (edge 1 + k*cps)
        if edge > cps and since < WORD_BITS:
            bits = (bits << 1) | int(dut.dout.value)
            if since == WORD_BITS - 1:
                captured.append(bits)
                bits = 0

    # captured[p] was loaded at strobe p: the outputs at the end of period p-1
    mismatches = []
    for p, word in enumerate(captured[:n]):
        t = p - 1 - latency
        want = expected[t].tolist() if t >= 0 else [0, 0, 0, 0]
        got = _samples(word)
        if got != want:
            mismatches.append((p, want, got))
    assert len(captured) >= n, f"captured {len(captured)} output words, expected {n}"
    assert not mismatches, f"{len(mismatches)} of {n} output words differ; first: " + ", ".join(
        f"strobe {p}: want {w} got {g}" for p, w, g in mismatches[:4]
    )
    dut._log.info("harness: %d samples in and out bit-exact (latency %d)", n, latency)
