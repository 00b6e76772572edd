"""wavecomp emit-cmsis: what the emitted folder holds, determinism, weight layout, errors.

Nothing here compiles C++ (tests/test_mcu_host.py does); the Makefile is exercised with GNU
make against a stub of libDaisy's core Makefile.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from netgen import random_graph_network, random_network

import wavecomp
from wavecomp import fixed
from wavecomp.cli import main
from wavecomp.ir import ConvLayer, ConvSource, IOSpec, Network, Node
from wavecomp.mcu import cmsis_dsp, emit, graph_plan, plan
from wavecomp.output_dir import OutputFolderError

COMBOS = list(itertools.product(plan.NUMERICS, plan.KERNELS))


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def one_layer(weights: np.ndarray, bias: np.ndarray, activation: str = "linear") -> Network:
    layer = ConvLayer("conv", weights.astype(np.int16), bias.astype(np.int16), 1, activation)
    return Network([layer], IOSpec.default(weights.shape[1], weights.shape[2]), name="one")


# ---- the folder -------------------------------------------------------------------------------
@pytest.mark.parametrize(("numerics", "kernel"), COMBOS)
def test_emit_is_deterministic(tmp_path, numerics, kernel):
    net = wavecomp.load()
    a = emit.emit(net, tmp_path / "a", numerics=numerics, kernel=kernel)
    b = emit.emit(net, tmp_path / "b", numerics=numerics, kernel=kernel)
    first = tree(a.out_dir)
    assert first == tree(b.out_dir)
    emit.emit(net, tmp_path / "a", numerics=numerics, kernel=kernel)  # regenerate in place
    assert tree(a.out_dir) == first
    assert sorted(first) == sorted(str(p) for p in a.files)


def test_emit_result_is_the_build_contract(tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out", kernel="cmsis")
    assert result.engine_dir == tmp_path / "out" / "engine"
    assert result.engine_sources == [result.engine_dir / "wavecomp_engine.cpp"]
    assert all(p.is_file() for p in result.engine_sources)
    assert result.include_dirs == [result.engine_dir, result.engine_dir / "cmsis_shim"]
    assert (result.engine_dir / "cmsis_shim" / "cmsis_compiler.h").is_file()
    assert result.cmsis_sources == ["Source/BasicMathFunctions/arm_dot_prod_q15.c"]
    assert result.defines == ["ARM_MATH_CM7", "ARM_MATH_LOOPUNROLL"]
    header = (result.engine_dir / "wavecomp_engine.h").read_text()
    for line in (
        "constexpr int kInputs = 4;",
        "constexpr int kOutputs = 4;",
        "using sample_t = int16_t;",
        "void engine_reset();",
        "void engine_step(const sample_t* in, sample_t* out);",
    ):
        assert line in header
    fused = emit.emit(wavecomp.load(), tmp_path / "fused")
    assert fused.cmsis_sources == []
    f32 = emit.emit(wavecomp.load(), tmp_path / "f32", numerics="f32")
    assert "using sample_t = float;" in (f32.engine_dir / "wavecomp_engine.h").read_text()


def test_default_model_needs_checked_accumulators(tmp_path):
    """The default model's static bounds exceed 2^31 in layers 0 and 1: their int32 sums must be
    checked (the contract forbids assuming they fit); layer 2's bound proves int32 exact."""
    net = wavecomp.load()
    bounds = [int(b.max()) for b in net.accumulator_bounds()]
    assert min(bounds[:2]) >= 2**31 > bounds[2]
    result = emit.emit(net, tmp_path / "out")
    checked = "int32 SMLAD, Q-checked (int64 redo)"
    assert [r.accumulator for r in result.summary.rows] == [checked, checked, "int32 SMLAD"]
    cpp = (result.engine_dir / "wavecomp_engine.cpp").read_text()
    assert cpp.count("AccWidth::narrow") == 1 and cpp.count("AccWidth::checked") == 2


