"""Frontend: specs/presets, the QKeras grid == Q4.12, build/save/load, import, and its bounds.

Expected sizes are worked out by hand in the comments. TensorFlow is imported once (module
fixtures share the built models) so the file stays well under a minute.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before anything imports tensorflow
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from wavecomp import fixed, reference
from wavecomp.frontend import (
    PRESETS,
    FrontendError,
    LayerSpec,
    ModelSpec,
    SpecError,
    format_layers,
    parse_layers,
)
from wavecomp.ir import InputChannel, IOSpec, IRError, Network, OutputChannel
from wavecomp.stimulus import random_inputs

LSB = 2.0**-12


# ---- specs and presets (no TensorFlow) -------------------------------------------------------
def test_fpga_preset_sizes():
    spec = PRESETS["fpga"]
    # params: 4*4*16+16=272, 4*16*16+16=1040, 4*16*4+4=260 -> 1572
    # MACs: 256 + 1024 + 256 = 1536; receptive field 1 + 3*1 + 3*4 + 3*16 = 64
    assert (spec.params, spec.macs_per_sample, spec.receptive_field) == (1572, 1536, 64)
    assert (spec.in_channels, spec.out_channels) == (4, 4)
    assert [ch.name for ch in spec.io.inputs] == ["audio", "e0", "e1", "spare"]
    assert [ch.kind for ch in spec.io.inputs] == ["audio", "control", "control", "unused"]
    assert [ch.jack for ch in spec.io.inputs] == [0, 1, 2, 3]
    assert [(ch.name, ch.jack) for ch in spec.io.outputs] == [
        ("voice0", 0),
        ("voice1", 1),
        ("voice2", 2),
        ("voice3", 3),
    ]
    assert spec.layer_names() == ("qconv_0", "qconv_1", "qconv_2")
    assert spec.io.sample_rate == 48000


def test_mcu_preset_sizes():
    spec = PRESETS["mcu"]
    # params: c0a 4*3*4+4=52, c0b 20, c1a 68, c1b 20, c2a 68, c2b 20, c3a 4*4*8+8=136,
    # c3b 72, y_pred 9 -> 465. MACs: 48+16+64+16+64+16+128+64+8 = 424.
    # receptive field: 1 + 3*1 + 3*4 + 3*16 + 3*64 = 256
    assert (spec.params, spec.macs_per_sample, spec.receptive_field) == (465, 424, 256)
    assert (spec.in_channels, spec.out_channels) == (3, 1)
    assert [(ch.name, ch.kind, ch.jack) for ch in spec.io.inputs] == [
        ("audio", "audio", 0),
        ("e0", "control", 1),
        ("e1", "control", 2),
    ]
    assert [(ch.name, ch.jack) for ch in spec.io.outputs] == [("out", 0)]
    assert spec.layer_names()[-1] == "y_pred"


def test_parse_layers_defaults_and_round_trip():
    layers = parse_layers("4x1:16, 4x4:16 ,4x16:4")
    assert layers == (
        LayerSpec(4, 1, 16, "relu"),
        LayerSpec(4, 4, 16, "relu"),
        LayerSpec(4, 16, 4, "linear"),  # the last layer defaults to linear
    )
    text = "4x1:16:relu,4x4:16:relu,4x16:4:linear"
    assert format_layers(layers) == text
    assert parse_layers(text) == layers
    assert parse_layers("1:8:linear,3x2:1:relu") == (
        LayerSpec(1, 1, 8, "linear"),
        LayerSpec(3, 2, 1, "relu"),
    )
    for spec in PRESETS.values():
        unnamed = tuple(
            LayerSpec(ly.kernel_size, ly.dilation, ly.filters, ly.activation) for ly in spec.layers
        )
        assert parse_layers(format_layers(spec.layers)) == unnamed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["empty"]),
        ("4x1:16,,4x2:4", ["empty"]),
        ("4x1", ["layer 0", "'4x1'", "KxD:F"]),
        ("4x1:16:tanh", ["layer 0", "tanh", "relu or linear"]),
        ("4x1:16,ax2:4", ["layer 1", "'ax2:4'", "kernel size", "not an integer"]),
        ("4x0:16", ["dilation", ">= 1"]),
        ("4x1:0", ["filters", ">= 1"]),
        ("4x1x2:3", ["layer 0", "KxD"]),
    ],
)
def test_parse_layers_errors_point_at_the_item(text, words):
    with pytest.raises(SpecError) as err:
        parse_layers(text)
    message = str(err.value)
    for word in words:
        assert word in message
    assert "4x1:16:relu" in message or "KxD" in message  # shows an example / the syntax


def test_spec_validate_names_the_layer():
    io = IOSpec.default(2, 3)
    with pytest.raises(SpecError, match=r"layer 1 'b'.*filters"):
        ModelSpec(
            "m", io, (LayerSpec(3, 1, 4, "relu", "a"), LayerSpec(1, 1, 0, "linear", "b"))
        ).validate()
    with pytest.raises(SpecError, match=r"3 output channels.*'qconv_1' has 2 filters"):
        ModelSpec("m", io, (LayerSpec(3, 1, 4, "relu"), LayerSpec(1, 1, 2, "linear"))).validate()
    with pytest.raises(SpecError, match=r"layer 1 'x'.*used twice"):
        ModelSpec(
            "m", io, (LayerSpec(3, 1, 4, "relu", "x"), LayerSpec(1, 1, 3, "linear", "x"))
        ).validate()


def test_importing_wavecomp_and_frontend_does_not_import_tensorflow():
    code = (
        "import sys, wavecomp, wavecomp.ir, wavecomp.frontend, wavecomp.frontend.spec, "
        "wavecomp.frontend.keras_env, wavecomp.frontend.qkeras_model, "
        "wavecomp.frontend.importer, wavecomp.frontend.train, wavecomp.cli\n"
        "heavy = ('tensorflow', 'tf_keras', 'qkeras', 'matplotlib')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- TensorFlow from here on -----------------------------------------------------------------
@pytest.fixture(scope="module")
def ns():
    from wavecomp.frontend.keras_env import import_tf

    return import_tf()


def _qb(ns, *args, **kwargs):
    quantizer = ns.qkeras.quantized_bits(*args, **kwargs)
    return lambda x: np.asarray(quantizer(np.asarray(x, dtype=np.float32)), dtype=np.float64)


def _qrelu(ns, *args):
    quantizer = ns.qkeras.quantized_relu(*args)
    return lambda x: np.asarray(quantizer(np.asarray(x, dtype=np.float32)), dtype=np.float64)


def _float32_sweep() -> np.ndarray:
    """Every grid point and every half-LSB tie in [-8.5, 8.5], range-end neighbours, randoms."""
    k = np.arange(-(1 << 15) - 2048, (1 << 15) + 2048, dtype=np.float64)
    grid = k * LSB
    ties = (k + 0.5) * LSB  # exact in float32 (at most 17 significant bits)
    ends = []
    for end in (-8.0, 8.0 - LSB, 8.0, -8.0 - LSB / 2, 8.0 - LSB / 2):
        e = np.float32(end)
        ends += [e, np.nextafter(e, np.float32(-1e9)), np.nextafter(e, np.float32(1e9))]
    rng = np.random.default_rng(20240)
    randoms = [
        rng.uniform(-9.0, 9.0, 200_000),
        rng.normal(0.0, 0.3, 100_000),
        np.sign(rng.normal(size=20_000)) * 10.0 ** rng.uniform(-6, 3.6, 20_000),  # up to ~4000
        -(10.0 ** rng.uniform(-6, math.log10(2.0**27), 20_000)),
        [4103.999, -(2.0**27), 1e-30, -1e-30, 0.0, -0.0],
    ]
    x = np.concatenate([grid, ties, np.array(ends, dtype=np.float64), *map(np.ravel, randoms)])
    x = x.astype(np.float32)
    return x[(x >= -(2.0**27)) & (x < 4104.0)]


def test_qkeras_weight_quantizer_grid_is_q412(ns):
    x = _float32_sweep()
    expected = fixed.from_q12(fixed.to_q12(x.astype(np.float64)))
    got = _qb(ns, 16, 3, alpha=1)(x)
    mismatch = np.flatnonzero(got != expected)
    assert mismatch.size == 0, (x[mismatch[:5]], got[mismatch[:5]], expected[mismatch[:5]])
    # the canonical string in fixed.py is this quantiser
    assert str(ns.qkeras.quantizers.get_quantizer(fixed.QKERAS_WEIGHT_QUANTIZER)) == str(
        ns.qkeras.quantized_bits(16, 3, alpha=1)
    )
    # hand-checked points: ties go to even, both ends saturate
    q = _qb(ns, 16, 3, alpha=1)
    assert q([0.5 * LSB, 1.5 * LSB, 2.5 * LSB, -0.5 * LSB, -1.5 * LSB]).tolist() == [
        0.0,
        2 * LSB,
        2 * LSB,
        0.0,
        -2 * LSB,
    ]
    assert q([8.0, 9.0, 100.0, -8.0, -8.0 - LSB, -100.0]).tolist() == [
        8 - LSB,
        8 - LSB,
        8 - LSB,
        -8.0,
        -8.0,
        -8.0,
    ]


def test_qkeras_weight_quantizer_documented_differences(ns):
    """The two real QKeras/contract differences described in fixed.py's docstring."""
    q = _qb(ns, 16, 3, alpha=1)
    # (1) QKeras casts to float32 first: a float64 just above a tie rounds twice.
    x64 = (0.5 + 2.0**-30) * LSB
    assert fixed.to_q12([x64]).tolist() == [1]
    quantizer = ns.qkeras.quantized_bits(16, 3, alpha=1)
    assert float(np.asarray(quantizer(np.array([x64], dtype=np.float64)))[0]) == 0.0
    # (2) its straight-through estimator x + (q - x) is inexact far outside the range
    assert q([4104.0 - 2.0**-11]).tolist() == [8 - LSB]
    assert q([4104.0]).tolist() == [8.0]  # off the grid (would be raw 32768)
    assert q([-(2.0**27) - 16]).tolist() == [-16.0]


