"""Graph networks at the command line: inspect and the reference and RTL renders work; the MCU
backend's fused engines compile them, and its chain-only cmsis kernel refuses them by name and
writes nothing."""

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from netgen import random_graph_network

from wavecomp import fixed, reference
from wavecomp.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def graph_file(tmp_path):
    net = random_graph_network(3)
    return net, net.save(tmp_path / "graph.npz")


def test_inspect_shows_nodes_caches_and_graph_counts(graph_file):
    net, path = graph_file
    r = run("inspect", path)
    assert r.exit_code == 0, r.output
    for node in net.nodes:
        assert node.name in r.output
    s = net.summary()
    assert f"{s.identity_adds_per_sample:,} identity adds" in r.output
    assert f"{s.table_lookups_per_sample:,} table lookups" in r.output
    assert "activation caches" in r.output
    fit = json.loads(run("inspect", "--json", path).output)["fit"]
    assert [row["fits"] for row in fit] == [True, True, True, True]
    assert "MULT18X18D" in fit[0]["need"] and "DP16KD" in fit[0]["need"]
    assert "B flash" in fit[-1]["need"] and "B DTCM" in fit[-1]["need"]


def test_sim_reference_renders_a_graph_network_bit_exact(tmp_path, graph_file):
    net, path = graph_file
    rng = np.random.default_rng(5)
    codec = rng.integers(-32768, 32768, size=(2000, net.in_channels)).astype(np.int16)
    sf.write(tmp_path / "in.wav", codec, 48000, subtype="PCM_16")
    r = run(
        "sim", "--target", "reference", tmp_path / "in.wav", tmp_path / "out.wav", "--model", path
    )
    assert r.exit_code == 0, r.output
    got, _ = sf.read(tmp_path / "out.wav", dtype="int16", always_2d=True)
    x = fixed.board_to_q12(codec, net.io.input_shift)
    expected = fixed.q12_to_board(reference.run(net, x), net.io.output_shift)
    assert np.array_equal(got, expected)


@pytest.mark.slow
def test_sim_rtl_renders_a_graph_network_like_the_reference(tmp_path, graph_file):
    """`wavecomp sim --target rtl` on a graph network (through the Verilator harness) writes
    the same bytes as `--target reference`."""
    net, path = graph_file
    rng = np.random.default_rng(8)
    codec = rng.integers(-32768, 32768, size=(3000, net.in_channels)).astype(np.int16)
    sf.write(tmp_path / "in.wav", codec, 48000, subtype="PCM_16")
    files = {}
    for target in ("reference", "rtl"):
        out = tmp_path / f"{target}.wav"
        r = run("sim", "--target", target, tmp_path / "in.wav", out, path)  # MODEL positional
        assert r.exit_code == 0, r.output
        files[target] = out.read_bytes()
    assert "rtl: " in r.output and "cycles/sample" in r.output
    assert files["rtl"] == files["reference"]
    r = run("sim", tmp_path / "in.wav", tmp_path / "x.wav", path, "--model", path)
    assert r.exit_code != 0 and "two models given" in r.output


def test_sim_cmsis_renders_a_graph_network_like_the_reference(tmp_path, graph_file):
    """`wavecomp sim --target cmsis` (the fused q12 engine, built for this machine) on a graph
    network writes the same bytes as `--target reference`."""
    net, path = graph_file
    rng = np.random.default_rng(9)
    codec = rng.integers(-32768, 32768, size=(3000, net.in_channels)).astype(np.int16)
    sf.write(tmp_path / "in.wav", codec, 48000, subtype="PCM_16")
    files = {}
    for target in ("reference", "cmsis"):
        out = tmp_path / f"{target}.wav"
        r = run("sim", "--target", target, tmp_path / "in.wav", out, path)
        assert r.exit_code == 0, r.output
        files[target] = out.read_bytes()
    assert files["cmsis"] == files["reference"]


@pytest.mark.parametrize("numerics", ["q12", "f32"])
def test_chain_only_engines_refuse_graph_networks_by_name(tmp_path, graph_file, numerics):
    _, path = graph_file
    out = tmp_path / "out"
    r = run("emit-cmsis", "--out", out, "--numerics", numerics, "--kernel", "cmsis", path)
    assert r.exit_code != 0
    assert "graph network" in r.output, r.output
    assert f"--numerics {numerics} --kernel fused" in r.output, r.output
    assert "Traceback" not in r.output
    assert not out.exists()
