"""The C++ engine on an emulated Cortex-M7: bit-exact outputs, instruction counts, size and fit.

Each case emits an engine (``wavecomp.mcu.emit``), cross-compiles it with the bare-metal
harness (``firmware/m7_harness``) and runs it on QEMU ``mps2-an500`` (a Cortex-M7 with the
double-precision FPU), comparing every output sample of every channel with the reference.
The instruction counter is checked exactly against hand-written assembly engines whose
instruction counts are known. QEMU counts instructions, not cycles.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from netgen import nam_network, nam_stream, preset_network, random_graph_network, random_network
from test_mcu_host import SPAN_NETWORKS, identity_overflow_network

import wavecomp
from wavecomp import fixed, reference
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.mcu import daisy_fit, m7_build, m7_run
from wavecomp.mcu.emit import emit
from wavecomp.reference.float_ref import run_f32, run_f64
from wavecomp.stimulus import random_inputs
from wavecomp.tools import ToolNotFoundError, require_tool

N_SAMPLES = 2000
REPO_ROOT = Path(__file__).resolve().parents[1]
# Shared by all tests and xdist workers: builds are keyed by content and published atomically.
M7_CACHE = REPO_ROOT / "build" / "m7-cache"

KERNELS = ("cmsis", "fused")
COMBOS = list(itertools.product(KERNELS, fixed.ROUNDING_MODES))
RANDOM_SEEDS = range(10)


# ---------------------------------------------------------------------------------------------
# helpers


def assert_bit_exact(expected: np.ndarray, got: np.ndarray, what: str) -> None:
    """Every sample of every channel equal; otherwise name the first mismatches."""
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    bad = np.argwhere(got != expected)
    if bad.size:
        first = ", ".join(
            f"t={t} ch={c}: expected {expected[t, c]}, got {got[t, c]}" for t, c in bad[:5]
        )
        raise AssertionError(f"{what}: {len(bad)} of {expected.size} samples differ ({first})")


def run_on_m7(
    net: Network,
    x: np.ndarray,
    out: Path,
    *,
    numerics: str = "q12",
    kernel: str = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> tuple[m7_build.M7Build, m7_run.M7Run]:
    result = emit(net, out, numerics=numerics, kernel=kernel, rounding=rounding)
    build = m7_build.build_m7(result, M7_CACHE)
    inputs = x if numerics == "q12" else fixed.from_q12(x).astype(np.float32)
    return build, m7_run.run_qemu(build, inputs)


def reproducer(net: Network, tmp_path: Path) -> str:
    """Save the IR next to the test's files (pytest keeps them) and say where it is."""
    path = net.save(tmp_path / "net.npz")
    seed = net.metadata.get("seed")
    return f"IR: {path}" + (f", random_network({seed})" if seed is not None else "")


def check_q12(
    net: Network, x: np.ndarray, tmp_path: Path, kernel: str, rounding: str
) -> m7_run.M7Run:
    where = reproducer(net, tmp_path)
    _, run = run_on_m7(net, x, tmp_path / "emit", kernel=kernel, rounding=rounding)
    expected = reference.run(net, x, rounding=rounding)
    assert_bit_exact(expected, run.outputs, f"{net.name} q12 {kernel}/{rounding} ({where})")
    return run


# ---------------------------------------------------------------------------------------------
# the instruction counter, against assembly engines with known counts


@dataclass
class HandWrittenEngine:
    """A stand-in for an emitted engine (the fields ``build_m7`` reads)."""

    engine_dir: Path
    engine_sources: list[Path]
    cmsis_sources: list[str] = field(default_factory=list)
    include_dirs: list[Path] = field(default_factory=list)
    defines: list[str] = field(default_factory=list)


ENGINE_HEADER = """\
#pragma once
#include <stdint.h>
namespace wavecomp {
constexpr int kInputs = 2;
constexpr int kOutputs = 1;
using sample_t = int16_t;
void engine_reset();
void engine_step(const sample_t* in, sample_t* out);
}  // namespace wavecomp
"""

