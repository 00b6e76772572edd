"""Board bitstreams of the default model: utilisation, Fmax and timing margin per board and rate.

    python bench/boards.py [--out bench/results] [--quick]

Runs the same flow as ``wavecomp build --target ecp5`` (schedule, RTL check, Amaranth board
top, yosys / nextpnr / ecppack) for every board at 48, 96 and 192 kHz with the default core
clock (256·fs), plus 2x core-clock builds at 192 kHz; ``--quick`` builds only 48 and 192 kHz
at 1x. Writes boards.md and boards.json; the build folders go to build/bench-boards/.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import wavecomp
from wavecomp.fpga.boards import BOARDS
from wavecomp.fpga.build import build_bitstream

BUILD_DIR = Path(__file__).resolve().parents[1] / "build" / "bench-boards"
RATES_HZ = (48_000, 96_000, 192_000)


def cases(quick: bool) -> list[tuple[str, int, int]]:
    """(board, rate, clock multiple) to build."""
    rates = (48_000, 192_000) if quick else RATES_HZ
    rows = [(board, rate, 1) for board in BOARDS for rate in rates]
    if not quick:
        rows += [(board, 192_000, 2) for board in BOARDS]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--quick", action="store_true", help="48 and 192 kHz at 1x only")
    args = parser.parse_args()

    net = wavecomp.load()
    rows = []
    for board, rate, mult in cases(args.quick):
        out = BUILD_DIR / f"{board}-{rate}-x{mult}"
        start = time.monotonic()
        result = build_bitstream(net, board=board, rate_hz=rate, clock_multiple=mult, out_dir=out)
        seconds = time.monotonic() - start
        p = result.pnr
        row = {
            "board": board,
            "part": result.board.part,
            "speed": result.board.speed,
            "rate_hz": rate,
            "core_clock": f"{mult}x",
            "achieved_fs_hz": round(result.clock.achieved_sample_rate_hz, 3),
            "clock_mhz": round(result.required_mhz, 6),
            "multipliers": result.schedule.multipliers,
            "cycles": f"{result.schedule.cycles_used}/{result.schedule.budget.cycles_per_sample}",
            "MULT18X18D": p.mult18,
            "DP16KD": p.dp16kd,
            "LUT": p.luts,
            "FF": p.ffs,
            "fmax_mhz": round(p.fmax_mhz, 2),
            "margin_mhz": round(p.margin_mhz, 2),
            "timing_met": p.timing_met,
            "build_s": round(seconds, 1),
        }
        rows.append(row)
        print(
            f"{board:14s} {rate:>6} Hz {mult}x: {p.mult18} MULT18X18D, {p.dp16kd} DP16KD, "
            f"{p.luts} LUT, {p.ffs} FF, Fmax {p.fmax_mhz:.1f} MHz vs {result.required_mhz:.3f} "
            f"({p.margin_mhz:+.1f}), {seconds:.0f} s",
            flush=True,
        )

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "boards.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        "# Board builds of the default model (`python bench/boards.py`)",
        "",
        "Full board tops (PLL, AK4619 driver, I2C init, core) through yosys / nextpnr / ecppack.",
        "Fmax is nextpnr's for the core clock domain; margin = Fmax - the PLL's real clock.",
        "",
        "| board | part (speed) | rate | core clock | achieved fs | MULT18X18D | DP16KD | LUT "
        "| FF | Fmax | clock | margin | met | build |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['board']} | {r['part']} ({r['speed']}) | {r['rate_hz'] // 1000} kHz "
            f"| {r['core_clock']} | {r['achieved_fs_hz']:,.1f} Hz | {r['MULT18X18D']} "
            f"| {r['DP16KD']} | {r['LUT']:,} | {r['FF']:,} | {r['fmax_mhz']:.1f} MHz "
            f"| {r['clock_mhz']:.3f} MHz | {r['margin_mhz']:+.1f} MHz "
            f"| {'yes' if r['timing_met'] else '**no**'} | {r['build_s']:.0f} s |"
        )
    (args.out / "boards.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out / 'boards.md'}")


if __name__ == "__main__":
    main()
