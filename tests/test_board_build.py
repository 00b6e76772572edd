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
from wavecomp.fpga.pll import DEFAULT_TOLERANCE_PPM
from wavecomp.rtl.verilator import REPO_ROOT

# a bitstream for any ECP5 with real logic in it is hundreds of kB; a few kB means "empty"
MIN_BITSTREAM_BYTES = 50_000


def _build(board: str, rate_hz: int, clock_multiple: int = 1) -> tuple[BuildResult, float]:
    out = REPO_ROOT / "build" / "test-board" / f"{board}-{rate_hz}-x{clock_multiple}"
    start = time.monotonic()
    result = build_bitstream(
        wavecomp.load(),
        board=board,
        rate_hz=rate_hz,
        clock_multiple=clock_multiple,
        out_dir=out,
    )
    return result, time.monotonic() - start


BOARDS = ["ecpix5-85f", "colorlight-i5", "colorlight-i9"]
RATES_HZ = [48_000, 192_000]
CYCLES_PER_SAMPLE = 256  # the eurorack-pmod core clock is clk_256fs


@pytest.mark.slow
@pytest.mark.parametrize("rate_hz", RATES_HZ)
@pytest.mark.parametrize("board", BOARDS)
def test_default_model_board_bitstream(board: str, rate_hz: int) -> None:
    """Every supported board at the lowest and highest codec rate.

    Why both rates: 192 kHz quadruples the PLL output (49.152 MHz instead of 12.288 MHz), so
    it is the case where the core clock is tightest and a PLL plan nextpnr rejects would show.
    """
    result, seconds = _build(board, rate_hz)
    print(f"\n{board} @ {rate_hz} Hz: build {seconds:.1f} s {result.stage_seconds}")
    print(result.summary())
    _check(result, rate_hz, CYCLES_PER_SAMPLE)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("board", "rate_hz", "clock_multiple"),
    [("ecpix5-85f", 96_000, 1), ("colorlight-i5", 192_000, 2)],
)
def test_other_rates_and_core_clocks(board: str, rate_hz: int, clock_multiple: int) -> None:
    """96 kHz, and a 2x core clock (512 cycles/sample: half the multipliers, 98.3 MHz on the
    smallest, slowest part), so every codec rate and the --core-clock path reach a bitstream."""
    result, seconds = _build(board, rate_hz, clock_multiple)
    print(f"\n{board} @ {rate_hz} Hz x{clock_multiple}: build {seconds:.1f} s")
    print(result.summary())
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
