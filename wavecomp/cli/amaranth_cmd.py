"""`wavecomp emit-amaranth`: the model as an Amaranth stream component package (Tiliqua)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from wavecomp import targets
from wavecomp.cli.common import choice_option, console, load_model, out_option, rounding_option


@click.command("emit-amaranth")
@click.option(
    "--cycles-per-sample",
    type=int,
    default=1250,
    show_default=True,
    help="Clocks of the core's domain per audio sample: 1250 for Tiliqua's 60 MHz sync at "
    "48 kHz, 312 at 192 kHz, 256 for a 256 x fs audio clock. The network is scheduled into "
    "this less the 3 the stream handshake keeps.",
)
@click.option(
    "--domain",
    default="sync",
    show_default=True,
    help="Clock domain the core runs in. sync: the streams' domain (Tiliqua: 60 MHz). "
    "Another name (e.g. audio) runs the core there, crossing the frames with AsyncFIFOs; "
    "the design must define that domain.",
)
@choice_option(
    "--part",
    choices=list(targets.ECP5_PARTS),
    default="25F",
    help="ECP5 the schedule must fit (multipliers and block RAM): 25F for Tiliqua R3-R5, "
    "45F for R2.",
)
@rounding_option("Requantisation rounding (numerics contract).")
@out_option(
    "build/amaranth/wavecomp_core",
    "Output folder = the Python package users import (its name must be an identifier); "
    "replaced if emit-amaranth wrote it.",
)
@click.argument("model", required=False)
def emit_amaranth(
    cycles_per_sample: int,
    domain: str,
    part: str,
    rounding: str,
    out_dir: Path,
    model: str | None,
) -> None:
    """Write the model as an Amaranth 0.5 stream component for Tiliqua or any Amaranth design:
    a package (needing only Amaranth) with the component `WavecompCore`, the generated
    SystemVerilog core and memory images, and a README with the Tiliqua steps and the
    resource and latency figures. MODEL may be a .nam capture.

    The component takes 4-lane frames of codec counts on `i` (Tiliqua's ArrayLayout(ASQ, 4):
    lane j = jack j) and gives one frame per input frame on `o`, bit-exact with the reference,
    output frame n answering input frame n - latency. Valid/ready are honoured both ways.

    \b
    In a Tiliqua tree (README.md has the details):
      copy OUT to gateware/src/top/dsp/, add it to CORES in top.py,
      pdm dsp build --dsp-core=wavecomp_core
    """
    from wavecomp.amaranth.emit import CLASS_NAME, emit_amaranth

    net = load_model(model)
    with console.status("scheduling and generating the core ..."):
        path = emit_amaranth(
            net,
            out_dir,
            cycles_per_sample=cycles_per_sample,
            domain=domain,
            part=part,
            rounding=rounding,
        )
    files = Table(title=f"wrote {path}/", title_justify="left")
    files.add_column("file")
    files.add_column("bytes", justify="right")
    for f in sorted(path.iterdir()):
        if not f.name.startswith("."):
            files.add_row(f.name, f"{f.stat().st_size:,}")
    console.print(files)
    console.print(
        f"next: copy {path.name}/ next to your Amaranth top (Tiliqua: gateware/src/top/dsp/) "
        f"and use `from {path.name} import {CLASS_NAME}`: README.md has the steps"
    )
