"""Amaranth board top: PLL -> clk_256fs, AK4619 serial + I2C init, and the generated SV core.

Why Amaranth here: the core is SystemVerilog (one netlist for every board), but the glue around
it (clocking, codec, pins) differs per board; Amaranth platforms give us pin constraints, I/O
buffers and the yosys/nextpnr/ecppack script for free, and ``amaranth-boards`` already knows the
ECPIX-5. Boards it does not know (Colorlight i5/i9) get a minimal platform built from the board
TOML, so the pin facts stay in one place (``boards/*.toml``).

Clocking: one ``sync`` domain at ``M × 256·fs`` (M = ``--core-clock``, 1, 2 or 4) from an
EHXPLLL (the ClockPlan puts the core clock on CLKOS with CLKOP as feedback). Everything — codec
serial port, I2C sequencer and the core — runs in it; reset is held until the PLL reports lock,
so no logic runs on an unstable clock. M > 1 gives the core M × 256 cycles per sample (fewer
multipliers) with no clock-domain crossing: the serial port divides BICK down by 2M instead.

MCLK: the codec needs MCLK = 256·fs (128·fs at 192 kHz, see ``ak4619_regs``). When that equals
the clock, it leaves the chip through an ``io.DDRBuffer`` (an ODDRX1F on ECP5) with D0 = 1,
D1 = 0: the output register toggles on both edges of the clock, so the pin is a copy of the
clock without routing the clock net into fabric logic (the standard ECP5 way to forward a
clock). Otherwise MCLK is the top bit of a small counter, a plain registered output.

The logic that does not depend on vendor primitives (``pmod_system.PmodSystem``) is a separate
component so the cocotb board simulation (``sim/test_board_top.py``) runs exactly that logic.
"""

from __future__ import annotations

import importlib

from amaranth.build import Attrs, Clock, Pins, Resource, Subsignal
from amaranth.hdl import (
    ClockDomain,
    ClockSignal,
    Const,
    Elaboratable,
    Instance,
    Module,
    Signal,
)
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer
from amaranth.vendor import LatticeECP5Platform

from wavecomp.fpga.boards import PMOD_SIGNALS, Board
from wavecomp.fpga.pll import ClockPlan
from wavecomp.fpga.pmod_system import PmodSystem

PMOD_RESOURCE = "eurorack_pmod"
OSC_RESOURCE = "wc_osc"

# Analog PLL settings that Trellis' ecppll writes as attributes (not parameters); nextpnr needs
# them to program the loop filter. These are the values ecppll emits for every plan.
PLL_ATTRS: dict[str, str] = {
    "ICP_CURRENT": "12",
    "LPF_RESISTOR": "8",
    "MFG_ENABLE_FILTEROPAMP": "1",
    "MFG_GMCREF_SEL": "2",
}


def amaranth_package(board: Board) -> str:
    """Amaranth's package name ("BG381") for the board file's nextpnr name ("CABGA381")."""
    return board.package.upper().replace("CABGA", "BG")


def pmod_resource(board: Board) -> Resource:
    """The eurorack-pmod pins as one Amaranth resource (sites straight from the board TOML).

    Sites rather than a ``Connector`` so the TOML is the single source of truth for every board,
    including those whose platform has no connector table. Requested with ``dir="-"``: the top
    builds its own buffers (DDR for MCLK, tristate for the open-drain I2C lines).
    """
    attrs = Attrs(IO_TYPE=board.pmod_io_standard)
    return Resource(
        PMOD_RESOURCE,
        0,
        *(Subsignal(sig, Pins(board.pmod_pins[sig], dir="io"), attrs) for sig in PMOD_SIGNALS),
    )


def make_platform(board: Board) -> LatticeECP5Platform:
    """An Amaranth platform for ``board`` with the eurorack-pmod and oscillator resources added.

    Uses the amaranth-boards class named in the TOML when there is one; otherwise builds a
    minimal ``LatticeECP5Platform`` subclass (device, package, speed, oscillator) on the fly.
    The top requests the platform's ``default_clk`` as the PLL input on every board; for
    amaranth-boards platforms that is their own oscillator resource (checked against the TOML).
    """
    osc = Resource(
        OSC_RESOURCE,
        0,
        Pins(board.clock_pin, dir="i"),
        Clock(board.clock_hz),
        Attrs(IO_TYPE=board.clock_io_standard),
    )
    if board.amaranth_platform:
        module_name, _, class_name = board.amaranth_platform.rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        platform = cls()
        # amaranth-boards already has the oscillator (e.g. clk100 on K23); ours aliases the same
        # site, which is fine as long as only one of them is requested.
        platform.add_resources([pmod_resource(board)])
        return platform

    attrs = {
        "device": board.part,
        "package": amaranth_package(board),
        "speed": str(board.speed),
        "default_clk": OSC_RESOURCE,
        "resources": [osc, pmod_resource(board)],
        "connectors": [],
    }
    cls = type(f"{board.name.replace('-', '_').title()}Platform", (LatticeECP5Platform,), attrs)
    return cls()


