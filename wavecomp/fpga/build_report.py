"""What a board build reports: the result, the console summary, report.md and report.json.

Why its own module: the build steps compute figures; this module decides how people (the
console, ``report.md`` from ``build_report.md.j2``) and scripts (``report.json``) see them.
Paths in the report files are relative to the build folder (the report sits in it), so the
folder can be moved, and never name the staging folder the build was written in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from wavecomp import schedule as sch
from wavecomp.fpga.boards import Board
from wavecomp.fpga.build_steps import TOP_NAME, StepTime
from wavecomp.fpga.pll import ClockPlan
from wavecomp.fpga.synth import PnrReport
from wavecomp.templating import render_document

BITSTREAM = f"gateware/{TOP_NAME}.bit"
"""The bitstream, relative to the build folder."""

# openFPGALoader `-b` names (JTAG_BOARD entries in openFPGALoader's src/board.hpp)
OPENFPGALOADER_BOARD = {
    "ecpix5-85f": "ecpix5",
    "colorlight-i5": "colorlight-i5",
    "colorlight-i9": "colorlight-i9",
}


@dataclass(frozen=True)
class BuildResult:
    """A finished build: where it is, and every figure its report shows."""

    folder: Path  # the build folder (``--out``)
    model_name: str
    board: Board
    rate_hz: int
    clock_multiple: int
    schedule: sch.Schedule
    clock: ClockPlan
    pnr: PnrReport
    steps: tuple[StepTime, ...]

    @property
    def bitstream(self) -> Path:
        return self.folder / BITSTREAM

    @property
    def report_md(self) -> Path:
        return self.folder / "report.md"

    @property
    def program_command(self) -> list[str]:
        """openFPGALoader for this board and bitstream (printed, never run)."""
        board = OPENFPGALOADER_BOARD.get(self.board.name, self.board.name)
        return ["openFPGALoader", "-b", board, str(self.bitstream)]

    @property
    def required_mhz(self) -> float:
        return self.clock.achieved_hz / 1e6

    @property
    def fmax_mhz(self) -> float:
        return self.pnr.fmax_mhz

    @property
    def timing_met(self) -> bool:
        return self.pnr.timing_met


def _utilisation(pnr: PnrReport) -> dict[str, list[int | None]]:
    """resource -> [used, available]."""
    return {
        "MULT18X18D": [pnr.mult18, pnr.available.get("MULT18X18D")],
        "DP16KD": [pnr.dp16kd, pnr.available.get("DP16KD")],
        "LUT": [pnr.luts, pnr.available.get("TRELLIS_COMB")],
        "FF": [pnr.ffs, pnr.available.get("TRELLIS_FF")],
    }


def summary(result: BuildResult) -> str:
    """The console summary the CLI prints after the step list."""
    p = result.pnr
    util = "  ".join(f"{name} {used}/{avail}" for name, (used, avail) in _utilisation(p).items())
    sched = result.schedule
    return "\n".join(
        [
            f"board      {result.board.display_name} @ {result.rate_hz} Hz, core clock "
            f"{result.clock_multiple} x 256 fs",
            f"clock      {result.clock.summary()}",
            f"schedule   {sched.multipliers} multipliers, {sched.cycles_used}/"
            f"{sched.budget.cycles_per_sample} cycles, latency {sched.latency_samples} samples",
            f"used       {util}",
            f"timing     Fmax {p.fmax_mhz:.2f} MHz vs required {p.target_mhz:.3f} MHz: "
            f"{'met' if p.timing_met else 'NOT met'} ({p.margin_mhz:+.2f} MHz)",
            f"bitstream  {result.bitstream}",
            f"program    {' '.join(result.program_command)}   (not run)",
        ]
    )


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
    """The JSON report: every figure the markdown shows; paths relative to the build folder."""
    program = [*result.program_command[:-1], BITSTREAM]
    return {
        "model": result.model_name,
        "board": result.board.name,
        "board_name": result.board.display_name,
        "part": result.board.part,
        "rate_hz": result.rate_hz,
        "achieved_sample_rate_hz": result.clock.achieved_sample_rate_hz,
        "sample_rate_error_ppm": result.clock.error_ppm,
        "core_clock_mhz": result.required_mhz,
        "core_clock_multiple": result.clock_multiple,
        "schedule": result.schedule.summary(),
        "utilisation": _utilisation(result.pnr),
        "fmax_mhz": result.pnr.fmax_mhz,
        "timing_met": result.timing_met,
        "timing_margin_mhz": round(result.pnr.margin_mhz, 3),
        "bitstream": BITSTREAM,
        "program_command": " ".join(program),
        "steps": [
            {"name": s.name, "seconds": round(s.seconds, 1), "outcome": s.outcome}
            for s in result.steps
        ],
        "advice": timing_advice(result),
    }


def write_report(result: BuildResult, folder: Path) -> None:
    """report.md (for people) and report.json (for scripts) in ``folder`` (the build folder,
    or the staging folder that becomes it)."""
    d = report_dict(result)
    (folder / "report.md").write_text(render_document("wavecomp.fpga", "build_report.md.j2", r=d))
    (folder / "report.json").write_text(json.dumps(d, indent=2) + "\n")
