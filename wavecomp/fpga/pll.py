"""Clock planning: an ECP5 PLL from the board oscillator to ``sample_rate × cycles_per_sample``.

The core's cycle budget per sample is fixed by the schedule, so the core clock must be
``fs · cycles_per_sample`` (12.288 MHz for 48 kHz × 256). PLLs only reach rational multiples of
the oscillator, so the sample rate the board really runs at differs slightly from nominal; this
module asks ``yowasp-ecppll`` (Project Trellis' calculator) for dividers, recomputes the achieved
frequency exactly from those integers (ecppll prints rounded MHz) and reports the error in ppm.

ecppll's plain mode only takes the feedback output (CLKOP) as the clock, which cannot hit
12.288 MHz from 100 or 25 MHz better than 1.7 %; its ``--highres`` mode puts the clock on the
secondary output (CLKOS) with an extra divider. Both are tried and the closer one wins.

ecppll runs in a scratch folder with relative file names (a YoWASP tool maps its working
directory; its own /tmp is a private one). The first call compiles the WASM (~1 min, cached by
YoWASP).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from wavecomp.errors import WavecompError
from wavecomp.fpga.boards import Board
from wavecomp.tools import require_tool

# ECP5 EHXPLLL limits (Lattice TN1263 / the ranges Trellis' ecppll enforces), in Hz
DIV_RANGE = (1, 128)  # CLKI_DIV, CLKFB_DIV, CLKOP_DIV, CLKOS_DIV
CPHASE_RANGE = (0, 127)
FPHASE_RANGE = (0, 7)
VCO_RANGE_HZ = (400_000_000, 800_000_000)
PFD_RANGE_HZ = (3_125_000, 400_000_000)
OUTPUT_RANGE_HZ = (10_000_000, 400_000_000)
INPUT_RANGE_HZ = (8_000_000, 400_000_000)

DEFAULT_TOLERANCE_PPM = 5000.0  # 0.5 %: the codec follows MCLK, so this is only a pitch error


class ClockError(WavecompError, RuntimeError):
    """The PLL cannot make the requested core clock; the message names board, rate and a fix."""


@dataclass(frozen=True)
class ClockPlan:
    """A concrete EHXPLLL configuration and what it achieves (exact, from the integer dividers)."""

    board: str
    osc_hz: int
    sample_rate_hz: int  # nominal
    cycles_per_sample: int
    highres: bool  # True: clock is on CLKOS (ecppll --highres), else on CLKOP
    clki_div: int
    clkfb_div: int
    clkop_div: int
    clkop_cphase: int
    clkop_fphase: int
    params: dict[str, int | str] = field(repr=False)  # every EHXPLLL parameter ecppll chose
    clkos_div: int | None = None  # the CLKOS output's settings: only with highres
    clkos_cphase: int | None = None
    clkos_fphase: int | None = None

    @property
    def output_port(self) -> str:
        return "CLKOS" if self.highres else "CLKOP"

    @property
    def pfd_hz(self) -> Fraction:
        return Fraction(self.osc_hz, self.clki_div)

    @property
    def vco_hz(self) -> Fraction:
        # feedback is CLKOP, so the VCO runs at CLKOP × CLKOP_DIV
        return self.pfd_hz * self.clkfb_div * self.clkop_div

    @property
    def achieved_hz_exact(self) -> Fraction:
        """The clock output's frequency: the VCO over the output's divider."""
        return self.vco_hz / (self.clkos_div if self.highres else self.clkop_div)

    @property
    def achieved_hz(self) -> float:
        return float(self.achieved_hz_exact)

    @property
    def achieved_sample_rate_hz(self) -> float:
        return float(self.achieved_hz_exact / self.cycles_per_sample)

    @property
    def target_hz(self) -> int:
        """The nominal core clock: sample rate × cycles per sample."""
        return self.sample_rate_hz * self.cycles_per_sample

    @property
    def error_ppm(self) -> float:
        return float((self.achieved_hz_exact - self.target_hz) / self.target_hz * 1_000_000)

    def summary(self) -> str:
        out = f"CLKOS_DIV={self.clkos_div} on CLKOS" if self.highres else "on CLKOP"
        return (
            f"{self.board}: {self.osc_hz / 1e6:g} MHz -> {self.achieved_hz / 1e6:.6f} MHz "
            f"(target {self.target_hz / 1e6:.6f}; CLKI_DIV={self.clki_div} "
            f"CLKFB_DIV={self.clkfb_div} CLKOP_DIV={self.clkop_div} {out}, "
            f"VCO {float(self.vco_hz) / 1e6:.3f} MHz); fs = {self.achieved_sample_rate_hz:.3f} Hz "
            f"({self.error_ppm:+.1f} ppm)"
        )


_PARAM_RE = re.compile(r"\.(\w+)\((\"[^\"]*\"|\d+)\)")


def parse_ecppll_verilog(text: str) -> dict[str, int | str]:
    """EHXPLLL parameters from ecppll's ``-f`` Verilog (``.NAME(value)`` inside ``#( ... )``)."""
    head = text.split(") pll_i", 1)[0]  # parameters end where the instance's port list starts
    params: dict[str, int | str] = {}
    for name, value in _PARAM_RE.findall(head):
        params[name] = value.strip('"') if value.startswith('"') else int(value)
    return params