# engine_step: out[0] = in[1], then spin in[0] times. Instructions per step, exactly:
# ldrh, ldrh, strh, cbz, bx lr (5) plus subs/bne (2) per spin = 5 + 2 * in[0].
# engine_reset spins 100,000 times: 200,000 instructions the counter must NOT see.
COUNTING_ENGINE = """\
#include "wavecomp_engine.h"
namespace wavecomp {
__attribute__((naked)) void engine_reset() {
    __asm__ volatile(
        "ldr r0, =100000\\n"
        "1: subs r0, r0, #1\\n"
        "bne 1b\\n"
        "bx lr\\n");
}
__attribute__((naked)) void engine_step(const sample_t*, sample_t*) {
    __asm__ volatile(
        "ldrh r2, [r0]\\n"
        "ldrh r3, [r0, #2]\\n"
        "strh r3, [r1]\\n"
        "cbz r2, 2f\\n"
        "1: subs r2, r2, #1\\n"
        "bne 1b\\n"
        "2: bx lr\\n");
}
}  // namespace wavecomp
"""


def hand_written_engine(folder: Path, body: str) -> HandWrittenEngine:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wavecomp_engine.h").write_text(ENGINE_HEADER)
    (folder / "engine.cpp").write_text(body)
    return HandWrittenEngine(folder, [folder / "engine.cpp"])


def test_instruction_count_is_exact(tmp_path):
    build = m7_build.build_m7(hand_written_engine(tmp_path / "engine", COUNTING_ENGINE), M7_CACHE)
    rng = np.random.default_rng(7)
    x = np.stack([rng.integers(0, 50, 3000), rng.integers(-32768, 32768, 3000)], axis=1)
    x = x.astype(np.int16)
    run = m7_run.run_qemu(build, x)
    per_step = 5 + 2 * x[:, 0].astype(np.int64)
    assert run.steps == 3000
    assert run.instructions == int(per_step.sum())
    assert run.min_step_instructions == int(per_step.min())
    assert run.max_step_instructions == int(per_step.max())
    assert_bit_exact(x[:, 1:], run.outputs, "counting engine passes in[1] through")


FAULTING_ENGINE = """\
#include "wavecomp_engine.h"
namespace wavecomp {
void engine_reset() {}
void engine_step(const sample_t* in, sample_t* out) {
    if (in[0] == 42) {
        __builtin_trap();  // udf: an UNDEFINED instruction -> UsageFault
    }
    out[0] = in[1];
}
}  // namespace wavecomp
"""

HANGING_ENGINE = """\
#include "wavecomp_engine.h"
namespace wavecomp {
void engine_reset() {}
void engine_step(const sample_t*, sample_t*) {
    for (;;) {
        __asm__ volatile("");
    }
}
}  // namespace wavecomp
"""


def test_engine_fault_is_reported(tmp_path):
    build = m7_build.build_m7(hand_written_engine(tmp_path / "engine", FAULTING_ENGINE), M7_CACHE)
    x = np.zeros((100, 2), dtype=np.int16)
    assert m7_run.run_qemu(build, x).steps == 100
    x[50, 0] = 42
    with pytest.raises(m7_build.M7Error, match="CPU fault at pc=0x"):
        m7_run.run_qemu(build, x)


def test_hanging_engine_times_out(tmp_path):
    build = m7_build.build_m7(hand_written_engine(tmp_path / "engine", HANGING_ENGINE), M7_CACHE)
    with pytest.raises(m7_build.M7Error, match="did not finish"):
        m7_run.run_qemu(build, np.zeros((4, 2), dtype=np.int16), timeout=2)


def test_inputs_are_checked(tmp_path):
    build = m7_build.build_m7(hand_written_engine(tmp_path / "engine", COUNTING_ENGINE), M7_CACHE)
    with pytest.raises(ValueError, match=r"shape \(T, 2\)"):
        m7_run.run_qemu(build, np.zeros((4, 3), dtype=np.int16))
    with pytest.raises(ValueError, match=r"Q4\.12 raw integers"):
        m7_run.run_qemu(build, np.zeros((4, 2), dtype=np.float32))


def test_build_is_cached_across_emit_folders(tmp_path):
    first = m7_build.build_m7(hand_written_engine(tmp_path / "a", COUNTING_ENGINE), M7_CACHE)
    second = m7_build.build_m7(hand_written_engine(tmp_path / "b", COUNTING_ENGINE), M7_CACHE)
    changed = m7_build.build_m7(
        hand_written_engine(tmp_path / "c", COUNTING_ENGINE.replace("100000", "100001")), M7_CACHE
    )
    assert first.elf == second.elf
    assert changed.elf != first.elf


