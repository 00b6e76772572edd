"""`wavecomp build --target ecp5`: a bitstream (or an eurorack-pmod drop-in core) for a model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from wavecomp.cli.common import choice_option, console, load_model, out_option
from wavecomp.fpga.boards import BOARDS, DEFAULT_BOARD
from wavecomp.targets import CLOCK_MULTIPLES

if TYPE_CHECKING:  # the build modules pull in Amaranth: import them only when building
    from wavecomp.fpga.build_steps import StepTime


@click.command()
@click.option(
    "--target",
    type=click.Choice(["ecp5"]),
    required=True,
    help="FPGA family to build for (ECP5).",
)
@choice_option(
    "--board",
    choices=list(BOARDS),
    default=DEFAULT_BOARD,
    help="Board carrying the eurorack-pmod on a ribbon cable.",
)
@click.option(
    "--rate",
    "rate_hz",
    type=int,
    default=48_000,
    show_default=True,
    help="Codec sample rate in Hz: 48000, 96000 or 192000 (the report gives the exact rate "
    "the board's PLL achieves).",
)
@choice_option(
    "--core-clock",
    "clock_multiple",
    choices=["auto", *map(str, CLOCK_MULTIPLES)],
    default="auto",
    help="Core clock as a multiple of 256 x rate: M gives the network M x 256 cycles per "
    "sample, so it needs fewer multipliers, at an M x clock (check the timing). auto: the "
    "smallest M at which the model uses at most 75% of the multipliers and block RAM of the "
    "smallest ECP5 part with that room, so a bigger board gets the same core rather than a "
    "wider array (else the smallest M that fits at all): 1 for the default model, 4 for NAM "
    "A1-standard at 48 kHz.",
)
@out_option(
    "build/ecp5",
    "Build folder: rtl/, gateware/ (the .bit), report.md/json. Written all-or-nothing; only a "
    "folder wavecomp wrote is replaced.",
)
@click.option(
    "--check-samples",
    type=click.IntRange(min=0),
    default=None,
    help="Samples in the bit-exact RTL check that gates the build (0 skips it). "
    "[default: one receptive field + 2000]",
)
@click.option(
    "--check-netlist",
    "netlist_samples",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Also prove the synthesised core bit-exact at gate level over N samples: synthesise "
    "the core alone with yosys synth_ecp5, simulate the netlist with the ECP5 cell models in "
    "Verilator and compare every output with the reference (shows synthesis kept the "
    "arithmetic: block-RAM contents, DSP multipliers, RAM read timing). Costs about 1-2 "
    "minutes (mostly compiling the netlist) plus ~1 s per 1,000 samples at 256 cycles per "
    "sample; 0 skips it.",
)
@click.option(
    "--emit-core",
    "emit_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instead of a bitstream, write the core as a drop-in for the upstream eurorack-pmod "
    "gateware's cores folder (SV, memory images, README with the steps). Written "
    "all-or-nothing; only a folder wavecomp wrote is replaced.",
)
@click.argument("model", required=False)
def build(
    target: str,
    board: str,
    rate_hz: int,
    clock_multiple: str,
    out_dir: Path,
    check_samples: int | None,
    netlist_samples: int,
    emit_dir: Path | None,
    model: str | None,
) -> None:
    """Build a bitstream in named, timed steps: schedule the model, generate the
    SystemVerilog core, plan the PLL, prove the core bit-exact in Verilator, wrap it in the
    board top (PLL, AK4619 codec, I2C init) and run yosys, nextpnr and ecppack. Writes
    OUT/gateware/wavecomp_top.bit and OUT/report.md/json (figures and step times), and prints
    the openFPGALoader command that programs the board (it does not run it).

    OUT (or the --emit-core folder) is replaced as a whole only when the build succeeds, and
    only if wavecomp wrote it: a folder holding other files is refused. A failed step names
    itself and keeps its logs in the build cache (failed-builds/, the error says where).
    The tools are the YoWASP ones; set YOSYS, NEXTPNR_ECP5, ECPPACK or ECPPLL to use others.
    """
    from wavecomp.fpga.build import build_bitstream
    from wavecomp.fpga.build_report import summary, timing_advice

    net = load_model(model)
    if emit_dir is not None:
        from wavecomp.fpga.emit_core import emit_core

        if clock_multiple not in ("auto", "1"):
            raise click.UsageError(
                "--core-clock with --emit-core: the upstream eurorack-pmod gateware runs cores "
                "at 256 x the sample rate; drop --core-clock"
            )

        path = emit_core(net, emit_dir, rate_hz=rate_hz)
        console.print(
            f"[bold green]wrote[/] the eurorack-pmod core to {path}/ "
            f"(see {path}/README.md for the upstream steps)"
        )
        return
    started = time.monotonic()
    with console.status("[bold]building", spinner="dots") as status:

        def progress(index: int, total: int, name: str, done: StepTime | None) -> None:
            if done is None:
                status.update(f"[bold]\\[{index}/{total}] {escape(name)} ...")
            else:
                console.print(
                    f"[green]\u2713[/] \\[{index}/{total}] {escape(name):<20} "
                    f"{done.seconds:6.1f} s  {escape(done.outcome)}"
                )

        result = build_bitstream(
            net,
            board=board,
            rate_hz=rate_hz,
            clock_multiple=None if clock_multiple == "auto" else int(clock_multiple),
            out_dir=out_dir,
            progress=progress,
            rtl_check_samples=check_samples,
            netlist_check_samples=netlist_samples,
        )
    console.print(escape(summary(result)))
    for line in timing_advice(result):
        console.print(f"[red]{escape(line)}[/]")
    console.print(
        f"[bold green]done[/] in {time.monotonic() - started:.0f} s; report: {result.report_md}"
    )
