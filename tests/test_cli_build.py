"""`wavecomp build --target ecp5` as a user runs it: report files, named errors."""

import json

import pytest
from click.testing import CliRunner

from wavecomp.cli import main
from wavecomp.rtl.verilator import REPO_ROOT


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.slow
def test_build_default_model_writes_bitstream_and_report():
    out = REPO_ROOT / "build" / "test-cli-build"
    result = run("build", "--target", "ecp5", "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["timing_met"] and report["timing_margin_mhz"] > 0
    assert report["utilisation"]["MULT18X18D"][0] == report["schedule"]["multipliers"] == 8
    assert abs(report["achieved_sample_rate_hz"] - 48_000) < 48_000 * 0.005
    assert report["program_command"].startswith("openFPGALoader -b ecpix5 ")
    assert (out / "gateware" / "wavecomp_top.bit").stat().st_size > 50_000
    assert "Program the board" in (out / "report.md").read_text()


def test_unsupported_rate_is_named_before_any_tool_runs(tmp_path):
    result = run("build", "--target", "ecp5", "--rate", "44100", "--out", tmp_path / "b")
    assert result.exit_code != 0
    assert "codec configuration" in result.output and "48000" in result.output
    assert "Traceback" not in result.output


def test_unknown_board_lists_the_known_ones(tmp_path):
    result = run("build", "--target", "ecp5", "--board", "icebreaker", "--out", tmp_path)
    assert result.exit_code != 0 and "ecpix5-85f" in result.output


def test_emit_core_writes_a_drop_in(tmp_path):
    result = run("build", "--target", "ecp5", "--emit-core", tmp_path / "core")
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "core").iterdir()}
    assert {"wavecomp_core.sv", "wavecomp_net.sv", "wc_weights.hex", "README.md"} <= names
    assert not (tmp_path / "core" / "gateware").exists()  # no bitstream build


def test_core_clock_choices_and_help():
    help_text = run("build", "--help").output
    assert "--core-clock" in help_text and "96000" in help_text
    result = run("build", "--target", "ecp5", "--core-clock", "3")
    assert result.exit_code != 0 and "'3' is not one of '1', '2', '4'" in result.output


def test_core_clock_with_emit_core_is_refused(tmp_path):
    result = run("build", "--target", "ecp5", "--core-clock", "2", "--emit-core", tmp_path / "c")
    assert result.exit_code != 0
    assert "drop --core-clock" in result.output
    assert not (tmp_path / "c").exists()
