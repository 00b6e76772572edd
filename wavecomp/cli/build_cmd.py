"""`wavecomp build --target ecp5`: a bitstream (or an eurorack-pmod drop-in core) for a model."""

from __future__ import annotations

import time
from pathlib import Path

import click

from wavecomp.cli.common import console, load_model, out_option
from wavecomp.fpga.boards import BOARDS, DEFAULT_BOARD


@click.command()
@click.option(
    "--target",
    type=click.Choice(["ecp5"]),
    required=True,
    help="FPGA family to build for (ECP5).",
)
@click.option(
    "--board",
    type=click.Choice(list(BOARDS)),
    default=DEFAULT_BOARD,
    show_default=True,
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
@click.option(
    "--core-clock",
    "clock_multiple",
    type=click.Choice(["1", "2", "4"]),
    default="1",
    show_default=True,
    help="Core clock as a multiple of 256 x rate: 2 or 4 give the network 512 or 1024 cycles "
    "per sample, so it needs fewer multipliers, at a 2x or 4x clock (check the timing).",
)
@out_option("build/ecp5", "Build folder: rtl/, gateware/ (the .bit), report.md/json.")
@click.option(
    "--check-samples",
    default=2000,
    show_default=True,
    help="Samples in the bit-exact RTL check that gates the build (0 skips it).",
)
@click.option(
    "--emit-core",
    "emit_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Instead of a bitstream, write the core as a drop-in for the upstream eurorack-pmod "
    "gateware's cores folder (SV, memory images, README with the steps).",
)
@click.argument("model", required=False)
def build(
    target: str,
    board: str,
    rate_hz: int,
    clock_multiple: str,
    out_dir: Path,
    check_samples: int,
    emit_dir: Path | None,
    model: str | None,
) -> None:
    """Build a bitstream: schedule the model, generate the SystemVerilog core, prove it
    bit-exact in Verilator, wrap it in the board top (PLL, AK4619 codec, I2C init) and run
    yosys -> nextpnr -> ecppack. Writes OUT/gateware/*.bit and OUT/report.md/json, and prints
    the openFPGALoader command that programs the board (it does not run it).
    """
    from wavecomp.fpga.build import build_bitstream, timing_advice, write_report

    net = load_model(model)
    if emit_dir is not None:
        from wavecomp.fpga.emit_core import emit_core

        if clock_multiple != "1":
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

        def progress(message: str) -> None:
            if message.endswith("..."):
                status.update(f"[bold]{message}")
            elif "\n" not in message:
                console.print(f"[green]\u2713[/] {message}")

        result = build_bitstream(
            net,
            board=board,
            rate_hz=rate_hz,
            clock_multiple=int(clock_multiple),
            out_dir=out_dir,
            progress=progress,
            rtl_check_samples=check_samples,
        )
    md, _ = write_report(result, out_dir, net.name)
    console.print(result.summary())
    for line in timing_advice(result):
        console.print(f"[red]{line}[/]")
    console.print(f"[bold green]done[/] in {time.monotonic() - started:.0f} s; report: {md}")
