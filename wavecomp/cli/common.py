"""What every command shares: the consoles, the MODEL help, the --out and choice options."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console

import wavecomp
from wavecomp import fixed
from wavecomp.ir import Network

console = Console(stderr=True)
stdout = Console()

MODEL_HELP = (
    "Model file (.npz from `wavecomp train`, a QKeras .keras/.h5, or a Neural Amp Modeler "
    ".nam capture). Default: the shipped waveshaper."
)

submodel_option = click.option(
    "--submodel",
    type=click.IntRange(min=0),
    default=None,
    help="For a .nam SlimmableContainer: the index of the submodel to use (default: the largest).",
)


def out_option(default: str, help: str):
    """``--out DIR``: written all-or-nothing; only a folder wavecomp wrote is replaced."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help,
    )


def choice_option(*decls: str, choices: Sequence[str], default: str, help: str | None = None):
    """An option taking one of ``choices``, its default shown in the help."""
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def rounding_option(help: str):
    """``--rounding half_up|floor``: the numerics contract's requantisation rounding."""
    return choice_option(
        "--rounding", choices=fixed.ROUNDING_MODES, default=fixed.DEFAULT_ROUNDING, help=help
    )


def load_model(model: str | None, submodel: int | None = None) -> Network:
    """The model (the default one if None); a ``.nam`` capture is imported with a spinner."""
    if model is not None and model.lower().endswith(".nam"):
        with console.status(f"importing {model} (quantising, checking against NAM's float) ..."):
            net = wavecomp.load(model, submodel=submodel)
    else:
        net = wavecomp.load(model, submodel=submodel)
    return net