def _oscillator_port(platform: LatticeECP5Platform, board: Board) -> io.PortLike:
    """The raw oscillator port (the platform's ``default_clk``), checked against the TOML site.

    Why check: amaranth-boards and our board file are two sources for the same fact; a mismatch
    would silently clock the PLL from the wrong pin.
    """
    name = platform.default_clk
    res = platform.lookup(name, 0)
    sites = res.ios[0].names if isinstance(res.ios[0], Pins) else []
    if board.clock_pin not in sites:
        raise ValueError(
            f"{board.name}: platform clock {name} is on {sites}, board file says {board.clock_pin}"
        )
    return platform.request(name, 0, dir="-")


class BoardTop(Elaboratable):
    """Top level for one board: PLL, reset-until-lock, I/O buffers and ``PmodSystem``."""

    def __init__(
        self, board: Board, clock: ClockPlan, rate_hz: int, clock_multiple: int = 1
    ) -> None:
        if clock.board != board.name:
            raise ValueError(f"clock plan is for {clock.board}, not {board.name}")
        if clock.cycles_per_sample != 256 * clock_multiple:
            raise ValueError(
                f"clock plan is for {clock.cycles_per_sample} cycles/sample, "
                f"not {256 * clock_multiple} (clock multiple {clock_multiple})"
            )
        self.board = board
        self.clock = clock
        self.rate_hz = rate_hz
        self.clock_multiple = clock_multiple

    def _pll(self, m: Module, clk_in: Signal, lock: Signal) -> None:
        """EHXPLLL with every parameter ecppll chose; core clock from the plan's output port."""
        plan = self.clock
        clkop = Signal()
        clkos = Signal()
        params = {f"p_{k}": v for k, v in plan.params.items()}
        attrs = {f"a_{k}": v for k, v in PLL_ATTRS.items()}
        attrs["a_FREQUENCY_PIN_CLKI"] = f"{plan.osc_hz / 1e6:g}"
        attrs[f"a_FREQUENCY_PIN_{plan.output_port}"] = f"{plan.achieved_hz / 1e6:.6f}"
        m.submodules.pll = Instance(
            "EHXPLLL",
            **params,
            **attrs,
            i_CLKI=clk_in,
            i_CLKFB=clkop,  # FEEDBK_PATH = CLKOP (checked by plan_clock)
            i_RST=Const(0),
            i_STDBY=Const(0),
            i_PHASESEL0=Const(0),
            i_PHASESEL1=Const(0),
            i_PHASEDIR=Const(1),
            i_PHASESTEP=Const(1),
            i_PHASELOADREG=Const(1),
            i_PLLWAKESYNC=Const(0),
            i_ENCLKOP=Const(0),
            i_ENCLKOS=Const(0),
            o_CLKOP=clkop,
            o_CLKOS=clkos,
            o_LOCK=lock,
        )
        core_clk = clkos if plan.output_port == "CLKOS" else clkop
        m.d.comb += ClockSignal("sync").eq(core_clk)

    def elaborate(self, platform: LatticeECP5Platform) -> Module:
        """Wire PLL -> sync domain, codec pins, I2C init and the SV core instance."""
        m = Module()
        m.domains.sync = ClockDomain("sync")

        m.submodules.osc_buf = osc_buf = io.Buffer("i", _oscillator_port(platform, self.board))
        lock = Signal()
        self._pll(m, osc_buf.i, lock)
        # reset released two clocks after lock, synchronously to the core clock
        m.submodules.reset_sync = ResetSynchronizer(~lock, domain="sync")

        pmod = platform.request(PMOD_RESOURCE, 0, dir="-")
        system = PmodSystem(self.clock.achieved_hz, self.rate_hz, self.clock_multiple)
        m.submodules.system = system

        m.submodules.mclk = mclk = io.DDRBuffer("o", pmod.mclk, o_domain="sync")
        if system.mclk_divider == 1:
            # MCLK = the clock, forwarded through ODDRX1F (see module docstring)
            m.d.comb += [mclk.o[0].eq(1), mclk.o[1].eq(0)]
        else:
            m.d.comb += [mclk.o[0].eq(system.mclk), mclk.o[1].eq(system.mclk)]

        for name in ("bick", "lrck", "sdin1", "pdn"):
            m.submodules[f"{name}_buf"] = buf = io.Buffer("o", getattr(pmod, name))
            m.d.comb += buf.o.eq(getattr(system, name))
        m.submodules.sdout1_buf = sdout1 = io.Buffer("i", pmod.sdout1)
        m.d.comb += system.sdout1.eq(sdout1.i)

        # open drain: drive 0 when *_oe, else release to the board's pull-ups
        m.submodules.scl_buf = scl = io.Buffer("o", pmod.scl)
        m.d.comb += [scl.o.eq(0), scl.oe.eq(system.scl_oe)]
        m.submodules.sda_buf = sda = io.Buffer("io", pmod.sda)
        m.d.comb += [sda.o.eq(0), sda.oe.eq(system.sda_oe), system.sda_i.eq(sda.i)]
        return m
