"""`wavecomp sim` and `wavecomp tone`: render audio through a backend, make test signals."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from click.core import ParameterSource

import wavecomp
from wavecomp.cli.common import (
    MODEL_HELP,
    choice_option,
    console,
    load_model,
    rounding_option,
    submodel_option,
)


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


@click.command()
@choice_option(
    "--target",
    choices=["reference", "rtl", "cmsis"],
    default="reference",
    help="Backend to render through: reference (the bit-exact numpy model), rtl (the "
    "generated FPGA core, simulated clock by clock with Verilator; the first render of a "
    "core builds it, later ones reuse the build) or cmsis (the MCU's q12 C++ engine from "
    "`wavecomp emit-cmsis`, built for this machine and cached).",
)
@click.argument("in_wav", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out_wav", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("model_arg", metavar="[MODEL]", required=False)
@click.option("--model", help=MODEL_HELP + " (or give it as the third argument)")
@click.option(
    "--cv",
    multiple=True,
    metavar="NAME=VALUE",
    help="Hold input channel NAME at VALUE (model units, e.g. e0=1 e1=0). Repeatable.",
)
@rounding_option("Requantisation rounding (a compile option).")
@choice_option(
    "--engine",
    choices=wavecomp.reference.ENGINES,
    default="batch",
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
@submodel_option
def sim(
    target: str,
    in_wav: Path,
    out_wav: Path,
    model_arg: str | None,
    model: str | None,
    cv: tuple[str, ...],
    rounding: str,
    engine: str,
    sample_rate: int | None,
    cycles_per_sample: int | None,
    submodel: int | None,
) -> None:
    """Render IN_WAV through MODEL (or --model; default: the shipped model) and write
    OUT_WAV (16-bit PCM).

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
    if model_arg is not None and model is not None:
        raise click.UsageError(f"two models given ({model_arg} and --model {model}): give one")
    model = model_arg if model_arg is not None else model
    net = load_model(model, submodel=submodel)
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


@click.command()
@click.argument("out_wav", type=click.Path(dir_okay=False, path_type=Path))
@choice_option(
    "--shape",
    choices=["triangle", "sine", "ramp", "square", "zigzag"],
    default="triangle",
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
