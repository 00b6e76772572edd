"""The board top's clock-domain logic: AK4619 serial port, I2C init + PDN, MCLK, the SV core.

Why separate from ``board_top``: everything here is plain logic with no vendor primitive (no
PLL, DDR or I/O buffer), so the same component is what the board top instantiates *and* what
the cocotb board simulation (``sim/test_board_top.py``) runs against a behavioural codec.
"""

# No `from __future__ import annotations`: wiring.Component reads the port annotations as objects.
from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from wavecomp.fpga.ak4619 import AK4619Serial
from wavecomp.fpga.ak4619_regs import init_transaction, mclk_per_fs
from wavecomp.fpga.i2c_init import I2CInit

CORE_MODULE = "wavecomp_core"


def mclk_divider(rate_hz: int, clock_multiple: int) -> int:
    """Clock cycles per MCLK period: (M × 256·fs) / MCLK."""
    return clock_multiple * 256 // mclk_per_fs(rate_hz)


class PmodSystem(wiring.Component):
    """Everything in the clock domain: AK4619 serial port, I2C init + PDN, MCLK divider, core.

    Ports are plain logic levels (``*_oe`` = pull the open-drain line low); ``BoardTop`` adds
    the PLL and the I/O buffers, the board simulation drives them directly. ``mclk`` is only
    used when ``mclk_divider`` > 1 (otherwise the clock itself is forwarded by the top).
    ``i2c_done``/``i2c_error`` report the codec init (for LEDs or a simulation).
    """

    mclk: Out(1)
    bick: Out(1)
    lrck: Out(1)
    sdin1: Out(1)
    sdout1: In(1)
    pdn: Out(1)
    scl_oe: Out(1)
    sda_oe: Out(1)
    sda_i: In(1, init=1)
    i2c_done: Out(1)
    i2c_error: Out(1)

    def __init__(self, clk_hz: float, rate_hz: int, clock_multiple: int = 1) -> None:
        self.clk_hz = clk_hz
        self.rate_hz = rate_hz
        self.clock_multiple = clock_multiple
        self.mclk_divider = mclk_divider(rate_hz, clock_multiple)
        self.i2c_bytes = init_transaction(rate_hz)
        super().__init__()

    def elaborate(self, platform: object) -> Module:
        """Serial port and init sequencer around the SV core instance."""
        m = Module()
        m.submodules.codec = serial = AK4619Serial(self.clock_multiple)
        m.submodules.i2c_init = i2c = I2CInit(self.clk_hz, self.i2c_bytes)
        m.d.comb += [
            # the codec's serial port
            self.bick.eq(serial.bick),
            self.lrck.eq(serial.lrck),
            self.sdin1.eq(serial.sdin1),
            serial.sdout1.eq(self.sdout1),
            # its control port: PDN and the one-shot I2C init
            self.pdn.eq(i2c.pdn),
            self.scl_oe.eq(i2c.scl_oe),
            self.sda_oe.eq(i2c.sda_oe),
            i2c.sda_i.eq(self.sda_i),
            self.i2c_done.eq(i2c.done),
            self.i2c_error.eq(i2c.error),
        ]
        if self.mclk_divider > 1:
            count = Signal(range(self.mclk_divider))
            m.d.sync += count.eq(count + 1)
            # registered: the value the pin has in the next cycle
            m.d.sync += self.mclk.eq((count + 1)[len(count) - 1])

        ports: dict[str, object] = {
            "i_clk": ClockSignal("sync"),
            "i_rst": ResetSignal("sync"),
            "i_strobe": serial.strobe,
            "i_jack": Const(0, 8),
        }
        for ch in range(4):
            ports[f"i_sample_in{ch}"] = getattr(serial, f"sample_in{ch}")
            ports[f"o_sample_out{ch}"] = getattr(serial, f"sample_out{ch}")
        m.submodules.core = Instance(CORE_MODULE, **ports)
        return m
