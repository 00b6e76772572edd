"""The command line as a user drives it: sim, tone, inspect, and its error messages."""

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from netgen import random_network

import wavecomp
from wavecomp import reference
from wavecomp.cli import main
from wavecomp.ir import InputChannel, IOSpec, OutputChannel


def run(*args, ok=True):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def four_in_net(tmp_path):
    """A random 4-in network whose inputs are audio(jack0), e0(jack1), e1(None), spare(jack3)."""
    net = random_network(11)
    while net.in_channels != 4:
        net = random_network(net.metadata["seed"] + 1)
    net.io = IOSpec(
        (
            InputChannel("audio", "audio", 0),
            InputChannel("e0", "control", 1),
            InputChannel("e1", "control", None, default=0.5),
            InputChannel("spare", "unused", 3),
        ),
        tuple(OutputChannel(f"o{i}", i if i < 4 else None) for i in range(net.out_channels)),
    )
    net.validate()
    return net, net.save(tmp_path / "net.npz")


def test_sim_reference_is_bit_exact_through_codec_scaling(tmp_path, four_in_net):
    net, path = four_in_net
    rng = np.random.default_rng(3)
    codec = rng.integers(-32768, 32768, size=(3000, 2)).astype(np.int16)
    codec[:10] = 32767
    codec[10:20] = -32768
    sf.write(tmp_path / "in.wav", codec, 48000, subtype="PCM_16")
    run(
        "sim",
        "--target",
        "reference",
        tmp_path / "in.wav",
        tmp_path / "out.wav",
        "--model",
        path,
        "--cv",
        "spare=-1.25",
    )
    out, rate = sf.read(tmp_path / "out.wav", dtype="int16", always_2d=True)
    assert rate == 48000
    # independent expectation: jack0/jack1 from the WAV (>> 2), e1 its default 0.5 = 2048 raw,
    # spare from --cv (-1.25 = -5120 raw); outputs << 2, saturated to int16
    x = np.stack(
        [
            codec[:, 0].astype(np.int32) >> 2,
            codec[:, 1].astype(np.int32) >> 2,
            np.full(3000, 2048),
            np.full(3000, -5120),
        ],
        axis=1,
    ).astype(np.int16)
    y = reference.run(net, x).astype(np.int32)
    expected = np.clip(y * 4, -32768, 32767)
    assert out.shape == expected.shape
    assert np.array_equal(out, expected)


def test_sim_errors_name_the_problem(tmp_path, four_in_net):
    _, path = four_in_net
    sf.write(tmp_path / "in.wav", np.zeros(100, dtype=np.int16), 48000, subtype="PCM_16")
    r = run(
        "sim", tmp_path / "in.wav", tmp_path / "o.wav", "--model", path, "--cv", "e9=1", ok=False
    )
    assert r.exit_code != 0 and "no input called 'e9'" in r.output and "audio, e0" in r.output
    r = run(
        "sim", tmp_path / "in.wav", tmp_path / "o.wav", "--model", path, "--cv", "e0=12", ok=False
    )
    assert "outside the Q4.12 range" in r.output
    r = run("sim", tmp_path / "nope.wav", tmp_path / "o.wav", "--model", path, ok=False)
    assert "nope.wav: no such WAV file" in r.output
    r = run("sim", tmp_path / "in.wav", tmp_path / "o.wav", "--cv", "e0", ok=False)
    assert "NAME=VALUE" in r.output
    r = run(
        "sim", tmp_path / "in.wav", tmp_path / "o.wav", "--model", tmp_path / "m.onnx", ok=False
    )
    assert "unknown model format" in r.output
    assert not (tmp_path / "o.wav").exists()
    assert "Traceback" not in r.output


def test_tone_writes_the_requested_signal(tmp_path):
    run("tone", tmp_path / "t.wav", "--freq", "480", "--seconds", "0.5", "--amplitude", "1")
    data, rate = sf.read(tmp_path / "t.wav", dtype="int16")
    assert rate == 48000 and data.shape == (24000,)
    # amplitude 1.0 model unit = 4096 raw Q4.12 = 16384 codec counts
    assert data.max() == 16384 and data.min() == -16384
    # 480 Hz at 48 kHz: a period of 100 samples -> 240 rising zero crossings in 0.5 s
    rising = np.sum((data[:-1] < 0) & (data[1:] >= 0))
    assert abs(rising - 240) <= 1


def test_inspect_default_model_json():
    r = run("inspect", "--json")
    doc = json.loads(r.stdout)
    assert doc["macs_per_sample"] == 1536
    assert doc["params"] == 1572
    assert doc["receptive_field"] == 64
    assert [ch["name"] for ch in doc["io"]["inputs"]] == ["audio", "e0", "e1", "spare"]
    assert doc["max_accumulator_bits"] <= 64
    assert any(row["target"].startswith("ECP5 85F") and row["fits"] for row in doc["fit"])


def test_inspect_table_names_layers(four_in_net):
    net, path = four_in_net
    r = run("inspect", path)
    for layer in net.layers:
        assert layer.name in r.stdout
    assert f"{net.macs_per_sample:,}" in r.stdout


def test_default_model_is_shipped_and_valid():
    net = wavecomp.load()
    assert net.in_channels == 4 and net.out_channels == 4
    assert "training" in net.metadata
