"""Board builds (board top + core -> .bit): the real flow (slow) and the build folder's rules.

Why the slow tests: the core-only synthesis test cannot catch board-level faults — a PLL
nextpnr rejects, pins that do not exist in the package, an MCLK forwarding primitive the flow
cannot map, the core being optimised away because an output is unconnected. They build the
real bitstream and check the facts a user relies on: the file exists, the core's multipliers
survived synthesis (MULT18X18D == schedule) and the PLL-derived core clock meets timing.

Why the quick tests: the build folder is written all-or-nothing, a user's folder is never
replaced, a failed or interrupted step leaves the previous build intact and its logs where the
user can read them. Those rules do not need real tools: ``YOSYS``/``NEXTPNR_ECP5``/``ECPPACK``
point at small scripts (which also shows that the overrides are honoured) that write what the
real tools would.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

import wavecomp
from wavecomp.fpga import tool_run
from wavecomp.fpga.build import build_bitstream
from wavecomp.fpga.build_report import BuildResult
from wavecomp.fpga.build_steps import STEPS
from wavecomp.fpga.pll import DEFAULT_TOLERANCE_PPM
from wavecomp.fpga.tool_run import BuildError
from wavecomp.output_dir import MARKER, OutputFolderError

# a bitstream for any ECP5 with real logic in it is hundreds of kB; a few kB means "empty"
MIN_BITSTREAM_BYTES = 50_000

# What the fake nextpnr reports (figures typed in, shaped like nextpnr's --report JSON).
FAKE_PNR_REPORT = {
    "utilization": {
        "MULT18X18D": {"used": 8, "available": 156},
        "DP16KD": {"used": 9, "available": 208},
        "TRELLIS_COMB": {"used": 1222, "available": 83640},
        "TRELLIS_FF": {"used": 1981, "available": 83640},
    },
    "fmax": {"$glbnet$clk": {"achieved": 150.0, "constraint": 12.288}},
}
FAKE_BITSTREAM = b"fake bitstream\n"

FAKE_TOOLS = {
    "YOSYS": """#!/bin/sh
echo "fake yosys $*"
for arg in "$@"; do case "$arg" in *.ys) netlist="${arg%.ys}.json";; esac; done
echo '{}' > "$netlist"
""",
    "NEXTPNR_ECP5": f"""#!/bin/sh
echo "fake nextpnr $*"
while [ $# -gt 0 ]; do
  case "$1" in --report) report="$2";; --textcfg) config="$2";; esac
  shift
done
echo ".device fake" > "$config"
cat > "$report" <<'END'
{json.dumps(FAKE_PNR_REPORT)}
END
""",
    "ECPPACK": f"""#!/bin/sh