def test_missing_tool_names_the_package(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("QEMU_SYSTEM_ARM", raising=False)
    with pytest.raises(ToolNotFoundError, match="apt-get install qemu-system-arm"):
        require_tool("qemu-system-arm")


# ---------------------------------------------------------------------------------------------
# q12: bit-exact with the reference on the emulated M7


@pytest.mark.slow
@pytest.mark.parametrize(("kernel", "rounding"), COMBOS)
def test_default_model_q12(tmp_path, kernel, rounding):
    net = wavecomp.load()
    x = random_inputs(N_SAMPLES, net.in_channels, 5)
    run = check_q12(net, x, tmp_path, kernel, rounding)
    # SMLAD does 2 MACs per instruction: fewer than MACs/2 instructions means skipped work.
    assert run.min_step_instructions >= net.macs_per_sample / 2


@pytest.mark.slow
@pytest.mark.parametrize(("kernel", "rounding"), [("cmsis", "floor"), ("fused", "half_up")])
def test_mcu_preset_q12(tmp_path, kernel, rounding):
    net = preset_network("mcu", 3)
    x = random_inputs(N_SAMPLES, net.in_channels, 9)
    run = check_q12(net, x, tmp_path, kernel, rounding)
    assert run.min_step_instructions >= net.macs_per_sample / 2


@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_network_q12(tmp_path, seed, kernel):
    """Every random net through both kernels; the rounding mode alternates with the seed."""
    rounding = fixed.ROUNDING_MODES[seed % 2]
    net = random_network(seed)
    x = random_inputs(N_SAMPLES, net.in_channels, 100 + seed)
    check_q12(net, x, tmp_path, kernel, rounding)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_graph_network_q12(tmp_path, seed):
    """Random graph networks (every activation, shifts, identity and multi-source nodes) over
    a receptive field plus 2,000 samples; both rounding modes."""
    net = random_graph_network(seed)
    x = random_inputs(net.receptive_field + N_SAMPLES, net.in_channels, 200 + seed)
    for rounding in fixed.ROUNDING_MODES:
        check_q12(net, x, tmp_path, "fused", rounding)


@pytest.mark.slow
def test_checked_sums_are_redone_exactly_on_the_m7(tmp_path):
    """The Q flag, read on the real instruction set: overflowing sums take the int64 redo."""
    net = identity_overflow_network()
    x = random_inputs(N_SAMPLES, 2, 4)
    x[200:260] = fixed.RAW_MAX
    x[600:640] = fixed.RAW_MIN
    for rounding in fixed.ROUNDING_MODES:
        check_q12(net, x, tmp_path, "fused", rounding)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preset", "rounding"),
    [("a2_lite", "floor"), ("a2_full", "half_up"), ("a1_standard", "floor")],
)
def test_nam_shaped_networks_q12(tmp_path, preset, rounding):
    """NAM shapes over a receptive field plus 8,000 samples on the emulated Cortex-M7."""
    net = nam_network(preset, rounding)
    x = nam_stream(net.receptive_field + 8_000, seed=7)
    check_q12(net, x, tmp_path, "fused", rounding)


@pytest.mark.slow
@pytest.mark.parametrize("net", SPAN_NETWORKS, ids=lambda net: net.name)
@pytest.mark.parametrize(("kernel", "rounding"), [("fused", "half_up"), ("cmsis", "floor")])
def test_spans_around_powers_of_two_q12(tmp_path, net, kernel, rounding):
    x = random_inputs(N_SAMPLES, net.in_channels, 8)
    check_q12(net, x, tmp_path, kernel, rounding)


@pytest.mark.slow
def test_a_wrong_engine_is_caught(tmp_path):
    """The comparison can fail: an engine built from a net with one bias off by 1 LSB."""
    net = wavecomp.load()
    last = net.layers[-1]
    bias = last.bias.copy()
    bias[0] += 1
    wrong = Network(
        [
            *net.layers[:-1],
            ConvLayer(last.name, last.weights, bias, last.dilation, last.activation),
        ],
        net.io,
        name="off-by-one",
    )
    x = random_inputs(N_SAMPLES, net.in_channels, 5)
    _, run = run_on_m7(wrong, x, tmp_path / "emit")
    with pytest.raises(AssertionError, match="samples differ"):
        assert_bit_exact(reference.run(net, x), run.outputs, "deliberately wrong engine")
    corrupted = reference.run(net, x)
    corrupted[N_SAMPLES - 1, net.out_channels - 1] ^= 1
    with pytest.raises(AssertionError, match=r"1 of \d+ samples differ"):
        assert_bit_exact(reference.run(net, x), corrupted, "one flipped bit")


