"""Network -> ECP5 bitstream for a board carrying the eurorack-pmod (``wavecomp build``).

The work is the step list in ``build_steps`` (schedule, generate RTL, clock plan, RTL bit-exact
check, Amaranth board top, yosys, nextpnr, ecppack; YoWASP builds from PyPI, so no system FPGA
toolchain is needed); the report is ``build_report``. This module checks the options, then
runs the steps and writes the report inside ``wavecomp.output_dir.writing_folder``: the build
folder is replaced in one rename when everything succeeded, a failure (or Ctrl-C) leaves the
previous build as it was, and a folder wavecomp did not write is never replaced.
"""

from __future__ import annotations

from pathlib import Path

from wavecomp.fpga.ak4619_regs import codec_registers
from wavecomp.fpga.boards import load_board
from wavecomp.fpga.build_report import BuildResult, write_report
from wavecomp.fpga.build_steps import (
    BuildState,
    Progress,
    choose_clock_multiple,
    run_steps,
    steps_for,
)
from wavecomp.fpga.tool_run import BuildError
from wavecomp.ir import Network
from wavecomp.output_dir import writing_folder
from wavecomp.targets import CLOCK_MULTIPLES

WRITER = "wavecomp build"
OUT_OPTION = "--out"


def build_bitstream(
    net: Network,
    *,
    board: str = "ecpix5-85f",
    rate_hz: int = 48000,
    clock_multiple: int | None = None,
    out_dir: str | Path,
    progress: Progress | None = None,
    rtl_check_samples: int | None = None,
    netlist_check_samples: int = 0,
) -> BuildResult:
    """Schedule, generate, check, wrap in the board top, synthesise, place, route and pack.

    ``clock_multiple`` M runs the whole design at M × 256·fs, giving the core M × 256 cycles per
    sample; None picks one (``schedule.auto_clock``). ``rtl_check_samples`` None checks
    one receptive field + 2,000 samples. ``out_dir`` gets ``rtl/``, ``gateware/`` (the .bit)
    and ``report.md``/``.json``;
    ``netlist_check_samples`` > 0 adds the gate-level check (``netlist-check/``).
    Raises BuildError naming the step (and where its logs were kept) on failure, and
    ``OutputFolderError`` if ``out_dir`` holds files wavecomp did not write. Timing failure is
    *not* an error: the result says by how much (``timing_met``).
    """
    brd = load_board(board)
    planned = None
    if clock_multiple is None:
        clock_multiple, planned = choose_clock_multiple(net, brd)
    if clock_multiple not in CLOCK_MULTIPLES:
        raise BuildError(
            "clock plan",
            f"--core-clock {clock_multiple}: use one of {', '.join(map(str, CLOCK_MULTIPLES))} "
            "(the core clock is that many times 256 x the sample rate)",
        )
    try:
        codec_registers(rate_hz)  # fail before any tool runs if the codec has no config for it
    except ValueError as exc:
        raise BuildError("codec configuration", f"--rate {rate_hz}: {exc}") from exc
    out = Path(out_dir).absolute()
    # writing_folder refuses a foreign --out at once, before any step runs
    with writing_folder(out, writer=WRITER, option=OUT_OPTION) as staging:
        state = BuildState(
            net,
            brd,
            rate_hz,
            clock_multiple,
            rtl_check_samples,
            staging,
            netlist_check_samples,
            schedule=planned,
        )
        times = run_steps(steps_for(netlist_check_samples), state, progress)
        result = BuildResult(
            folder=out,
            model_name=net.name,
            board=brd,
            rate_hz=rate_hz,
            clock_multiple=clock_multiple,
            schedule=state.schedule,
            clock=state.clock,
            pnr=state.pnr,
            steps=times,
        )
        write_report(result, staging)
    return result
