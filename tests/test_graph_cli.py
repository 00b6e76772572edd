"""Graph networks at the command line: inspect and the reference render work; the backends
that compile plain chains only refuse them by name and write nothing."""

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
    assert [row["fits"] for row in fit] == [False, False]
    assert "not yet supported by the FPGA backend" in fit[0]["need"]


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


@pytest.mark.parametrize(
    ("args", "backend"),
    [
        (("build", "--target", "ecp5", "--out", "{out}", "{model}"), "the FPGA backend"),
        (("emit-cmsis", "--out", "{out}", "{model}"), "the MCU backend"),
        (("sim", "--target", "rtl", "{wav}", "{out}.wav", "--model", "{model}"), "the RTL backend"),
        (
            ("sim", "--target", "cmsis", "{wav}", "{out}.wav", "--model", "{model}"),
            "the MCU backend",
        ),
    ],
)
def test_chain_only_backends_refuse_graph_networks_by_name(tmp_path, graph_file, args, backend):
    net, path = graph_file
    wav = tmp_path / "in.wav"
    sf.write(wav, np.zeros((100, net.in_channels), np.int16), 48000, subtype="PCM_16")
    out = tmp_path / "out"
    r = run(*(a.format(out=out, wav=wav, model=path) for a in args))
    assert r.exit_code != 0
    assert f"{backend}" in r.output and "graph network" in r.output, r.output
    assert "Traceback" not in r.output
    assert not out.exists() and not (tmp_path / "out.wav").exists()
