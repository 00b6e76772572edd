"""QKeras WaveNets: the spec string, the functional model, the graph importer (folding, tanh,
power-of-two weights, refusals) and `wavecomp train --arch wavenet`.

Expected structures and sizes are worked out by hand in the comments. TensorFlow is imported
once per module (the ``ns`` fixture); the nets are tiny so the file stays fast.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # before anything imports tensorflow
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from click.testing import CliRunner

import wavecomp
from wavecomp import fixed, reference
from wavecomp.cli import main
from wavecomp.frontend import FrontendError, SpecError
from wavecomp.frontend import train as train_module
from wavecomp.frontend.train import TrainConfig
from wavecomp.frontend.wavenet_spec import WaveNetSpec, format_wavenet, parse_wavenet
from wavecomp.ir import ConvSource
from wavecomp.stimulus import random_inputs

TINY = "channels=3,kernel=2,dilations=1-2,activation={act},head=3"


# ---- the spec string (no TensorFlow) ---------------------------------------------------------
def test_parse_wavenet_sizes_and_round_trip():
    spec = parse_wavenet("channels=8,kernel=3,dilations=1-2-4-8,repeats=2,activation=TANH,head=8")
    assert spec.layer_dilations == (1, 2, 4, 8) * 2 and spec.activation == "tanh"
    assert (spec.in_channels, spec.out_channels) == (1, 1)  # defaults kept
    # receptive field 1 + (3-1) * 2 * 15 = 61. MACs: rechannel 1*8, 8 layers of 3*8*8 + 1*8
    # (dilated conv + mixin) = 200 each, 7 residual 1x1s of 64, head 8*8 + 8*1:
    # 8 + 1600 + 448 + 72 = 2128; params add the biases 8*8 + 7*8 + 8 + 1 = 129
    assert (spec.receptive_field, spec.macs_per_sample, spec.params) == (61, 2128, 2257)
    assert parse_wavenet(format_wavenet(spec)) == spec
    assert parse_wavenet("head=2, inputs=3 ,outputs=4") == WaveNetSpec(
        in_channels=3, head=2, out_channels=4
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["empty item", "channels=8"]),
        ("channels=8,,head=2", ["empty item"]),
        ("chanels=8", ["'chanels=8'", "unknown key 'chanels'", "channels, kernel, dilations"]),
        ("channels", ["'channels'", "key=value"]),
        ("channels=0", ["channels must be >= 1"]),
        ("kernel=three", ["kernel 'three' is not an integer"]),
        ("dilations=1--2", ["dilation '' is not an integer"]),
        ("dilations=1-2-0", ["dilation must be >= 1"]),
        ("activation=sigmoid", ["'sigmoid'", "tanh or relu"]),
        ("head=4,head=8", ["head is given twice"]),
    ],
)
def test_parse_wavenet_errors_name_the_item(text, words):
    with pytest.raises(SpecError) as err:
        parse_wavenet(text)
    for word in words:
        assert word in str(err.value), str(err.value)


def test_chain_runs_record_the_config_as_before():
    """The shipped default model's bytes hold asdict(TrainConfig()) as it was before --arch."""
    record = train_module._config_record(TrainConfig())
    assert "arch" not in record and "wavenet" not in record
    record = train_module._config_record(TrainConfig(arch="wavenet", wavenet="channels=2"))
    assert (record["arch"], record["wavenet"]) == ("wavenet", "channels=2")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--wavenet", "channels=4"], ["--arch wavenet"]),
        (["--arch", "wavenet", "--wavenet", "channels=x"], ["channels 'x' is not an integer"]),
        (["--arch", "wavenet"], ["waveshaper data has 3 inputs", "--input-wav", "inputs=3"]),
        (["--arch", "wavenet", "--layers", "2x1:4"], ["--layers", "--wavenet"]),
    ],
)
def test_cli_train_wavenet_option_errors(tmp_path, args, words):
    result = CliRunner().invoke(main, ["train", "--out", str(tmp_path / "run"), *args])
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    for word in words:
        assert word in message, message


# ---- TensorFlow from here on -----------------------------------------------------------------
@pytest.fixture(scope="module")
def ns():
    from wavecomp.frontend.keras_env import import_tf

    return import_tf()


def _import(model, **kwargs):
    from wavecomp.frontend.importer import import_keras_model

    return import_keras_model(model, **kwargs)


def _shape(node):
    """A node's structure: (name, activation, shift, sources as (kind, tensor, K, d))."""
    sources = tuple(
        ("conv", s.tensor, s.kernel_size, s.dilation)
        if isinstance(s, ConvSource)
        else ("id", s.tensor)
        for s in node.sources
    )
    return node.name, node.activation, node.shift, sources