def test_qkeras_relu_quantizer_grid_is_q412_relu(ns):
    x = np.concatenate([_float32_sweep(), np.array([4104.0, 1e6, 1e30, -1e30, -1e6], np.float32)])
    expected = np.maximum(fixed.from_q12(fixed.to_q12(x.astype(np.float64))), 0.0)
    got = _qrelu(ns, 15, 3)(x)
    mismatch = np.flatnonzero(got != expected)
    assert mismatch.size == 0, (x[mismatch[:5]], got[mismatch[:5]], expected[mismatch[:5]])
    assert str(ns.qkeras.quantizers.get_quantizer(fixed.QKERAS_RELU_QUANTIZER)) == str(
        ns.qkeras.quantized_relu(15, 3)
    )
    r = _qrelu(ns, 15, 3)
    # ties to even, clip at 8 - 2**-12 (not 8), negatives to 0
    assert r([0.5 * LSB, 1.5 * LSB, 8 - LSB / 2, 8.0, 50.0, -LSB, -8.0]).tolist() == [
        0.0,
        2 * LSB,
        8 - LSB,
        8 - LSB,
        8 - LSB,
        0.0,
        0.0,
    ]


def test_quantized_bits_16_4_is_not_q412(ns):
    q = _qb(ns, 16, 4, alpha=1)  # Q5.11: integer excludes the sign bit
    assert q([LSB, 3 * LSB, 9.0, 15.0]).tolist() == [0.0, 4 * LSB, 9.0, 15.0]
    x = _float32_sweep()
    assert np.mean(q(x) != fixed.from_q12(fixed.to_q12(x.astype(np.float64)))) > 0.3