# ---------------------------------------------------------------------------------------------
# f32: bit-exact with the same-order float32 reference


def f32_cases() -> list[tuple[str, str]]:
    models = ["default", "mcu", "random1", "random4", "random6"]
    graphs = [("graph0", "fused"), ("graph3", "fused"), ("graph5", "fused")]
    return list(itertools.product(models, KERNELS)) + graphs


def f32_network(model: str) -> Network:
    if model == "default":
        return wavecomp.load()
    if model == "mcu":
        return preset_network("mcu", 3)
    if model.startswith("graph"):
        return random_graph_network(int(model.removeprefix("graph")))
    return random_network(int(model.removeprefix("random")))


@pytest.mark.slow
@pytest.mark.parametrize(("model", "kernel"), f32_cases())
def test_f32(tmp_path, model, kernel):
    net = f32_network(model)
    where = reproducer(net, tmp_path)
    x = random_inputs(net.receptive_field + N_SAMPLES, net.in_channels, 21)
    _, run = run_on_m7(net, x, tmp_path / "emit", numerics="f32", kernel=kernel)
    xf = fixed.from_q12(x).astype(np.float32)
    assert run.outputs.dtype == np.float32
    assert_bit_exact(run_f32(net, xf), run.outputs, f"{net.name} f32 {kernel} ({where})")
    # and within float32 rounding of the exact (float64) network
    exact = run_f64(net, xf)
    scale = max(1.0, float(np.abs(exact).max()))
    assert float(np.abs(run.outputs - exact).max()) <= 1e-5 * scale


# ---------------------------------------------------------------------------------------------
# size and fit


@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNELS)
def test_default_model_fits_the_daisy(tmp_path, kernel):
    net = wavecomp.load()
    x = random_inputs(256, net.in_channels, 1)
    build, run = run_on_m7(net, x, tmp_path / "emit", kernel=kernel)
    size = daisy_fit.size(build)
    for section in size.sections:
        if section.size:  # the link map accounts for every byte of every section
            assert sum(section.by_origin.values()) == section.size, section
    origins = size.by_origin()
    assert origins["engine"] > 0 and origins["harness"] > 0
    assert size.text() >= 2 * net.params  # int16 weights are const: in flash
    assert size.text() < size.text(model_only=False)  # the harness is not counted
    fit = daisy_fit.measured(size, stack_bytes=run.stack_bytes)
    assert fit.fits and fit.app_type == "BOOT_NONE", fit.verdict
    assert fit.verdict.startswith("fits the Daisy's internal flash")
    # FACTS.md: the Patch firmware with the default model links to 104,604 B (q12 fused)
    if kernel == "fused":
        assert abs(fit.flash_bytes - 104_604) <= 2048
    assert 0 < run.stack_bytes < 4096


def synthetic_size(**section_bytes: int) -> daisy_fit.M7Size:
    return daisy_fit.M7Size(
        tuple(
            daisy_fit.SectionUse(f".{name}", 0, n, {"engine": n})
            for name, n in section_bytes.items()
        )
    )


# libDaisy (HEAD 08f2965) + the Patch code take 99,681 B of flash (FACTS.md: 104,604 B with
# the default model's 4,923 B engine); the internal flash is 131,072 B, the bootloader's
# SRAM app at most 480 KB (libDaisy doc/md/_a7_Getting-Started-Daisy-Bootloader.md).
LIBDAISY_FLASH = 104_604 - 4_923


def test_fit_verdicts():
    small = daisy_fit.measured(synthetic_size(text=10_000, bss=2_000), stack_bytes=300)
    assert small.fits and small.app_type == "BOOT_NONE"
    rows = {r.memory: r.used for r in small.rows}
    assert rows["flash"] == LIBDAISY_FLASH + 10_000
    assert rows["DTCM"] == 300
    # 131,072 - 99,681 = 31,391 B left for the engine in the internal flash
    edge = daisy_fit.measured(synthetic_size(text=31_391))
    assert edge.app_type == "BOOT_NONE" and edge.flash_bytes == 131_072
    over = daisy_fit.measured(synthetic_size(text=31_392))
    assert over.fits and over.app_type == "BOOT_SRAM"
    assert "does not fit the internal flash (131,073 B > 128.0 KB)" in over.verdict
    assert "make program-boot" in over.verdict and "make program-dfu" in over.verdict
    # code beyond 480 KB of SRAM: the app runs from QSPI
    huge = daisy_fit.measured(synthetic_size(text=400_000, rodata=100_000))
    assert huge.fits and huge.app_type == "BOOT_QSPI"
    state = daisy_fit.measured(synthetic_size(text=1_000, dtcmram_bss=200 * 1024))
    assert not state.fits and "DTCM needs" in state.verdict
    odd = daisy_fit.measured(synthetic_size(text=1_000, ccmram=64))
    assert not odd.fits and ".ccmram has no Daisy memory" in odd.verdict