def test_report_and_readme(tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out", sample_rate=96_000)
    report = (result.out_dir / "report.md").read_text()
    assert "1,536 MACs/sample" in report and "5,000 CPU cycles per sample" in report
    weights = result.summary.weight_bytes
    assert f"{weights:,} B" in report or f"{weights / 1024:,.1f}" in report
    readme = (result.out_dir / "README.md").read_text()
    for fact in ("LIBDAISY_DIR", "make program-dfu", "RATE=96000", "CTRL_1", "`e0`", "in[0]"):
        assert fact in readme
    # weights: 4 bytes per packed pair per output and tap, plus a 4-byte bias term per output
    assert weights == 4 * (4 * 2 * 16 + 4 * 8 * 16 + 4 * 8 * 4) + 4 * (16 + 16 + 4)
    # stores: the input and layers 0 and 1 keep rings of span (K-1)*d + 1 = 4, 13 and 49
    # columns (pairs of channels, every column twice); layer 2 writes the outputs directly
    assert result.summary.cache_bytes == 2 * 4 * (4 * 2 + 13 * 8 + 49 * 8)


def test_daisy_main_follows_the_io_spec(tmp_path):
    main_cpp = (
        emit.emit(wavecomp.load(), tmp_path / "o").out_dir / "daisy" / "main.cpp"
    ).read_text()
    for fact in (
        "patch.Init(true)",
        "patch.SetAudioSampleRate(kSaiRate)",
        "cpu_load.OnBlockStart()",
        "cpu_load.GetAvgCpuLoad()",
        "x[0] = from_audio(in[0][i]);  // audio",
        "x[1] = from_model_units(kControlLo + knobs[0] * (kControlHi - kControlLo));  // e0",
        "x[2] = from_model_units(kControlLo + knobs[1] * (kControlHi - kControlLo));  // e1",
        "x[3] = from_model_units(0.0f);  // spare (unused)",
        "wavecomp::engine_step(x, y);",
        "out[3][i] = to_audio(y[3]);  // voice3",
        "#define WAVECOMP_SAMPLE_RATE 48000",
    ):
        assert fact in main_cpp, fact


def test_node_weight_stream_order():
    """Decode the packed stream with the documented order and get every weight back once:
    per group of four pre-activations, per conv source, per tap, per channel pair."""
    rng = np.random.default_rng(7)
    for c_pre, inputs in [(7, [(5, 3), (1, 1)]), (3, [(4, 2)]), (2, [(1, 3), (6, 1), (3, 2)])]:
        sources = tuple(
            ConvSource("input", rng.integers(-32768, 32768, (k, c, c_pre)).astype(np.int16), 2)
            for c, k in inputs
        )
        node = Node("n", sources, np.zeros(c_pre, np.int16))
        stream = iter(graph_plan.node_weight_stream(node).tolist())
        for o0 in range(0, c_pre, 4):
            for source in sources:
                k_size, c_in, _ = source.weights.shape
                pairs = (c_in + 1) // 2
                padded = np.zeros((k_size, 2 * pairs, c_pre), np.int64)
                padded[:, :c_in] = source.weights
                for k in range(k_size):
                    for p in range(pairs):
                        for o in range(o0, min(o0 + 4, c_pre)):
                            word = next(stream)
                            low = np.int16(np.uint16(word & 0xFFFF))
                            high = np.int16(np.uint16(word >> 16))
                            assert (low, high) == (padded[k, 2 * p, o], padded[k, 2 * p + 1, o])
        assert next(stream, None) is None


def test_packed_knots_pair_each_knot_with_the_next():
    table = fixed.tanh_table()
    words = graph_plan.packed_knots(table)
    assert words.shape == (1024,)
    low = (words & 0xFFFF).astype(np.uint16).view(np.int16)
    high = (words >> 16).astype(np.uint16).view(np.int16)
    assert np.array_equal(low, table[:-1]) and np.array_equal(high, table[1:])


def test_accumulator_width_follows_the_static_bound():
    # the bound B = |bias| * 2^(12+e) + R_e + sum|W| * M_X: int32 proved exact strictly below
    # 2^31, Q-checked int32 with an int64 redo up to 2^62, refused beyond
    assert graph_plan.node_width("n", 2**31 - 1) == "narrow"
    assert graph_plan.node_width("n", 2**31) == "checked"
    assert graph_plan.node_width("n", 2**62 - 1) == "checked"
    with pytest.raises(plan.EmitError, match=r"node 'n': accumulator bound .* more than 63"):
        graph_plan.node_width("n", 2**62)
    # the bias and, for half_up, R = 2^11 count too
    w = np.array([[[32767], [32767]]])  # sum|W| * 32768 = 2^31 - 2^16
    assert accumulator(one_layer(w, np.zeros(1)), "half_up") == "narrow"
    assert accumulator(one_layer(w, np.array([16])), "floor") == "checked"


def accumulator(net: Network, rounding: fixed.Rounding) -> str:
    return graph_plan.plan_graph(net, rounding).nodes[0].width


def test_graph_networks_need_a_fused_engine(tmp_path):
    net = random_graph_network(0)
    for numerics in plan.NUMERICS:
        with pytest.raises(plan.EmitError, match=f"--numerics {numerics} --kernel fused"):
            emit.emit(net, tmp_path / "out", numerics=numerics, kernel="cmsis")
    assert not (tmp_path / "out").exists()
    for numerics in plan.NUMERICS:
        emit.emit(net, tmp_path / numerics, numerics=numerics)
        assert (tmp_path / numerics / "engine" / "wavecomp_engine.cpp").is_file()


# ---- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"numerics": "q15"}, "numerics 'q15' is not supported: use one of q12, f32"),
        ({"kernel": "neon"}, "kernel 'neon' is not supported"),
        ({"rounding": "trunc"}, "rounding 'trunc' is not supported"),
        (
            {"sample_rate": 44_100},
            "sample rate 44100 Hz: the Daisy firmware runs at 48000 or 96000",
        ),
    ],
)
def test_bad_options(tmp_path, options, message):
    with pytest.raises(plan.EmitError, match=message.replace("(", r"\(")):
        emit.emit(wavecomp.load(), tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_refuses_foreign_and_unwritable_folders(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(OutputFolderError, match="not empty and was not written by wavecomp"):
        emit.emit(wavecomp.load(), foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputFolderError, match="exists and is not a folder"):
        emit.emit(wavecomp.load(), a_file)
    with pytest.raises(OutputFolderError, match="cannot write to"):
        emit.emit(wavecomp.load(), a_file / "sub" / "out")


def test_failure_leaves_no_half_written_folder(tmp_path, monkeypatch):
    good = emit.emit(wavecomp.load(), tmp_path / "out")
    before = tree(good.out_dir)
    real = Path.write_bytes
    calls = []

    def flaky(self, data):
        calls.append(self)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)
    with pytest.raises(OutputFolderError, match="No space left on device"):
        emit.emit(random_network(1), tmp_path / "out")
    monkeypatch.undo()
    assert tree(good.out_dir) == before  # the old project is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folders left


def test_unholdable_bound_is_rejected(tmp_path, monkeypatch):
    """No real array reaches 2^62 (it takes 2^32 full-scale weights per output), so lower the
    limit to see the error the emitter gives instead of wrapping."""
    net = one_layer(np.full((2, 3, 1), -32768), np.zeros(1))
    monkeypatch.setattr(graph_plan, "INT64_LIMIT", 2**31)
    with pytest.raises(plan.EmitError, match=r"node 'conv': accumulator bound .* more than 63"):
        emit.emit(net, tmp_path / "out")
    monkeypatch.setattr(plan, "INT64_LIMIT", 2**31)
    with pytest.raises(plan.EmitError, match=r"layer 'conv': accumulator bound .* more than 63"):
        emit.emit(net, tmp_path / "out", kernel="cmsis")
    assert not (tmp_path / "out").exists()


# ---- the Daisy Makefile against a stub of libDaisy's core Makefile -----------------------------
STUB_CORE_MAKEFILE = """\
# Test stand-in for libDaisy's core/Makefile: the variable handling that matters here.
BUILD_DIR = build
C_SOURCES += $(SYSTEM_FILES_DIR)/startup_stm32h750xx.c
C_DEFS ?=
C_DEFS += -DUSE_HAL_DRIVER
C_INCLUDES ?=
C_INCLUDES += -I$(LIBDAISY_DIR)/src/
CPP_STANDARD ?= -std=gnu++14
OPT ?= -O2
CFLAGS = $(C_DEFS) $(C_INCLUDES) $(OPT) -Wall
CPPFLAGS = $(CFLAGS)
CPPFLAGS += -fno-exceptions -fno-rtti
show:
\t@echo "TARGET=$(TARGET)"
\t@echo "CPP_SOURCES=$(CPP_SOURCES)"
\t@echo "C_SOURCES=$(C_SOURCES)"
\t@echo "CPPFLAGS=$(CPPFLAGS) $(CPP_STANDARD)"
\t@echo "APP_TYPE=$(APP_TYPE)"
OBJECTS = $(addprefix $(BUILD_DIR)/,$(notdir $(CPP_SOURCES:.cpp=.o)))
"""


def make_show(project: Path, libdaisy: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "-C", str(project), f"LIBDAISY_DIR={libdaisy}", *extra, "show"],
        capture_output=True,
        text=True,
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_daisy_makefile_variables(tmp_path):
    libdaisy = tmp_path / "libDaisy"
    (libdaisy / "core").mkdir(parents=True)
    (libdaisy / "core" / "Makefile").write_text(STUB_CORE_MAKEFILE)
    result = emit.emit(wavecomp.load(), tmp_path / "out", kernel="cmsis")
    daisy = result.out_dir / "daisy"
    text = (daisy / "Makefile").read_text()
    assert "LIBDAISY_DIR ?=" in text and "SYSTEM_FILES_DIR = $(LIBDAISY_DIR)/core" in text
    run = make_show(daisy, libdaisy)
    assert run.returncode == 0, run.stderr
    shown = dict(line.split("=", 1) for line in run.stdout.splitlines())
    assert shown["TARGET"] == "wavecomp_fpga"
    assert shown["CPP_SOURCES"].split() == ["main.cpp", "../engine/wavecomp_engine.cpp"]
    assert "Functions.c" not in shown["C_SOURCES"]  # single files, not the aggregates
    assert shown["C_SOURCES"].split() == [
        f"{libdaisy}/Drivers/CMSIS-DSP/Source/BasicMathFunctions/arm_dot_prod_q15.c",
        f"{libdaisy}/core/startup_stm32h750xx.c",
    ]
    flags = shown["CPPFLAGS"].split()
    for flag in (
        "-DARM_MATH_CM7",
        "-DARM_MATH_LOOPUNROLL",
        "-DWAVECOMP_SAMPLE_RATE=48000",
        "-I../engine",
        "-ffp-contract=off",
        "-O3",
        "-std=gnu++17",
    ):
        assert flag in flags, flag
    assert "cmsis_shim" not in " ".join(flags)  # libDaisy brings the real CMSIS Core
    assert shown["APP_TYPE"] == "BOOT_NONE"  # the default model fits the internal flash
    assert "-DWAVECOMP_SAMPLE_RATE=96000" in make_show(daisy, libdaisy, "RATE=96000").stdout
    bad = make_show(daisy, libdaisy, "RATE=44100")
    assert bad.returncode != 0 and "RATE=44100: the Daisy firmware runs at 48000 or 96000" in (
        bad.stderr
    )


# ---- CMSIS-DSP fetching -----------------------------------------------------------------------
def test_cmsis_dsp_rejects_a_wrong_sdist(tmp_path, monkeypatch):
    fake = tmp_path / cmsis_dsp.SDIST_NAME
    fake.write_bytes(b"not the sdist")
    monkeypatch.setenv(cmsis_dsp.SDIST_ENV, str(fake))
    with pytest.raises(cmsis_dsp.CmsisDspError, match="is not the pinned"):
        cmsis_dsp.ensure(tmp_path / "cache")
    assert not (tmp_path / "cache" / f"cmsis-dsp-{cmsis_dsp.VERSION}").exists()
    monkeypatch.setenv(cmsis_dsp.SDIST_ENV, str(tmp_path / "missing.tar.gz"))
    with pytest.raises(cmsis_dsp.CmsisDspError, match="no such file"):
        cmsis_dsp.ensure(tmp_path / "cache")


def test_cmsis_dsp_sources():
    dsp = cmsis_dsp.ensure()
    assert dsp.source("Source/BasicMathFunctions/arm_dot_prod_q15.c").is_file()
    assert all(d.is_dir() for d in dsp.include_dirs)
    with pytest.raises(cmsis_dsp.CmsisDspError, match=r"has no Source/Nope\.c"):
        dsp.source("Source/Nope.c")
    assert cmsis_dsp.ensure().root == dsp.root  # cached: no second download


# ---- CLI --------------------------------------------------------------------------------------
def test_cli_emit_cmsis(tmp_path):
    runner = CliRunner()
    out = tmp_path / "daisy_out"
    args = ["emit-cmsis", "--kernel", "cmsis", "--rate", "96000", "--out", str(out)]
    run = runner.invoke(main, args)
    assert run.exit_code == 0, run.output
    assert "dot_prod_q15" in run.output and "daisy/Makefile" in run.output
    assert "RATE ?= 96000" in (out / "daisy" / "Makefile").read_text()
    run = runner.invoke(main, ["emit-cmsis", "--numerics", "f32", "--rounding", "floor"])
    assert run.exit_code == 2 and "--numerics f32 has none" in run.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    run = runner.invoke(main, ["emit-cmsis", "--out", str(tmp_path / "taken")])
    assert run.exit_code == 1 and "refuses to replace it" in run.output
    assert "Traceback" not in run.output
    run = runner.invoke(main, ["emit-cmsis", "--help"])
    assert run.exit_code == 0 and "--numerics [q12|f32]" in run.output


def test_a_network_too_big_for_the_daisy_is_refused(tmp_path):
    """A store no Daisy memory holds (a 400,001-column ring): refused before anything is
    written, the memory named with its shortfall in bytes; f32 also hears that q12 is smaller."""
    net = one_layer(np.ones((2, 8, 8)), np.zeros(8))
    net = Network(
        [
            Node(
                "wide",
                (ConvSource("input", net.nodes[0].sources[0].weights, 400_000),),
                net.nodes[0].bias,
            )
        ],
        IOSpec.default(8, 8),
        name="too_big",
    )
    for numerics in plan.NUMERICS:
        with pytest.raises(
            plan.EmitError, match=r"SRAM needs [\d,]+ B of its .*: [\d,]+ B short"
        ) as err:
            emit.emit(net, tmp_path / "out", numerics=numerics)
        assert ("--numerics q12" in str(err.value)) == (numerics == "f32")
        assert not (tmp_path / "out").exists()


def test_an_engine_beyond_the_instruction_cache_is_flagged() -> None:
    """The fused engine is straight-line code run once per sample: QEMU's instruction count
    does not see the fetches once it outgrows the M7's 16 KB instruction cache, and under
    BOOT_QSPI the code runs from QSPI flash. The fit says so; a small engine hears nothing."""
    from netgen import nam_network

    from wavecomp.mcu import daisy_fit

    small = daisy_fit.estimate(wavecomp.load())
    assert not any("instruction cache" in note for note in small.notes)
    big = daisy_fit.estimate(nam_network("a2_full", "half_up", seed=3))
    assert big.app_type == "BOOT_QSPI"
    warning = next(note for note in big.notes if "instruction cache" in note)
    assert "QSPI flash" in warning and "not to run in real time" in warning
    assert warning in big.verdict