def test_qconv1d_kernel_quantizer_without_alpha_becomes_auto_po2(ns):
    layer = ns.qkeras.QConv1D(
        2, 3, kernel_quantizer="quantized_bits(16, 3)", bias_quantizer="quantized_bits(16, 3)"
    )
    assert layer.kernel_quantizer_internal.alpha == "auto_po2"
    assert layer.bias_quantizer_internal.alpha is None  # bias stays scale 1 in QKeras 0.9.0


# ---- build / save / load ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fpga_model(ns):
    from wavecomp.frontend.qkeras_model import build_qkeras_model

    return build_qkeras_model(PRESETS["fpga"], seed=1234)


@pytest.fixture(scope="module")
def fpga_files(fpga_model, tmp_path_factory):
    from wavecomp.frontend.qkeras_model import save_model

    folder = tmp_path_factory.mktemp("models")
    return {sfx: save_model(fpga_model, folder / f"fpga{sfx}") for sfx in (".keras", ".h5")}


def _quantised_raw(quantizer, values) -> np.ndarray:
    return np.round(np.asarray(quantizer(values), dtype=np.float64) * 4096).astype(np.int64)


def test_build_is_deterministic_and_follows_the_spec(ns, fpga_model):
    from wavecomp.frontend.qkeras_model import build_qkeras_model

    again = build_qkeras_model(PRESETS["fpga"], seed=1234)
    other = build_qkeras_model(PRESETS["fpga"], seed=99)
    for a, b in zip(fpga_model.get_weights(), again.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(fpga_model.get_weights()[0], other.get_weights()[0])
    assert fpga_model.count_params() == 1572
    names = [layer.name for layer in fpga_model.layers]
    assert names == ["input", "qconv_0", "qconv_0_relu", "qconv_1", "qconv_1_relu", "qconv_2"]
    assert tuple(fpga_model.inputs[0].shape) == (None, None, 4)
    conv = fpga_model.get_layer("qconv_1")
    assert (conv.padding, conv.dilation_rate, conv.kernel_size) == ("causal", (4,), (4,))
    assert str(conv.kernel_quantizer_internal) == "quantized_bits(16,3,0,alpha=1)"
    assert str(fpga_model.get_layer("qconv_0_relu").quantizer) == "quantized_relu(15,3)"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_load_import_matches_spec_and_quantiser(ns, fpga_model, fpga_files, suffix):
    from wavecomp.frontend.importer import import_keras_model

    spec = PRESETS["fpga"]
    net, report = import_keras_model(fpga_files[suffix], io=spec.io, name="fpga")
    assert report.source == f"fpga{suffix}"
    assert net.metadata["import"]["source"] == f"fpga{suffix}"
    assert "/" not in json.dumps(net.metadata)  # no absolute paths in provenance
    assert (net.params, net.macs_per_sample, net.receptive_field) == (1572, 1536, 64)
    assert net.io == spec.io
    c_in = spec.in_channels
    for layer, ls, name in zip(net.layers, spec.layers, spec.layer_names(), strict=True):
        assert layer.name == name
        assert layer.weights.shape == (ls.kernel_size, c_in, ls.filters)
        assert (layer.dilation, layer.activation) == (ls.dilation, ls.activation)
        keras_layer = fpga_model.get_layer(name)
        kq, bq = keras_layer.kernel_quantizer_internal, keras_layer.bias_quantizer_internal
        assert np.array_equal(layer.weights, _quantised_raw(kq, keras_layer.kernel.numpy()))
        assert np.array_equal(layer.bias, _quantised_raw(bq, keras_layer.bias.numpy()))
        c_in = ls.filters
    assert report.quantised_from_float == []
    assert report.weight_error_lsb == {"qconv_0": 0.0, "qconv_1": 0.0, "qconv_2": 0.0}
    assert report.within_bound
    # the IR (with provenance) round-trips through its own file format
    path = fpga_files[suffix].with_suffix(".npz")
    assert Network.load(net.save(path)).equals(net)


def test_load_model_errors_name_the_file(ns, tmp_path):
    from wavecomp.frontend.qkeras_model import load_model

    with pytest.raises(FrontendError, match=r"missing\.keras"):
        load_model(tmp_path / "missing.keras")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not a model")
    with pytest.raises(FrontendError, match=r"broken\.h5.*cannot load"):
        load_model(broken)
    with pytest.raises(FrontendError, match=r"model\.pb.*\.keras, \.h5"):
        load_model(tmp_path / "model.pb")


# ---- float forward pass vs reference, within the bound ---------------------------------------
def _test_signals(c_in: int) -> list[np.ndarray]:
    """New seeded signals (not the calibration one), with full-scale bursts and a full-scale
    square wave. Values in model units on the grid."""
    signals = [fixed.from_q12(random_inputs(3000, c_in, seed)) for seed in (101, 102, 103)]
    t = np.arange(2000)[:, None]
    square = np.where((t // (7 + np.arange(c_in))) % 2 == 0, fixed.VALUE_MAX, fixed.VALUE_MIN)
    signals.append(square)
    return signals


def _max_diff_lsb(model, net, x, rounding) -> float:
    from wavecomp.frontend.compare import compare_float_to_reference

    cmp_ = compare_float_to_reference(model, net, x, rounding)
    return cmp_.max_abs_lsb


@pytest.mark.parametrize("preset", ["fpga", "mcu"])
def test_float_prediction_within_bound_random_init(ns, fpga_model, preset):
    from wavecomp.frontend.error_bound import float_error_bound_lsb
    from wavecomp.frontend.importer import import_keras_model
    from wavecomp.frontend.qkeras_model import build_qkeras_model

    spec = PRESETS[preset]
    model = fpga_model if preset == "fpga" else build_qkeras_model(spec, seed=7)
    net, report = import_keras_model(model, io=spec.io)
    assert math.isfinite(report.error_bound_lsb)
    if preset == "fpga":
        assert report.error_bound_lsb < 1000  # not absurdly loose for a 3-layer net
    for rounding in ("half_up", "floor"):
        bound = float_error_bound_lsb(net, rounding)
        if rounding == "half_up":
            assert bound == report.error_bound_lsb
        for x in _test_signals(net.in_channels):
            diff = _max_diff_lsb(model, net, x, rounding)
            assert diff <= bound, (preset, rounding, diff, bound)


def _hand_set_model(ns):
    """A QKeras net whose weights include both range ends (-8 and 8 - 2**-12) in every layer."""
    from wavecomp.frontend.qkeras_model import build_qkeras_model

    spec = ModelSpec(
        "ends",
        IOSpec.default(2, 2),
        (LayerSpec(3, 1, 4, "relu"), LayerSpec(2, 3, 3, "relu"), LayerSpec(2, 5, 2, "linear")),
    )
    model = build_qkeras_model(spec)
    rng = np.random.default_rng(55)
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel, bias = (v.numpy() for v in layer.weights)
        w = fixed.to_q12(rng.normal(0.0, 0.03, kernel.shape)).astype(np.int64)
        w.reshape(-1)[0] = fixed.RAW_MIN
        w.reshape(-1)[-1] = fixed.RAW_MAX
        b = fixed.to_q12(rng.normal(0.0, 0.5, bias.shape)).astype(np.int64)
        b[0] = fixed.RAW_MIN
        layer.set_weights(
            [fixed.from_q12(w).astype(np.float32), fixed.from_q12(b).astype(np.float32)]
        )
    return model


def test_float_prediction_within_bound_range_end_weights(ns):
    from wavecomp.frontend.error_bound import float_error_bound_lsb
    from wavecomp.frontend.importer import import_keras_model

    model = _hand_set_model(ns)
    net, report = import_keras_model(model)
    weights = np.concatenate([layer.weights.reshape(-1) for layer in net.layers])
    assert weights.min() == fixed.RAW_MIN and weights.max() == fixed.RAW_MAX
    assert math.isfinite(report.error_bound_lsb)
    assert report.error_bound_lsb < fixed.RAW_MAX - fixed.RAW_MIN  # tighter than the range
    for rounding in ("half_up", "floor"):
        bound = float_error_bound_lsb(net, rounding)
        for x in _test_signals(net.in_channels):
            diff = _max_diff_lsb(model, net, x, rounding)
            assert diff <= bound, (rounding, diff, bound)


def test_float_keras_model_is_quantised_on_import(ns):
    from wavecomp.frontend.compare import compare_float_to_reference
    from wavecomp.frontend.importer import import_keras_model

    keras = ns.keras
    inp = keras.Input((None, 2), name="x")
    h = keras.layers.Conv1D(5, 3, dilation_rate=2, padding="causal", name="f0")(inp)
    h = keras.layers.ReLU(name="f0_relu")(h)
    h = keras.layers.Conv1D(3, 2, padding="causal", activation="relu", name="f1")(h)
    h = keras.layers.Activation("relu", name="relu_again")(h)  # idempotent: accepted
    h = ns.qkeras.QActivation("relu", name="qrelu_again")(h)
    h = keras.layers.Dropout(0.2, name="drop")(h)
    h = ns.qkeras.QConv1D(1, 1, name="f2")(h)  # no quantisers: float; 'valid' is fine for K=1
    model = keras.Model(inp, h, name="floaty")
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(
                [rng.normal(0, 0.4, v.shape).astype(np.float32) for v in layer.weights]
            )
    net, report = import_keras_model(model)
    assert report.quantised_from_float == ["f0", "f1", "f2"]
    assert all(0 < err <= 0.5 for err in report.weight_error_lsb.values())
    assert [layer.activation for layer in net.layers] == ["relu", "relu", "linear"]
    assert any("Dropout" in note for note in report.notes)
    assert any("float relu" in note for note in report.notes)
    for layer in net.layers:
        kernel, bias = (v.numpy() for v in model.get_layer(layer.name).weights)
        assert np.array_equal(layer.weights, fixed.to_q12(kernel.astype(np.float64)))
        assert np.array_equal(layer.bias, fixed.to_q12(bias.astype(np.float64)))
    assert net.io == IOSpec.default(2, 1)
    for x in _test_signals(2):
        cmp_ = compare_float_to_reference(model, net, x)
        assert cmp_.max_abs_lsb <= report.error_bound_lsb


def test_saturated_float_weights_are_reported(ns):
    from wavecomp.frontend.importer import import_keras_model

    keras = ns.keras
    model = keras.Sequential(
        [keras.layers.Conv1D(2, 2, padding="causal", input_shape=(None, 1), name="big")]
    )
    model.layers[0].set_weights([np.full((2, 1, 2), 9.5, np.float32), np.zeros(2, np.float32)])
    net, report = import_keras_model(model)
    assert int(net.layers[0].weights.max()) == fixed.RAW_MAX
    assert any("saturated" in note and "'big'" in note for note in report.notes)


# ---- bad models are rejected, naming the layer and the fix -----------------------------------
def _chain(ns, *layers, c_in=2):
    keras = ns.keras
    inp = keras.Input((None, c_in))
    h = inp
    for layer in layers:
        h = layer(h)
    return keras.Model(inp, h)


def _qconv(ns, filters, kernel, name, **kwargs):
    kwargs.setdefault("padding", "causal")
    kwargs.setdefault("kernel_quantizer", fixed.QKERAS_WEIGHT_QUANTIZER)
    kwargs.setdefault("bias_quantizer", fixed.QKERAS_WEIGHT_QUANTIZER)
    return ns.qkeras.QConv1D(filters, kernel, name=name, **kwargs)


def _dense(ns):
    return _chain(ns, _qconv(ns, 3, 2, "c0"), ns.keras.layers.Dense(3, name="dense_head"))


def _same_padding(ns):
    return _chain(ns, ns.keras.layers.Conv1D(4, 3, padding="same", name="same_conv"))


def _strided(ns):
    return _chain(ns, ns.keras.layers.Conv1D(4, 3, strides=2, padding="causal", name="stride2"))


def _q511(ns):
    return _chain(ns, _qconv(ns, 3, 2, "q511", kernel_quantizer="quantized_bits(16, 4, alpha=1)"))


def _no_alpha(ns):
    return _chain(ns, _qconv(ns, 3, 2, "noalpha", kernel_quantizer="quantized_bits(16, 3)"))


def _relu_16_4(ns):
    return _chain(
        ns, _qconv(ns, 3, 2, "c0"), ns.qkeras.QActivation("quantized_relu(16, 4)", name="wide_relu")
    )


def _relu6(ns):
    return _chain(ns, _qconv(ns, 3, 2, "c0"), ns.keras.layers.ReLU(max_value=6, name="relu6"))


def _tanh(ns):
    return _chain(ns, _qconv(ns, 3, 2, "c0"), ns.keras.layers.Activation("tanh", name="squash"))


def _branching(ns):
    keras = ns.keras
    inp = keras.Input((None, 2))
    a = _qconv(ns, 3, 2, "trunk")(inp)
    b = _qconv(ns, 3, 2, "side")(a)
    out = keras.layers.Multiply(name="merge_mul")([a, b])  # an Add would import as a graph
    return keras.Model(inp, out)


def _relu_first(ns):
    return _chain(ns, ns.keras.layers.ReLU(name="early_relu"), _qconv(ns, 3, 2, "c0"))


def _two_outputs(ns):
    keras = ns.keras
    inp = keras.Input((None, 2))
    a = _qconv(ns, 3, 2, "trunk")(inp)
    return keras.Model(inp, [_qconv(ns, 1, 1, "head_a")(a), _qconv(ns, 1, 1, "head_b")(a)])


def _unbuilt(ns):
    return ns.keras.Sequential([ns.keras.layers.Conv1D(2, 2, padding="causal")], name="lazy")


def _nested(ns):
    keras = ns.keras
    inner = keras.Sequential([_qconv(ns, 3, 2, "inner_conv")], name="inner_block")
    inp = keras.Input((None, 2))
    return keras.Model(inp, inner(inp))


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (_dense, ["dense_head", "Dense", "Conv1D(filters, 1)", "Supported"]),
        (_same_padding, ["same_conv", "padding='same'", "padding='causal'"]),
        (_strided, ["stride2", "strides=(2,)", "strides=1"]),
        (_q511, ["'q511'", "Q5.11", "quantized_bits(16, 3, alpha=1)"]),
        (_no_alpha, ["'noalpha'", "auto_po2", "alpha=1", "quantized_bits(16, 3, alpha=1)"]),
        (_relu_16_4, ["'wide_relu'", "QActivation('quantized_relu(15, 3)')"]),
        (_relu6, ["'relu6'", "max_value=6", "ReLU()"]),
        (_tanh, ["'squash'", "tanh", "relu"]),
        (_branching, ["'merge_mul'", "Multiply", "Supported"]),
        (_relu_first, ["'early_relu'", "before the first conv", "remove it"]),
        (_two_outputs, ["2 outputs", "single chain"]),
        (_unbuilt, ["'lazy'", "not built", "Input"]),
        (_nested, ["'inner_block'", "nested model", "flat chain"]),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:] if callable(v) else None,
)
def test_bad_models_are_rejected_with_the_layer_and_fix(ns, build, words):
    from wavecomp.frontend.importer import import_keras_model

    model = build(ns)
    with pytest.raises(FrontendError) as err:
        import_keras_model(model)
    message = str(err.value)
    for word in words:
        assert word in message, message


def _supported_names(message: str) -> set[str]:
    """The layer class names in an error's "Supported: Names (what); Names (what)" list."""
    listed = message.split("Supported: ", 1)[1]
    return {name for entry in listed.split("; ") for name in entry.split(" (", 1)[0].split(", ")}


def test_supported_layers_are_the_handler_table(ns, monkeypatch):
    from wavecomp.frontend import keras_layers
    from wavecomp.frontend.importer import import_keras_model

    with pytest.raises(FrontendError) as err:
        import_keras_model(_dense(ns))
    names = _supported_names(str(err.value))
    assert names == {
        "InputLayer",
        "Conv1D",
        "QConv1D",
        "QActivation",
        "Activation",
        "ReLU",
        "Dropout",
    }
    assert names == set(keras_layers.HANDLERS)
    # the message is made from the table and layers are dispatched through it: registering a
    # handler for Dense lists Dense as supported and hands the Dense layer to that handler
    monkeypatch.setattr(keras_layers, "HANDLERS", dict(keras_layers.HANDLERS))

    def dense_handler(where, layer, state):
        raise LookupError(f"dense handler called for {where}")

    keras_layers.keras_handler("Dense", accepts="test only")(dense_handler)
    assert _supported_names("Supported: " + keras_layers.supported_layers()) == names | {"Dense"}
    with pytest.raises(LookupError, match=r"dense handler called for .*'dense_head'"):
        import_keras_model(_dense(ns))


def test_io_spec_must_match_the_model(ns, fpga_model):
    from wavecomp.frontend.importer import import_keras_model

    io = IOSpec((InputChannel("a", "audio", 0),), (OutputChannel("o", 0),))
    with pytest.raises(IRError, match="input channels"):
        import_keras_model(fpga_model, io=io)


# ---- streaming reference == Keras 'causal' semantics, exactly --------------------------------
def test_reference_equals_keras_causal_conv_exactly(ns):
    """Weights on a coarse grid and small inputs keep every float32 sum exact, so Keras'
    output must equal the integer reference bit for bit; this pins the tap order (k = K-1 is
    the newest sample), the dilation and the zero history against Keras' own padding."""
    from wavecomp.frontend.compare import compare_float_to_reference
    from wavecomp.frontend.importer import import_keras_model

    keras = ns.keras
    inp = keras.Input((None, 2))
    h = _qconv(ns, 3, 3, "d2", dilation_rate=2, activation=fixed.QKERAS_RELU_QUANTIZER)(inp)
    h = _qconv(ns, 2, 2, "d5", dilation_rate=5)(h)
    model = keras.Model(inp, h, name="exact")
    rng = np.random.default_rng(8)
    for layer in model.layers[1:]:
        kernel, bias = (v.numpy() for v in layer.weights)
        layer.set_weights(
            [
                rng.integers(-8, 9, kernel.shape).astype(np.float32) / 8,
                rng.integers(-8, 9, bias.shape).astype(np.float32) / 8,
            ]
        )
    x = rng.integers(-16, 17, (500, 2)) / 16.0
    net, report = import_keras_model(model, calibration=x)
    assert [layer.activation for layer in net.layers] == ["relu", "linear"]
    y_keras = model(x[None].astype(np.float32)).numpy()[0].astype(np.float64)
    assert np.all(y_keras * 4096 == np.round(y_keras * 4096))  # exact, on the grid
    for rounding in ("half_up", "floor"):
        y_ref = reference.run(net, fixed.to_q12(x), rounding=rounding)
        assert np.array_equal(fixed.to_q12(y_keras), y_ref)
        assert compare_float_to_reference(model, net, x, rounding).exact
    assert report.to_dict()["float_vs_reference"] == {
        "max_abs_lsb": 0.0,
        "snr_db": None,
        "exact": True,
        "per_channel_max_lsb": [0.0, 0.0],
        "n_samples": 500,
    }
    json.dumps(report.to_dict())
    assert "exact" in report.to_markdown()
    # the test is sensitive: reversing the taps of either layer breaks the equality
    for i in range(2):
        layers = list(net.layers)
        flipped = layers[i]
        layers[i] = type(flipped)(
            flipped.name, flipped.weights[::-1], flipped.bias, flipped.dilation, flipped.activation
        )
        other = Network(layers, net.io)
        assert not np.array_equal(reference.run(other, fixed.to_q12(x)), fixed.to_q12(y_keras))


@pytest.mark.slow
def test_keras3_already_loaded_is_explained():
    """If tf.keras was already Keras 3, the error says to set TF_USE_LEGACY_KERAS (~10 s)."""
    code = (
        "import tensorflow as tf\n"
        "assert tf.keras.__version__.startswith('3')\n"
        "from wavecomp.frontend.keras_env import FrontendError, import_tf\n"
        "try:\n"
        "    import_tf()\n"
        "except FrontendError as err:\n"
        "    assert 'TF_USE_LEGACY_KERAS=1' in str(err), err\n"
        "else:\n"
        "    raise SystemExit('no FrontendError')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, env=env)