LINK_MAP = """\
Linker script and memory map

.text           0x00000040      0x90
 *(.text .text.*)
 .text          0x00000040       0x34 /b/harness__startup.o
                0x00000040                Reset_Handler
 .text._ZN8wavecomp11engine_stepEPKsPs
                0x00000074       0x40 /b/engine__engine.o
                0x00000074                wavecomp::engine_step(short const*, short*)
 .text.arm_dot_prod_q15
                0x000000b4       0x10 /cache/objects/cmsis__arm_dot_prod_q15-0123.o
 .text.memcpy   0x000000c4        0x8 /usr/lib/arm-none-eabi/lib/libc_nano.a(libc_a-memcpy.o)
 *fill*         0x000000cc        0x4

.bss            0x20000000       0x20
 .bss.state     0x20000000       0x20 /b/engine__engine.o
"""


def test_link_map_attribution():
    assert daisy_fit.parse_link_map(LINK_MAP) == {
        ".text": {"harness": 0x34, "engine": 0x40, "cmsis-dsp": 0x10, "runtime": 0x8, "linker": 4},
        ".bss": {"engine": 0x20},
    }


def wide_network(channels: int = 40) -> Network:
    """4 -> C -> C -> C -> 4, K = 4, dilations 1, 4, 16, 64: the shape of the net whose Patch
    firmware overflowed the internal flash (issue 9)."""
    rng = np.random.default_rng(40)
    sizes = [4, channels, channels, channels, 4]
    layers = []
    for i, (c_in, c_out) in enumerate(itertools.pairwise(sizes)):
        w = rng.normal(0, fixed.ONE / np.sqrt(4 * c_in), (4, c_in, c_out))
        b = rng.normal(0, fixed.ONE / 4, c_out)
        act = "relu" if i < 3 else "linear"
        layers.append(
            ConvLayer(f"c{i}", np.rint(w).astype(np.int16), np.rint(b).astype(np.int16), 4**i, act)
        )
    return Network(layers, IOSpec.default(4, 4), name=f"wide{channels}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "numerics", "kernel"),
    [
        ("default", "q12", "fused"),
        ("mcu", "q12", "fused"),
        ("random4", "q12", "cmsis"),
        ("wide40", "q12", "fused"),
        ("default", "f32", "fused"),
        ("wide24", "f32", "cmsis"),
        ("graph3", "q12", "fused"),
        ("a2_lite", "q12", "fused"),
        ("a2_lite", "f32", "fused"),
    ],
)
def test_flash_estimate_matches_the_m7_build(tmp_path, model, numerics, kernel):
    """inspect and emit estimate the engine's flash without a compiler; a real build says
    how far off that is (the fitted code-size model's largest error is 2,590 B)."""
    if model.startswith("wide"):
        net = wide_network(int(model[4:]))
    elif model.startswith("a2"):
        net = nam_network(model, "half_up")
    else:
        net = f32_network(model)
    result = emit(net, tmp_path / "emit", numerics=numerics, kernel=kernel)
    size = daisy_fit.size(m7_build.build_m7(result, M7_CACHE))
    estimated = daisy_fit.estimate(net, numerics=numerics, kernel=kernel).engine.code
    assert abs(estimated - size.footprint().code) <= daisy_fit.ESTIMATE_MARGIN


@pytest.mark.slow
def test_a_wide_net_needs_the_bootloader(tmp_path):
    net = wide_network(40)
    x = random_inputs(256, net.in_channels, 1)
    build, run = run_on_m7(net, x, tmp_path / "emit")
    fit = daisy_fit.measured(daisy_fit.size(build), stack_bytes=run.stack_bytes)
    assert fit.fits and fit.app_type == "BOOT_SRAM", fit.verdict
    assert fit.flash_bytes > 131_072
