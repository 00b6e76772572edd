"""cocotb bench: the board top's logic (``PmodSystem``: AK4619 serial port, I2C init, MCLK, the
generated core) against a behavioural AK4619.

Driven from tests/test_board_sim.py through ``wavecomp.rtl.verilator.run_cocotb``. The
stimulus file (env WAVECOMP_STIM, .npz) names the model, rounding, schedule latency, clock
multiple, MCLK divider and holds the ADC samples to play once the codec is configured.

The codec model is written from the datasheet's rules, independently of the driver:

- I2C target at 0x10: ACKs its address, takes a register pointer then auto-incrementing
  data bytes; every write is logged. It ignores the bus while PDN is low (power-down).
- Serial port (TDM128, I2S compatible, BCKP=1): a frame starts one BICK after LRCK is sampled
  low on a falling BICK edge; slot s bit b is BICK period 32 s + b. SDIN1 is sampled on falling
  BICK edges, SDOUT1 changes after rising ones (24-bit ADC words, 8 random low bits the driver
  must drop). It counts BICK and MCLK per frame and checks them against the FS field the
  driver wrote (MCLK/fs must match what reg 0x03 promises).
- ADC data flows only once the codec is powered up and configured (RSTN set by the I2C
  write); before that SDOUT1 is low, so the network first sees zeros, as on real hardware.

Every DAC frame is checked against the reference run on exactly the ADC frames sent (through
the model's jack mapping and Q4.12 scaling), with the documented frame latency.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import (
    ClockCycles,
    FallingEdge,
    First,
    RisingEdge,
    SimTimeoutError,
    with_timeout,
)
from cocotb.utils import get_sim_time
from lanes import from_bits, to_bits

from wavecomp import fixed, reference
from wavecomp.ir import Network
from wavecomp.sim import network_inputs

CLK_PERIOD_NS = 10
I2C_ADDRESS = 0x10
# System Clock Setting FS[2:0] -> MCLK/fs (datasheet table; 128 fs only for 176.4-192 kHz)
FS_TO_MCLK_RATIO = {0b000: 256, 0b001: 256, 0b010: 384, 0b011: 512, 0b100: 128}
SLOT_BITS = 32
BICK_PER_FRAME = 128


@dataclass
class I2CTarget:
    """Register file written over I2C; ``writes`` logs (pointer, data bytes) per transaction."""

    regs: dict[int, int] = field(default_factory=dict)
    writes: list[tuple[int, list[int]]] = field(default_factory=list)
    address_bytes: list[int] = field(default_factory=list)
    first_start_cycle: int | None = None


@dataclass
class CodecState:
    """What the serial-port model saw and sent."""

    rng: random.Random
    adc_stim: np.ndarray
    next_stim: int = 0
    configured_frame: int | None = None  # first frame with live ADC data
    adc: list[list[int]] = field(default_factory=list)  # per codec frame, as sent
    dac: list[list[int]] = field(default_factory=list)  # per codec frame, as received
    bick_per_frame: list[int] = field(default_factory=list)


class Bench:
    """The codec model coroutines around one DUT."""

    def __init__(self, dut, stim: dict) -> None:
        self.dut = dut
        self.mclk_divider = int(stim["mclk_divider"])
        self.i2c = I2CTarget()
        self.codec = CodecState(random.Random(4619), stim["adc"])
        self.pdn_rise_cycle: int | None = None
        self.ack_low = False
        self.t0 = time.monotonic()

    # ---- clock-cycle bookkeeping ------------------------------------------------------------
    @property
    def cycle(self) -> int:
        """Clock cycles since time 0 (from simulation time: no per-cycle Python callback)."""
        return int(get_sim_time(unit="ns")) // CLK_PERIOD_NS

    async def watch_pdn(self) -> None:
        await RisingEdge(self.dut.pdn)
        self.pdn_rise_cycle = self.cycle

    async def mclk_per_frame(self, frames: int) -> float:
        """MCLK periods per LRCK period, measured over ``frames`` frames (LRCK period from sim
        time, then MCLK rising edges counted over the same span)."""
        dut = self.dut
        lrck_fall = FallingEdge(dut.lrck)
        await lrck_fall
        start = self.cycle
        for _ in range(frames):
            await lrck_fall
        span = self.cycle - start
        if self.mclk_divider == 1:  # MCLK is the clock itself (forwarded by ODDRX1F)
            return span / frames
        mclk_rise = RisingEdge(dut.mclk)
        await mclk_rise
        first, edges = self.cycle, 0  # count the edges in [first, first + span)
        while self.cycle - first < span:
            edges += 1
            await mclk_rise
        return edges / frames

    # ---- I2C target -------------------------------------------------------------------------
    def _drive_sda(self) -> None:
        self.dut.sda_i.value = 0 if (int(self.dut.sda_oe.value) or self.ack_low) else 1

    async def i2c_target(self) -> None:
        dut = self.dut
        scl, sda = 1, 1
        bits: list[int] = []
        data: list[int] = []
        in_transfer = False
        bit_count = 0
        ack_pending = False
        addressed = False
        while True:
            await First(dut.scl_oe.value_change, dut.sda_oe.value_change)
            new_scl = 0 if int(dut.scl_oe.value) else 1
            new_sda = 0 if (int(dut.sda_oe.value) or self.ack_low) else 1
            powered = int(dut.pdn.value) == 1
            if powered and scl == 1 and new_scl == 1 and sda != new_sda:
                if new_sda == 0:  # START
                    if self.i2c.first_start_cycle is None:
                        self.i2c.first_start_cycle = self.cycle
                    in_transfer, bit_count, bits, data, addressed = True, 0, [], [], False
                elif in_transfer:  # STOP
                    if addressed and data:
                        pointer, values = data[0], data[1:]
                        self.i2c.writes.append((pointer, values))
                        for i, v in enumerate(values):
                            self.i2c.regs[pointer + i] = v
                    in_transfer = False
            elif in_transfer and powered and scl == 0 and new_scl == 1:  # SCL rises: sample
                if bit_count < 8:
                    bits.append(new_sda)
                bit_count += 1
            elif in_transfer and scl == 1 and new_scl == 0:  # SCL falls
                if bit_count == 8:
                    byte = int("".join(map(str, bits)), 2)
                    if not addressed and not data and byte >> 1 == I2C_ADDRESS and not byte & 1:
                        addressed = True
                        self.i2c.address_bytes.append(byte)
                        ack_pending = True
                    elif addressed:
                        data.append(byte)
                        ack_pending = True
                    self.ack_low = ack_pending  # ACK: hold SDA low for the 9th clock
                elif bit_count == 9:
                    self.ack_low = False
                    ack_pending = False
                    bit_count, bits = 0, []
            scl, sda = new_scl, 0 if (int(dut.sda_oe.value) or self.ack_low) else 1
            self._drive_sda()

    def configured(self) -> bool:
        """Powered, RSTN set and the whole 0x00..0x14 register file written."""
        regs = self.i2c.regs
        return (
            int(self.dut.pdn.value) == 1
            and all(r in regs for r in range(0x15))
            and bool(regs[0x00] & 0x01)
        )

    # ---- serial port ------------------------------------------------------------------------
    async def serial_port(self, frames_wanted: int) -> None:
        """Run codec frames until ``frames_wanted`` DAC frames after configuration."""
        dut, c = self.dut, self.codec
        last_lrck = int(dut.lrck.value)
        frame = -1
        k = 0
        tx: list[int] = [0] * BICK_PER_FRAME
        rx: list[int] = []
        bick_count = 0
        live = False
        while True:
            await RisingEdge(dut.bick)
            bick_count += 1
            # SDOUT1 changes after the rising edge; unknown bits outside a frame read 0
            dut.sdout1.value = tx[k] if frame >= 0 and k < BICK_PER_FRAME else 0
            await FallingEdge(dut.bick)
            lrck, sdin1 = int(dut.lrck.value), int(dut.sdin1.value)
            if frame >= 0 and k < BICK_PER_FRAME:
                rx.append(sdin1)
                k += 1
            if last_lrck == 1 and lrck == 0:  # frame sync: slot 0 MSB one BICK later
                if frame >= 0:
                    assert len(rx) == BICK_PER_FRAME, f"codec frame {frame}: {len(rx)} bits"
                    c.dac.append(self.decode(rx, frame))
                    c.bick_per_frame.append(bick_count)
                    if live and len(c.dac) - c.configured_frame >= frames_wanted:
                        return
                bick_count = 0
                frame += 1
                if frame % 500 == 0:
                    self.dut._log.info(
                        "codec frame %d, configured at %s, I2C writes %d, wall %.1f s",
                        frame,
                        c.configured_frame,
                        len(self.i2c.writes),
                        time.monotonic() - self.t0,
                    )
                k, rx = 0, []
                if not live and self.configured():
                    live = True
                    c.configured_frame = frame
                if live:
                    samples = [int(v) for v in c.adc_stim[c.next_stim % len(c.adc_stim)]]
                    c.next_stim += 1
                else:
                    samples = [0, 0, 0, 0]
                c.adc.append(samples)
                tx = []
                for s in samples:
                    # 24-bit ADC word (DODL=00): random low 8 bits the driver must drop
                    low = c.rng.getrandbits(8) if live else 0
                    tx += to_bits(s, 16) + to_bits(low, 8) + [0] * 8
            last_lrck = lrck

    @staticmethod
    def decode(bits: list[int], frame: int) -> list[int]:
        """Four DAC samples from a frame; 32-bit DAC words (DIDL=11) must be zero-padded."""
        out = []
        for s in range(4):
            slot = bits[SLOT_BITS * s : SLOT_BITS * (s + 1)]
            assert slot[16:] == [0] * 16, f"codec frame {frame} slot {s}: padding {slot[16:]}"
            out.append(from_bits(slot[:16]))
        return out


def expected_dac(net: Network, adc: np.ndarray, rounding: str) -> np.ndarray:
    """Reference DAC samples (T, 4) for ADC samples (T, 4): jack mapping + Q4.12 scaling."""
    x, _ = network_inputs(net, adc, {})
    y = reference.run(net, x, rounding=rounding)
    out = np.zeros((adc.shape[0], 4), dtype=np.int16)
    for o, ch in enumerate(net.io.outputs):
        if ch.jack is not None:
            out[:, ch.jack] = fixed.q12_to_board(y[:, o], net.io.output_shift)
    return out


@cocotb.test()
async def board_top_matches_reference(dut):
    stim = dict(np.load(os.environ["WAVECOMP_STIM"]))
    net = Network.load(str(stim["model"]))
    rounding = str(stim["rounding"])
    frame_latency = int(stim["frame_latency"])
    frames_wanted = int(stim["frames"])
    max_cycles = int(stim["max_cycles"])
    bench = Bench(dut, stim)

    cocotb.start_soon(Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.sdout1.value = 0
    dut.sda_i.value = 1
    await ClockCycles(dut.clk, 4)
    assert int(dut.pdn.value) == 0, "PDN must hold the codec in power-down from reset"
    dut.rst.value = 0
    cocotb.start_soon(bench.watch_pdn())
    cocotb.start_soon(bench.i2c_target())
    mclk = cocotb.start_soon(bench.mclk_per_frame(4))
    try:
        await with_timeout(bench.serial_port(frames_wanted), max_cycles * CLK_PERIOD_NS, "ns")
    except SimTimeoutError:
        raise AssertionError(
            f"no result within {max_cycles} clocks: configured at frame "
            f"{bench.codec.configured_frame}, I2C writes {bench.i2c.writes}, "
            f"i2c_error={int(dut.i2c_error.value)}"
        ) from None
    assert int(dut.i2c_done.value) == 1 and int(dut.i2c_error.value) == 0

    c = bench.codec
    adc = np.array(c.adc, dtype=np.int16)
    dac = np.array(c.dac, dtype=np.int16)
    # The serial port strobes once (cycle 225 of its frame 0) before the codec's frame 0 starts,
    # so the core's first sample is a reset-value zero that belongs to no codec frame: network
    # sample n + 1 = ADC frame n, and DAC frame f carries network output f + 1 - frame_latency.
    lead_in = int(stim["lead_in_samples"])
    net_in = np.concatenate([np.zeros((lead_in, 4), dtype=np.int16), adc])
    ref = expected_dac(net, net_in, rounding)
    want = np.zeros_like(dac)
    first = frame_latency - lead_in
    want[first:] = ref[: dac.shape[0] - first]
    bad = np.argwhere(dac != want)
    live = dac.shape[0] - c.configured_frame
    report = {
        "i2c_address_bytes": bench.i2c.address_bytes,
        "i2c_writes": bench.i2c.writes,
        "registers": [bench.i2c.regs.get(r) for r in range(0x15)],
        "pdn_rise_cycle": bench.pdn_rise_cycle,
        "first_start_cycle": bench.i2c.first_start_cycle,
        "configured_frame": c.configured_frame,
        "frames": int(dac.shape[0]),
        "live_frames": int(live),
        "mismatches": len(bad),
        "mclk_per_frame": await mclk,
        "bick_per_frame": sorted(set(c.bick_per_frame)),
        "adc_min": int(adc.min()),
        "adc_max": int(adc.max()),
    }
    report_path = Path(os.environ["WAVECOMP_REPORT"])
    report_path.write_text(json.dumps(report, indent=1))
    np.savez(report_path.with_suffix(".npz"), adc=adc, dac=dac, want=want)
    assert not bad.size, (
        f"{len(bad)} of {dac.size} DAC samples differ (frame latency {frame_latency}); first: "
        + ", ".join(f"frame {f} ch {ch} want {want[f, ch]} got {dac[f, ch]}" for f, ch in bad[:8])
    )
    fs = bench.i2c.regs[0x03] & 0b111
    assert report["mclk_per_frame"] == FS_TO_MCLK_RATIO[fs], (
        f"MCLK/fs measured {report['mclk_per_frame']}, reg 0x03 FS={fs:03b} promises "
        f"{FS_TO_MCLK_RATIO[fs]}"
    )
    assert report["bick_per_frame"] == [BICK_PER_FRAME]
    dut._log.info("bit-exact: %d DAC frames (%d after codec init) x 4 channels", dac.shape[0], live)
