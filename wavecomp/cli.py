"""The ``wavecomp`` command line: a thin layer over the Python API.

Every command works with no MODEL argument (it then uses the default model shipped in the
package). Errors from wavecomp's own checks are printed as one readable line with the fix,
never as a traceback.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table

import wavecomp
from wavecomp import fixed, targets
from wavecomp.fpga.boards import BOARDS, DEFAULT_BOARD
from wavecomp.frontend.train import TrainConfig
from wavecomp.ir import Network

console = Console(stderr=True)
stdout = Console()

MODEL_HELP = (
    "Model file (.npz from `wavecomp train`, or a QKeras .keras/.h5). "
    "Default: the shipped waveshaper."
)


class _Group(click.Group):
    """Turns wavecomp's own error types into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context):
        from wavecomp.fpga.boards import BoardError
        from wavecomp.fpga.emit_core import EmitCoreError
        from wavecomp.fpga.synth import ToolchainError
        from wavecomp.frontend.data import DataError
        from wavecomp.frontend.keras_env import FrontendError
        from wavecomp.frontend.spec import SpecError
        from wavecomp.mcu.cmsis_dsp import CmsisDspError
        from wavecomp.mcu.emit import EmitError
        from wavecomp.mcu.host import HostBuildError
        from wavecomp.rtl.verilator import ToolError
        from wavecomp.schedule import ScheduleError
        from wavecomp.sim import SimError

        try:
            return super().invoke(ctx)
        except (
            wavecomp.IRError,
            FrontendError,
            DataError,
            SpecError,
            SimError,
            ScheduleError,
            ToolError,
            ToolchainError,
            BoardError,
            EmitCoreError,
            EmitError,
            HostBuildError,
            CmsisDspError,
        ) as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(wavecomp.__version__, prog_name="wavecomp")
def main() -> None:
    """Compile streaming cached-wavenet audio models (dilated causal convs, Q4.12) for
    an ECP5 FPGA with the eurorack-pmod, and a Daisy Cortex-M7 with CMSIS-DSP.

    \b
    Start here:
      wavecomp inspect                     the default model: layers, MACs, memory, fit
      wavecomp tone tri.wav                a triangle test signal
      wavecomp sim --target reference tri.wav out.wav --cv e0=1 --cv e1=0
      wavecomp sim --target rtl tri.wav out.wav --cv e0=1 --cv e1=0   (the FPGA core)
      wavecomp train --out runs/mine       train your own (QKeras), with a report
      wavecomp demo                        all of the above on the default model
    """


def _out_option(default: str, help: str):
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help,
    )


# ---- inspect ---------------------------------------------------------------------------------
def _load(model: str | None) -> Network:
    return wavecomp.load(model)


def _fit_rows(net: Network) -> list[dict]:
    need = targets.min_multipliers(net.macs_per_sample, targets.EUROPMOD_CYCLES_PER_SAMPLE)
    cycles = targets.EUROPMOD_CYCLES_PER_SAMPLE
    rows = []
    for key, part in targets.ECP5_PARTS.items():
        rows.append(
            {
                "target": f"ECP5 {key} ({part.name})",
                "need": f">= {need} MULT18X18D at {cycles} cycles/sample",
                "have": f"{part.mult18} MULT18X18D",
                "fits": need <= part.mult18,
            }
        )
    s = net.summary()
    mem = s.weight_bytes + s.cache_bytes
    rows.append(
        {
            "target": targets.DAISY.name,
            "need": f"{mem:,} B weights + caches (q12)",
            "have": f"{targets.DAISY.dtcm_bytes // 1024} KB DTCM",
            "fits": mem <= targets.DAISY.dtcm_bytes,
        }
    )
    return rows


