"""Core-only synthesis + place-and-route of the default model on each ECP5 part (slow)."""

import pytest

import wavecomp
from wavecomp import schedule as sch
from wavecomp import targets
from wavecomp.fpga.synth import ToolchainError, synthesize_core
from wavecomp.rtl.verilator import REPO_ROOT


@pytest.mark.slow
@pytest.mark.parametrize("part", ["25F", "45F", "85F"])
def test_default_core_fits_each_part(part):
    net = wavecomp.load()
    budget = sch.Budget(
        cycles_per_sample=256, multipliers=targets.ECP5_PARTS[part].mult18, part=part
    )
    sched = sch.schedule(net, budget)
    # eurorack-pmod at 48 kHz: clk_256fs = 12.288 MHz
    report = synthesize_core(
        net, sched, REPO_ROOT / "build" / "test-synth" / part, part=part, freq_mhz=12.288
    )
    assert report.fits
    assert report.mult18 == sched.multipliers
    assert report.available["MULT18X18D"] == targets.ECP5_PARTS[part].mult18
    assert report.dp16kd >= 1 and report.luts > 0 and report.ffs > 0
    assert report.timing_met, f"Fmax {report.fmax_mhz} MHz < 12.288 MHz"


def test_unknown_part_is_named(tmp_path):
    net = wavecomp.load()
    with pytest.raises(ToolchainError, match="unknown part '99F'"):
        synthesize_core(net, sch.schedule(net), tmp_path / "x", part="99F")
