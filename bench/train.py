"""Training quality vs model size: the default recipe at the default shape and at 2x its MACs.

    python bench/train.py [--out bench/results] [--quick]

Compares the shipped default model (the `fpga` preset, 4->16->16->4, 1,536 MACs/sample: what
fits 8 MULT18X18D at 256 cycles/sample and the Daisy; the default TrainConfig retrains it byte
for byte) with the same stack 24 channels wide (3,072 MACs/sample, 2x) trained with the same
TrainConfig: held-out SNR and ESR per corner on the integer reference. It answers "is the
default limited by its training or by its size?". Writes train.md and train.json.
``--quick`` trains 4 epochs (a smoke run of this script, not a quality figure).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import wavecomp
from wavecomp.frontend.train import TrainConfig, train

WIDER = "4x1:24:relu,4x4:24:relu,4x16:4:linear"


def shipped() -> dict:
    net = wavecomp.load()
    return {"macs_per_sample": net.macs_per_sample, **net.metadata["training"]["quality"]}


def trained(config: TrainConfig) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = train(config, Path(tmp) / "run").report
    return {"macs_per_sample": report["macs_per_sample"], **report["quality"]}


def markdown(rows: dict[str, dict], config: TrainConfig) -> str:
    corners = list(next(iter(rows.values()))["corner_snr_db"])
    lines = [
        "# Training quality vs model size",
        "",
        f"Default TrainConfig (seed {config.seed}, {config.epochs} epochs x {config.examples} "
        f"windows, batch {config.batch_size}, lr {config.learning_rate}); SNR and ESR on the "
        "integer reference, held-out corner signals.",
        "",
        "| model | MACs/sample | "
        + " | ".join(f"{c} SNR dB (ESR)" for c in corners)
        + " | mean SNR dB |",
        "|---|---:|" + "---:|" * len(corners) + "---:|",
    ]
    for name, r in rows.items():
        cells = " | ".join(
            f"{r['corner_snr_db'][c]:.2f} ({r['corner_esr'][c]:.4f})" for c in corners
        )
        lines.append(
            f"| {name} | {r['macs_per_sample']:,} | {cells} | **{r['mean_corner_snr_db']:.2f}** |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--quick", action="store_true", help="4 epochs: smoke-test the script")
    args = parser.parse_args()
    config = TrainConfig(epochs=4) if args.quick else TrainConfig()
    rows = {
        "default (shipped)": shipped(),
        "2x MACs (24 wide)": trained(replace(config, layers=WIDER)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, config)
    (args.out / "train.md").write_text(text)
    (args.out / "train.json").write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    print(text)


if __name__ == "__main__":
    main()
