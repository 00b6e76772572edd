"""Generated network cores are bit-exact with the reference, every sample, in Verilator.

Each case: schedule the network, generate the core, simulate it with cocotb from random
register and memory contents and compare every output sample of every channel with
``reference.run`` (latency accounted for; after a mid-stream reset, with the reference from
zero history at the reset), and check the cycles the core used against the schedule's model
and the budget. Every bench run also proves that a strobe one clock too early sets the sticky
``fault``. The quick case drives upstream eurorack-pmod's strobe (high during reset and for
two clocks after it): no fault, bit-exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from benches import BUILD_ROOT, expected_outputs, run_bench
from netgen import chain_network, preset_network, random_graph_network, random_network

import wavecomp
from wavecomp import fixed
from wavecomp import schedule as sch
from wavecomp.ir import Network
from wavecomp.rtl.generate import generate
from wavecomp.stimulus import random_inputs

N_SAMPLES = 2000
NETWORK_BUILD = BUILD_ROOT / "network"


def simulate(
    net: Network,
    sched: sch.Schedule,
    x: np.ndarray,
    *,
    top: str,
    tag: str,
    reset_at: int = 0,
    held_strobe: bool = False,
) -> None:
    """Generate, build and run the cocotb bench; raises on any mismatch."""
    work = NETWORK_BUILD / tag
    files = generate(net, sched, work)
    latency = sched.latency_samples
    if top == "net":
        expected = expected_outputs(net, x, sched.rounding, latency=latency, reset_at=reset_at)
    else:  # codec samples on the 4 jacks
        net_in = np.zeros((x.shape[0], net.in_channels), dtype=np.int16)
        for i, ch in enumerate(net.io.inputs):
            net_in[:, i] = (
                fixed.board_to_q12(x[:, ch.jack], net.io.input_shift)
                if ch.jack is not None
                else fixed.to_q12(ch.default)
            )
        y = expected_outputs(net, net_in, sched.rounding, latency=latency, reset_at=reset_at)
        expected = np.zeros((x.shape[0], 4), dtype=np.int16)
        for o, ch in enumerate(net.io.outputs):
            if ch.jack is not None:
                expected[:, ch.jack] = fixed.q12_to_board(y[:, o], net.io.output_shift)
    stim = work / "stimulus.npz"
    np.savez(
        stim,
        x=x,
        expected=expected,
        cps=sched.budget.cycles_per_sample,
        latency=latency,
        cycles_used=sched.cycles_used,
        program_length=sched.program_length,
        kind=top,
        reset_at=reset_at,
        held_strobe=held_strobe,
    )
    run_bench(
        toplevel="wavecomp_net" if top == "net" else "wavecomp_core",
        sources=files.sources,
        test_module="test_network",
        build_dir=work / f"obj_{top}",
        test_dir=work,
        extra_env={"WAVECOMP_STIM": str(stim)},
        random_seed=len(tag) + x.shape[0],
    )


def test_upstream_strobe_at_reset_small_core():
    """Quick: strobe held high over reset (at the start and mid-stream) is no sample and no
    overrun; every output sample is the reference; an early strobe still sets `fault`."""
    net = chain_network("n1-n2", seed=5)
    sched = tight(net, sch.schedule(net, sch.Budget(1024, 64), shape=(2, 1)))
    x = random_inputs(160, net.in_channels, 3)
    simulate(net, sched, x, top="net", tag="upstream-reset", reset_at=90, held_strobe=True)


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
    x = codec_inputs(N_SAMPLES, 1)
    simulate(net, sched, x, top="core", tag="default-core", reset_at=1234, held_strobe=True)


@pytest.mark.slow
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_default_model_net(rounding):
    net = wavecomp.load()
    sched = tight(net, sch.schedule(net, rounding=rounding))
    x = random_inputs(N_SAMPLES, net.in_channels, 5)
    simulate(net, sched, x, top="net", tag=f"default-net-{rounding}", reset_at=N_SAMPLES // 2)


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
    reset_at = N_SAMPLES // 2 if which != "mid" else 0
    simulate(
        net,
        sched,
        x,
        top="net",
        tag=f"random{seed}-{which}",
        reset_at=reset_at,
        held_strobe=bool(seed % 2),
    )


@pytest.mark.slow
@pytest.mark.parametrize("chain", ["n1-n2", "n3", "n4-n5"])
def test_edge_span_networks(chain):
    """Cache spans at 2**n - 1, 2**n, 2**n + 1 and K = 1, on a 2 x 3 array."""
    net = chain_network(chain, seed=2)
    sched = tight(net, sch.schedule(net, sch.Budget(1024, 64), shape=(2, 3)))
    x = random_inputs(N_SAMPLES, net.in_channels, 21)
    simulate(net, sched, x, top="net", tag=f"span-{chain}", reset_at=N_SAMPLES // 3)


# ---- graph networks: residual/skip sources, identity adds, shifts, every activation ----------
GRAPH_SEEDS = range(10)
GRAPH_EXTRA = 2000
"""Samples compared beyond the receptive field."""


def graph_stream(net: Network, seed: int) -> np.ndarray:
    return random_inputs(net.receptive_field + GRAPH_EXTRA, net.in_channels, seed + 70)


def test_small_graph_with_tables_quick():
    """Quick: a graph with pwl and gated nodes, identity sources and two output tensors (one
    through an output copy) on a 2 x 3 array."""
    net = random_graph_network(9)
    assert {n.activation for n in net.nodes} >= {"pwl", "gated"}
    sched = tight(net, sch.schedule(net, sch.Budget(1024, 64), shape=(2, 3)))
    x = random_inputs(net.receptive_field + 300, net.in_channels, 3)
    simulate(net, sched, x, top="net", tag="graph-quick")


@pytest.mark.slow
@pytest.mark.parametrize("which", ["min", "mid", "max"])
@pytest.mark.parametrize("seed", GRAPH_SEEDS)
def test_random_graph_networks_bit_exact(seed, which):
    """Every graph seed under three schedules, both roundings across them; the mid schedule
    also resets the core mid-stream (after the full comparison window)."""
    net = random_graph_network(seed)
    shape = _shapes(net)[which]
    rounding = fixed.ROUNDING_MODES[(seed + len(which)) % 2]
    budget = sch.Budget(cycles_per_sample=1024, multipliers=64)
    sched = tight(net, sch.schedule(net, budget, rounding=rounding, shape=shape))
    x = graph_stream(net, seed)
    reset_at = 0
    if which == "mid":
        reset_at = len(x)
        x = np.concatenate([x, random_inputs(300, net.in_channels, seed + 90)])
    simulate(
        net,
        sched,
        x,
        top="net",
        tag=f"graph{seed}-{which}",
        reset_at=reset_at,
        held_strobe=bool(seed % 2),
    )
