"""`wavecomp build --target ecp5` as a user runs it: report files, progress, named errors, and
the rule that --out / --emit-core folders are replaced only if wavecomp wrote them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_board_build import fake_toolchain, snapshot

import wavecomp
from wavecomp.cli import main
from wavecomp.frontend.nam_presets import random_capture
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.output_dir import MARKER


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.slow
def test_build_default_model_writes_bitstream_and_report(tmp_path: Path) -> None:
    out = tmp_path / "ecp5"
    result = run("build", "--target", "ecp5", "--out", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["timing_met"] and report["timing_margin_mhz"] > 0
    assert report["utilisation"]["MULT18X18D"][0] == report["schedule"]["multipliers"] == 8
    assert abs(report["achieved_sample_rate_hz"] - 48_000) < 48_000 * 0.005
    assert report["program_command"].startswith("openFPGALoader -b ecpix5 ")
    assert (out / "gateware" / "wavecomp_top.bit").stat().st_size > 50_000
    assert "Program the board" in (out / "report.md").read_text()
    assert [s["name"] for s in report["steps"]][3] == "RTL bit-exact check"
    rf = wavecomp.load().receptive_field  # the check covers a receptive field + 2,000 samples
    assert report["steps"][3]["outcome"].startswith(f"bit-exact ({rf + 2000} samples")


def test_unsupported_rate_is_named_before_any_tool_runs(tmp_path):
    result = run("build", "--target", "ecp5", "--rate", "44100", "--out", tmp_path / "b")
    assert result.exit_code != 0
    assert "codec configuration" in result.output and "48000" in result.output
    assert "Traceback" not in result.output


def test_a_network_too_big_for_the_board_is_refused_before_any_tool_runs(tmp_path):
    """8 layers of K=3, d=512, 16 channels: 2.1 Mbit of activation cache, more block RAM than
    the Colorlight i5's 25F has at any core clock: refused at the schedule step, naming the
    resource and the part that would fit, with no output folder."""
    rng = np.random.default_rng(0)
    layers = [
        ConvLayer(f"l{i}", rng.integers(-99, 99, (3, 16, 16)).astype(np.int16),
                  np.zeros(16, np.int16), 512)
        for i in range(8)
    ]  # fmt: skip
    model = Network(layers, IOSpec.default(16, 16), name="long").save(tmp_path / "long.npz")
    out = tmp_path / "b"
    result = run("build", "--target", "ecp5", "--board", "colorlight-i5", "--out", out, model)
    assert result.exit_code != 0
    assert "schedule" in result.output and "block RAMs (DP16KD" in result.output
    assert "LFE5U-25F has 56" in result.output and "LFE5U-85F" in result.output
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.slow
def test_a_nam_capture_too_big_for_the_board_names_the_nam_sizes_that_fit(tmp_path):
    """An A1-standard capture (812 kbit of caches) on the Colorlight i5 (25F): refused at the
    schedule step with the part that fits and the NAM architectures that fit the 25F (their
    shapes scheduled; A1-lite/A2-lite fit the 25F in bench/results/fpga_nam.md)."""
    capture = tmp_path / "std.nam"
    capture.write_text(json.dumps(random_capture("a1_standard", 3)))
    out = tmp_path / "b"
    result = run("build", "--target", "ecp5", "--board", "colorlight-i5", "--out", out, capture)
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    assert "LFE5U-25F has 56" in message and "a bigger part: LFE5U-45F" in message
    fits = message.split("NAM architectures that fit the LFE5U-25F: ")[1].split(" (retrain")[0]
    assert fits.split(", ") == ["A1-lite", "A1-feather", "A1-nano", "A2-lite"]
    assert "Traceback" not in result.output and not out.exists()


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
    help_text = " ".join(run("build", "--help").output.split())
    assert "--core-clock" in help_text and "96000" in help_text
    assert "named, timed steps" in help_text
    assert "only a folder wavecomp wrote is replaced" in help_text
    assert "--check-samples" in help_text and "0 skips it" in help_text
    assert "failed-builds/" in help_text and "YOSYS, NEXTPNR_ECP5, ECPPACK or ECPPLL" in help_text
    result = run("build", "--target", "ecp5", "--core-clock", "3")
    assert result.exit_code != 0 and "'3' is not one of 'auto', '1', '2', '4'" in result.output


def test_core_clock_with_emit_core_is_refused(tmp_path):
    result = run("build", "--target", "ecp5", "--core-clock", "2", "--emit-core", tmp_path / "c")
    assert result.exit_code != 0
    assert "drop --core-clock" in result.output
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("option", ["--out", "--emit-core"])
def test_a_users_folder_is_refused_and_kept(tmp_path: Path, option: str) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "top.sv").write_text("precious\n")
    result = run("build", "--target", "ecp5", option, folder)
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    assert f"{folder} is not empty and was not written by wavecomp" in message
    assert f"choose a new or empty folder with {option}" in message
    assert "Traceback" not in result.output
    assert snapshot(folder) == {"top.sv": b"precious\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_build_replaces_its_own_out_folder_and_shows_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_toolchain(tmp_path / "tools", monkeypatch)
    out = tmp_path / "builds" / "ecp5"
    first = run("build", "--target", "ecp5", "--check-samples", "0", "--out", out)
    assert first.exit_code == 0, first.output
    (out / "stale.txt").write_text("old\n")
    second = run("build", "--target", "ecp5", "--check-samples", "0", "--out", out)
    assert second.exit_code == 0, second.output
    assert not (out / "stale.txt").exists() and (out / MARKER).is_file()
    assert (out / "gateware" / "wavecomp_top.bit").is_file()
    for index, name in enumerate(["schedule", "generate RTL", "clock plan"], 1):
        assert f"[{index}/8] {name}" in second.output
    assert "[8/8] ecppack" in second.output
    # rich wraps long paths: compare without white space
    assert f"report:{out / 'report.md'}" in "".join(second.output.split())


def test_emit_core_replaces_its_own_folder(tmp_path: Path) -> None:
    core = tmp_path / "core"
    assert run("build", "--target", "ecp5", "--emit-core", core).exit_code == 0
    (core / "stale.sv").write_text("// old\n")
    result = run("build", "--target", "ecp5", "--emit-core", core)
    assert result.exit_code == 0, result.output
    assert not (core / "stale.sv").exists()
    assert (core / MARKER).is_file() and (core / "wavecomp_core.sv").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["core"]
