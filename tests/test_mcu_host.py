"""The emitted MCU engine, compiled for this machine, against the references.

q12 must equal ``reference.run`` on every sample of every channel (>= 2,000 samples, inputs
with full-scale bursts, weights at the range ends) for the default model, the ``mcu`` preset
and seeded random networks, in both rounding modes and with both kernels; f32 must equal
``float_ref.run_f32`` bit for bit (chains with both kernels, graph networks with the fused one)
and lie within float32 rounding of ``float_ref.run_f64``. Host builds are cached by content hash
(``~/.cache/wavecomp/host``), so only the first run compiles. A mismatch names the seed and
saves the network as an IR file to reproduce it.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from netgen import (
    EDGE_SPAN_CHAINS,
    chain_network,
    nam_network,
    nam_stream,
    preset_network,
    random_graph_network,
    random_network,
)

import wavecomp
from wavecomp import fixed, reference, tools
from wavecomp.ir import INPUT, ConvLayer, ConvSource, IdentitySource, IOSpec, Network, Node
from wavecomp.mcu import emit, graph_plan, host, plan
from wavecomp.reference import float_ref
from wavecomp.sim import render_wav, write_tone
from wavecomp.stimulus import random_inputs

N_SAMPLES = 2000
SPAN_NETWORKS = [chain_network(name) for name in EDGE_SPAN_CHAINS]


KERNELS_ROUNDINGS = list(itertools.product(plan.KERNELS, fixed.ROUNDING_MODES))
RANDOM_SEEDS = [0, 1, *(pytest.param(s, marks=pytest.mark.slow) for s in range(2, 10))]


def assert_same(net: Network, got: np.ndarray, want: np.ndarray, what: str, tmp_path: Path) -> None:
    """Every sample of every channel equal, or a message with a reproducer."""
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.dtype)
    bad = np.argwhere(
        got.view(np.int16 if got.dtype == np.int16 else np.int32)
        != want.view(np.int16 if want.dtype == np.int16 else np.int32)
    )
    if bad.size:
        path = net.save(tmp_path / f"{net.name}.npz")
        t, c = bad[0]
        raise AssertionError(
            f"{what}: {len(bad)} mismatching samples; first at t={t}, channel {c}: "
            f"engine {got[t, c]!r}, reference {want[t, c]!r}. Network "
            f"{net.name!r} (metadata {net.metadata}) saved to {path}"
        )


def check_q12(net: Network, x: np.ndarray, kernel: str, rounding: str, tmp_path: Path) -> None:
    got = host.run(net, x, kernel=kernel, rounding=rounding)
    want = reference.run(net, x, rounding=rounding)
    assert_same(net, got, want, f"q12 {kernel} {rounding}", tmp_path)


def overflowing_network() -> Network:
    """Full-scale weights whose accumulators really leave int32 on full-scale inputs
    (4 * 32768 * 32768 = 2^32), so only exact 64-bit accumulation gets them right."""
    w0 = np.full((2, 4, 3), -32768, np.int64)
    w0[:, :, 1] = 32767
    w0[1, :, 2] = 12345
    b0 = np.array([0, -32768, 32767])
    w1 = np.full((3, 3, 2), 32767, np.int64)
    w1[:, :, 1] = -32768
    layers = [
        ConvLayer("wide0", w0.astype(np.int16), b0.astype(np.int16), 3, "linear"),
        ConvLayer("wide1", w1.astype(np.int16), np.array([5, -7], np.int16), 2, "relu"),
    ]
    return Network(layers, IOSpec.default(4, 2), name="overflow")


# ---- q12: bit-exact -------------------------------------------------------------------------
@pytest.mark.parametrize(("kernel", "rounding"), KERNELS_ROUNDINGS)
def test_default_model(kernel, rounding, tmp_path):
    net = wavecomp.load()
    check_q12(net, random_inputs(N_SAMPLES, net.in_channels, 11), kernel, rounding, tmp_path)


@pytest.mark.parametrize(("kernel", "rounding"), KERNELS_ROUNDINGS)
def test_mcu_preset(kernel, rounding, tmp_path):
    net = preset_network("mcu", 3)
    check_q12(net, random_inputs(N_SAMPLES, net.in_channels, 9), kernel, rounding, tmp_path)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_networks(seed, tmp_path):
    net = random_network(seed)
    x = random_inputs(N_SAMPLES, net.in_channels, seed)
    for kernel, rounding in KERNELS_ROUNDINGS:
        check_q12(net, x, kernel, rounding, tmp_path)


# ---- q12: graph networks (the fused engine) ---------------------------------------------------
GRAPH_SEEDS = [0, 1, 2, *(pytest.param(s, marks=pytest.mark.slow) for s in range(3, 12))]
NAM_SAMPLES = 8_000
"""Samples past the receptive field for the NAM-shaped networks."""


@pytest.mark.parametrize("seed", GRAPH_SEEDS)
def test_graph_networks(seed, tmp_path):
    """Residual and skip sums, input mixins, extra sources, every activation (tables too),
    weight and identity shifts: a receptive field plus 2,000 samples, both rounding modes."""
    net = random_graph_network(seed)
    x = random_inputs(net.receptive_field + N_SAMPLES, net.in_channels, seed)
    for rounding in fixed.ROUNDING_MODES:
        check_q12(net, x, "fused", rounding, tmp_path)


def identity_overflow_network() -> Network:
    """Identity adds whose exact sum leaves int32 on full-scale input: three adds of the input
    at shift 12 + 3 - 0 = 15 (the two-SMLAD case) reach 3 * 2^30, plus a conv source."""
    conv = np.full((2, 2, 2), 30_000, np.int16)
    conv[:, :, 1] = -30_000
    sources = (ConvSource(INPUT, conv, 3), *(IdentitySource(INPUT, 0) for _ in range(3)))
    node = Node("sum", sources, np.array([100, -100], np.int16), shift=3)
    return Network([node], IOSpec.default(2, 2), name="identity_overflow")


def test_checked_sums_are_redone_exactly_when_they_overflow(tmp_path, monkeypatch):
    """A Q-checked node on inputs that overflow int32 (in the identity adds and in the
    convolution): bit-exact through the int64 redo; with the check switched off (the node
    forced to plain int32), the wrap shows."""
    net = identity_overflow_network()
    assert graph_plan.plan_graph(net, "half_up").nodes[0].width == "checked"
    x = random_inputs(N_SAMPLES, 2, 4)
    x[200:260] = fixed.RAW_MAX
    x[600:640] = fixed.RAW_MIN
    for rounding in fixed.ROUNDING_MODES:
        check_q12(net, x, "fused", rounding, tmp_path)
    monkeypatch.setattr(graph_plan, "NARROW_LIMIT", 2**62)
    with pytest.raises(AssertionError, match="mismatching samples"):
        check_q12(net, x, "fused", "half_up", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "rounding"),
    [("a2_lite", "half_up"), ("a2_full", "floor"), ("a1_standard", "half_up")],
)
def test_nam_shaped_networks(preset, rounding, tmp_path):
    """NAM A2-Lite, A2-Full and A1-standard shapes (seeded weights of a trained capture's
    scale): a receptive field plus 8,000 samples of strummed chords with full-scale bursts."""
    net = nam_network(preset, rounding)
    x = nam_stream(net.receptive_field + NAM_SAMPLES, seed=6)
    check_q12(net, x, "fused", rounding, tmp_path)


@pytest.mark.parametrize("kernel", plan.KERNELS)
def test_64_bit_accumulators_when_the_bound_needs_them(kernel, tmp_path):
    net = overflowing_network()
    assert all(int(b.max()) >= 2**31 for b in net.accumulator_bounds())
    x = random_inputs(N_SAMPLES, 4, 2)
    x[100:140] = fixed.RAW_MIN  # every product 2^30 (or -2^30 + 2^15): sums far beyond int32
    x[300:340] = fixed.RAW_MAX
    full = emit.emit(net, tmp_path / "out", kernel=kernel)
    if kernel == "fused":
        assert {r.accumulator for r in full.summary.rows} == {"int32 SMLAD, Q-checked (int64 redo)"}
    for rounding in fixed.ROUNDING_MODES:
        check_q12(net, x, kernel, rounding, tmp_path)


@pytest.mark.slow
def test_64_bit_clamp_path(tmp_path):
    """A bound of 2^43 (8 x 1024 full-scale weights): acc >> 12 itself leaves int32, so the
    fused kernel's int64 redo must clamp in 64 bits."""
    net = Network(
        [ConvLayer("huge", np.full((8, 1024, 1), -32768, np.int16), np.zeros(1, np.int16), 1)],
        IOSpec.default(1024, 1),
        name="huge",
    )
    assert graph_plan.plan_graph(net, "floor").nodes[0].bound >= 2**43
    x = random_inputs(256, 1024, 4)
    x[40:60] = fixed.RAW_MIN  # acc = 2^43 exactly: saturates to +32767
    for kernel in plan.KERNELS:
        check_q12(net, x, kernel, "floor", tmp_path)


