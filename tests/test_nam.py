"""NAM captures: our float reading of a .nam file against NAM's own forward pass, the integer
reference against NAM's float output, and named errors for every file we cannot compile.

The expected outputs in ``tests/fixtures/nam`` were computed by NAM's own code (PyPI
``neural-amp-modeler`` 0.13.0, float64, no prewarm) from files its exporter wrote; see
``tests/fixtures/nam/make_fixtures.py``.
"""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import wavecomp
from wavecomp import fixed, reference
from wavecomp.cli import main
from wavecomp.frontend.nam_file import NamError, read_nam
from wavecomp.frontend.nam_import import import_nam, output_values
from wavecomp.stimulus import strummed_chords

FIXTURES = Path(__file__).parent / "fixtures" / "nam"
QUICK = ["a1_nano", "a2_lite", "trained_a1_lite"]
"""trained_a1_lite: trained by NAM's own trainer on a made-up high-gain amp (see the fixtures'
README), so its inner tensors are as large as a real capture's, which random weights are not."""
SLOW = ["a1_feather", "a1_lite", "a1_standard", "a2_full"]
EXPECTED_OUTPUTS = {name: name for name in QUICK + SLOW} | {
    "a1_nano_v0_5": "a1_nano",  # the same weights in the 0.5.x layout
    "a2_container": "a2_full",  # a SlimmableContainer picks its largest submodel by default
}


def nam_outputs(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(input, NAM's output from first_index on, first_index) for a fixture."""
    out = np.load(FIXTURES / f"{EXPECTED_OUTPUTS[name]}_out.npz")
    x = np.load(FIXTURES / "input.npz")["input"]
    return x, out["output"].astype(np.float64), int(out["first_index"])


def test_fixture_input_is_the_standard_test_signal():
    x, _, _ = nam_outputs("a1_nano")
    assert np.array_equal(x, strummed_chords())


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUTS))
def test_float_reading_matches_nams_forward_pass(name):
    x, expected, first = nam_outputs(name)
    graph = read_nam(FIXTURES / f"{name}.nam").graph
    assert graph.receptive_field == first + 1
    got = graph.forward(x)[first:, 0]
    assert np.abs(got - expected).max() <= 1e-6 * np.abs(expected).max()


def test_container_submodels_can_be_picked():
    x, expected, first = nam_outputs("a2_lite")
    lite = read_nam(FIXTURES / "a2_container.nam", submodel=0)
    assert lite.submodel.startswith("submodel 0 of 2")
    assert (
        np.abs(lite.graph.forward(x)[first:, 0] - expected).max() <= 1e-6 * np.abs(expected).max()
    )
    with pytest.raises(NamError, match=r"--submodel 5: this SlimmableContainer has submodels 0..1"):
        read_nam(FIXTURES / "a2_container.nam", submodel=5)
    with pytest.raises(NamError, match=r"--submodel 1 given, but this is a WaveNet"):
        read_nam(FIXTURES / "a2_lite.nam", submodel=1)


def _check_quality(name):
    """ESR of the integer reference against NAM's own float output, after the receptive field."""
    x, expected, first = nam_outputs(name)
    net, report = import_nam(FIXTURES / f"{name}.nam")
    codec = fixed.wav_to_board(x).reshape(-1, 1)
    got = output_values(net, reference.run(net, codec))[first:, 0]
    esr = np.sum((got - expected) ** 2) / np.sum(expected**2)
    assert esr <= 1e-4, f"{name}: ESR {esr:.2e}"
    assert not any(report.clipped.values()), report.clipped
    assert report.comparisons[1].esr <= 1e-4