def _mhz(hz: int) -> str:
    # ecppll takes MHz as a decimal; six places are exact for integer Hz
    return f"{hz / 1_000_000:.6f}"


@lru_cache(maxsize=256)
def _run_ecppll(osc_hz: int, target_hz: int, highres: bool) -> tuple[str, str]:
    """Run ecppll once; returns (verilog, stderr). Cached: same inputs give the same dividers."""
    with tempfile.TemporaryDirectory(prefix="wavecomp-ecppll-") as tmp:
        cmd = [
            require_tool("yowasp-ecppll"),
            "-i",
            _mhz(osc_hz),
            "-o",
            _mhz(target_hz),
            "-f",
            "pll.v",
        ]
        if highres:
            cmd.append("--highres")
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        out_file = Path(tmp) / "pll.v"
        if proc.returncode != 0 or not out_file.exists():
            raise ClockError(
                f"`{' '.join(cmd)}` failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-500:]}"
            )
        return out_file.read_text(), proc.stderr


def _setting_ranges(highres: bool) -> dict[str, tuple[int, int]]:
    """The EHXPLLL settings a plan uses, in the order they are checked, with their ECP5 ranges
    (the CLKOS output only with ``highres``)."""
    outputs = ("CLKOP", "CLKOS") if highres else ("CLKOP",)
    ranges = dict.fromkeys(["CLKI_DIV", "CLKFB_DIV", *(f"{o}_DIV" for o in outputs)], DIV_RANGE)
    for output in outputs:
        ranges[f"{output}_CPHASE"] = CPHASE_RANGE
        ranges[f"{output}_FPHASE"] = FPHASE_RANGE
    return ranges


def _checked(what: str, value: int | None, lo: int, hi: int, context: str) -> int:
    if value is None or not lo <= value <= hi:
        raise ClockError(
            f"{context}: ecppll chose {what}={value}, outside the ECP5 range {lo}..{hi}"
        )
    return value