@pytest.mark.parametrize("net", SPAN_NETWORKS, ids=lambda net: net.name)
@pytest.mark.parametrize(("kernel", "rounding"), KERNELS_ROUNDINGS)
def test_spans_around_powers_of_two(net, kernel, rounding, tmp_path):
    """Spans at 2^n - 1, 2^n and 2^n + 1 (and K = 1; netgen.EDGE_SPAN_CHAINS) are where an
    off-by-one shows: in the chain kernels' power-of-two masks, and in the fused kernel's
    span-sized rings (masked when the span is a power of two, a compare otherwise)."""
    check_q12(net, random_inputs(N_SAMPLES, net.in_channels, 3), kernel, rounding, tmp_path)


def cancelling_wide_network() -> Network:
    """A static bound beyond 2^43 (9,216 full-scale weights per output: the fused kernel's
    int64 redo clamps in 64 bits) with signs that cancel, so small inputs give in-range
    outputs."""
    rng = np.random.default_rng(43)
    signs = rng.choice([-1, 1], size=(32, 288, 2))
    weights = np.where(signs > 0, fixed.RAW_MAX, fixed.RAW_MIN)
    bias = np.array([3, -5])
    layer = ConvLayer("cancel", weights.astype(np.int16), bias.astype(np.int16), 1, "linear")
    return Network([layer], IOSpec.default(288, 2), name="cancelling-wide")


