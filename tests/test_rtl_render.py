"""Long renders through the generated core (Verilator + sim/harness/net_main.cpp) are bit-exact.

(a) ``render_rtl`` equals ``reference.run`` on every sample of every channel: the default model
and three random networks (scalar, 64-bit and wide VlWide ports), both rounding modes, each at
a tight budget (the next strobe comes the clock after the last write). (b) The quick check
(not slow): a small core whose cache spans sit at 2**n - 1, 2**n, 2**n + 1 and 1 (K = 1),
started from random register and memory contents, reset in the middle of the stream, with
upstream eurorack-pmod's strobe at reset: every output sample equal to the reference from the
reset on; the same for larger spans (slow). (c) ``wavecomp sim --target rtl`` writes the same
bytes as ``--target reference``. (d) Toolchain and run failures are errors that say what
broke and where the log is.

Builds are cached under sim_build/render (keyed by a hash of the sources and memory images), so
a re-run only builds what changed.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from benches import BUILD_ROOT, expected_outputs, first_mismatches
from click.testing import CliRunner
from netgen import chain_network, nam_network, nam_stream, random_graph_network, random_network

import wavecomp
from wavecomp import fixed, reference
from wavecomp import schedule as sch
from wavecomp.cache import CacheError
from wavecomp.cli import main
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.rtl import render, verilator
from wavecomp.rtl.render import build_rtl, render_rtl, run_rtl
from wavecomp.rtl.verilator import ToolError
from wavecomp.stimulus import random_inputs
from wavecomp.tools import ToolNotFoundError

CACHE = BUILD_ROOT / "render"
N_SAMPLES = 20_000
RANDOM_BUDGET = sch.Budget(cycles_per_sample=1024, multipliers=64)

# name -> (network, strategy): ports of 4 x 16 = 64 bits are a scalar QData; more are VlWide
CASES = {
    "default": lambda: (wavecomp.load(), "min_multipliers"),  # 4 -> 4: 64-bit ports
    "random4": lambda: (random_network(4), "min_multipliers"),  # 7 -> 4, four layers
    "random1": lambda: (random_network(1), "max_parallel"),  # 4 -> 13: wide output only
    "random9": lambda: (random_network(9), "max_parallel"),  # 17 -> 26: wide in and out
    "graph8": lambda: (random_graph_network(8), "min_multipliers"),  # gated, pwl, residuals
}


def tight(net: Network, sched: sch.Schedule) -> sch.Schedule:
    """The same array with the strobe period cut to exactly the cycles it uses (as in
    tests/test_rtl_network.py): the hardest timing case, and the fastest render."""
    budget = sch.Budget(cycles_per_sample=sched.cycles_used, multipliers=sched.multipliers)
    return sch.schedule(net, budget, rounding=sched.rounding, shape=(sched.g, sched.q))


@pytest.mark.slow
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_render_rtl_is_bit_exact(case: str, rounding: fixed.Rounding) -> None:
    net, strategy = CASES[case]()
    budget = sch.Budget() if case == "default" else RANDOM_BUDGET
    sched = tight(net, sch.schedule(net, budget, rounding=rounding, strategy=strategy))
    assert sched.budget.cycles_per_sample == sched.cycles_used
    x = random_inputs(N_SAMPLES, net.in_channels, seed=len(case) + 17)
    y = render_rtl(net, sched, x, work_dir=CACHE)
    want = reference.run(net, x, rounding=rounding)
    assert y.shape == want.shape == (N_SAMPLES, net.out_channels) and y.dtype == np.int16
    assert np.array_equal(y, want), (
        f"{case} ({rounding}, array {sched.g} x {sched.q}): {first_mismatches(y, want)}"
    )


NAM_SAMPLES = 12_000
NAM_BUDGET = sch.Budget(cycles_per_sample=1024, multipliers=72, part="45F")
"""48 kHz at 4 x 256 fs on the Colorlight i9 (LFE5U-45F): the NAM rows of bench/fpga.py."""


@pytest.mark.slow
@pytest.mark.parametrize(("preset", "rounding"), [("a1_standard", "half_up"), ("a2_full", "floor")])
def test_nam_shaped_cores_are_bit_exact(preset: str, rounding: fixed.Rounding) -> None:
    """NAM A1-standard and A2-Full shapes (seeded weights of a trained capture's scale) on the
    45F schedule at 1,024 cycles/sample: a receptive field plus thousands of samples through
    the Verilator harness, every sample equal to the reference."""
    net = nam_network(preset, rounding)
    sched = sch.schedule(net, NAM_BUDGET, rounding=rounding)
    assert net.receptive_field + 2_000 < NAM_SAMPLES
    x = nam_stream(NAM_SAMPLES, seed=5)
    y = render_rtl(net, sched, x, work_dir=CACHE)
    want = reference.run(net, x, rounding=rounding)
    assert np.array_equal(y, want), (
        f"{preset} ({rounding}, array {sched.g} x {sched.q}): {first_mismatches(y, want)}"
    )


def check_from_random_state(net: Network, sched: sch.Schedule, n: int, seed: int) -> None:
    """Three runs of one build, each from its own random power-up state: a reset in the
    middle of the stream, upstream's strobe held over every reset, and both; every output
    sample of every channel must be the reference from the (last) reset on."""
    model = build_rtl(net, sched, work_dir=CACHE)
    x = random_inputs(n, net.in_channels, seed)
    for run, (reset_at, held) in enumerate([(n // 2, False), (0, True), (n // 3, True)]):
        y = run_rtl(
            model,
            x,
            out_channels=net.out_channels,
            cycles_per_sample=sched.budget.cycles_per_sample,
            latency=sched.latency_samples,
            reset_at=reset_at,
            strobe_held_over_reset=held,
            random_seed=seed * 10 + run + 1,
        )
        want = expected_outputs(
            net, x, sched.rounding, latency=sched.latency_samples, reset_at=reset_at
        )
        assert np.array_equal(y, want), (
            f"{net.name} (array {sched.g} x {sched.q}, reset at {reset_at}, strobe held over "
            f"reset: {held}): {first_mismatches(y, want)}"
        )


def test_small_core_from_random_state_with_mid_stream_reset() -> None:
    """The quick end-to-end check: spans 5, 1, 4, 3, 2 on a 2 x 2 array (two banks)."""
    net = chain_network("n1-n2", seed=3)
    sched = tight(net, sch.schedule(net, RANDOM_BUDGET, shape=(2, 2)))
    check_from_random_state(net, sched, n=400, seed=7)


@pytest.mark.slow
@pytest.mark.parametrize("chain", ["n3", "n4-n5"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 2)])
def test_edge_spans_from_random_state(chain: str, shape: tuple[int, int]) -> None:
    net = chain_network(chain, seed=len(chain))
    rounding = fixed.ROUNDING_MODES[shape[0] % 2]
    sched = tight(net, sch.schedule(net, RANDOM_BUDGET, rounding=rounding, shape=shape))
    check_from_random_state(net, sched, n=3000, seed=shape[0] + 11)


def _wav(path, n: int, seed: int) -> None:
    """Two codec channels (audio + a CV), with full-scale runs."""
    rng = np.random.default_rng(seed)
    codec = rng.integers(-32768, 32768, size=(n, 2)).astype(np.int16)
    codec[:, 1] = np.where((np.arange(n) // 500) % 2, 16384, -8000)
    codec[50:90] = 32767
    codec[120:160] = -32768
    sf.write(path, codec, 48000, subtype="PCM_16")


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [
        ["--cv", "e1=0.75"],
        ["--rounding", "floor", "--cv", "e1=0.25", "--rate", "44100"],
    ],
    ids=["half_up", "floor-44k1"],
)
def test_cli_rtl_writes_the_reference_file(tmp_path, monkeypatch, options: list[str]) -> None:
    _wav(tmp_path / "in.wav", 3000, 4)
    renders = []  # proof that --target rtl went through the Verilator harness

    def spy(net, sched, x, **kwargs):
        renders.append(sched)
        return real_render_rtl(net, sched, x, **kwargs)

    real_render_rtl = render.render_rtl
    monkeypatch.setattr(render, "render_rtl", spy)
    runner = CliRunner(env={"XDG_CACHE_HOME": str(CACHE / "xdg")})
    files = {}
    for target in ("reference", "rtl"):
        out = tmp_path / f"{target}.wav"
        argv = ["sim", "--target", target, str(tmp_path / "in.wav"), str(out), *options]
        result = runner.invoke(main, argv)
        assert result.exit_code == 0, result.output
        files[target] = out.read_bytes()
    assert len(renders) == 1 and renders[0].budget.cycles_per_sample == 256
    assert "rtl: " in result.output and "cycles/sample" in result.output
    assert len(files["rtl"]) > 3000 * 4 * 2
    assert files["rtl"] == files["reference"]


# ---- failures ---------------------------------------------------------------------------------
def tiny_network() -> Network:
    """2 -> 2, two layers (latency 1): the cheapest core that still has a pipeline."""
    rng = np.random.default_rng(0)
    bias = np.zeros(2, np.int16)
    layers = [
        ConvLayer("a", rng.integers(-4096, 4096, (2, 2, 2)).astype(np.int16), bias, dilation=3),
        ConvLayer("b", rng.integers(-4096, 4096, (1, 2, 2)).astype(np.int16), bias),
    ]
    return Network(layers, IOSpec.default(2, 2), name="tiny")


def test_missing_verilator_is_named(tmp_path, monkeypatch) -> None:
    net = tiny_network()
    monkeypatch.setattr(verilator, "verilator_bin_dir", lambda: tmp_path / "no-verilator-here")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("VERILATOR", raising=False)
    with pytest.raises(ToolNotFoundError, match=r"verilator not found .*bootstrap\.sh"):
        render_rtl(net, sch.schedule(net), random_inputs(10, 2, 0), work_dir=tmp_path)


def test_verilator_override_is_used(tmp_path, monkeypatch) -> None:
    """$VERILATOR names the program the build runs (here one that fails at once)."""
    fake = tmp_path / "my-verilator"
    fake.write_text("#!/bin/sh\necho '%Error: this is my-verilator' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("VERILATOR", str(fake))
    net = tiny_network()
    with pytest.raises(ToolError, match=r"failed \(exit 3\).*\n.*this is my-verilator"):
        render_rtl(net, sch.schedule(net), random_inputs(10, 2, 0), work_dir=tmp_path / "c")


def test_unwritable_cache_folder_is_named(tmp_path) -> None:
    net = tiny_network()
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the build cache folder should be")
    with pytest.raises(CacheError, match=r"cannot create the build cache folder .*cache"):
        render_rtl(net, sch.schedule(net), random_inputs(10, 2, 0), work_dir=blocker)


def test_failed_build_names_the_log_and_the_error(tmp_path, monkeypatch) -> None:
    """A core Verilator rejects (cheap: it fails while parsing, before any C++ compile)."""
    real_generate = render.generate

    def broken_generate(net, sched, out_dir):
        files = real_generate(net, sched, out_dir)
        files.net_sv.write_text(files.net_sv.read_text() + "\nthis is not verilog;\n")
        return files

    monkeypatch.setattr(render, "generate", broken_generate)
    net = tiny_network()
    with pytest.raises(ToolError) as info:
        render_rtl(net, sch.schedule(net), random_inputs(10, 2, 0), work_dir=tmp_path)
    message = str(info.value)
    assert "Verilator build of wavecomp_net for 'tiny' failed" in message
    assert "%Error" in message and "wavecomp_net.sv" in message
    log = next(tmp_path.glob("*.log"))
    assert str(log) in message and "%Error" in log.read_text()
    folders = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert folders == [], "a failed build must leave no entry (nor its staging folder)"


@pytest.mark.slow
def test_fault_stops_the_run(tmp_path) -> None:
    """A strobe period shorter than the program overruns the sequencer: `fault` must rise and
    the harness must refuse to return samples."""
    net = tiny_network()
    sched = sch.schedule(net, sch.Budget(cycles_per_sample=256, multipliers=1))
    model = build_rtl(net, sched, work_dir=CACHE)
    x = random_inputs(100, 2, 1)
    # the same binary is fine at a legal period
    ok = run_rtl(
        model,
        x,
        out_channels=2,
        cycles_per_sample=sched.cycles_used,
        latency=sched.latency_samples,
    )
    assert np.array_equal(ok, reference.run(net, x))
    with pytest.raises(ToolError, match=r"raised `fault` in sample period 1 .*log: "):
        run_rtl(
            model,
            x,
            out_channels=2,
            cycles_per_sample=sched.program_length // 2,
            latency=sched.latency_samples,
        )
