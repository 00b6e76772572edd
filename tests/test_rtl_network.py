"""Generated network cores are bit-exact with the reference, every sample, in Verilator.

Each case: schedule the network, generate the core, simulate >= 2,000 samples with cocotb and
compare every output sample of every channel with ``reference.run`` (latency accounted for),
and check the cycles the core used against the schedule's model and the budget.
"""

from __future__ import annotations

import numpy as np
import pytest
from netgen import preset_network, random_network

import wavecomp
from wavecomp import fixed, reference
from wavecomp import schedule as sch
from wavecomp.ir import Network
from wavecomp.rtl.generate import generate
from wavecomp.rtl.verilator import REPO_ROOT, SIM_DIR, run_cocotb
from wavecomp.stimulus import random_inputs

N_SAMPLES = 2000
BUILD_ROOT = REPO_ROOT / "sim_build" / "network"


def simulate(net: Network, sched: sch.Schedule, x: np.ndarray, *, top: str, tag: str) -> None:
    """Generate, build and run the cocotb bench; raises on any mismatch."""
    work = BUILD_ROOT / tag
    files = generate(net, sched, work)
    if top == "net":
        expected = reference.run(net, x, rounding=sched.rounding)
        stim_x = x
    else:
        stim_x = x  # codec samples on the 4 jacks
        net_in = np.zeros((x.shape[0], net.in_channels), dtype=np.int16)
        for i, ch in enumerate(net.io.inputs):
            net_in[:, i] = (
                fixed.board_to_q12(x[:, ch.jack], net.io.input_shift)
                if ch.jack is not None
                else fixed.to_q12(ch.default)
            )
        y = reference.run(net, net_in, rounding=sched.rounding)
        expected = np.zeros((x.shape[0], 4), dtype=np.int16)
        for o, ch in enumerate(net.io.outputs):
            if ch.jack is not None:
                expected[:, ch.jack] = fixed.q12_to_board(y[:, o], net.io.output_shift)
    stim = work / "stimulus.npz"
    np.savez(
        stim,
        x=stim_x,
        expected=expected,
        cps=sched.budget.cycles_per_sample,
        latency=sched.latency_samples,
        cycles_used=sched.cycles_used,
        kind=top,
    )
    run_cocotb(
        toplevel="wavecomp_net" if top == "net" else "wavecomp_core",
        sources=files.sources,
        test_module="test_network",
        build_dir=work / f"obj_{top}",
        test_dir=work,
        extra_env={"PYTHONPATH": str(SIM_DIR), "WAVECOMP_STIM": str(stim)},
    )


def codec_inputs(n: int, seed: int) -> np.ndarray:
    """4 jacks of codec samples: a triangle on jack 0, slow CVs, full-scale bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.zeros((n, 4), dtype=np.int64)
    x[:, 0] = (16384 * (1 - 4 * np.abs(((t * 220 / 48000) % 1.0) - 0.5))).astype(np.int64)
    x[:, 1] = np.where((t // 300) % 2, 16384, 0)
    x[:, 2] = np.where((t // 500) % 2, 16384, 0)
    x[:, 3] = rng.integers(-32768, 32768, n)
    x[100:140] = 32767
    x[200:240] = -32768
    return x.astype(np.int16)


@pytest.mark.slow
def test_default_model_through_eurorack_interface():
    net = wavecomp.load()
    sched = sch.schedule(net)
    assert sched.multipliers <= 8 and sched.mac_slot_utilisation >= 0.75
    simulate(net, sched, codec_inputs(N_SAMPLES, 1), top="core", tag="default-core")


@pytest.mark.slow
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_default_model_net(rounding):
    net = wavecomp.load()
    sched = tight(net, sch.schedule(net, rounding=rounding))
    x = random_inputs(N_SAMPLES, net.in_channels, 5)
    simulate(net, sched, x, top="net", tag=f"default-net-{rounding}")


@pytest.mark.slow
def test_mcu_preset_with_1x1_convs():
    """The mcu preset's shape with random weights (1x1 convs, 9 layers, an 8->1 output)."""
    net = preset_network("mcu", 3)
    sched = tight(net, sch.schedule(net))
    x = random_inputs(N_SAMPLES, net.in_channels, 9)
    simulate(net, sched, x, top="net", tag="mcu-net")


def tight(net: Network, sched: sch.Schedule) -> sch.Schedule:
    """The same array with the strobe period cut to exactly the cycles it uses.

    The hardest timing case (the next strobe arrives the clock after the last write), and it
    keeps the simulations short.
    """
    budget = sch.Budget(cycles_per_sample=sched.cycles_used, multipliers=sched.multipliers)
    return sch.schedule(net, budget, rounding=sched.rounding, shape=(sched.g, sched.q))


def _shapes(net: Network) -> dict[str, tuple[int, int]]:
    """Minimum multipliers, maximum parallelism, and one in between."""
    budget = sch.Budget(cycles_per_sample=1024, multipliers=64)
    lo = sch.schedule(net, budget)
    hi = sch.schedule(net, budget, strategy="max_parallel")
    mid_g = max(1, (lo.g + hi.g) // 2)
    mid_q = max(1, (lo.q + hi.q) // 2)
    return {"min": (lo.g, lo.q), "mid": (mid_g, mid_q), "max": (hi.g, hi.q)}


RANDOM_SEEDS = range(8)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["min", "mid", "max"])
@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_networks_bit_exact(seed, which):
    net = random_network(seed)
    shape = _shapes(net)[which]
    rounding = fixed.ROUNDING_MODES[seed % 2]
    budget = sch.Budget(cycles_per_sample=1024, multipliers=64)
    sched = tight(net, sch.schedule(net, budget, rounding=rounding, shape=shape))
    x = random_inputs(N_SAMPLES, net.in_channels, seed + 50)
    simulate(net, sched, x, top="net", tag=f"random{seed}-{which}")