@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_64_bit_clamp_path_with_outputs_in_range(rounding, tmp_path):
    """The quick check of the 64-bit requantisation: most outputs are neither 0 nor saturated,
    so a wrong shift or clamp changes them (the burst overflows int32: the int64 redo)."""
    net = cancelling_wide_network()
    assert graph_plan.plan_graph(net, rounding).nodes[0].bound >= 2**43
    x = np.random.default_rng(5).integers(-24, 25, (N_SAMPLES, net.in_channels))
    x[1000:1010] = fixed.RAW_MAX  # and a burst that saturates
    want = reference.run(net, x, rounding=rounding)
    inside = (np.abs(want.astype(np.int32)) < fixed.RAW_MAX) & (want != 0)
    assert inside.mean() > 0.9
    for kernel in plan.KERNELS:
        check_q12(net, x, kernel, rounding, tmp_path)


# ---- the tests can fail ------------------------------------------------------------------------
def test_wrong_rounding_is_caught(tmp_path):
    net = wavecomp.load()
    x = random_inputs(N_SAMPLES, net.in_channels, 11)
    got = host.run(net, x, rounding="floor")
    want = reference.run(net, x, rounding="half_up")
    with pytest.raises(AssertionError, match="mismatching samples"):
        assert_same(net, got, want, "floor engine vs half_up reference", tmp_path)


def test_32_bit_accumulators_would_be_caught(tmp_path, monkeypatch):
    """Force int32 accumulators past the bound: the wrap shows as mismatches."""
    net = overflowing_network()
    x = random_inputs(N_SAMPLES, 4, 2)
    x[100:140] = fixed.RAW_MIN
    monkeypatch.setattr(graph_plan, "NARROW_LIMIT", 2**62)
    got = host.run(net, x)
    with pytest.raises(AssertionError, match="mismatching samples"):
        assert_same(net, got, reference.run(net, x), "forced int32", tmp_path)


# ---- f32 ----------------------------------------------------------------------------------------
def f32_inputs(net: Network, n_samples: int, seed: int) -> np.ndarray:
    """``random_inputs`` as float32 model units (what the f32 engine takes)."""
    return fixed.from_q12(random_inputs(n_samples, net.in_channels, seed)).astype(np.float32)


def f32_reference(net: Network, x: np.ndarray) -> np.ndarray:
    """``run_f32``, checked to be within float32 rounding of ``run_f64``: 1e-5 of max(1, |y|)
    per output channel."""
    want = float_ref.run_f32(net, x)
    exact = float_ref.run_f64(net, x)
    scale = np.maximum(1.0, np.abs(exact).max(axis=0))
    assert np.all(np.abs(want - exact) <= 1e-5 * scale)  # float32 rounding, nothing more
    return want


