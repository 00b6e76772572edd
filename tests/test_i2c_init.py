"""I2CInit against a behavioural I2C target: exact bytes, legal bus timing, PDN, done/error.

The target lives in the testbench (not in gateware) so it checks the wire protocol the codec
sees, independent of how the master is built. SCL runs at the real ≤ 100 kHz on a 12.288 MHz
clock; only the PDN/startup waits are shortened (constructor overrides) to keep runs fast.
"""

from __future__ import annotations

import gc
import warnings
from dataclasses import dataclass, field

import pytest
from ak4619_datasheet import FS_FIELD, register_set
from amaranth.hdl import Fragment, UnusedElaboratable
from amaranth.sim import Simulator

from wavecomp.fpga.ak4619_regs import (
    AK4619_I2C_ADDR,
    SUPPORTED_RATES,
    codec_registers,
    init_transaction,
    mclk_per_fs,
)
from wavecomp.fpga.i2c_init import DEFAULT_PDN_LOW_S, I2CInit

CLK_HZ = 12_288_000
PDN_LOW_S = 50e-6  # test override; the default (1 ms) is checked separately
STARTUP_S = 20e-6
# Standard-mode minimums, in clock cycles at CLK_HZ
T_LOW = 4.7e-6 * CLK_HZ
T_HIGH = 4.0e-6 * CLK_HZ
T_HD_STA = 4.0e-6 * CLK_HZ
T_SU_STO = 4.0e-6 * CLK_HZ


@dataclass
class BusLog:
    """What the behavioural target saw on the wire."""

    bytes_: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # cycle of each START
    stops: list[int] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    scl_rises: list[int] = field(default_factory=list)
    scl_falls: list[int] = field(default_factory=list)
    pdn_rise: int | None = None
    pdn_initial: int | None = None
    done_cycle: int | None = None
    error_cycle: int | None = None


def run_bus(dut: I2CInit, *, ack: bool = True, max_cycles: int = 60_000) -> BusLog:
    """Simulate ``dut`` with an I2C target at AK4619_I2C_ADDR that ACKs (or NACKs) everything."""
    log = BusLog()

    async def testbench(ctx):
        ctx.set(dut.sda_i, 1)
        prev_scl, prev_sda = 1, 1
        nbits, shreg, pull, acking = 0, 0, 0, False
        start_seen_cycle = -1
        for cycle in range(max_cycles):
            await ctx.tick()
            scl = 0 if ctx.get(dut.scl_oe) else 1
            sda = 0 if (ctx.get(dut.sda_oe) or pull) else 1
            pdn = ctx.get(dut.pdn)
            if log.pdn_initial is None:
                log.pdn_initial = pdn
            if pdn and log.pdn_rise is None:
                log.pdn_rise = cycle
            if scl and prev_scl and sda != prev_sda:
                if prev_sda and not sda:  # START
                    log.starts.append(cycle)
                    start_seen_cycle = cycle
                    nbits, shreg = 0, 0
                elif log.bytes_ or log.starts:  # STOP
                    log.stops.append(cycle)
                    if log.scl_rises and cycle - log.scl_rises[-1] < T_SU_STO:
                        log.violations.append(f"tSU;STO too short at {cycle}")
            if scl and not prev_scl:
                log.scl_rises.append(cycle)
                if log.scl_falls and cycle - log.scl_falls[-1] < T_LOW:
                    log.violations.append(f"SCL low too short at {cycle}")
                nbits += 1
                if nbits <= 8:
                    shreg = (shreg << 1) | sda
                if nbits == 8:
                    log.bytes_.append(shreg)
                    if len(log.bytes_) == 1:
                        acking = ack and (shreg >> 1) == AK4619_I2C_ADDR and not shreg & 1
            if not scl and prev_scl:
                log.scl_falls.append(cycle)
                high = cycle - log.scl_rises[-1] if log.scl_rises else 0
                if log.scl_rises and high < T_HIGH:
                    log.violations.append(f"SCL high too short at {cycle}")
                if len(log.scl_falls) == 1 and cycle - start_seen_cycle < T_HD_STA:
                    log.violations.append("tHD;STA too short")
                if nbits == 8:
                    pull = 1 if acking else 0  # ACK: pull SDA low during the 9th clock
                elif nbits == 9:
                    pull, nbits, shreg = 0, 0, 0
            ctx.set(dut.sda_i, 0 if (ctx.get(dut.sda_oe) or pull) else 1)
            prev_scl, prev_sda = scl, 0 if (ctx.get(dut.sda_oe) or pull) else 1
            if ctx.get(dut.done) and log.done_cycle is None:
                log.done_cycle = cycle
            if ctx.get(dut.error) and log.error_cycle is None:
                log.error_cycle = cycle
            if (log.done_cycle is not None or log.error_cycle is not None) and (
                cycle > max(log.done_cycle or 0, log.error_cycle or 0) + 100
            ):
                break

    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    sim.add_testbench(testbench)
    sim.run()
    return log