# The tiny WaveNet of TINY, node by node: what the spec says it is.
TINY_GRAPH = [
    ("rechannel", "linear", 0, (("conv", "input", 1, 1),)),
    ("layer0", "{act}", 0, (("conv", "rechannel", 2, 1), ("conv", "input", 1, 1))),
    ("res0", "linear", 0, (("id", "rechannel"), ("conv", "layer0", 1, 1))),
    ("layer1", "{act}", 0, (("conv", "res0", 2, 2), ("conv", "input", 1, 1))),
    ("skip", "linear", 0, (("id", "layer0"), ("id", "layer1"))),
    ("head", "relu", 0, (("conv", "skip", 1, 1),)),
    ("output", "linear", 0, (("conv", "head", 1, 1),)),
]
ROUNDED_LAYERS = {  # node -> the Keras layer whose (rounded) output it is
    "rechannel": "rechannel_q",
    "layer0": "layer0_{act}",
    "res0": "res0_q",
    "layer1": "layer1_{act}",
    "skip": "skip_q",
    "head": "head_relu",
}


def _tiny(ns, act):
    from wavecomp.frontend.wavenet_model import build_wavenet_model

    spec = parse_wavenet(TINY.format(act=act))
    model = build_wavenet_model(spec, seed=3)
    rng = np.random.default_rng(3)
    for layer in model.layers:  # fresh biases are zero: give them values to carry
        if getattr(layer, "use_bias", False):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.uniform(-0.5, 0.5, bias.shape)])
    x = random_inputs(2048, 1, seed=5)  # smooth, noisy and full-scale stretches, on the grid
    net, report = _import(model, calibration=fixed.from_q12(x))
    return spec, model, x, net, report


def _per_node_difference(ns, model, net, x, act):
    """Max |float - integer| (LSB), the share of samples that differ and the proven bound,
    per rounded node."""
    bounds = net.metadata["import"]["node_error_bound_lsb"]
    layers = {node: layer.format(act=act) for node, layer in ROUNDED_LAYERS.items()}
    probe = ns.keras.Model(model.inputs, [model.get_layer(v).output for v in layers.values()])
    floats = probe(fixed.from_q12(x)[None].astype(np.float32), training=False)
    ints = reference.run_batch_tensors(net, x)
    out = {}
    for node, value in zip(layers, floats, strict=True):
        diff = np.abs(np.asarray(value, dtype=np.float64)[0] * fixed.ONE - ints[node])
        out[node] = (float(diff.max()), round(float(np.mean(diff > 0)), 5), bounds[node])
    return out


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_tiny_wavenet_imports_to_the_graph_the_spec_describes(ns, act, tmp_path):
    spec, model, x, net, report = _tiny(ns, act)
    ir_act = "relu" if act == "relu" else "pwl"
    expected = [(n, a.format(act=ir_act), e, s) for n, a, e, s in TINY_GRAPH]
    assert [_shape(node) for node in net.nodes] == expected
    assert net.outputs == (("output", 0),) and not net.is_chain
    assert model.count_params() == spec.params
    # the IR also stores zero biases for rechannel and for the skip sum (3 channels each)
    assert (net.params, net.macs_per_sample) == (spec.params + 6, spec.macs_per_sample)
    assert net.receptive_field == spec.receptive_field == 1 + 1 * (1 + 2)
    assert net.identity_adds_per_sample == 3 + 2 * 3  # res0 (1 add), skip (2 adds) x 3 channels
    # weights are QKeras' quantised kernels exactly; the mixin is the second conv source
    layer0 = net.node("layer0")
    for source, conv in zip(layer0.sources, ("layer0_conv", "layer0_mixin"), strict=True):
        keras_conv = model.get_layer(conv)
        quantised = keras_conv.kernel_quantizer_internal(keras_conv.kernel).numpy()
        assert np.array_equal(source.weights, quantised * fixed.ONE)
    if act == "tanh":
        assert all(np.array_equal(net.node(n).tables[0], fixed.tanh_table()) for n in ("layer0",))
    # the same network from the saved .keras file, through wavecomp.load
    from wavecomp.frontend.qkeras_model import save_model

    save_model(model, tmp_path / "tiny.keras")
    assert wavecomp.load(tmp_path / "tiny.keras").fingerprint() == net.fingerprint()

    per_node = _per_node_difference(ns, model, net, x, act)
    comparison = report.float_vs_reference
    print(
        f"\n{act}: output max {comparison.max_abs_lsb:g} LSB, SNR {comparison.snr_db:.1f} dB, "
        f"bound {report.error_bound_lsb:.4g} LSB; per node (max LSB, share differing, bound): "
        f"{per_node}"
    )
    assert comparison.max_abs_lsb <= report.error_bound_lsb and report.within_bound
    for node, (worst, _share, bound) in per_node.items():
        assert worst <= bound, (node, worst, bound)
    if act == "relu":
        # Each rounded tensor equals the integer one except where QKeras' float32 sum lands on
        # (or within float32 roundoff of) a half-LSB tie, half-even vs half_up: 1 LSB there,
        # carried on by later nodes. rechannel reads the input only: at most that 1 LSB.
        assert per_node["rechannel"][0] <= 1.0
        for node, (worst, share, _bound) in per_node.items():
            assert share < 0.01, (node, worst, share)
        assert comparison.max_abs_lsb < 4.0
    else:
        # tanh is a pwl table here and QKeras' float tanh there: about 1 LSB per tanh node
        assert 0.0 < per_node["layer0"][0] <= 2.0
        assert comparison.max_abs_lsb < 16.0
        assert any("pwl table" in note for note in report.notes)