@pytest.mark.parametrize(
    "net",
    [wavecomp.load(), preset_network("mcu", 3), *(random_network(s) for s in range(8))],
    ids=lambda net: net.name + str(net.metadata.get("seed", "")),
)
def test_f32_matches_the_float_reference(net, tmp_path):
    x = f32_inputs(net, N_SAMPLES, 5)
    want = f32_reference(net, x)
    for kernel in plan.KERNELS:
        got = host.run(net, x, numerics="f32", kernel=kernel)
        assert_same(net, got, want, f"f32 {kernel}", tmp_path)


F32_GRAPH_SEEDS = [0, 1, 2, *(pytest.param(s, marks=pytest.mark.slow) for s in range(3, 10))]


@pytest.mark.parametrize("seed", F32_GRAPH_SEEDS)
def test_f32_graph_networks(seed, tmp_path):
    """Residual and skip sums, input mixins, extra sources, every activation (tables too),
    weight and identity shifts: the fused f32 engine over a receptive field plus 2,000
    samples."""
    net = random_graph_network(seed)
    x = f32_inputs(net, net.receptive_field + N_SAMPLES, seed)
    got = host.run(net, x, numerics="f32")
    assert_same(net, got, f32_reference(net, x), "f32 fused graph", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["a2_lite", "a2_full", "a1_standard"])
def test_f32_nam_shaped_networks(preset, tmp_path):
    """NAM shapes (leaky_relu, tanh tables, 20-odd nodes) over a receptive field plus 8,000
    samples of strummed chords with full-scale bursts."""
    net = nam_network(preset, "half_up")
    x = fixed.from_q12(nam_stream(net.receptive_field + NAM_SAMPLES, seed=6)).astype(np.float32)
    got = host.run(net, x, numerics="f32")
    assert_same(net, got, f32_reference(net, x), "f32 fused NAM", tmp_path)


def table_edges_network() -> Network:
    """A pwl node and a gated node reading 2x the input, so every int16 input code sweeps the
    tables from -16 to +16: beyond both ends, through every knot and between them."""
    two = np.full((1, 1, 1), 2 * fixed.ONE, np.int16)
    bumpy = fixed.pwl_table(lambda x: 0.5 * x + np.sin(3 * x))
    nodes = [
        Node("pwl", (ConvSource(INPUT, two),), np.zeros(1, np.int16), "pwl", tables=(bumpy,)),
        Node(
            "gate",
            (ConvSource(INPUT, np.concatenate([two, -two], axis=2)),),
            np.array([0, 41], np.int16),
            "gated",
            tables=(fixed.tanh_table(), fixed.sigmoid_table()),
        ),
    ]
    outputs = (("pwl", 0), ("gate", 0))
    return Network(nodes, IOSpec.default(1, 2), name="table-edges", outputs=outputs)


def test_f32_tables_at_and_beyond_the_knots(tmp_path):
    """The interpolation's float semantics at the points that pin them down: at a knot the
    output is that knot exactly, beyond +-8 the end knot; the engine equals run_f32 on every
    int16 input code."""
    net = table_edges_network()
    x = (np.arange(fixed.RAW_MIN, fixed.RAW_MAX + 1) / fixed.ONE).astype(np.float32)[:, None]
    want = f32_reference(net, x)
    assert_same(net, host.run(net, x, numerics="f32"), want, "f32 tables", tmp_path)
    s = 2.0 * x[:, 0]
    knots = net.node("pwl").tables[0] / fixed.ONE
    on_knot = (s * 64 == np.round(s * 64)) & (np.abs(s) <= 8)
    index = np.rint((s[on_knot] + 8) * 64).astype(int)
    assert on_knot.sum() == fixed.TABLE_SIZE and np.array_equal(want[on_knot, 0], knots[index])
    assert np.all(want[s < -8, 0] == knots[0]) and np.all(want[s > 8, 0] == knots[-1])


def reversed_sources(net: Network) -> Network:
    """``net`` with every node's sources in reverse order: the same network in exact
    arithmetic, another summation order in float32."""
    nodes = [replace(node, sources=node.sources[::-1]) for node in net.nodes]
    return Network(nodes, net.io, name=f"{net.name}-reversed", outputs=net.outputs)


def weighted_pwl(s: np.ndarray, table: np.ndarray, dtype: float_ref.Float) -> np.ndarray:
    """The interpolation written ``L[i] * (1 - f) + L[i+1] * f``: equal in exact arithmetic,
    rounded differently in float32."""
    knots = table.astype(dtype) / dtype(fixed.ONE)
    u = np.clip((s + dtype(8)) * dtype(64), 0, 1024)
    i = np.minimum(u.astype(np.int64), 1023)
    f = u - i.astype(dtype)
    return knots[i] * (dtype(1) - f) + knots[i + 1] * f