echo "fake ecppack $*"
while [ $# -gt 0 ]; do [ "$1" = --bit ] && printf '{FAKE_BITSTREAM.decode()}' > "$2"; shift; done
""",
}


def fake_toolchain(folder: Path, monkeypatch: pytest.MonkeyPatch, **scripts: str) -> None:
    """Point YOSYS, NEXTPNR_ECP5 and ECPPACK at fake tools (``scripts`` replaces some)."""
    folder.mkdir(parents=True, exist_ok=True)
    for var, text in {**FAKE_TOOLS, **scripts}.items():
        script = folder / var.lower()
        script.write_text(text)
        script.chmod(0o755)
        monkeypatch.setenv(var, str(script))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> bytes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def quick_build(out: Path, rate_hz: int = 48_000, progress=None) -> BuildResult:
    """A build with the fake tools (set up by the caller) and no RTL check."""
    return build_bitstream(
        wavecomp.load(), rate_hz=rate_hz, out_dir=out, rtl_check_samples=0, progress=progress
    )


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake toolchain, and the failed-build logs kept under tmp_path/cache."""
    fake_toolchain(tmp_path / "tools", monkeypatch)
    monkeypatch.setenv("WAVECOMP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "builds"


def test_build_runs_the_named_steps_and_reports_them(fake_tools: Path) -> None:
    out = fake_tools / "b"
    events = []
    result = quick_build(out, progress=lambda *event: events.append(event))
    names = [step.name for step in STEPS]
    assert names == [
        "schedule",
        "generate RTL",
        "clock plan",
        "RTL bit-exact check",
        "board top",
        "yosys",
        "nextpnr",
        "ecppack",
    ]
    # progress: every step starts, then ends with its time and outcome, in order
    assert [(i, name, done is None) for i, _n, name, done in events] == [
        (i // 2 + 1, names[i // 2], i % 2 == 0) for i in range(2 * len(names))
    ]
    assert [s.name for s in result.steps] == names
    assert all(s.seconds >= 0 and s.outcome for s in result.steps)
    # the overrides were honoured: each fake tool ran, from the gateware folder
    gateware = out / "gateware"
    assert "fake yosys" in (gateware / "yosys.log").read_text()
    assert "fake nextpnr" in (gateware / "nextpnr-ecp5.log").read_text()
    assert result.bitstream == gateware / "wavecomp_top.bit"
    assert result.bitstream.read_bytes() == FAKE_BITSTREAM
    assert (out / MARKER).is_file()
    report = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in report["steps"]] == names
    assert report["utilisation"]["MULT18X18D"] == [8, 156]
    assert report["fmax_mhz"] == 150.0 and report["timing_met"]
    assert report["bitstream"] == "gateware/wavecomp_top.bit"
    assert report["program_command"] == "openFPGALoader -b ecpix5 gateware/wavecomp_top.bit"
    md = (out / "report.md").read_text()
    assert "| nextpnr |" in md and "| MULT18X18D | 8 | 156 |" in md and "**met**" in md
    # no absolute path in the reports: they stay true when the folder moves, and never name
    # the staging folder the build was written in
    for text in (md, (out / "report.json").read_text()):
        assert str(fake_tools) not in text
    assert sorted(p.name for p in fake_tools.iterdir()) == ["b"]


def test_build_refuses_a_users_folder_before_any_step(fake_tools: Path) -> None:
    out = fake_tools / "mine"
    out.mkdir(parents=True)
    (out / "notes.txt").write_text("my notes\n")
    events = []
    with pytest.raises(OutputFolderError, match=r"not written by wavecomp.*--out"):
        quick_build(out, progress=lambda *event: events.append(event))
    assert events == []
    assert snapshot(out) == {"notes.txt": b"my notes\n"}
    assert sorted(p.name for p in fake_tools.iterdir()) == ["mine"]


def test_build_replaces_its_own_folder(fake_tools: Path) -> None:
    out = fake_tools / "b"
    quick_build(out, rate_hz=48_000)
    (out / "stale.txt").write_text("from an earlier build\n")
    quick_build(out, rate_hz=96_000)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "report.json").read_text())["rate_hz"] == 96_000
    assert sorted(p.name for p in fake_tools.iterdir()) == ["b"]


