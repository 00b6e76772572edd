"""cocotb bench for ``wavecomp.amaranth.NetworkCore`` converted to Verilog (with the SV core).

Driven from pytest (tests/test_amaranth_core.py) through ``benches.run_bench``. The stimulus
file (env WAVECOMP_STIM, .npz) holds the input frames ``x`` (T, 4), the output frames the
component must put out ``expected`` (T, 4: the reference shifted by the latency, zeros before
it; computed by the test), the instance path of the SV core's sticky ``fault``, the clock
periods (``core_period_ns`` > 0: the core runs in its own ``audio`` domain with that period),
``cycles_per_sample``, the seed and the longest ``o.ready`` stall. The bench writes a JSON
report (env WAVECOMP_REPORT) and leaves the verdict to the test, whose assertion messages then
name what went wrong; a run that stops producing frames is cut off and reported as timed out.

Both streams are driven with random valid/ready from a segment plan over frame numbers:
``stream`` segments (``i.valid`` back to back and ``o.ready`` held high: full rate),
``stall`` segments (``o.ready`` low for up to ``max_stall`` clocks between short bursts) and
``gaps`` segments (``i.valid`` low for up to 2 sample periods, ``o.ready`` dropping briefly).
Every output frame is recorded in order and compared lane by lane with ``expected``, so a lost
or repeated frame shows up as a mismatch; after the last frame no further output may appear.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge, SimTimeoutError, Timer, with_timeout
from cocotb.utils import get_sim_time
from lanes import pack, unpack_signed

RESET_CLOCKS = 4
LANES = 4
SEGMENTS = ("stream", "stall", "gaps")
MIN_SEGMENT, MAX_SEGMENT = 10, 60  # frames per segment: 180 frames see every kind


def segment_plan(n: int, rng: random.Random) -> list[str]:
    """The kind of segment each frame number falls in: the kinds in turn, random lengths."""
    kinds: list[str] = []
    while len(kinds) < n:
        kind = SEGMENTS[len(kinds) and (SEGMENTS.index(kinds[-1]) + 1) % len(SEGMENTS)]
        kinds += [kind] * rng.randint(MIN_SEGMENT, MAX_SEGMENT)
    return kinds[:n]


class Bench:
    """The two stream drivers around one DUT; every change is made at a falling clock edge."""

    def __init__(self, dut, stim: dict) -> None:
        self.dut = dut
        self.x = stim["x"]
        self.period = float(stim["period_ns"])
        self.cps = int(stim["cycles_per_sample"])
        self.max_stall = int(stim["max_stall"])
        seed = int(stim["seed"])
        self.plan = segment_plan(len(self.x), random.Random(seed))
        self.rng_in, self.rng_out = random.Random(seed + 1), random.Random(seed + 2)
        self.got: list[list[int]] = []
        self.accepted_ns: list[float] = []  # sim time of every input transfer
        self.stalls: list[int] = []  # clocks with o.ready low, per stretch
        self.max_outstanding = 0  # frames taken in but not yet out (in the core or queued)

    async def wait_cycles(self, n: int) -> None:
        """About n clocks in one trigger (cheap), ending at a falling edge."""
        if n > 0:
            await Timer(n * self.period, unit="ns")
        await FallingEdge(self.dut.clk)

    async def beat(self, sig) -> None:
        """From a falling edge: return at the first falling edge where ``sig`` is high (a
        transfer then happens at the next rising edge, as the other side is waiting)."""
        while not int(sig.value):
            await RisingEdge(sig)
            await FallingEdge(self.dut.clk)

    async def produce(self) -> None:
        dut = self.dut
        for n, frame in enumerate(self.x):
            kind = self.plan[n]
            if kind == "gaps" or (kind == "stall" and self.rng_in.random() < 0.3):
                dut.i__valid.value = 0
                await self.wait_cycles(self.rng_in.randint(0, 2 * self.cps))
            dut.i__payload.value = pack(frame.tolist(), 16)
            dut.i__valid.value = 1
            await self.beat(dut.i__ready)
            self.accepted_ns.append(get_sim_time("ns") + self.period / 2)
            self.max_outstanding = max(self.max_outstanding, len(self.accepted_ns) - len(self.got))
            await FallingEdge(dut.clk)
        dut.i__valid.value = 0

    async def consume(self) -> None:
        dut = self.dut
        n = len(self.x)
        while len(self.got) < n:
            kind = self.plan[len(self.got)]
            if kind == "stream":
                stall, burst = 0, self.rng_out.randint(MIN_SEGMENT, MAX_SEGMENT)
            elif kind == "stall":
                stall, burst = self.rng_out.randint(0, self.max_stall), self.rng_out.randint(1, 4)
            else:
                stall, burst = self.rng_out.randint(0, 40), self.rng_out.randint(1, 3)
            if stall:
                dut.o__ready.value = 0
                await self.wait_cycles(stall)
                self.stalls.append(stall)
            dut.o__ready.value = 1
            for _ in range(min(burst, n - len(self.got))):
                await self.beat(dut.o__valid)
                self.got.append(unpack_signed(dut.o__payload.value.to_unsigned(), 16, LANES))
                await FallingEdge(dut.clk)


def _handle(dut, path: str):
    """A signal inside the design by its dotted instance path (``core.u_net.fault``)."""
    for name in path.split("."):
        dut = getattr(dut, name)
    return dut


def _intervals(times_ns: list[float], period_ns: float) -> np.ndarray:
    """Clocks between consecutive input transfers."""
    return np.round(np.diff(np.array(times_ns)) / period_ns).astype(np.int64)


@cocotb.test()
async def stream_matches_reference(dut):
    stim = dict(np.load(os.environ["WAVECOMP_STIM"]))
    expected = stim["expected"].astype(np.int64)
    core_period = float(stim["core_period_ns"])
    bench = Bench(dut, stim)
    n = len(bench.x)

    cocotb.start_soon(Clock(dut.clk, bench.period, unit="ns").start())
    if core_period:
        cocotb.start_soon(Clock(dut.audio_clk, core_period, unit="ns").start())
        dut.audio_rst.value = 1
    dut.rst.value = 1
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    await Timer(RESET_CLOCKS * max(bench.period, core_period), unit="ns")
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    if core_period:
        dut.audio_rst.value = 0
    await bench.wait_cycles(RESET_CLOCKS)

    core_clock = core_period or bench.period
    bound_ns = n * (3 * bench.cps * core_clock + (bench.max_stall + 4 * bench.cps) * bench.period)
    producer = cocotb.start_soon(bench.produce())
    try:
        await with_timeout(bench.consume(), bound_ns, "ns")
        await producer
        timed_out = False
        # nothing more may come out: wait several sample periods with ready high
        await bench.wait_cycles(int(4 * bench.cps * core_clock / bench.period))
    except SimTimeoutError:
        timed_out = True
        producer.cancel()
    extra_valid = int(dut.o__valid.value)

    got = np.array(bench.got, dtype=np.int64).reshape(-1, LANES)
    bad = np.argwhere(got != expected[: len(got)])
    intervals = _intervals(bench.accepted_ns, bench.period)
    report = {
        "timed_out_after_ns": bound_ns if timed_out else None,
        "frames_in": len(bench.accepted_ns),
        "frames_out": len(bench.got),
        "extra_valid_after_last": extra_valid,
        "mismatches": len(bad),
        "first_mismatches": [
            [int(t), int(c), int(expected[t, c]), int(got[t, c])] for t, c in bad[:8]
        ],
        "fault": int(_handle(dut, str(stim["fault_path"])).value),
        "longest_ready_low": max(bench.stalls),
        "ready_low_stretches": len(bench.stalls),
        "max_outstanding": bench.max_outstanding,
        "segments": {k: bench.plan.count(k) for k in SEGMENTS},
        "min_input_interval": int(intervals.min()),
        "intervals_at_cycles_per_sample": int(np.sum(intervals == bench.cps)),
        "input_min": int(bench.x.min()),
        "input_max": int(bench.x.max()),
    }
    Path(os.environ["WAVECOMP_REPORT"]).write_text(json.dumps(report, indent=1))
    dut._log.info("%d frames x %d lanes: %s", n, LANES, report)
