"""Full board builds (board top + core -> .bit) of the default model (slow: yosys + nextpnr).

Why: the core-only synthesis test cannot catch board-level faults — a PLL nextpnr rejects, pins
that do not exist in the package, an MCLK forwarding primitive the flow cannot map, the core
being optimised away because an output is unconnected. These tests build the real bitstream and
check the facts a user relies on: the file exists, the core's multipliers survived synthesis
(MULT18X18D == schedule) and the PLL-derived core clock meets timing.
"""

from __future__ import annotations

import time

import pytest

import wavecomp
from wavecomp.fpga.build import BuildResult, build_bitstream
from wavecomp.rtl.verilator import REPO_ROOT

# a bitstream for any ECP5 with real logic in it is hundreds of kB; a few kB means "empty"
MIN_BITSTREAM_BYTES = 50_000


def _build(board: str, rate_hz: int) -> tuple[BuildResult, float]:
    out = REPO_ROOT / "build" / "test-board" / f"{board}-{rate_hz}"
    start = time.monotonic()
    result = build_bitstream(wavecomp.load(), board=board, rate_hz=rate_hz, out_dir=out)
    return result, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("board", ["ecpix5-85f", "colorlight-i5"])
def test_default_model_board_bitstream(board: str) -> None:
    result, seconds = _build(board, 48_000)
    print(f"\n{board}: build {seconds:.1f} s {result.stage_seconds}\n{result.summary()}")
    assert result.bitstream.exists()
    assert result.bitstream.stat().st_size > MIN_BITSTREAM_BYTES
    assert result.pnr.mult18 == result.schedule.multipliers
    assert result.pnr.fits
    assert abs(result.pnr.target_mhz - 12.288) < 0.01  # 48 kHz × 256 from the PLL
    assert result.timing_met, f"Fmax {result.fmax_mhz} MHz < required {result.required_mhz:.3f} MHz"
    assert result.program_command[:2] == ["openFPGALoader", "-b"]
    assert result.program_command[-1] == str(result.bitstream)