def test_interrupt_at_nextpnr_leaves_the_previous_build(
    fake_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while nextpnr runs: the previous build stays byte for byte, no staging left."""
    out = fake_tools / "b"
    quick_build(out)
    before = snapshot(out)
    real_run = subprocess.run

    def interrupted(argv, **kwargs):
        if "nextpnr" in Path(argv[0]).name:
            raise KeyboardInterrupt
        return real_run(argv, **kwargs)

    monkeypatch.setattr(tool_run.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        quick_build(out, rate_hz=96_000)
    assert snapshot(out) == before
    assert sorted(p.name for p in fake_tools.iterdir()) == ["b"]


def test_failed_step_keeps_its_logs_and_the_previous_build(
    fake_tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = fake_tools / "b"
    quick_build(out)
    before = snapshot(out)
    failing = "#!/bin/sh\necho 'ERROR: fake placement failure'\nexit 3\n"
    fake_toolchain(tmp_path / "tools", monkeypatch, NEXTPNR_ECP5=failing)
    with pytest.raises(BuildError) as err:
        quick_build(out, rate_hz=96_000)
    message = str(err.value)
    assert "nextpnr-ecp5 (place and route) failed" in message
    assert "exit status 3" in message and "ERROR: fake placement failure" in message
    kept = err.value.kept
    assert kept is not None and kept.parent == tmp_path / "cache" / "failed-builds"
    assert str(kept) in message
    assert "fake placement failure" in (kept / "nextpnr-ecp5.log").read_text()
    assert snapshot(out) == before
    assert sorted(p.name for p in fake_tools.iterdir()) == ["b"]


def _build(
    out: Path, board: str, rate_hz: int, clock_multiple: int = 1
) -> tuple[BuildResult, float]:
    start = time.monotonic()
    result = build_bitstream(
        wavecomp.load(),
        board=board,
        rate_hz=rate_hz,
        clock_multiple=clock_multiple,
        out_dir=out / f"{board}-{rate_hz}-x{clock_multiple}",
    )
    return result, time.monotonic() - start


BOARDS = ["ecpix5-85f", "colorlight-i5", "colorlight-i9"]
RATES_HZ = [48_000, 192_000]
CYCLES_PER_SAMPLE = 256  # the eurorack-pmod core clock is clk_256fs


@pytest.mark.slow
@pytest.mark.parametrize("rate_hz", RATES_HZ)
@pytest.mark.parametrize("board", BOARDS)
def test_default_model_board_bitstream(board: str, rate_hz: int, tmp_path: Path) -> None:
    """Every supported board at the lowest and highest codec rate.

    Why both rates: 192 kHz quadruples the PLL output (49.152 MHz instead of 12.288 MHz), so
    it is the case where the core clock is tightest and a PLL plan nextpnr rejects would show.
    """
    result, seconds = _build(tmp_path, board, rate_hz)
    print(f"\n{board} @ {rate_hz} Hz: build {seconds:.1f} s")
    print("\n".join(f"  {s.name}: {s.seconds:.1f} s, {s.outcome}" for s in result.steps))
    _check(result, rate_hz, CYCLES_PER_SAMPLE)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("board", "rate_hz", "clock_multiple"),
    [("ecpix5-85f", 96_000, 1), ("colorlight-i5", 192_000, 2)],
)
def test_other_rates_and_core_clocks(
    board: str, rate_hz: int, clock_multiple: int, tmp_path: Path
) -> None:
    """96 kHz, and a 2x core clock (512 cycles/sample: half the multipliers, 98.3 MHz on the
    smallest, slowest part), so every codec rate and the --core-clock path reach a bitstream."""
    result, seconds = _build(tmp_path, board, rate_hz, clock_multiple)
    print(f"\n{board} @ {rate_hz} Hz x{clock_multiple}: build {seconds:.1f} s")
    cycles = CYCLES_PER_SAMPLE * clock_multiple
    assert result.schedule.budget.cycles_per_sample == cycles
    assert result.schedule.cycles_used <= cycles
    _check(result, rate_hz, cycles)


def _check(result: BuildResult, rate_hz: int, cycles: int) -> None:
    assert result.bitstream.exists()
    assert result.bitstream.stat().st_size > MIN_BITSTREAM_BYTES
    assert result.pnr.mult18 == result.schedule.multipliers
    assert result.pnr.fits
    # timing is judged at the PLL's real output, which is within the planner's tolerance of
    # rate x cycles (12.288 MHz at 48 kHz x 256, 49.152 MHz at 192 kHz; a 25 MHz crystal gives
    # 49.1667 MHz = +298 ppm, a pitch error only, since the codec follows MCLK)
    assert result.pnr.target_mhz == pytest.approx(result.clock.achieved_hz / 1e6, abs=1e-6)
    nominal_mhz = rate_hz * cycles / 1e6
    error_ppm = (result.pnr.target_mhz / nominal_mhz - 1) * 1e6
    assert abs(error_ppm) <= DEFAULT_TOLERANCE_PPM, f"PLL off by {error_ppm:+.0f} ppm"
    assert result.timing_met, f"Fmax {result.fmax_mhz} MHz < required {result.required_mhz:.3f} MHz"
    assert result.program_command[:2] == ["openFPGALoader", "-b"]
    assert result.program_command[-1] == str(result.bitstream)
