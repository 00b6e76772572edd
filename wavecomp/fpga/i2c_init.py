"""One-shot AK4619 power-up: PDN pulse, then a single I2C write of a fixed byte sequence.

The codec needs configuring exactly once after power-up, so a small fixed sequencer is enough:
no CPU, no general I2C master. Sequence after reset (all times derived from ``clk_hz``):

1. ``pdn`` low for ``pdn_low_s`` (default 1 ms; Tiliqua also holds PDN 1 ms, and the value is
   far above any plausible minimum PDN pulse width; the datasheet figure was not checked here).
2. ``pdn`` high, then wait ``startup_s`` (default 10 ms) so the codec's regulators and internal
   reset settle before I2C; upstream eurorack-pmod waits 2^17 cycles of 12.288 MHz ≈ 10.7 ms.
3. One write: START, ``data`` bytes MSB first (the caller passes the address byte first, e.g.
   0x20 0x00 + 21 registers), each followed by an ACK slot, STOP.

I2C is standard-mode (≤ 100 kHz) open drain: ``scl_oe``/``sda_oe`` = 1 pulls the line low, 0
releases it to the pull-up. A bit is four quarter-periods (SCL low, low, high, high); SDA only
changes one quarter after SCL falls, so SCL low and high are both ≥ 2 quarters = 5 µs at 100 kHz
(spec: tLOW ≥ 4.7 µs, tHIGH ≥ 4.0 µs, tHD;STA/tSU;STO ≥ 4.0 µs). Clock stretching is not
supported (the AK4619 does not stretch). ``sda_i`` goes through a 2-FF synchroniser and is sampled
at the end of the SCL high phase.

A NACK (SDA high in any ACK slot) ends the transfer with a STOP and sets ``error``; there is no
retry — the codec is on the board or it is not, and retrying would hide a wiring fault.
``done`` rises only after a fully ACKed write; ``error`` and ``done`` hold until reset.
"""

# No `from __future__ import annotations`: wiring.Component reads the port annotations as objects.
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from amaranth.hdl import Array, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

I2C_STANDARD_MODE_HZ = 100_000
DEFAULT_PDN_LOW_S = 1e-3
DEFAULT_STARTUP_S = 10e-3