@main.command()
@click.argument("model", required=False)
@click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables."
)
def inspect(model: str | None, as_json: bool) -> None:
    """Show a model's layers, params, MACs/sample, receptive field, memory,
    accumulator widths and a first look at whether it fits each target.

    The fit figures are lower bounds (multipliers = ceil(MACs / cycles)); the FPGA
    scheduler and MCU emitter report the real numbers.
    """
    net = _load(model)
    s = net.summary()
    fit = _fit_rows(net)
    if as_json:
        doc = s.to_dict()
        doc["fingerprint"] = net.fingerprint()
        doc["io"] = {
            "inputs": [ch.__dict__ for ch in net.io.inputs],
            "outputs": [ch.__dict__ for ch in net.io.outputs],
            "input_shift": net.io.input_shift,
            "output_shift": net.io.output_shift,
            "sample_rate": net.io.sample_rate,
        }
        doc["accumulator_bounds"] = {
            layer.name: [int(b) for b in layer.accumulator_bound()] for layer in net.layers
        }
        doc["fit"] = fit
        doc["metadata"] = net.metadata
        stdout.print_json(json.dumps(doc, default=str))
        return
    table = Table(
        title=f"{s.name}  ({net.fingerprint()[:12]})",
        title_justify="left",
        caption="K kernel, d dilation, in/out channels, MACs per sample, span = cache columns "
        "(K-1)*d+1, acc = accumulator bits the static bound needs",
        caption_justify="left",
    )
    # short headers so the table fits an 80-column terminal; the caption explains them
    for col in ("layer", "K", "d", "in", "out", "act", "params", "MACs", "span", "cache B", "acc"):
        table.add_column(col, justify="left" if col in ("layer", "act") else "right")
    for r in s.layers:
        table.add_row(
            r.name,
            str(r.kernel_size),
            str(r.dilation),
            str(r.in_channels),
            str(r.out_channels),
            r.activation,
            f"{r.params:,}",
            f"{r.macs:,}",
            str(r.cache_columns),
            f"{r.cache_bytes:,}",
            str(r.accumulator_bits),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        str(s.in_channels),
        str(s.out_channels),
        "",
        f"{s.params:,}",
        f"{s.macs_per_sample:,}",
        "",
        f"{s.cache_bytes:,}",
        str(s.max_accumulator_bits),
    )
    stdout.print(table)
    stdout.print(
        f"receptive field {s.receptive_field} samples"
        + (
            f" ({1000 * s.receptive_field / net.io.sample_rate:.2f} ms at "
            f"{net.io.sample_rate / 1000:g} kHz)"
            if net.io.sample_rate
            else ""
        )
        + f"; weights {s.weight_bytes:,} B, activation caches {s.cache_bytes:,} B"
    )
    stdout.print(
        "accumulators: widest needs "
        f"{s.max_accumulator_bits} bits (static bound, half_up) -> "
        + ("int32 is safe" if s.max_accumulator_bits <= 32 else "needs > 32 bits")
    )
    io = Table(title="I/O", title_justify="left")
    for col in ("channel", "direction", "kind", "jack", "default"):
        io.add_column(col)
    for ch in net.io.inputs:
        io.add_row(ch.name, "in", ch.kind, _jack(ch.jack), f"{ch.default:g}")
    for ch in net.io.outputs:
        io.add_row(ch.name, "out", "", _jack(ch.jack), "")
    stdout.print(io)
    stdout.print(f"codec scaling: in >> {net.io.input_shift}, out << {net.io.output_shift}")
    fit_table = Table(title="fit (lower bounds)", title_justify="left")
    for col in ("target", "needs", "has", "fits"):
        fit_table.add_column(col)
    for row in fit:
        fit_table.add_row(
            row["target"],
            row["need"],
            row["have"],
            "[green]yes[/]" if row["fits"] else "[red]no[/]",
        )
    stdout.print(fit_table)
    _print_import(net.metadata.get("import"))
    quality = net.metadata.get("training", {}).get("quality", {})
    if "corner_snr_db" in quality:
        per_corner = ", ".join(f"{k} {v:.1f}" for k, v in quality["corner_snr_db"].items())
        stdout.print(
            f"held-out SNR from training (integer reference): {per_corner}; "
            f"mean {quality['mean_corner_snr_db']:.1f} dB"
        )
    elif "heldout_snr_db" in quality:
        stdout.print(f"held-out SNR from training: {quality['heldout_snr_db']:.1f} dB")


def _print_import(info: dict | None) -> None:
    """What the Keras importer did: float layers it quantised, and float-vs-integer error."""
    if not info:
        return
    cmp_ = info["float_vs_reference"]
    snr = "exact" if cmp_["exact"] else f"SNR {cmp_['snr_db']:.1f} dB"
    stdout.print(
        f"imported from {info['source']}: Keras float vs integer reference max "
        f"{cmp_['max_abs_lsb']:g} LSB ({snr}) over {cmp_['n_samples']} samples; "
        f"proven bound {info['error_bound_lsb']:.4g} LSB"
    )
    if info["quantised_from_float"]:
        worst = max(info["weight_error_lsb"].values())
        stdout.print(
            f"quantised from float here: {', '.join(info['quantised_from_float'])} "
            f"(max weight error {worst:.3g} LSB)"
        )
    for note in info["notes"]:
        stdout.print(f"note: {note}")


