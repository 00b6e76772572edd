"""Cortex-M7 engine table: instructions per sample and per MAC, size, estimated Daisy load.

    python bench/mcu.py [--out bench/results] [--models a2_full,mcu|chains|nam] [--samples N]
                        [--nam-samples N] [--quick] [--no-profile]

Chain models: the default waveshaper (the `fpga` shape, 1,536 MACs/sample) and the `mcu` preset
shape (424 MACs/sample) with seeded weights, once spread like a trained net's and once with
weights at the Q4.12 range ends. Instruction counts don't depend on weight values, but the
accumulator width (int32 vs int64) follows each layer's static bound, so both are shown. Both
kernels (cmsis, fused) and both numerics (q12, f32).

NAM models: the A1 (standard, lite, feather, nano) and A2 (Full, Lite) shapes with seeded
weights of a trained capture's scale (``tests/netgen.nam_network``), imported as a user's
``.nam`` file would be; the fused kernel only (the only one that runs graph networks), q12 and
f32, over a receptive field plus ``--nam-samples`` of ``nam_stream`` (strummed chords with
full-scale bursts); instructions/sample count the samples after the receptive field (a second
run over the receptive field alone is subtracted). TONE3000's published Daisy Seed figures for
A2 stand beside them: cycles on hardware, not instructions on an emulator.

Each (model, numerics, kernel) engine is emitted, cross-compiled with the M7 harness and run
from reset on QEMU mps2-an500 (Cortex-M7); outputs are checked bit-exact against the
reference (q12) or the same-order float32 reference (f32) on the way. QEMU counts
*instructions*, not cycles: the "% of Daisy" columns assume one instruction per cycle at
480 MHz (10,000 per sample at 48 kHz), an estimate that ignores dual issue (faster) and
memory stalls (slower). A profile of the hottest code follows the tables. Writes mcu.md and
mcu.json; exits non-zero if any engine's outputs differ from the reference (or it fails to
build or run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import wavecomp
from wavecomp import fixed, reference
from wavecomp.errors import WavecompError
from wavecomp.frontend.nam_presets import PRESETS as NAM_PRESETS
from wavecomp.ir import Network
from wavecomp.mcu import daisy_fit, m7_build, m7_run
from wavecomp.mcu.emit import emit
from wavecomp.reference.float_ref import run_f32
from wavecomp.stimulus import random_inputs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import mcu_floor
from netgen import nam_network, nam_stream, preset_network

CLOCK_HZ = 480e6
RATES_HZ = (48_000, 96_000)
NUMERICS = ("q12", "f32")
KERNELS = ("cmsis", "fused")
GRAPH_KERNELS = ("fused",)  # cmsis refuses graph networks
WORK = Path("build/bench-mcu")
CACHE = Path("build/m7-cache")
ROUNDING = fixed.DEFAULT_ROUNDING
NAM_WEIGHT_SEED = 3  # nam_network's seeded weights (as the tests)
NAM_STREAM_SEED = 7
NAM_SAMPLES = 480  # after the receptive field: 10 ms at 48 kHz

# Goals from the issue (reported, not asserted in tests), all for the fused q12 engine.
GOAL_FUSED_Q12_PER_MAC = 0.95  # default model; must not regress
GOAL_MCU_PRESET_PER_SAMPLE = 530  # must not regress
GOAL_NAM: dict[str, tuple[int, float | None]] = {
    # preset: (instructions/sample, instructions/MAC or None)
    "a2_full": (9_000, 0.77),
    "a1_standard": (10_000, 0.75),
    "a2_lite": (1_600, None),
}
SMLAD_FLOOR_PER_MAC = 0.5  # one SMLAD does two 16x16 MACs: the ceiling, loads not counted
ORIGINAL_FIRMWARE_PER_SAMPLE = 7_400  # the original float firmware, mcu model (~17/MAC)
# TONE3000 tone-3000/embedded v2.0.0 (nam2c-generated C, float32) on a Daisy Seed at 480 MHz,
# their published figures (FACTS.md): cycles/sample on hardware, not emulated instructions.
TONE3000_CYCLES = {"a2_lite": 4_059, "a2_full": 18_972}
NAM_LABELS = {
    "a1_standard": "A1-standard",
    "a1_lite": "A1-lite",
    "a1_feather": "A1-feather",
    "a1_nano": "A1-nano",
    "a2_full": "A2-Full",
    "a2_lite": "A2-Lite",
}
NAM_ORDER = ("a1_standard", "a1_lite", "a1_feather", "a1_nano", "a2_full", "a2_lite")
PROFILED = ("default", "mcu")  # chain models profiled for every (numerics, kernel)
PROFILED_NAM = ("a2_full",)  # NAM models profiled (q12 fused)
HOT_BLOCKS = 2
HOT_BLOCK_LINES = 24
PROFILE_SAMPLES = 1000


@dataclass(frozen=True)
class Model:
    key: str
    label: str
    kind: str  # "chain" or "nam"
    make: Callable[[], Network]
    kernels: tuple[str, ...]


def models() -> list[Model]:
    chains = [
        Model("default", "default (fpga)", "chain", wavecomp.load, KERNELS),
        Model("mcu", "mcu preset", "chain", lambda: preset_network("mcu", 2026), KERNELS),
        Model(
            "mcu-range-ends",
            "mcu preset, range-end weights",
            "chain",
            lambda: preset_network("mcu", 2026, range_ends=True),
            KERNELS,
        ),
    ]
    assert set(NAM_ORDER) == set(NAM_PRESETS)
    nams = [
        Model(
            p,
            NAM_LABELS[p],
            "nam",
            lambda p=p: nam_network(p, ROUNDING, NAM_WEIGHT_SEED),
            GRAPH_KERNELS,
        )
        for p in NAM_ORDER
    ]
    return chains + nams


def select(spec: str | None) -> list[Model]:
    """``--models``: comma-separated keys, or ``chains`` / ``nam`` / ``all``."""
    every = models()
    if not spec:
        return every
    by_key = {m.key: m for m in every}
    wanted: list[str] = []
    for word in (w.strip() for w in spec.split(",") if w.strip()):
        if word == "all":
            wanted += list(by_key)
        elif word in ("chains", "nam"):
            wanted += [m.key for m in every if m.kind == ("chain" if word == "chains" else "nam")]
        elif word in by_key:
            wanted.append(word)
        else:
            sys.exit(f"unknown model {word!r}: use chains, nam, all or any of {', '.join(by_key)}")
    return [m for m in every if m.key in wanted]


def stimulus(model: Model, net: Network, numerics: str, samples: int) -> tuple[np.ndarray, ...]:
    """(Q4.12 raw inputs, the engine's inputs): ``samples`` of random_inputs for a chain, a
    receptive field plus ``samples`` of nam_stream for a NAM shape."""
    if model.kind == "nam":
        x = nam_stream(net.receptive_field + samples, seed=NAM_STREAM_SEED)
    else:
        x = random_inputs(samples, net.in_channels, seed=1)
    return x, (x if numerics == "q12" else fixed.from_q12(x).astype(np.float32))


def build(net: Network, numerics: str, kernel: str):
    folder = WORK / f"{net.name}-{numerics}-{kernel}"
    # the table reports firmwares that fit no Daisy memory too (as such): build them anyway
    result = emit(
        net, folder, numerics=numerics, kernel=kernel, rounding=ROUNDING, require_fit=False
    )
    return result, m7_build.build_m7(result, CACHE)


def accumulator_kind(accumulator: str) -> str:
    return "int32 Q-checked" if "Q-checked" in accumulator else accumulator.split()[0]


def measure(model: Model, net: Network, numerics: str, kernel: str, samples: int) -> dict:
    result, m7 = build(net, numerics, kernel)
    x, inputs = stimulus(model, net, numerics, samples)
    run = m7_run.run_qemu(m7, inputs)
    expected = (
        reference.run(net, x, rounding=ROUNDING) if numerics == "q12" else run_f32(net, inputs)
    )
    check = "bit-exact" if np.array_equal(run.outputs, expected) else "MISMATCH"
    accumulators = Counter(accumulator_kind(row.accumulator) for row in result.summary.rows)
    size = daisy_fit.size(m7)
    fit = daisy_fit.measured(size, stack_bytes=run.stack_bytes)
    per_sample, counted_from = run.instructions_per_sample, "reset"
    if model.kind == "nam":
        # the same engine over the receptive field alone: the difference counts the samples
        # after it (min-max stay over the whole run from reset)
        warm = net.receptive_field
        warm_up = m7_run.run_qemu(m7, inputs[:warm])
        per_sample = (run.instructions - warm_up.instructions) / (run.steps - warm)
        counted_from = "receptive field"
    row = {
        "model": model.label,
        "key": model.key,
        "kind": model.kind,
        "net": net.name,
        "macs": net.macs_per_sample,
        "numerics": numerics,
        "kernel": kernel,
        "accumulators": dict(sorted(accumulators.items())),
        "samples": len(x),
        "counted_from": counted_from,
        "instructions_per_sample_from_reset": round(run.instructions_per_sample, 1),
        "instructions_per_sample": round(per_sample, 1),
        "min_step": run.min_step_instructions,
        "max_step": run.max_step_instructions,
        "instructions_per_mac": round(per_sample / net.macs_per_sample, 3),
        "flash_bytes": size.footprint().code + size.data(),
        "firmware_flash_bytes": fit.flash_bytes,
        "app_type": fit.app_type,
        "fits_daisy": fit.fits,
        "code_memory": fit.layout.code_memory,
        "memory": {r.memory: r.used for r in fit.rows},
        "memory_capacity": {r.memory: r.capacity for r in fit.rows},
        "ram_bytes": size.data() + size.bss(),
        "stack_bytes": run.stack_bytes,
        "check": check,
    }
    if model.kind == "nam":
        row["receptive_field"] = net.receptive_field
        row["nam_stream_seed"] = NAM_STREAM_SEED
        row["weight_seed"] = NAM_WEIGHT_SEED
        if model.key in TONE3000_CYCLES:
            row["tone3000_cycles_per_sample"] = TONE3000_CYCLES[model.key]
    for rate in RATES_HZ:
        row[f"daisy_load_{rate // 1000}k"] = round(100 * per_sample * rate / CLOCK_HZ, 2)
    print(
        f"{model.label} {numerics}/{kernel}: {per_sample:,.1f} instructions/sample "
        f"({row['instructions_per_mac']:.2f}/MAC), {fit.app_type}, {check}",
        flush=True,
    )
    return row


def hot_spots(
    model: Model, net: Network, numerics: str, kernel: str, samples: int, top: int = HOT_BLOCKS
) -> dict:
    """Where one engine's instructions go: per function, and the hottest blocks' code."""
    _, m7 = build(net, numerics, kernel)
    _, inputs = stimulus(model, net, numerics, samples)
    run = m7_run.run_qemu(m7, inputs, profile=True)
    functions = [(name, round(n / run.steps, 1)) for name, n in m7_run.profile_by_function(m7, run)]
    # QEMU blocks overlap (one entered from above a loop holds the loop's first pass too):
    # show the hottest blocks that share no instruction with a block already shown.
    blocks: list[dict] = []
    shown: set[str] = set()
    for b in run.blocks:
        code = m7_run.disassemble_block(m7, b)
        addresses = {line.split(":")[0].strip() for line in code.splitlines()}
        if addresses & shown:
            continue
        shown |= addresses
        blocks.append(
            {
                "address": f"{b.address:#x}",
                "instructions": b.instructions,
                "per_sample": round(b.total / run.steps, 1),
                "code": code,
            }
        )
        if len(blocks) == top:
            break
    return {
        "engine": f"{net.name} {numerics}/{kernel}",
        "samples": run.steps,
        "functions": functions,
        "blocks": blocks,
    }


def _accumulators(r: dict) -> str:
    return ", ".join(f"{n}x {a}" for a, n in r["accumulators"].items())


def _instructions(r: dict) -> str:
    return f"{r['instructions_per_sample']:,.1f} ({r['min_step']:,}-{r['max_step']:,})"


def chain_table(rows: list[dict]) -> list[str]:
    lines = [
        "| model | MACs/sample | numerics | kernel | accumulators "
        "| instructions/sample (min-max) "
        "| instructions/MAC | flash B | firmware B | RAM B | stack B | est. Daisy load @48 kHz "
        "| @96 kHz | outputs |",
        "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {r['numerics']} | {r['kernel']} "
            f"| {_accumulators(r)} | {_instructions(r)} "
            f"| {r['instructions_per_mac']:.2f} | {r['flash_bytes']:,} "
            f"| {r['firmware_flash_bytes']:,} | {r['ram_bytes']:,} "
            f"| {r['stack_bytes']:,} | {r['daisy_load_48k']:.1f}% | {r['daisy_load_96k']:.1f}% "
            f"| {r['check']} |"
        )
    return lines


def _memory(r: dict, name: str) -> str:
    used, capacity = r["memory"].get(name), r["memory_capacity"].get(name)
    if used is None:
        return "-"
    return f"{used:,} ({100 * used / capacity:.0f}%)"


def _tone3000(r: dict) -> str:
    cycles = r.get("tone3000_cycles_per_sample")
    if cycles is None:
        return "-"
    return f"{cycles:,} ({100 * cycles * 48_000 / CLOCK_HZ:.0f}%)"


def nam_table(rows: list[dict]) -> list[str]:
    lines = [
        "| model | MACs/sample | numerics | accumulators | instructions/sample (min-max) "
        "| instructions/MAC | est. Daisy load @48 kHz "
        "| TONE3000 cycles/sample on a Daisy Seed, f32 (load @48 kHz) "
        "| engine code B | firmware code B | AXI SRAM B | DTCM B | D2 SRAM B "
        "| APP_TYPE | outputs |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        app = r["app_type"]
        if not r["fits_daisy"]:
            full = [m for m, n in r["memory"].items() if n > r["memory_capacity"][m]]
            over = ", ".join(full) or "unplaced sections"
            app = f"**does NOT fit** under any APP_TYPE ({over} over; shown: {app})"
        code = r["code_memory"]
        used, capacity = r["memory"][code], r["memory_capacity"][code]
        firmware = f"{used:,} in {code} ({100 * used / capacity:.0f}%)"
        axi = "(the code)" if code == "AXI SRAM" else _memory(r, "AXI SRAM")
        lines.append(
            f"| {r['model']} | {r['macs']:,} | {r['numerics']} | {_accumulators(r)} "
            f"| {_instructions(r)} | {r['instructions_per_mac']:.2f} "
            f"| {r['daisy_load_48k']:.1f}% | {_tone3000(r)} "
            f"| {r['flash_bytes']:,} | {firmware} | {axi} "
            f"| {_memory(r, 'DTCM')} | {_memory(r, 'D2 SRAM')} | {app} | {r['check']} |"
        )
    return lines


def _find(rows: list[dict], key: str, numerics: str = "q12", kernel: str = "fused") -> dict | None:
    return next(
        (
            r
            for r in rows
            if r["key"] == key and r["numerics"] == numerics and r["kernel"] == kernel
        ),
        None,
    )


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def goals(rows: list[dict]) -> list[str]:
    lines = []
    if r := _find(rows, "default"):
        lines.append(
            f"- default model ≤ {GOAL_FUSED_Q12_PER_MAC:.2f} instructions/MAC (must not regress): "
            f"**{_met(r['instructions_per_mac'] <= GOAL_FUSED_Q12_PER_MAC)}** "
            f"({r['instructions_per_mac']:.2f}/MAC, {r['instructions_per_sample']:,.0f}/sample)"
        )
    if r := _find(rows, "mcu"):
        lines.append(
            f"- mcu preset ≤ {GOAL_MCU_PRESET_PER_SAMPLE} instructions/sample (must not regress): "
            f"**{_met(r['instructions_per_sample'] <= GOAL_MCU_PRESET_PER_SAMPLE)}** "
            f"({r['instructions_per_sample']:,.0f})"
        )
    for key, (per_sample, per_mac) in GOAL_NAM.items():
        if not (r := _find(rows, key)):
            continue
        ok = r["instructions_per_sample"] <= per_sample
        target = f"≤ {per_sample:,} instructions/sample"
        if per_mac is not None:
            ok = ok and r["instructions_per_mac"] <= per_mac
            target += f" (≤ {per_mac:.2f}/MAC)"
        net = nam_network(key, ROUNDING, seed=NAM_WEIGHT_SEED)
        per_sample_floor, block_floor = mcu_floor.floor(net).total, mcu_floor.floor(net, True).total
        lines.append(
            f"- {r['model']} {target}: **{_met(ok)}** ({r['instructions_per_sample']:,.0f}, "
            f"{r['instructions_per_mac']:.2f}/MAC; the floor of any exact engine, "
            f"`bench/mcu_floor.py`: ≥ {per_sample_floor:,.0f} one sample at a time, "
            f"≥ {block_floor:,.0f} in blocks of samples, before any bias, address or loop work)"
        )
    nam = [r for r in rows if r["kind"] == "nam" and r["numerics"] == "q12"]
    if nam:
        ratios = ", ".join(
            f"{r['model']} {r['instructions_per_mac'] / SMLAD_FLOOR_PER_MAC:.1f}x" for r in nam
        )
        lines.append(
            f"- ceiling {SMLAD_FLOOR_PER_MAC} instructions/MAC (one SMLAD per two MACs, nothing "
            f"else counted); the NAM q12 rows are at: {ratios} of it"
        )
    return lines


def markdown(rows: list[dict], profiles: list[dict], nam_samples: int) -> str:
    chains = [r for r in rows if r["kind"] == "chain"]
    nams = [r for r in rows if r["kind"] == "nam"]
    lines = [
        "# Cortex-M7 engine on QEMU mps2-an500",
        "",
        "Instructions counted inside `engine_step` by a QEMU TCG plugin (call set-up in the "
        "harness excluded). **QEMU counts instructions, not cycles.** The Daisy "
        "load columns are an *estimate*: instructions/sample ÷ (480 MHz ÷ rate), i.e. one "
        "instruction per cycle with a budget of 10,000 instructions/sample at 48 kHz and 5,000 "
        "at 96 kHz, and every instruction fetched without a stall: the fused engine is "
        "straight-line code run once per sample, so an engine beyond the Cortex-M7's 16 KB "
        "instruction cache (every NAM engine but A1-nano q12; A1-feather q12 just) fetches "
        "its code every sample, and under APP_TYPE=BOOT_QSPI from QSPI flash; that cost is "
        "not in these figures (the Daisy fit prints a speed note for it). Flash = code + "
        "constants (weights) + initialised data; RAM = data + bss "
        "(activation caches); both exclude the harness. Firmware = the Daisy Patch firmware's "
        "flash with libDaisy and the Patch code counted (`daisy_fit.measured`). Stack is the "
        "measured high-water mark (harness main + engine).",
    ]
    if chains:
        samples = sorted({r["samples"] for r in chains})
        lines += [
            "",
            "## Chain models",
            "",
            f"{', '.join(f'{n:,}' for n in samples)} samples of `random_inputs` (seed 1) per run.",
            "",
            *chain_table(chains),
        ]
        misfits = [
            f"{r['model']} {r['numerics']}/{r['kernel']}"
            for r in chains
            if not r["fits_daisy"] or r["app_type"] != "BOOT_NONE"
        ]
        largest = max(r["firmware_flash_bytes"] for r in chains)
        lines += [
            "",
            "Daisy fit (`daisy_fit.measured`: the engine plus libDaisy and the Patch code, "
            f"{daisy_fit.LIBDAISY_PATCH_FLASH:,} B, measured stack in DTCM): "
            + (
                f"**needs the bootloader or does not fit**: {', '.join(misfits)}"
                if misfits
                else "every Patch firmware fits the internal flash "
                f"(largest {largest:,} B of 131,072)"
            )
            + ".",
        ]
    if nams:
        lines += [
            "",
            "## NAM captures on the Daisy",
            "",
            "NAM A1 and A2 shapes with seeded weights of a trained capture's scale "
            f"(`tests/netgen.nam_network`, seed {NAM_WEIGHT_SEED}, {ROUNDING} rounding), imported "
            "as a `.nam` file would be; the fused kernel (the CMSIS kernel runs plain chains "
            f"only). Each run: the receptive field plus {nam_samples:,} samples of `nam_stream` "
            f"(seed {NAM_STREAM_SEED}: strummed chords at codec resolution with full-scale "
            "bursts). **Instructions/sample (and per MAC, and the load) count only the samples "
            "after the receptive field** (the run minus a run of the receptive field alone); "
            "the min-max is over every step from reset.",
            "",
            *nam_table(nams),
            "",
            "- **TONE3000 column: their published figure, not ours, and not the same unit.** "
            "`tone-3000/embedded` v2.0.0 (C generated by their nam2c, float32) measured "
            "*cycles* per sample on a Daisy Seed (480 MHz): A2-Lite 4,059 (41% at 48 kHz), "
            "A2-Full 18,972 (190%: not real time). Our columns count *instructions* on an "
            "emulator with no timing model; on the real M7 dual issue makes cycles fewer than "
            "instructions and memory stalls make them more, so the two compare only roughly. "
            "Their figure is float32, so it sits beside our f32 rows as well as the q12 ones. "
            "(Their `nam-pedal` runs A1-nano with ReLU, not tanh, at about 2,966 "
            "cycles/sample on a Daisy Pod: a different activation, so not in the column.)",
            "- MACs/sample as wavecomp counts them: NAM's last residual 1x1 feeds nothing and "
            "is dropped (NAM counts A2-Full 11,776, A1-standard 13,320).",
            "- Memory columns are `daisy_fit.measured` of the whole Patch firmware (libDaisy "
            f"and the Patch code, {daisy_fit.LIBDAISY_PATCH_FLASH:,} B of flash, counted) "
            "under the first APP_TYPE it fits (or, if none, the last tried), percent of each "
            "memory. Firmware code = libDaisy + Patch code + engine code, weights and .data, "
            "in the internal flash (BOOT_NONE), AXI SRAM (BOOT_SRAM: the bootloader copies it "
            "there; .data/.bss move to DTCM) or QSPI flash (BOOT_QSPI). DTCM = the activation "
            "rings placed there plus the measured stack (and the firmware's .data/.bss under "
            "BOOT_SRAM); "
            "D2 SRAM = rings spilled there plus libDaisy's 16 KB of audio DMA buffers. Engine "
            "code B = the engine's code + weights + .data alone (harness excluded).",
        ]
    lines += ["", "## Goals (fused q12)", "", *goals(rows)]
    mcu_rows = [r for r in chains if r["key"] == "mcu"]
    if mcu_rows:
        speedups = ", ".join(
            f"{r['numerics']}/{r['kernel']} "
            f"{ORIGINAL_FIRMWARE_PER_SAMPLE / r['instructions_per_sample']:.1f}x fewer"
            for r in mcu_rows
        )
        lines += [
            "",
            f"The original float firmware ran the mcu model at ~{ORIGINAL_FIRMWARE_PER_SAMPLE:,} "
            f"instructions/sample (~17/MAC); here: {speedups}.",
        ]
    if profiles:
        lines += ["", "## Where the instructions go", ""]
    for p in profiles:
        lines += [
            f"### {p['engine']}",
            "",
            f"{p['samples']:,} samples from reset.",
            "",
            "| function | instructions/sample |",
            "|---|---:|",
        ]
        lines += [f"| `{name}` | {n:,.1f} |" for name, n in p["functions"]]
        for b in p["blocks"]:
            lines += [
                "",
                f"Hot block at {b['address']}: {b['instructions']} instructions, "
                f"{b['per_sample']:,.1f} instructions/sample",
                "",
                "```",
                *_truncated(b["code"]),
                "```",
            ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _truncated(code: str) -> list[str]:
    lines = code.splitlines()
    if len(lines) <= HOT_BLOCK_LINES:
        return lines
    return [*lines[:HOT_BLOCK_LINES], f"   ... ({len(lines) - HOT_BLOCK_LINES} more instructions)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument(
        "--models",
        help="comma-separated: chains, nam, all, or keys "
        f"({', '.join(m.key for m in models())}); default all",
    )
    parser.add_argument(
        "--samples", type=int, default=4800, help="samples per chain-model run (0.1 s)"
    )
    parser.add_argument(
        "--nam-samples",
        type=int,
        default=NAM_SAMPLES,
        help="samples after the receptive field per NAM run",
    )
    parser.add_argument("--quick", action="store_true", help="q12 only, no profiles")
    parser.add_argument("--no-profile", action="store_true", help="skip the hot-spot profiles")
    args = parser.parse_args()
    if args.samples < 1 or args.nam_samples < 1:
        parser.error("--samples and --nam-samples must be at least 1")
    rows: list[dict] = []
    failures: list[str] = []
    profiles: list[dict] = []
    for model in select(args.models):
        net = model.make()
        samples = args.nam_samples if model.kind == "nam" else args.samples
        for numerics in NUMERICS[:1] if args.quick else NUMERICS:
            for kernel in model.kernels:
                try:
                    rows.append(measure(model, net, numerics, kernel, samples))
                except WavecompError as err:  # a build or run that fails is reported, not hidden
                    failures.append(f"{model.label} {numerics}/{kernel}: {err}")
                    print(f"FAILED {failures[-1]}", file=sys.stderr, flush=True)
        if args.quick or args.no_profile:
            continue
        profile_samples = min(samples, PROFILE_SAMPLES)
        if model.key in PROFILED:
            for numerics in NUMERICS:
                for kernel in model.kernels:
                    profiles.append(hot_spots(model, net, numerics, kernel, profile_samples))
        if model.key in PROFILED_NAM:
            profiles.append(hot_spots(model, net, "q12", "fused", profile_samples))
    text = markdown(rows, profiles, args.nam_samples)
    if failures:
        text += "\n## Failed engines\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mcu.md").write_text(text)
    payload = {
        "rows": rows,
        "failures": failures,
        "profiles": profiles,
        "clock_hz": CLOCK_HZ,
        "rounding": ROUNDING,
    }
    (args.out / "mcu.json").write_text(json.dumps(payload, indent=2) + "\n")
    problems = failures + [
        f"{r['model']} {r['numerics']}/{r['kernel']}" for r in rows if r["check"] != "bit-exact"
    ]
    if problems:
        sys.exit(f"engine outputs differ from the reference or failed: {'; '.join(problems)}")


if __name__ == "__main__":
    main()