class I2CInit(wiring.Component):
    """Hold PDN low, release it, then write ``data`` once over I2C (open drain, ≤ 100 kHz).

    Ports: ``scl_oe``/``sda_oe`` (1 = drive low), ``sda_i`` (bus level), ``pdn`` (codec PDN,
    active low), ``done`` (write fully ACKed), ``error`` (NACK seen; no retry).
    """

    scl_oe: Out(1)
    sda_oe: Out(1)
    sda_i: In(1, init=1)
    pdn: Out(1)
    done: Out(1)
    error: Out(1)

    def __init__(
        self,
        clk_hz: float,
        data: Sequence[int],
        *,
        scl_hz: float = I2C_STANDARD_MODE_HZ,
        pdn_low_s: float = DEFAULT_PDN_LOW_S,
        startup_s: float = DEFAULT_STARTUP_S,
    ) -> None:
        if clk_hz <= 0:
            raise ValueError(f"clk_hz must be positive, got {clk_hz}")
        if not 0 < scl_hz <= I2C_STANDARD_MODE_HZ:
            raise ValueError(f"scl_hz must be in (0, {I2C_STANDARD_MODE_HZ}], got {scl_hz}")
        if pdn_low_s <= 0 or startup_s < 0:
            raise ValueError("pdn_low_s must be > 0 and startup_s >= 0")
        data = list(data)
        if not data or any(not 0 <= b <= 0xFF for b in data):
            raise ValueError("data must be a non-empty sequence of bytes (0..255)")
        self.clk_hz = clk_hz
        self.data = data
        # Round the quarter period up so SCL never exceeds scl_hz; >= 4 cycles keeps the
        # synchroniser latency well inside the SCL high phase.
        self.quarter_cycles = max(4, math.ceil(clk_hz / (4 * scl_hz)))
        self.pdn_low_cycles = max(1, math.ceil(pdn_low_s * clk_hz))
        self.startup_cycles = max(1, math.ceil(startup_s * clk_hz))
        super().__init__()

    @property
    def scl_hz_actual(self) -> float:
        """The SCL frequency the divider really produces (≤ the requested one)."""
        return self.clk_hz / (4 * self.quarter_cycles)

    def elaborate(self, platform: object) -> Module:
        m = Module()

        sda_sync = Signal(init=1)
        m.submodules.sda_sync = FFSynchronizer(self.sda_i, sda_sync, init=1)

        # One counter serves both the long PDN/startup waits and the quarter-period ticks.
        wait = Signal(
            range(max(self.pdn_low_cycles, self.startup_cycles, self.quarter_cycles)),
            init=self.pdn_low_cycles - 1,
        )
        tick = Signal()
        m.d.comb += tick.eq(wait == 0)

        phase = Signal(2)
        bit = Signal(range(9))  # 0..7 data bits (MSB first), 8 = ACK slot
        index = Signal(range(len(self.data)))
        rom = Array(Const(b, 8) for b in self.data)
        shift = Signal(8)
        nack = Signal()

        scl_oe = Signal()
        sda_oe = Signal()
        m.d.comb += [self.scl_oe.eq(scl_oe), self.sda_oe.eq(sda_oe)]

        def quarter() -> None:
            m.d.sync += wait.eq(self.quarter_cycles - 1)

        @contextmanager
        def quarter_steps() -> Iterator[None]:
            """A bus state's body: on each tick, the next quarter; yields a Switch on its phase."""
            with m.If(tick):
                quarter()
                m.d.sync += phase.eq(phase + 1)
                with m.Switch(phase):
                    yield

        with m.If(~tick):
            m.d.sync += wait.eq(wait - 1)

        with m.FSM(init="PDN_LOW") as fsm:
            with m.State("PDN_LOW"), m.If(tick):
                m.d.sync += wait.eq(self.startup_cycles - 1)
                m.next = "STARTUP"
            with m.State("STARTUP"), m.If(tick):
                quarter()
                m.d.sync += [phase.eq(0), shift.eq(rom[0]), index.eq(0), bit.eq(0)]
                m.next = "START"
            with m.State("START"), quarter_steps():
                with m.Case(0):
                    m.d.sync += sda_oe.eq(1)  # SDA falls while SCL high: START
                with m.Case(2):
                    m.d.sync += scl_oe.eq(1)
                with m.Case(3):
                    m.next = "BITS"
            with m.State("BITS"), quarter_steps():
                with m.Case(0):  # SCL low for one quarter already: set SDA
                    with m.If(bit == 8):
                        m.d.sync += sda_oe.eq(0)  # release for the target's ACK
                    with m.Else():
                        m.d.sync += [sda_oe.eq(~shift[7]), shift.eq(shift << 1)]
                with m.Case(1):
                    m.d.sync += scl_oe.eq(0)
                with m.Case(3):
                    m.d.sync += scl_oe.eq(1)
                    with m.If(bit == 8):
                        m.d.sync += bit.eq(0)
                        with m.If(sda_sync):
                            m.d.sync += nack.eq(1)
                            m.next = "STOP"
                        with m.Elif(index == len(self.data) - 1):
                            m.next = "STOP"
                        with m.Else():
                            m.d.sync += [index.eq(index + 1), shift.eq(rom[index + 1])]
                    with m.Else():
                        m.d.sync += bit.eq(bit + 1)
            with m.State("STOP"), quarter_steps():
                with m.Case(0):
                    m.d.sync += sda_oe.eq(1)
                with m.Case(1):
                    m.d.sync += scl_oe.eq(0)
                with m.Case(3):
                    m.d.sync += sda_oe.eq(0)  # SDA rises while SCL high: STOP
                    m.next = "FINISHED"
            with m.State("FINISHED"):
                m.d.comb += [self.done.eq(~nack), self.error.eq(nack)]
        m.d.comb += self.pdn.eq(~fsm.ongoing("PDN_LOW"))  # PDN is released after its pulse

        return m