def test_f32_wrong_summation_order_or_interpolation_is_caught(tmp_path, monkeypatch):
    """A reference that sums a node's sources in another order, or interpolates the tables
    with another (exactly equivalent) formula, no longer matches the engine."""
    net = random_graph_network(3)  # pwl and gated nodes, multi-source sums
    x = f32_inputs(net, net.receptive_field + N_SAMPLES, 3)
    got = host.run(net, x, numerics="f32")
    with pytest.raises(AssertionError, match="mismatching samples"):
        assert_same(net, got, float_ref.run_f32(reversed_sources(net), x), "order", tmp_path)
    monkeypatch.setattr(float_ref, "pwl", weighted_pwl)
    with pytest.raises(AssertionError, match="mismatching samples"):
        assert_same(net, got, float_ref.run_f32(net, x), "interpolation", tmp_path)


def test_f32_is_close_to_q12_on_the_default_model():
    """Not equal (q12 requantises every layer and saturates at ±8, e.g. in the start-up
    transient), but after the receptive field the same waveshaper to a few LSB, for the
    triangle it was trained on (amplitude 1.0 = ±4 V). A full-scale ±8 V triangle drives
    layer 1 into q12's ±8 clamp, where the float engine has no clamp (measured: 0.64 apart)."""
    net = wavecomp.load()
    t = np.arange(N_SAMPLES)
    triangle = 1.0 * (1 - 4 * np.abs((t * 220 / 48_000) % 1.0 - 0.5))
    for e0, e1 in [(0, 0), (0, 1), (1, 0), (1, 1), (0.3, 0.7)]:
        x = np.stack([triangle, np.full(N_SAMPLES, e0), np.full(N_SAMPLES, e1), 0 * t], axis=1)
        raw = fixed.to_q12(x)
        q12 = fixed.from_q12(host.run(net, raw))
        f32 = host.run(net, fixed.from_q12(raw).astype(np.float32), numerics="f32")
        assert np.max(np.abs(q12 - f32)[net.receptive_field :]) < 0.01


# ---- the host build -----------------------------------------------------------------------------
def test_engine_state_resets_and_builds_are_cached(tmp_path):
    net = random_network(1)
    x = random_inputs(500, net.in_channels, 1)
    first = host.build(emit.emit(net, tmp_path / "a"))
    again = host.build(emit.emit(net, tmp_path / "b"))  # same content, another folder
    assert again.cached and again.library == first.library
    assert np.array_equal(first.run(x), again.run(x))  # engine_reset before each run
    assert np.array_equal(first.run(x[:100]), first.run(x)[:100])
    with pytest.raises(ValueError, match=r"inputs must have shape \(T, 4\)"):
        first.run(x[:, :3])


def test_build_errors_name_the_tool_and_file(tmp_path, monkeypatch):
    result = emit.emit(random_network(2), tmp_path / "out")
    cpp = result.engine_sources[0]
    cpp.write_text(cpp.read_text() + "\nthis is not C++;\n")
    with pytest.raises(host.HostBuildError, match=r"g\+\+ failed on wavecomp_engine.cpp") as err:
        host.build(result, cache_dir=tmp_path / "cache")
    log = Path(str(err.value).split("full log: ")[1].split(")")[0])
    assert "this is not C++" in log.read_text()
    assert sorted(p.suffix for p in (tmp_path / "cache" / "host").iterdir()) == [".lock", ".log"]
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(tools.shutil, "which", lambda name: None)
    with pytest.raises(tools.ToolNotFoundError, match=r"g\+\+ not found .* build-essential"):
        host.build(result)


def test_sim_target_cmsis_writes_the_reference_wav(tmp_path):
    net = wavecomp.load()
    tone = write_tone(tmp_path / "tri.wav", f0=110, f1=880, seconds=0.25, amplitude=1.9)
    for rounding in fixed.ROUNDING_MODES:
        controls = {"e0": 1.0, "e1": 0.25}
        ref = render_wav(net, tone, tmp_path / "ref.wav", controls=controls, rounding=rounding)
        mcu = render_wav(
            net, tone, tmp_path / "mcu.wav", controls=controls, rounding=rounding, target="cmsis"
        )
        assert (tmp_path / "ref.wav").read_bytes() == (tmp_path / "mcu.wav").read_bytes()
        assert mcu.clipped == ref.clipped and "cmsis: q12 engine" in mcu.describe()
