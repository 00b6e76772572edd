"""What every command shares: the consoles, the MODEL argument's help, the --out option."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

import wavecomp
from wavecomp.ir import Network

console = Console(stderr=True)
stdout = Console()

MODEL_HELP = (
    "Model file (.npz from `wavecomp train`, or a QKeras .keras/.h5). "
    "Default: the shipped waveshaper."
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


def load_model(model: str | None) -> Network:
    return wavecomp.load(model)