def _jack(jack: int | None) -> str:
    return "-" if jack is None else str(jack)


# ---- sim -------------------------------------------------------------------------------------
def _parse_cv(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise click.BadParameter(
                f"{item!r}: use NAME=VALUE, e.g. --cv e0=0.5", param_hint="--cv"
            )
    return out


@main.command()
@click.option(
    "--target",
    type=click.Choice(["reference", "rtl", "cmsis"]),
    default="reference",
    show_default=True,
    help="Backend to render through: reference (the bit-exact numpy model), rtl (the "
    "generated FPGA core, simulated clock by clock with Verilator; the first render of a "
    "core builds it, later ones reuse the build) or cmsis (the MCU's q12 C++ engine from "
    "`wavecomp emit-cmsis`, built for this machine and cached).",
)
@click.argument("in_wav", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out_wav", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", help=MODEL_HELP)
@click.option(
    "--cv",
    multiple=True,
    metavar="NAME=VALUE",
    help="Hold input channel NAME at VALUE (model units, e.g. e0=1 e1=0). Repeatable.",
)
@click.option(
    "--rounding",
    type=click.Choice(fixed.ROUNDING_MODES),
    default=fixed.DEFAULT_ROUNDING,
    show_default=True,
    help="Requantisation rounding (a compile option).",
)
@click.option(
    "--engine",
    type=click.Choice(wavecomp.reference.ENGINES),
    default="batch",
    show_default=True,
    help="Reference implementation for --target reference (all are bit-exact; fxpmath is slow).",
)
@click.option(
    "--rate",
    "sample_rate",
    type=click.IntRange(min=1),
    metavar="HZ",
    help="Sample rate the board runs at (default: IN_WAV's). Samples pass through unchanged "
    "(no resampling); OUT_WAV is written at this rate and --target rtl reports the core clock "
    "it implies (HZ x cycles/sample).",
)
@click.option(
    "--cycles-per-sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="--target rtl: core clocks per sample, the budget the network is scheduled into "
    "(with up to 156 multipliers). Default 256, the eurorack-pmod's clk_256fs.",
)
def sim(
    target: str,
    in_wav: Path,
    out_wav: Path,
    model: str | None,
    cv: tuple[str, ...],
    rounding: str,
    engine: str,
    sample_rate: int | None,
    cycles_per_sample: int | None,
) -> None:
    """Render IN_WAV through a model and write OUT_WAV (16-bit PCM).

    \b
    WAV channel j feeds physical input jack j, scaled as the eurorack-pmod codec does
    (a 16-bit sample s enters as s >> 2); an input channel whose jack has no WAV channel
    sits at its default unless --cv sets it. OUT_WAV has one channel per network output,
    scaled back (<< 2, saturating), exactly what the board's DAC would play.

    \b
    --target rtl schedules the model for the FPGA core (--cycles-per-sample, --rounding),
    generates the SystemVerilog, builds it with Verilator (cached in
    ${XDG_CACHE_HOME:-~/.cache}/wavecomp/rtl) and streams the WAV through it; the core's
    latency is removed, so a correct core writes the same file as --target reference.

    \b
    --target cmsis emits the Daisy engine (q12, fused kernel, --rounding), compiles it
    with the host's g++ (cached in ~/.cache/wavecomp/host) and steps it once per sample;
    it writes the same file as --target reference, byte for byte.
    """
    from wavecomp.sim import render_wav

    ctx = click.get_current_context()
    if target != "reference" and ctx.get_parameter_source("engine") is ParameterSource.COMMANDLINE:
        raise click.UsageError(
            f"--engine picks a reference implementation; --target {target} does not use one"
        )
    net = _load(model)
    options = dict(
        controls=_parse_cv(cv),
        rounding=rounding,
        engine=engine,
        target=target,
        sample_rate=sample_rate,
        cycles_per_sample=cycles_per_sample,
    )
    if target == "rtl":
        with _rtl_progress() as progress:
            result = render_wav(net, in_wav, out_wav, progress=progress, **options)
    else:
        result = render_wav(net, in_wav, out_wav, **options)
    console.print(result.describe())


@contextlib.contextmanager
def _rtl_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A rich status line for the RTL build (indeterminate) and run (samples, samples/s)."""
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, tuple[int, float]] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                text = {
                    "build": "Verilator build",
                    "run": "simulating",
                }.get(stage, stage)
                tasks[stage] = (bar.add_task(text, total=total, info=""), time.monotonic())
            task, start = tasks[stage]
            info = ""
            elapsed = time.monotonic() - start
            if stage == "run" and total is not None:
                info = f"{done:,}/{total:,} samples"
                if done and elapsed > 0:
                    info += f", {done / elapsed:,.0f}/s"
            bar.update(task, completed=done, total=total, info=info)

        yield progress


# ---- build -----------------------------------------------------------------------------------
@main.command()
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
@_out_option("build/ecp5", "Build folder: rtl/, gateware/ (the .bit), report.md/json.")
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

    net = _load(model)
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


# ---- emit-cmsis ------------------------------------------------------------------------------
@main.command("emit-cmsis")
@click.option(
    "--numerics",
    type=click.Choice(["q12", "f32"]),
    default="q12",
    show_default=True,
    help="q12: Q4.12 fixed point, bit-exact with the reference (and the FPGA core). "
    "f32: float32 throughout, like the original Daisy firmware (close to, not equal to, q12).",
)
@click.option(
    "--kernel",
    type=click.Choice(["fused", "cmsis"]),
    default="fused",
    show_default=True,
    help="fused: hand-scheduled loop on the M7's SIMD MACs (SMLAD/SMLALD, several outputs per "
    "pass), the fast one. cmsis: plain CMSIS-DSP dot products (arm_dot_prod_q15 / _f32).",
)
@click.option(
    "--rounding",
    type=click.Choice(fixed.ROUNDING_MODES),
    default=fixed.DEFAULT_ROUNDING,
    show_default=True,
    help="q12 requantisation rounding (folded into the stored bias terms, so it costs "
    "nothing). f32 has no requantisation.",
)
@click.option(
    "--rate",
    "sample_rate",
    type=click.Choice(["48000", "96000"]),
    default="48000",
    show_default=True,
    help="Audio sample rate of the Daisy firmware (the Makefile's RATE default; "
    "`make RATE=96000` overrides it later).",
)
@_out_option(
    "build/daisy",
    "Output folder: engine/, daisy/, README.md, report.md (replaced if emit-cmsis wrote it).",
)
@click.argument("model", required=False)
def emit_cmsis(
    numerics: str,
    kernel: str,
    rounding: str,
    sample_rate: str,
    out_dir: Path,
    model: str | None,
) -> None:
    """Write the model as C++ for a Daisy (STM32H750 Cortex-M7, CMSIS-DSP): the cached-wavenet
    engine with its weights, a Daisy Patch firmware project (libDaisy Makefile; knobs/CV drive
    the control inputs, the OLED shows the CPU load), a README with the build and flash steps,
    and report.md (MACs, accumulator widths, memory).

    \b
    Then build and flash it with your libDaisy checkout:
      cd OUT/daisy && make LIBDAISY_DIR=/path/to/libDaisy && make program-dfu
    and hear the same engine on this machine first:
      wavecomp sim --target cmsis tri.wav out.wav --cv e0=1 --cv e1=0
    """
    from wavecomp.mcu.emit import emit

    ctx = click.get_current_context()
    if numerics == "f32" and ctx.get_parameter_source("rounding") is ParameterSource.COMMANDLINE:
        raise click.UsageError(
            "--rounding sets the q12 requantisation; --numerics f32 has none (drop it)"
        )
    net = _load(model)
    result = emit(
        net,
        out_dir,
        numerics=numerics,
        kernel=kernel,
        rounding=rounding,
        sample_rate=int(sample_rate),
    )
    _print_emit(result, net.name)


def _print_emit(result, name: str) -> None:
    """What emit-cmsis wrote: the layers as the engine computes them, then the files."""
    from wavecomp.mcu.emit import file_role

    options = f"{result.numerics}, kernel {result.kernel}" + (
        f", rounding {result.rounding}" if result.numerics == "q12" else ""
    )
    layers = Table(
        title=f"{name}: {options}, {result.sample_rate} Hz",
        title_justify="left",
        caption="accumulator: what holds each sum (int32 only where the static bound is "
        "below 2^31); cache: activation ring buffers",
        caption_justify="left",
    )
    for col in ("layer", "K×d", "channels", "MACs", "accumulator", "cache", "weights"):
        layers.add_column(col, justify="left" if col in ("layer", "accumulator") else "right")
    for p in result.layers:
        layers.add_row(
            f"{p.name} ({p.activation})",
            f"{p.kernel_size}×{p.dilation}",
            f"{p.in_channels}→{p.out_channels}",
            f"{p.macs:,}",
            p.accumulator,
            f"{p.cache_bytes:,} B",
            f"{p.weight_bytes:,} B",
        )
    layers.add_section()
    total = [f"{result.macs_per_sample:,}", "", f"{result.cache_bytes:,} B"]
    layers.add_row("total", "", "", *total, f"{result.weight_bytes:,} B")
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
        f"next: cd {result.out_dir / 'daisy'} && make LIBDAISY_DIR=/path/to/libDaisy "
        "&& make program-dfu   (see README.md)"
    )


# ---- tone ------------------------------------------------------------------------------------
@main.command()
@click.argument("out_wav", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--shape",
    type=click.Choice(["triangle", "sine", "ramp", "square", "zigzag"]),
    default="triangle",
    show_default=True,
)
@click.option("--freq", default=220.0, show_default=True, help="Frequency in Hz.")
@click.option("--sweep", metavar="F0:F1", help="Glide exponentially from F0 to F1 Hz instead.")
@click.option("--seconds", default=2.0, show_default=True)
@click.option(
    "--amplitude",
    default=1.0,
    show_default=True,
    help="Peak in model units (1.0 ≈ ±4 V on the eurorack-pmod).",
)
@click.option("--rate", "sample_rate", default=48_000, show_default=True, help="Sample rate in Hz.")
def tone(
    out_wav: Path,
    shape: str,
    freq: float,
    sweep: str | None,
    seconds: float,
    amplitude: float,
    sample_rate: int,
) -> None:
    """Write a test signal WAV (16-bit) scaled like a codec input, to feed `wavecomp sim`."""
    from wavecomp.sim import write_tone

    f0 = f1 = freq
    if sweep:
        try:
            f0, f1 = (float(v) for v in sweep.split(":"))
        except ValueError:
            raise click.BadParameter(
                f"{sweep!r}: use F0:F1, e.g. 55:880", param_hint="--sweep"
            ) from None
    path = write_tone(
        out_wav,
        shape=shape,
        f0=f0,
        f1=f1,
        seconds=seconds,
        amplitude=amplitude,
        sample_rate=sample_rate,
    )
    console.print(
        f"wrote {path} ({shape}, {f0:g}"
        + (f"→{f1:g}" if f1 != f0 else "")
        + f" Hz, {seconds:g} s at {sample_rate} Hz)"
    )


# ---- train -----------------------------------------------------------------------------------
@main.command()
@_out_option("runs/train", "Folder for model + report (replaced if it exists).")
@click.option(
    "--preset",
    type=click.Choice(["fpga", "mcu"]),
    default="fpga",
    show_default=True,
    help="fpga: 4->16->16->4 waveshaper (1,536 MACs); mcu: 3-input blocks (424 MACs).",
)
@click.option(
    "--layers",
    metavar="KxD:F[:act],...",
    help='Replace the preset\'s layers, e.g. "4x1:8,4x4:8,1x1:4" (K x dilation : filters).',
)
@click.option("--epochs", default=TrainConfig.epochs, show_default=True)
@click.option(
    "--examples",
    default=TrainConfig.examples,
    show_default=True,
    help="Training windows per epoch.",
)
@click.option("--seq-len", type=int, help="Window length (default max(512, 4 x receptive field)).")
@click.option("--batch-size", default=TrainConfig.batch_size, show_default=True)
@click.option(
    "--lr",
    "learning_rate",
    default=TrainConfig.learning_rate,
    show_default=True,
    help="Peak learning rate.",
)
@click.option("--seed", default=TrainConfig.seed, show_default=True)
@click.option(
    "--rate",
    "sample_rate",
    default=TrainConfig.sample_rate,
    show_default=True,
    help="Sample rate the model is trained for.",
)
@click.option(
    "--input-wav",
    type=click.Path(exists=True, dir_okay=False),
    help="Train on your own recording: the input WAV ...",
)
@click.option(
    "--target-wav",
    type=click.Path(exists=True, dir_okay=False),
    help="... and the target WAV it should become (same rate and length).",
)
@click.option(
    "--control",
    multiple=True,
    metavar="NAME=VALUE|CV.wav",
    help="Extra input channel for recordings: a constant or a CV WAV. Repeatable.",
)
def train(
    out_dir: Path,
    preset: str,
    layers: str | None,
    epochs: int,
    examples: int,
    seq_len: int | None,
    batch_size: int,
    learning_rate: float,
    seed: int,
    sample_rate: int,
    input_wav: str | None,
    target_wav: str | None,
    control: tuple[str, ...],
) -> None:
    """Train a quantised (QKeras) model, lower it to Q4.12, and write OUT/model.npz,
    OUT/model.keras and a report (report.md/json, loss curves, waveform grid).

    Without --input-wav it trains on the built-in waveshaper data (a triangle in;
    sine / ramp / square / zigzag out at the corners of a 2-D embedding). Seeded and
    reproducible.
    """
    controls: dict[str, float | str] = {}
    for item in control:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{item!r}: use NAME=VALUE or NAME=cv.wav", param_hint="--control"
            )
        try:
            controls[name] = float(value)
        except ValueError:
            controls[name] = value
    config = TrainConfig(
        preset=preset,
        layers=layers,
        seed=seed,
        epochs=epochs,
        examples=examples,
        seq_len=seq_len,
        batch_size=batch_size,
        learning_rate=learning_rate,
        sample_rate=sample_rate,
        input_wav=input_wav,
        target_wav=target_wav,
        controls=controls,
    )
    result = run_training(config, out_dir)
    _print_training(result)


def run_training(config, out_dir: Path):
    """Train with a rich progress bar (shared by `train` and `demo`)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from wavecomp.frontend.train import resolve_spec
    from wavecomp.frontend.train import train as train_model

    resolve_spec(config)  # fail on a bad --preset/--layers before the progress bar starts

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("loading TensorFlow", total=None, info="")

        def progress(stage: str, done: int, total: int, figures: dict[str, float]) -> None:
            if stage == "fit":
                info = f"loss {figures.get('loss', math.nan):.4g}"
                bar.update(task, description="training", completed=done, total=total, info=info)
            else:
                bar.update(task, description="evaluating on the integer reference", info="")

        return train_model(config, out_dir, progress=progress)


def _print_training(result) -> None:
    q = result.report["quality"]
    cmp_ = result.report["qkeras_vs_reference"]
    console.print(
        f"[bold green]trained[/] {result.report['model']} in "
        f"{result.report['train_seconds']} s -> {result.out_dir}/model.npz"
    )
    if "corner_snr_db" in q:
        snrs = ", ".join(f"{k} {v:.1f}" for k, v in q["corner_snr_db"].items())
        console.print(
            f"held-out SNR per corner (dB): {snrs}; mean {q['mean_corner_snr_db']:.1f} dB"
        )
    else:
        console.print(f"held-out SNR: {q['heldout_snr_db']:.1f} dB")
    console.print(
        f"QKeras float vs integer reference: max {cmp_['max_abs_lsb']:g} LSB "
        f"(bound {cmp_['error_bound_lsb']:.3g} LSB)"
    )
    console.print(f"report: {result.out_dir}/report.md")


# ---- demo ------------------------------------------------------------------------------------
@main.command()
@_out_option("out/demo", "Folder for everything the demo writes.")
@click.option(
    "--train/--no-train",
    "do_train",
    default=True,
    show_default=True,
    help="Also retrain the default model from scratch (about 2-4 minutes).",
)
def demo(out_dir: Path, do_train: bool) -> None:
    """The main job on the default model: inspect it, render a triangle sweep through the
    bit-exact reference at each corner of the embedding, build an ECPIX-5 bitstream (with
    its bit-exact RTL check), and retrain the model with a report.
    """
    from wavecomp.sim import render_demo

    ctx = click.get_current_context()
    out_dir.mkdir(parents=True, exist_ok=True)
    console.rule("1. inspect the default model")
    ctx.invoke(inspect)
    console.rule("2. render through the reference")
    for line in render_demo(wavecomp.load(), out_dir):
        console.print(line)
    console.rule("3. build a bitstream for the ECPIX-5 + eurorack-pmod at 48 kHz")
    ctx.invoke(build, target="ecp5", out_dir=out_dir / "ecp5")
    if do_train:
        console.rule("4. train it again from scratch")
        result = run_training(TrainConfig(), out_dir / "train")
        _print_training(result)
    console.print(f"[bold green]done[/]: everything is in {out_dir}/")


if __name__ == "__main__":
    sys.exit(main())