# ---- power-of-two weights --------------------------------------------------------------------
def _po2_model(ns, kernel, quantizer):
    """input (1 ch) -> po2 conv K=2 (2 filters) + a Q4.12 mixin conv -> relu: one node."""
    keras, qkeras = ns.keras, ns.qkeras
    inp = keras.Input((None, 1), name="input")
    po2 = qkeras.QConv1D(
        2,
        2,
        padding="causal",
        kernel_quantizer=quantizer,
        bias_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER,
        name="po2",
    )
    mixin = qkeras.QConv1D(
        2, 1, use_bias=False, kernel_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER, name="mixin"
    )
    pre = keras.layers.Add(name="sum")([po2(inp), mixin(inp)])
    model = keras.Model(inp, qkeras.QActivation(fixed.QKERAS_RELU_QUANTIZER, name="relu")(pre))
    po2.set_weights([np.asarray(kernel, np.float32).reshape(2, 1, 2), np.array([0.25, -0.5])])
    mixin.set_weights([np.array([[[0.3, -0.7]]], np.float32)])
    return model


def test_po2_weights_import_exactly_at_the_smallest_shift(ns):
    # 2**-14 needs e >= 2 (Q2.14 steps); e = 2 and 3 hold all four (and the mixin): e = 2
    kernel = [0.5, -(2.0**-14), 0.25, -(2.0**-3)]
    net, report = _import(_po2_model(ns, kernel, "quantized_po2(5, 1)"))
    (node,) = net.nodes
    assert (node.name, node.shift, node.activation) == ("sum", 2, "relu")
    po2, mixin = node.sources
    assert np.array_equal(po2.weights.reshape(-1), np.array(kernel) * 2**14)
    # the Q4.12 mixin shares the node's shift: its raw weights are the Q4.12 raw ones times 4
    assert np.array_equal(mixin.weights.reshape(-1), fixed.to_q12([0.3, -0.7]).astype(int) * 4)
    assert np.array_equal(node.bias, fixed.to_q12([0.25, -0.5]))
    assert report.float_vs_reference.max_abs_lsb <= report.error_bound_lsb
    assert any("weight shift 2" in note for note in report.notes)


@pytest.mark.parametrize(
    ("kernel", "quantizer", "words"),
    [
        # QKeras' quantized_po2 turns 0 into +2**min_exponent = 2**-16: on no grid
        ([0.0, 0.5, 0.5, 0.5], "quantized_po2(5, 1)", ["1.52587890625e-05", "2**-16", "none"]),
        ([4.0, 2.0**-14, 1.0, 1.0], "quantized_po2(6, 4)", ["4.0", "6.103515625e-05", "no weight"]),
    ],
)
def test_off_grid_po2_weights_are_refused_by_name(ns, kernel, quantizer, words):
    with pytest.raises(FrontendError) as err:
        _import(_po2_model(ns, kernel, quantizer))
    message = str(err.value)
    for word in ["'po2'", "QConv1D", "Q(4-e).(12+e)", *words]:
        assert word in message, message


def test_an_add_of_sums_with_no_common_shift_becomes_identity_adds(ns):
    keras, qkeras = ns.keras, ns.qkeras
    inp = keras.Input((None, 1), name="input")
    convs = [qkeras.QConv1D(2, 1, kernel_quantizer="quantized_po2(6, 4)", name=n) for n in "ab"]
    model = keras.Model(inp, keras.layers.Add(name="sum")([c(inp) for c in convs]))
    convs[0].set_weights([np.array([[[4.0, 2.0]]], np.float32), np.zeros(2)])  # e = 0 only
    convs[1].set_weights([np.array([[[2.0**-14, 0.5]]], np.float32), np.zeros(2)])  # e >= 2
    net, report = _import(model)
    assert [_shape(node) for node in net.nodes] == [
        ("a", "linear", 0, (("conv", "input", 1, 1),)),
        ("b", "linear", 2, (("conv", "input", 1, 1),)),
        ("sum", "linear", 0, (("id", "a"), ("id", "b"))),
    ]
    assert any("share no weight shift" in note for note in report.notes)
    assert report.within_bound