@pytest.mark.parametrize("name", QUICK)
def test_integer_reference_is_within_1e_4_esr_of_nam(name):
    _check_quality(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_integer_reference_is_within_1e_4_esr_of_nam_slow(name):
    _check_quality(name)


def test_wavecomp_load_and_reference_agree_streaming_and_batch():
    net = wavecomp.load(FIXTURES / "a1_nano.nam")
    assert not net.is_chain and net.metadata["nam_import"]["nam_version"] == "0.7.0"
    x = fixed.wav_to_board(strummed_chords(seconds=0.1)).reshape(-1, 1)  # rings of 2,048 wrap
    assert np.array_equal(reference.run(net, x), reference.run(net, x, engine="stream"))


# ---- bad files ----------------------------------------------------------------------------------
def _nano() -> dict:
    return json.loads((FIXTURES / "a1_nano.nam").read_text())


def _edit(edit) -> dict:
    doc = copy.deepcopy(_nano())
    edit(doc)
    return doc


def _layer_array(doc):
    return doc["config"]["layers"][0]


BAD_FILES = {
    "weight count": (
        lambda d: d["weights"].pop(),
        r"weight count mismatch",
    ),
    "extra weights": (
        lambda d: d["weights"].append(0.5),
        r"weight count mismatch: the config uses",
    ),
    "unknown activation": (
        lambda d: _layer_array(d)["activation"].__setitem__(2, {"type": "Swish"}),
        r"layer array 0 layer 2: activation 'Swish' is not supported",
    ),
    "FiLM": (
        lambda d: _layer_array(d)["conv_pre_film"].__setitem__("active", True),
        r"layer array 0: FiLM \(conv_pre_film\) is not supported",
    ),
    "groups": (
        lambda d: _layer_array(d).__setitem__("groups_input", 2),
        r"layer array 0: groups_input = 2; grouped convs",
    ),
    "bottleneck": (
        lambda d: _layer_array(d).__setitem__("bottleneck", 2),
        r"layer array 0: bottleneck 2 != channels 4",
    ),
    "gating mode": (
        lambda d: _layer_array(d)["gating_mode"].__setitem__(1, "blended"),
        r"layer array 0 layer 1: gating mode 'blended' is not supported",
    ),
    "condition_dsp": (
        lambda d: d["config"].__setitem__("condition_dsp", {"architecture": "Linear"}),
        r"condition_dsp .* is not supported",
    ),
    "two inputs": (
        lambda d: _layer_array(d).__setitem__("input_size", 2),
        r"layer array 0: input_size 2; more than one input channel",
    ),
    "LSTM": (
        lambda d: d.__setitem__("architecture", "LSTM"),
        r"architecture 'LSTM' is not supported",
    ),
    "old version": (
        lambda d: d.__setitem__("version", "0.4.0"),
        r"file version '0.4.0' is not supported",
    ),
    "post-stack head": (
        lambda d: d["config"].__setitem__("head", {"channels": 8}),
        r"config.head \(a post-stack head",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_nam_files_get_a_named_error(tmp_path, case):
    edit, match = BAD_FILES[case]
    path = tmp_path / "bad.nam"
    path.write_text(json.dumps(_edit(edit)))
    with pytest.raises(
        NamError, match=rf"bad\.nam: .*{match}" if not match.startswith("^") else match
    ):
        read_nam(path)


def test_malformed_json_is_named(tmp_path):
    path = tmp_path / "broken.nam"
    path.write_text((FIXTURES / "a1_nano.nam").read_text()[:500])
    with pytest.raises(NamError, match=r"broken\.nam: not valid JSON \(line \d+"):
        read_nam(path)


def test_cli_refuses_a_bad_capture_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.nam"
    path.write_text(json.dumps(_edit(lambda d: d["weights"].pop())))
    sf.write(tmp_path / "in.wav", np.zeros(100, np.int16), 48000, subtype="PCM_16")
    r = CliRunner().invoke(
        main,
        [
            "sim",
            "--target",
            "reference",
            str(tmp_path / "in.wav"),
            str(tmp_path / "out.wav"),
            "--model",
            str(path),
        ],
    )
    assert r.exit_code != 0 and "weight count mismatch" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "out.wav").exists()


def test_cli_inspects_and_renders_a_capture(tmp_path):
    capture = FIXTURES / "a1_nano.nam"
    r = CliRunner().invoke(main, ["inspect", str(capture)])
    assert r.exit_code == 0, r.output
    assert "NAM float vs integer reference" in r.output and "ESR" in r.output
    x = fixed.wav_to_board(strummed_chords(seconds=0.3))
    sf.write(tmp_path / "in.wav", x, 48000, subtype="PCM_16")
    r = CliRunner().invoke(
        main,
        [
            "sim",
            "--target",
            "reference",
            str(tmp_path / "in.wav"),
            str(tmp_path / "out.wav"),
            "--model",
            str(capture),
        ],
    )
    assert r.exit_code == 0, r.output
    got, _ = sf.read(tmp_path / "out.wav", dtype="int16")
    net = wavecomp.load(capture)
    expected = fixed.q12_to_board(reference.run(net, x.reshape(-1, 1)), net.io.output_shift)
    assert np.array_equal(got, expected[:, 0])


def test_import_command_writes_model_and_report(tmp_path):
    capture = FIXTURES / "a2_lite.nam"
    out = tmp_path / "imported"
    r = CliRunner().invoke(main, ["import", str(capture), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} >= {
        "model.npz",
        "report.md",
        "report.json",
        "error.png",
        "headroom.png",
    }
    model = wavecomp.load(out / "model.npz")
    assert model.fingerprint() == wavecomp.load(capture).fingerprint()
    report = json.loads((out / "report.json").read_text())
    assert report["import"]["comparisons"][1]["esr"] <= 1e-4
    text = (out / "report.md").read_text()
    assert "after the first 6,347" in text and "No tensor clips" in text


def test_import_command_leaves_nothing_on_a_bad_capture(tmp_path):
    path = tmp_path / "bad.nam"
    path.write_text(json.dumps(_edit(lambda d: d.__setitem__("architecture", "ConvNet"))))
    out = tmp_path / "imported"
    r = CliRunner().invoke(main, ["import", str(path), "--out", str(out)])
    assert r.exit_code != 0 and "architecture 'ConvNet' is not supported" in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_cli_renders_a_capture_on_the_mcu_engine_and_emits_a_pedal(tmp_path):
    """`sim --target cmsis` on a .nam capture (the fused q12 engine, built for this machine)
    writes the same bytes as `--target reference`; `emit-cmsis --board pod` writes the pedal."""
    capture = FIXTURES / "a2_lite.nam"
    x = fixed.wav_to_board(strummed_chords(seconds=0.2))
    sf.write(tmp_path / "in.wav", x, 48000, subtype="PCM_16")
    for target in ("reference", "cmsis"):
        out = tmp_path / f"{target}.wav"
        r = CliRunner().invoke(
            main, ["sim", "--target", target, str(tmp_path / "in.wav"), str(out), str(capture)]
        )
        assert r.exit_code == 0, r.output
    assert (tmp_path / "cmsis.wav").read_bytes() == (tmp_path / "reference.wav").read_bytes()
    r = CliRunner().invoke(
        main, ["emit-cmsis", "--board", "pod", "--out", str(tmp_path / "pedal"), str(capture)]
    )
    assert r.exit_code == 0, r.output
    main_cpp = (tmp_path / "pedal" / "daisy" / "main.cpp").read_text()
    assert '#include "daisy_pod.h"' in main_cpp and "hw.button1.RisingEdge()" in main_cpp
