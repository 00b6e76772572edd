"""`wavecomp emit-cmsis`: the model as a C++ engine and a Daisy firmware project."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource
from rich.table import Table

from wavecomp.cli.common import choice_option, console, load_model, out_option, rounding_option
from wavecomp.mcu.daisy_boards import BOARDS, DEFAULT_BOARD


@click.command("emit-cmsis")
@choice_option(
    "--numerics",
    choices=["q12", "f32"],
    default="q12",
    help="q12: Q4.12 fixed point, bit-exact with the reference (and the FPGA core). "
    "f32: float32 throughout, like the original Daisy firmware (close to, not equal to, q12).",
)
@choice_option(
    "--kernel",
    choices=["fused", "cmsis"],
    default="fused",
    help="fused: hand-scheduled graph engine (q12: SMLAD on packed pairs, four outputs per "
    "pass; f32: one fixed summation order), the fast one, for any network. cmsis: plain "
    "CMSIS-DSP dot products (arm_dot_prod_q15 / _f32), plain conv chains only.",
)
@choice_option(
    "--board",
    choices=list(BOARDS),
    default=DEFAULT_BOARD,
    help="The Daisy the firmware runs on. patch: eurorack module (knobs/CV drive the control "
    "inputs, OLED). pod, seed: mono guitar pedal (audio in 1 -> out 1/2, input gain and "
    "output level knobs, bypass switch, CPU load on the USB serial log).",
)
@rounding_option(
    "q12 requantisation rounding (folded into the stored bias terms, so it costs "
    "nothing). f32 has no requantisation.",
)
@choice_option(
    "--rate",
    "sample_rate",
    choices=["48000", "96000"],
    default="48000",
    help="Audio sample rate of the Daisy firmware (the Makefile's RATE default; "
    "`make RATE=96000` overrides it later).",
)
@out_option(
    "build/daisy",
    "Output folder: engine/, daisy/, README.md, report.md (replaced if emit-cmsis wrote it).",
)
@click.argument("model", required=False)
def emit_cmsis(
    numerics: str,
    kernel: str,
    board: str,
    rounding: str,
    sample_rate: str,
    out_dir: Path,
    model: str | None,
) -> None:
    """Write the model as C++ for a Daisy (STM32H750 Cortex-M7, CMSIS-DSP): the cached-wavenet
    engine with its weights, a firmware project for the --board (libDaisy Makefile; on the
    Patch knobs/CV drive the control inputs and the OLED shows the CPU load; on the Pod and
    the Seed the network is a mono guitar pedal), a README with the build and flash steps,
    and report.md (MACs, accumulator widths, memory, Daisy fit). MODEL may be a .nam capture.

    The fit counts libDaisy and the Patch code (about 99.7 KB of the 128 KB internal flash).
    A firmware that does not fit the internal flash is built for the Daisy bootloader
    (APP_TYPE=BOOT_SRAM, or BOOT_QSPI for code beyond 480 KB): flash the bootloader once with
    `make program-boot`, then the app with `make program-dfu` (README.md has the steps).

    Levels: one model unit is the same voltage on the Patch as on the eurorack-pmod (4.096 V
    with the default shifts); main.cpp undoes libDaisy's 0.5 post-gain (README.md explains).
    On the Pod and the Seed the codec's full scale is a 16-bit WAV's.

    \b
    Then build and flash it with your libDaisy checkout:
      cd OUT/daisy && make LIBDAISY_DIR=/path/to/libDaisy && make program-dfu
    and hear the same engine on this machine first:
      wavecomp sim --target cmsis tri.wav out.wav --cv e0=1 --cv e1=0
    A guitar pedal from a NAM capture:
      wavecomp emit-cmsis --board pod capture.nam
    """
    from wavecomp.mcu.daisy_fit import estimate
    from wavecomp.mcu.emit import emit

    ctx = click.get_current_context()
    if numerics == "f32" and ctx.get_parameter_source("rounding") is ParameterSource.COMMANDLINE:
        raise click.UsageError(
            "--rounding sets the q12 requantisation; --numerics f32 has none (drop it)"
        )
    net = load_model(model)
    result = emit(
        net,
        out_dir,
        numerics=numerics,
        kernel=kernel,
        rounding=rounding,
        sample_rate=int(sample_rate),
        board=board,
    )
    _print_emit(result, net.name)
    fit = estimate(net, numerics=numerics, kernel=kernel, rounding=rounding)
    console.print(f"{BOARDS[board].title} firmware: {fit.verdict}")


def _print_emit(result, name: str) -> None:
    """What emit-cmsis wrote: the layers as the engine computes them, then the files."""
    from wavecomp.mcu.emit import file_role

    options = f"{result.numerics}, kernel {result.kernel}" + (
        f", rounding {result.rounding}" if result.numerics == "q12" else ""
    )
    layers = Table(
        title=f"{name}: {options}, {result.sample_rate} Hz",
        title_justify="left",
        caption="accumulator: what holds each sum (int32 proved by the static bound, or "
        "Q-checked with an int64 redo); cache: the store of the tensor the node writes",
        caption_justify="left",
    )
    for col in ("node", "sources", "MACs", "accumulator", "cache", "weights"):
        layers.add_column(col, justify="right" if col in ("MACs", "cache", "weights") else "left")
    summary = result.summary
    for p in summary.rows:
        layers.add_row(
            f"{p.name} ({p.activation})",
            p.sources,
            f"{p.macs:,}",
            p.accumulator,
            f"{p.cache_bytes:,} B",
            f"{p.weight_bytes:,} B",
        )
    layers.add_section()
    total = [f"{summary.macs_per_sample:,}", "", f"{summary.cache_bytes:,} B"]
    weights = f"{summary.weight_bytes:,} B"
    layers.add_row("total (input store and tables included)", "", *total, weights)
    console.print(layers)
    files = Table(title=f"wrote {result.out_dir}/", title_justify="left")
    files.add_column("file")
    files.add_column("bytes", justify="right")
    files.add_column("what")
    for rel in result.files:
        if rel.name.startswith("."):
            continue
        files.add_row(str(rel), f"{(result.out_dir / rel).stat().st_size:,}", file_role(rel))
    console.print(files)
    console.print(
        f"next: cd {result.out_dir / 'daisy'} && make LIBDAISY_DIR=/path/to/libDaisy, then "
        "flash it as README.md says"
    )