# ---- what the graph importer refuses ---------------------------------------------------------
def _graph(ns, merge):
    """input -> two convs -> ``merge(a, b)``: a graph model around one layer under test."""
    keras, qkeras = ns.keras, ns.qkeras
    inp = keras.Input((None, 1), name="input")
    q = {"kernel_quantizer": fixed.QKERAS_WEIGHT_QUANTIZER, "padding": "causal"}
    a = qkeras.QConv1D(2, 2, name="a", **q)(inp)
    b = qkeras.QConv1D(2, 1, name="b", **q)(inp)
    return keras.Model(inp, merge(keras, qkeras, a, b))


@pytest.mark.parametrize(
    ("merge", "words"),
    [
        (lambda k, q, a, b: k.layers.Multiply(name="gate")([a, b]), ["'gate'", "Multiply"]),
        (
            lambda k, q, a, b: k.layers.Concatenate(name="cat")([a, b]),
            ["'cat'", "Concatenate", "widen one conv"],
        ),
        (
            lambda k, q, a, b: k.layers.Add()(
                [a, k.layers.Conv1D(2, 3, padding="same", name="sym")(b)]
            ),
            ["'sym'", "padding='same'", "padding='causal'"],
        ),
        (
            lambda k, q, a, b: q.QActivation("quantized_tanh(16, 3)", name="t16")(
                k.layers.Add()([a, b])
            ),
            [
                "'t16'",
                "bits=16",
                "use_stochastic_rounding",
                "quantized_tanh(13, use_real_tanh=True)",
            ],
        ),
        (
            lambda k, q, a, b: k.layers.Activation("sigmoid", name="sig")(k.layers.Add()([a, b])),
            ["'sig'", "'sigmoid'", "quantized_relu(15, 3)"],
        ),
        (
            lambda k, q, a, b: q.QActivation("quantized_bits(16, 4, alpha=1)", name="q511")(
                k.layers.Add()([a, b])
            ),
            ["'q511'", "Q5.11", "quantized_bits(16, 3, alpha=1)"],
        ),
    ],
    ids=["multiply", "concatenate", "non_causal", "tanh16", "sigmoid", "q511"],
)
def test_unsupported_graph_layers_are_refused_by_name(ns, merge, words):
    with pytest.raises(FrontendError) as err:
        _import(_graph(ns, merge))
    message = str(err.value)
    for word in words:
        assert word in message, message


# ---- training --------------------------------------------------------------------------------
def test_cli_trains_a_wavenet_on_a_wav_pair(ns, tmp_path):
    """Two epochs of a 2-layer WaveNet on a second of noise -> tanh: about 20 s."""
    import soundfile as sf

    rate = 8000
    x = np.clip(np.random.default_rng(0).normal(0.0, 0.25, rate), -0.95, 0.95)
    sf.write(tmp_path / "in.wav", x, rate, subtype="PCM_16")
    sf.write(tmp_path / "target.wav", 0.25 * np.tanh(3 * x), rate, subtype="PCM_16")
    out = tmp_path / "run"
    args = ["train", "--arch", "wavenet", "--wavenet", "channels=3,kernel=2,dilations=1-2,head=3"]
    args += ["--input-wav", str(tmp_path / "in.wav"), "--target-wav", str(tmp_path / "target.wav")]
    args += ["--epochs", "2", "--seq-len", "128", "--rate", str(rate), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    net = wavecomp.load(out / "model.npz")
    assert not net.is_chain and [n.name for n in net.nodes][-2:] == ["head", "output"]
    assert net.node("layer1").activation == "pwl" and net.io.sample_rate == rate
    y = reference.run(net, fixed.to_q12(fixed.wav_to_model_units(x[:, None])))
    assert y.shape == (rate, 1) and np.any(y != 0)
    again = wavecomp.load(out / "model.keras")  # the I/O spec differs: no sample rate there
    assert all(a.equals(b) for a, b in zip(again.nodes, net.nodes, strict=True))
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["arch"] == "wavenet"
    assert report["layers"].startswith("inputs=1,channels=3,kernel=2,dilations=1-2,")
    cmp_ = report["qkeras_vs_reference"]
    assert cmp_["max_abs_lsb"] <= cmp_["error_bound_lsb"]
    assert "heldout_snr_db" in report["quality"]