def make_dut(rate: int) -> I2CInit:
    """A DUT for ``rate`` with shortened PDN/startup waits (SCL timing is the real one)."""
    return I2CInit(CLK_HZ, init_transaction(rate), pdn_low_s=PDN_LOW_S, startup_s=STARTUP_S)


@pytest.mark.parametrize("rate", [48_000, 96_000, 192_000])
def test_transaction_bytes_and_timing(rate: int) -> None:
    dut = make_dut(rate)
    log = run_bus(dut)
    assert log.bytes_ == [0x20, 0x00, *codec_registers(rate)]
    assert log.violations == []
    # Any SDA change while SCL is high shows up as an extra START or STOP.
    assert len(log.starts) == 1 and len(log.stops) == 1
    assert log.starts[0] < log.stops[0]
    # SCL ≤ 100 kHz: every period between rising edges is ≥ 10 µs
    periods = [b - a for a, b in zip(log.scl_rises, log.scl_rises[1:], strict=False)]
    assert min(periods) >= CLK_HZ / 100_000
    assert len(log.scl_rises) == 9 * len(log.bytes_) + 1  # + the SCL release before STOP
    # PDN low from reset for the configured time, and before the first START
    assert log.pdn_initial == 0
    # cycle k is observed after k + 1 clock edges
    assert log.pdn_rise is not None and log.pdn_rise + 1 >= PDN_LOW_S * CLK_HZ
    assert log.starts[0] - log.pdn_rise >= STARTUP_S * CLK_HZ
    assert log.done_cycle is not None and log.done_cycle >= log.stops[0]
    assert log.error_cycle is None


def test_nack_sets_error_and_stops() -> None:
    dut = make_dut(48_000)
    log = run_bus(dut, ack=False)
    assert log.error_cycle is not None
    assert log.done_cycle is None
    assert log.bytes_ == [0x20]  # gave up after the address byte, no retry
    assert len(log.stops) == 1 and len(log.starts) == 1
    assert log.violations == []


def test_default_timing_constants() -> None:
    dut = I2CInit(CLK_HZ, init_transaction(48_000))
    Fragment.get(dut, None)  # elaborates cleanly at the real (1 ms / 10 ms) waits
    assert dut.pdn_low_cycles >= DEFAULT_PDN_LOW_S * CLK_HZ
    assert dut.scl_hz_actual <= 100_000
    fast = I2CInit(50e6, [0x20])
    Fragment.get(fast, None)
    assert fast.scl_hz_actual <= 100_000


@pytest.mark.parametrize("rate", sorted(FS_FIELD))
def test_register_set_per_rate(rate: int) -> None:
    assert codec_registers(rate) == register_set(rate)
    assert mclk_per_fs(rate) == FS_FIELD[rate][1]


def test_unsupported_rate_names_supported() -> None:
    with pytest.raises(ValueError, match="48000 Hz, 96000 Hz, 192000 Hz"):
        codec_registers(44_100)
    with pytest.raises(ValueError, match="not supported"):
        mclk_per_fs(32_000)
    assert SUPPORTED_RATES == (48_000, 96_000, 192_000)


@pytest.mark.parametrize(
    ("data", "kwargs"),
    [([], {}), ([0x100], {}), ([0x20], {"scl_hz": 400_000}), ([0x20], {"pdn_low_s": 0})],
)
def test_bad_parameters(data: list[int], kwargs: dict[str, float]) -> None:
    # A rejected component is never elaborated; silence amaranth's "created but never used".
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError):
            I2CInit(CLK_HZ, data, **kwargs)
        gc.collect()
