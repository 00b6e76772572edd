"""cocotb bench for a generated network core (``wavecomp_net`` or ``wavecomp_core``).

Driven from pytest (tests/test_rtl_network.py) through ``wavecomp.rtl.verilator.run_cocotb``.
The stimulus file (env WAVECOMP_STIM, .npz) holds the inputs per sample, the expected outputs
per sample (the numpy reference, computed by the test), the strobe period, the schedule's
latency and cycle count. Every output sample of every channel is compared.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from lanes import pack, unpack_signed

MEASURE_SAMPLES = 8  # periods in which `active` is sampled every cycle


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


@cocotb.test()
async def stream_matches_reference(dut):
    stim = np.load(os.environ["WAVECOMP_STIM"])
    x, expected = stim["x"], stim["expected"]
    cps, latency, cycles_model = (int(stim[k]) for k in ("cps", "latency", "cycles_used"))
    kind = str(stim["kind"])
    top = Top(dut, kind, x.shape[1], expected.shape[1])

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.strobe.value = 0
    if kind == "core":
        dut.jack.value = 0
    top.set_inputs(np.zeros(x.shape[1], dtype=np.int64))
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await FallingEdge(dut.clk)

    mismatches = []
    measured = []
    for t in range(x.shape[0]):
        top.set_inputs(x[t])
        dut.strobe.value = 1
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.strobe.value = 0
        if kind == "net" and t < MEASURE_SAMPLES:
            # falling edge k lies in clock s+1+k after the strobe clock s
            last_active = -1
            for k in range(cps - 1):
                if int(dut.active.value):
                    last_active = k
                await FallingEdge(dut.clk)
            if int(dut.active.value):  # still busy when the next strobe is due
                last_active = cps - 1
            measured.append(last_active + 2)
        else:
            await ClockCycles(dut.clk, cps - 1, rising=False)
        got = top.outputs()
        want = expected[t - latency] if t >= latency else np.zeros(expected.shape[1], int)
        for ch, (g, w) in enumerate(zip(got, want.tolist(), strict=True)):
            if g != w:
                mismatches.append((t, ch, w, g))

    if kind == "net":
        assert int(dut.fault.value) == 0, "core raised fault (program overrun or drain collision)"
        assert measured, "no cycle measurement was taken"
        assert max(measured) == cycles_model, (
            f"measured {max(measured)} cycles/sample in simulation, schedule model says "
            f"{cycles_model}"
        )
        assert max(measured) <= cps, f"used {max(measured)} cycles > budget {cps}"
    total = x.shape[0] * expected.shape[1]
    assert not mismatches, (
        f"{len(mismatches)} of {total} output samples differ (latency {latency}); first: "
        + ", ".join(f"t={t} ch={c} want {w} got {g}" for t, c, w, g in mismatches[:8])
    )
    dut._log.info("bit-exact: %d samples x %d channels", x.shape[0], expected.shape[1])
