"""Throughput of the three references on the default model: samples per second.

    python bench/reference.py [--model M] [--samples N] [--out bench/results]

Prints a table and writes reference.md / reference.json. The numpy batch engine is for bulk
work, the streaming engine mirrors hardware state sample by sample, fxpmath is the readable spec.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import wavecomp
from wavecomp import reference
from wavecomp.stimulus import random_inputs

# fxpmath is ~1000x slower than batch: time it on fewer samples so the bench stays quick.
SAMPLES = {"batch": 200_000, "stream": 20_000, "fxpmath": 1_000}


def measure(net, engine: str, n: int, repeats: int = 3) -> float:
    x = random_inputs(n, net.in_channels, seed=1)
    best = float("inf")
    for _ in range(repeats if engine != "fxpmath" else 1):
        start = time.perf_counter()
        reference.run(net, x, engine=engine)
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (default: the shipped default model)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply sample counts")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()

    net = wavecomp.load(args.model)
    rows = []
    for engine, n in SAMPLES.items():
        n = max(100, int(n * args.scale))
        rate = measure(net, engine, n)
        rows.append(
            {"engine": engine, "samples": n, "samples_per_s": rate, "realtime_48k": rate / 48_000}
        )
    base = rows[-1]["samples_per_s"]
    lines = [
        f"# Reference throughput: {net.name} ({net.macs_per_sample:,} MACs/sample)",
        "",
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}",
        "",
        "| engine | samples timed | samples/s | × real time at 48 kHz | × fxpmath |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['samples']:,} | {r['samples_per_s']:,.0f} | "
            f"{r['realtime_48k']:.3g} | {r['samples_per_s'] / base:,.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reference.md").write_text(text)
    (args.out / "reference.json").write_text(
        json.dumps({"model": net.name, "fingerprint": net.fingerprint(), "rows": rows}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
