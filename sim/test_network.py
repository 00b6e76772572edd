"""cocotb bench for a generated network core (``wavecomp_net`` or ``wavecomp_core``).

Driven from pytest (tests/test_rtl_network.py) through ``benches.run_bench``. The stimulus file
(env WAVECOMP_STIM, .npz) holds the inputs per sample, the output rows the core must put out
(the numpy reference, computed by the test, latency removed), the strobe period, the
schedule's latency, cycle count and program length, and how to reset: ``reset_at`` > 0 resets
the core again just before that sample, ``held_strobe`` drives upstream eurorack-pmod's strobe
at every reset (high during reset and for two clocks after it, with junk on the inputs).

``stream_matches_reference`` feeds every sample and ``latency`` more, so every output row of
every channel is compared (and the rows put out during the first ``latency`` periods after each
reset must be 0). ``early_strobe_sets_fault`` proves the sticky ``fault`` still catches a real
overrun: a strobe one clock before the program ends.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from lanes import pack, unpack_signed

MEASURE_SAMPLES = 8  # periods in which `active` is sampled every cycle
RESET_CLOCKS = 3
HELD_STROBE_CLOCKS = 2  # upstream top.sv: strobe still high after reset releases
JUNK = 0x5A5A  # on the inputs while a held strobe must be ignored


class Top:
    """Uniform access to the two tops' ports."""

    def __init__(self, dut, kind: str, n_in: int, n_out: int) -> None:
        self.dut, self.kind, self.n_in, self.n_out = dut, kind, n_in, n_out

    def set_inputs(self, x: np.ndarray) -> None:
        if self.kind == "net":
            self.dut.in_data.value = pack(x.tolist(), 16)
        else:
            for j in range(4):
                getattr(self.dut, f"sample_in{j}").value = int(x[j]) & 0xFFFF

    def outputs(self) -> list[int]:
        if self.kind == "net":
            return unpack_signed(self.dut.out_data.value.to_unsigned(), 16, self.n_out)
        return [getattr(self.dut, f"sample_out{j}").value.to_signed() for j in range(4)]

    def fault(self) -> int:
        net = self.dut if self.kind == "net" else self.dut.u_net
        return int(net.fault.value)

    async def reset(self, held_strobe: bool) -> None:
        """rst for RESET_CLOCKS clocks; with ``held_strobe`` upstream's pattern (strobe high
        during reset and HELD_STROBE_CLOCKS clocks after, junk inputs), else strobe low.
        Returns at a falling edge, ready for the first strobe."""
        self.dut.rst.value = 1
        self.dut.strobe.value = int(held_strobe)
        self.set_inputs(np.full(self.n_in, JUNK if held_strobe else 0))
        await ClockCycles(self.dut.clk, RESET_CLOCKS, rising=False)
        self.dut.rst.value = 0
        if held_strobe:
            await ClockCycles(self.dut.clk, HELD_STROBE_CLOCKS, rising=False)
            self.dut.strobe.value = 0
            await FallingEdge(self.dut.clk)

    async def strobe(self, x: np.ndarray) -> None:
        """One strobe clock with inputs ``x``; returns at the falling edge after it."""
        self.set_inputs(x)
        self.dut.strobe.value = 1
        await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        self.dut.strobe.value = 0


def _start(dut, stim) -> Top:
    kind = str(stim["kind"])
    top = Top(dut, kind, stim["x"].shape[1], stim["expected"].shape[1])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.strobe.value = 0
    if kind == "core":
        dut.jack.value = 0
    return top


async def _measure_cycles(dut, cps: int) -> int:
    """Clocks from the strobe to the last one with `active` high, counted from the falling
    edge after the strobe clock; returns at the falling edge before the next strobe."""
    # falling edge k lies in clock s+1+k after the strobe clock s
    last_active = -1
    for k in range(cps - 1):
        if int(dut.active.value):
            last_active = k
        await FallingEdge(dut.clk)
    if int(dut.active.value):  # still busy when the next strobe is due
        last_active = cps - 1
    return last_active + 2


@cocotb.test()
async def stream_matches_reference(dut):
    stim = np.load(os.environ["WAVECOMP_STIM"])
    x, expected = stim["x"], stim["expected"]
    cps, latency, cycles_model = (int(stim[k]) for k in ("cps", "latency", "cycles_used"))
    reset_at, held = int(stim["reset_at"]), bool(stim["held_strobe"])
    top = _start(dut, stim)
    n_samples, n_out = x.shape[0], expected.shape[1]
    await top.reset(held)

    mismatches = []
    measured = []
    for p in range(n_samples + latency):  # `latency` more strobes bring the last rows out
        if reset_at and p == reset_at:
            await top.reset(held)
        await top.strobe(x[p] if p < n_samples else np.zeros(x.shape[1], dtype=np.int64))
        if top.kind == "net" and p < MEASURE_SAMPLES:
            measured.append(await _measure_cycles(dut, cps))
        else:
            await ClockCycles(dut.clk, cps - 1, rising=False)
        got = top.outputs()
        want = expected[p - latency] if p >= latency else np.zeros(n_out, dtype=np.int64)
        for ch, (g, w) in enumerate(zip(got, want.tolist(), strict=True)):
            if g != w:
                mismatches.append((p - latency, ch, w, g))

    assert top.fault() == 0, "core raised fault (program overrun or drain collision)"
    if top.kind == "net":
        assert measured, "no cycle measurement was taken"
        assert max(measured) == cycles_model, (
            f"measured {max(measured)} cycles/sample in simulation, schedule model says "
            f"{cycles_model}"
        )
        assert max(measured) <= cps, f"used {max(measured)} cycles > budget {cps}"
    assert not mismatches, (
        f"{len(mismatches)} of {expected.size} output samples differ (latency {latency}, "
        f"reset at {reset_at}, strobe held over reset: {held}); first (row, ch, want, got): "
        + ", ".join(f"({t}, {c}, {w}, {g})" for t, c, w, g in mismatches[:8])
    )
    dut._log.info("bit-exact: %d samples x %d channels", n_samples, n_out)


@cocotb.test()
async def early_strobe_sets_fault(dut):
    """A strobe one clock before the program's last step is an overrun: `fault` rises at
    that strobe (not before), stays up through later clean periods, and only rst clears it."""
    stim = np.load(os.environ["WAVECOMP_STIM"])
    cps, length = int(stim["cps"]), int(stim["program_length"])
    assert length >= 2, "a one-step program cannot overrun: use a network with more steps"
    top = _start(dut, stim)
    x = stim["x"]
    await top.reset(held_strobe=True)
    await top.strobe(x[0])
    await ClockCycles(dut.clk, length - 2, rising=False)  # the next edge is LEN - 1 after
    assert top.fault() == 0, "fault before any overrun"
    await top.strobe(x[1 % len(x)])
    assert top.fault() == 1, f"a strobe {length - 1} clocks after the last one (program: {length})"
    for p in range(3):
        await ClockCycles(dut.clk, cps - 1, rising=False)
        await top.strobe(x[p % len(x)])
        assert top.fault() == 1, "fault is sticky"
    await top.reset(held_strobe=False)
    assert top.fault() == 0, "rst clears fault"
