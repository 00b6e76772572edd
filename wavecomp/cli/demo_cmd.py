"""`wavecomp demo`: the main job end to end on the default model, into one output folder."""

from __future__ import annotations

from pathlib import Path

import click

import wavecomp
from wavecomp.cli.build_cmd import build
from wavecomp.cli.common import console, out_option
from wavecomp.cli.inspect_cmd import inspect
from wavecomp.cli.train_cmd import print_training, run_training
from wavecomp.frontend.train import TrainConfig
from wavecomp.output_dir import claim_folder
from wavecomp.resources import models_dir


@click.command()
@out_option(
    "out/demo",
    "Folder for everything the demo writes: renders/, ecp5/, train/ (each replaced only if "
    "wavecomp wrote it).",
)
@click.option(
    "--train/--no-train",
    "do_train",
    default=True,
    show_default=True,
    help="Also retrain the default model from scratch (about 5 minutes on 2 cores) and check "
    "that the result is byte-identical to the shipped one.",
)
def demo(out_dir: Path, do_train: bool) -> None:
    """The main job on the default model: inspect it, render a triangle sweep through the
    bit-exact reference at each corner of the embedding, build an ECPIX-5 bitstream (with
    its bit-exact RTL check), and retrain the model with a report.
    """
    from wavecomp.sim import render_demo

    ctx = click.get_current_context()
    out_dir = claim_folder(out_dir, writer="wavecomp demo", option="--out")
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
        print_training(result)
        _compare_with_shipped(result.out_dir / "model.npz")
    console.print(f"[bold green]done[/]: everything is in {out_dir}/")


def _compare_with_shipped(retrained: Path) -> None:
    """Say whether the retrain reproduced the shipped default model byte for byte."""
    shipped = models_dir() / "default.npz"
    if retrained.read_bytes() == shipped.read_bytes():
        console.print(f"[bold green]byte-identical[/] to the shipped {shipped.name}")
    else:
        console.print(
            f"[yellow]differs from the shipped {shipped.name}[/]: training is deterministic per "
            "CPU kind (TensorFlow's float kernels round differently on other CPUs) and needs the "
            "locked package versions (./bootstrap.sh); compare the SNRs above with the README's"
        )