def _plan_from_params(
    board: Board,
    sample_rate_hz: int,
    cycles_per_sample: int,
    highres: bool,
    params: dict[str, int | str],
) -> ClockPlan:
    context = f"{board.name} at {sample_rate_hz} Hz ({'highres' if highres else 'plain'})"

    def num(name: str) -> int | None:
        value = params.get(name)
        return value if isinstance(value, int) else None

    settings = {  # ClockPlan's fields: the setting names in lower case
        name.lower(): _checked(name, num(name), lo, hi, context)
        for name, (lo, hi) in _setting_ranges(highres).items()
    }
    feedback = str(params.get("FEEDBK_PATH", ""))
    if feedback != "CLKOP":
        raise ClockError(f"{context}: ecppll chose FEEDBK_PATH={feedback!r}; only CLKOP is planned")
    plan = ClockPlan(
        board=board.name,
        osc_hz=board.clock_hz,
        sample_rate_hz=sample_rate_hz,
        cycles_per_sample=cycles_per_sample,
        highres=highres,
        **settings,
        params=dict(params),
    )
    for what, value, (lo, hi) in (
        ("VCO", plan.vco_hz, VCO_RANGE_HZ),
        ("PFD", plan.pfd_hz, PFD_RANGE_HZ),
        ("output", plan.achieved_hz_exact, OUTPUT_RANGE_HZ),
    ):
        if not lo <= value <= hi:
            raise ClockError(
                f"{context}: {what} frequency {float(value) / 1e6:.3f} MHz is outside the ECP5 "
                f"range {lo / 1e6:g}..{hi / 1e6:g} MHz"
            )
    return plan


def plan_clock(
    board: Board,
    sample_rate_hz: int,
    cycles_per_sample: int = 256,
    tolerance_ppm: float = DEFAULT_TOLERANCE_PPM,
) -> ClockPlan:
    """Plan the PLL for ``sample_rate_hz × cycles_per_sample`` from ``board``'s oscillator.

    Tries ecppll's plain and ``--highres`` modes and keeps the smaller error; raises
    ``ClockError`` if the clock is outside the ECP5 PLL's reach or no plan is within
    ``tolerance_ppm`` of nominal.
    """
    if sample_rate_hz <= 0 or cycles_per_sample <= 0:
        raise ClockError(
            f"sample rate ({sample_rate_hz}) and cycles per sample ({cycles_per_sample}) "
            "must be positive"
        )
    target_hz = int(sample_rate_hz) * int(cycles_per_sample)
    what = (
        f"board {board.name} ({board.clock_hz / 1e6:g} MHz oscillator), {sample_rate_hz} Hz × "
        f"{cycles_per_sample} cycles = {target_hz / 1e6:.6f} MHz"
    )
    lo, hi = OUTPUT_RANGE_HZ
    if not lo <= target_hz <= hi:
        side = "raise" if target_hz < lo else "lower"
        raise ClockError(
            f"{what} is outside the ECP5 PLL output range {lo / 1e6:g}..{hi / 1e6:g} MHz; "
            f"{side} cycles_per_sample or the sample rate"
        )
    if not INPUT_RANGE_HZ[0] <= board.clock_hz <= INPUT_RANGE_HZ[1]:
        raise ClockError(
            f"{what}: oscillator outside the PLL input range 8..400 MHz; fix "
            f"clock.frequency_hz in the board file"
        )

    plans: list[ClockPlan] = []
    problems: list[str] = []
    for highres in (False, True):
        verilog, stderr = _run_ecppll(board.clock_hz, target_hz, highres)
        if "warning" in stderr.lower() or "error" in stderr.lower():
            problems.append(f"ecppll{' --highres' if highres else ''}: {stderr.strip()}")
            continue
        try:
            plans.append(
                _plan_from_params(
                    board,
                    sample_rate_hz,
                    cycles_per_sample,
                    highres,
                    parse_ecppll_verilog(verilog),
                )
            )
        except ClockError as exc:
            problems.append(str(exc))
    if not plans:
        raise ClockError(
            f"no ECP5 PLL plan for {what}: {'; '.join(problems)}. Try another cycles_per_sample "
            "(e.g. 256 or 512) or sample rate"
        )
    best = min(plans, key=lambda p: abs(p.error_ppm))
    if abs(best.error_ppm) > tolerance_ppm:
        raise ClockError(
            f"best ECP5 PLL plan for {what} is off by {best.error_ppm:+.0f} ppm "
            f"(limit ±{tolerance_ppm:g} ppm): {best.summary()}. Try another cycles_per_sample "
            "(e.g. 512 doubles the clock and often lands closer) or accept it with a larger "
            "tolerance_ppm"
        )
    return best
