"""`wavecomp train`: train a quantised model on waveshaper data or recordings, with a report."""

from __future__ import annotations

import math
from pathlib import Path

import click

from wavecomp.cli.common import console, out_option
from wavecomp.frontend.train import TrainConfig, TrainResult, check_out_dir, resolve_spec
from wavecomp.frontend.train import train as train_model
from wavecomp.frontend.wavenet_spec import WaveNetSpec, format_wavenet


def config_option(flag: str, field: str, help: str | None = None):
    """``flag`` sets ``TrainConfig.<field>``; the help shows that field's default."""
    return click.option(
        flag, field, default=getattr(TrainConfig, field), show_default=True, help=help
    )


@click.command()
@out_option("runs/train", "Folder for model + report (replaced only if wavecomp wrote it).")
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
@click.option(
    "--arch",
    type=click.Choice(["chain", "wavenet"]),
    default="chain",
    show_default=True,
    help="chain: the preset's (or --layers') conv stack; wavenet: a NAM-like WaveNet (rechannel, "
    "dilated layers with input mixin, residual and skip sums, head), sized by --wavenet.",
)
@click.option(
    "--wavenet",
    metavar="KEY=VALUE,...",
    help="The WaveNet's sizes (with --arch wavenet), e.g. "
    '"channels=4,dilations=1-2-4-8,repeats=2,activation=relu"; unset keys keep '
    f"{format_wavenet(WaveNetSpec())}. One input suits --input-wav; the built-in waveshaper "
    "data needs inputs=3.",
)
@config_option("--epochs", "epochs")
@config_option("--examples", "examples", "Training windows per epoch.")
@click.option("--seq-len", type=int, help="Window length (default max(256, 4 x receptive field)).")
@config_option("--batch-size", "batch_size")
@config_option("--lr", "learning_rate", "Peak learning rate.")
@config_option("--warmup", "warmup_fraction", "Share of the steps spent warming the rate up.")
@config_option(
    "--corner-fraction",
    "corner_fraction",
    "Share of waveshaper windows at the embedding's corners (the rest crossfade on its edges).",
)
@config_option("--seed", "seed")
@config_option("--rate", "sample_rate", "Sample rate the model is trained for.")
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
    arch: str,
    wavenet: str | None,
    epochs: int,
    examples: int,
    seq_len: int | None,
    batch_size: int,
    learning_rate: float,
    warmup_fraction: float,
    corner_fraction: float,
    seed: int,
    sample_rate: int,
    input_wav: str | None,
    target_wav: str | None,
    control: tuple[str, ...],
) -> None:
    """Train a quantised (QKeras) model, lower it to Q4.12, and write OUT/model.npz,
    OUT/model.keras and a report (report.md/json: loss curves, SNR and ESR per corner on
    the integer reference, target-vs-output waveforms and harmonics, the embedding grid).

    Without --input-wav it trains on the built-in waveshaper data (a triangle in;
    sine / ramp / square / zigzag out at the corners of a 2-D embedding); with the
    defaults that takes about 5 minutes on 2 cores. Seeded and reproducible: the defaults
    retrain the shipped default model byte for byte.
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
        warmup_fraction=warmup_fraction,
        corner_fraction=corner_fraction,
        sample_rate=sample_rate,
        input_wav=input_wav,
        target_wav=target_wav,
        controls=controls,
        arch=arch,
        wavenet=wavenet,
    )
    result = run_training(config, out_dir)
    print_training(result)


def run_training(config: TrainConfig, out_dir: Path) -> TrainResult:
    """Train with a rich progress bar (shared by `train` and `demo`)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    # fail on a bad --out/--preset/--layers before the progress bar starts
    check_out_dir(out_dir)
    resolve_spec(config)

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


def print_training(result: TrainResult) -> None:
    """The run's headline figures and where its model and report are."""
    q = result.report["quality"]
    cmp_ = result.report["qkeras_vs_reference"]
    console.print(
        f"[bold green]trained[/] {result.report['model']} in "
        f"{result.report['train_seconds']} s -> {result.out_dir}/model.npz"
    )
    if "corner_snr_db" in q:
        snrs = ", ".join(
            f"{k} {v:.1f} (ESR {q['corner_esr'][k]:.4f})" for k, v in q["corner_snr_db"].items()
        )
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
