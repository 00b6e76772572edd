"""IR validation (named errors), summary figures, lossless + deterministic save/load."""

import io
import json
import zipfile

import numpy as np
import pytest
from netgen import random_graph_network, random_network

from wavecomp import fixed
from wavecomp.ir import (
    ConvLayer,
    ConvSource,
    GraphNotSupportedError,
    IdentitySource,
    InputChannel,
    IOSpec,
    IRError,
    Network,
    Node,
    OutputChannel,
    io_spec_to_dict,
)


def _layer(name="l0", k=2, c_in=2, c_out=3, d=1, act="relu", fill=1):
    return ConvLayer(
        name,
        np.full((k, c_in, c_out), fill, dtype=np.int16),
        np.zeros(c_out, dtype=np.int16),
        d,
        act,
    )


def _net(*layers, io=None):
    layers = list(layers)
    return Network(layers, io or IOSpec.default(layers[0].in_channels, layers[-1].out_channels))


def test_summary_figures_by_hand():
    net = _net(_layer("a", k=4, c_in=3, c_out=4, d=1), _layer("b", k=4, c_in=4, c_out=2, d=16))
    s = net.summary()
    assert s.params == (4 * 3 * 4 + 4) + (4 * 4 * 2 + 2)
    assert s.macs_per_sample == 48 + 32
    assert s.receptive_field == 1 + 3 * 1 + 3 * 16
    assert [(r.name, r.cache_columns) for r in s.tensors] == [("input", 4), ("a", 49)]
    assert s.cache_bytes == 2 * (4 * 3 + 49 * 4)
    assert (s.identity_adds_per_sample, s.table_lookups_per_sample, s.is_chain) == (0, 0, True)
    # all weights 1 LSB: bound = 2048 + K*C_in*32768 -> bits
    assert s.nodes[0].accumulator_bits == fixed.accumulator_bits(2048 + 12 * 32768)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: _net(_layer("a", c_out=3), _layer("b", c_in=4)),
            r"node 1 'b' source 0: weights expect C_X=4 but 'a' has 3 channels",
        ),
        (lambda: _net(_layer("a"), _layer("a", c_in=3)), r"'a'.*name used twice"),
        (lambda: _net(_layer("x", d=0)), r"layer 0 'x': dilation"),
        (lambda: _net(_layer("x", act="tanh")), r"layer 0 'x': activation 'tanh'"),
        (lambda: Network([], IOSpec.default(1, 1)), "no nodes"),
        (
            lambda: _net(_layer("x", c_in=2), io=IOSpec.default(3, 3)),
            r"'x' source 0: weights expect C_X=2 but 'input' has 3",
        ),
    ],
)
def test_invalid_networks_name_the_problem(make, match):
    with pytest.raises(IRError, match=match):
        make()


def test_weights_must_be_int16_raw():
    w = np.zeros((1, 1, 1))
    with pytest.raises(IRError, match=r"'f': weights are float64.*to_q12"):
        _net(ConvLayer("f", w, np.zeros(1, dtype=np.int16)))
    with pytest.raises(IRError, match=r"'big': weights span.*outside int16"):
        _net(ConvLayer("big", np.full((1, 1, 1), 40000), np.zeros(1, dtype=np.int16)))
    with pytest.raises(IRError, match=r"'b': bias must have shape \(1,\)"):
        _net(ConvLayer("b", np.zeros((1, 1, 1), np.int16), np.zeros(2, np.int16)))


def test_io_spec_rules():
    io = IOSpec(
        (InputChannel("a", "audio", 0), InputChannel("b", "control", 0)), (OutputChannel("o", 0),)
    )
    with pytest.raises(IRError, match="both use jack 0"):
        _net(_layer(c_in=2, c_out=1), io=io)
    io = IOSpec((InputChannel("a", "audio", 7),), (OutputChannel("o", 0),))
    with pytest.raises(IRError, match="jack 7 does not exist"):
        _net(_layer(c_in=1, c_out=1), io=io)
    io = IOSpec((InputChannel("a", "audio", 0, default=9.0),), (OutputChannel("o", 0),))
    with pytest.raises(IRError, match=r"outside Q4\.12"):
        _net(_layer(c_in=1, c_out=1), io=io)


def test_arrays_are_frozen_after_validation():
    net = _net(_layer())
    with pytest.raises(ValueError):
        net.layers[0].weights[0, 0, 0] = 5


@pytest.mark.parametrize("seed", range(5))
def test_save_load_is_lossless_and_deterministic(tmp_path, seed):
    net = random_network(seed)
    net.metadata["note"] = {"snr_db": 17.5, "tags": ["a", "b"]}
    a = net.save(tmp_path / "a.npz")
    b = Network.load(a).save(tmp_path / "b.npz")
    loaded = Network.load(b)
    assert loaded.equals(net)
    assert loaded.fingerprint() == net.fingerprint()
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob("*.partial"))


def test_extreme_values_survive_round_trip(tmp_path):
    w = np.array([[[fixed.RAW_MIN, fixed.RAW_MAX]]], dtype=np.int16)
    net = _net(ConvLayer("e", w, np.array([fixed.RAW_MAX, fixed.RAW_MIN], dtype=np.int16)))
    loaded = Network.load(net.save(tmp_path / "e.npz"))
    assert loaded.layers[0].weights.tolist() == [[[-32768, 32767]]]
    assert loaded.layers[0].bias.tolist() == [32767, -32768]


def test_fingerprint_sees_every_weight():
    net = random_network(3)
    layers = list(net.layers)
    w = layers[-1].weights.copy()
    w.flat[-1] ^= 1
    layers[-1] = ConvLayer(
        layers[-1].name, w, layers[-1].bias, layers[-1].dilation, layers[-1].activation
    )
    assert Network(layers, net.io).fingerprint() != net.fingerprint()


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(IRError, match=r"missing\.npz: no such file"):
        Network.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(IRError, match=r"junk\.npz: not a readable wavecomp network file"):
        Network.load(junk)


# ---- graph networks ----------------------------------------------------------------------------
def _tiny_graph(**changes):
    """input(1) -> a = tanh(conv K3 d2 + bias); b = a + conv1x1(input) mixin; out = b."""
    tanh = fixed.tanh_table()
    parts = {
        "a": Node(
            "a",
            (ConvSource("input", np.ones((3, 1, 2), np.int16), 2),),
            np.zeros(2, np.int16),
            "pwl",
            tables=(tanh,),
        ),
        "b": Node(
            "b",
            (IdentitySource("a", 1), ConvSource("input", np.ones((1, 1, 2), np.int16))),
            np.zeros(2, np.int16),
            shift=2,
        ),
    }
    parts.update(changes)
    outputs = parts.pop("outputs", None)
    return Network(list(parts.values()), IOSpec.default(1, 2), outputs=outputs)


def test_graph_summary_figures_by_hand():
    s = _tiny_graph().summary()
    assert (s.macs_per_sample, s.identity_adds_per_sample, s.table_lookups_per_sample) == (8, 2, 2)
    assert s.params == 6 + 2 + 2 + 2 and s.is_chain is False
    assert s.receptive_field == 1 + 2 * 2
    assert [(t.name, t.cache_columns, t.cache_bytes) for t in s.tensors] == [
        ("input", 5, 10),
        ("a", 1, 4),
    ]
    # node b: R_2 + |a| <= 4096 (tanh table) added as a * 2**(12+2-1), plus the mixin's 32768 * 1
    bound_b = (1 << 13) + 4096 * (1 << 13) + 32768
    assert s.nodes[1].accumulator_bits == fixed.accumulator_bits(bound_b)
    assert _tiny_graph().tensor_ranges()["a"] == 4096


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"b": Node("b", (IdentitySource("c"),), np.zeros(2, np.int16))},
            r"node 1 'b' source 0 reads unknown tensor 'c'",
        ),
        (
            {
                "a": Node(
                    "a", (ConvSource("b", np.ones((1, 2, 2), np.int16)),), np.zeros(2, np.int16)
                ),
                "b": Node(
                    "b", (ConvSource("input", np.ones((1, 1, 2), np.int16)),), np.zeros(2, np.int16)
                ),
            },
            r"node 0 'a' source 0 reads 'b', which is computed later: nodes must be in topological",
        ),
        (
            {
                "a": Node(
                    "a",
                    (ConvSource("input", np.ones((1, 1, 2), np.int16)),),
                    np.zeros(2, np.int16),
                    "pwl",
                    tables=(np.zeros(1024, np.int16),),
                )
            },
            r"node 0 'a': table 0 has shape \(1024,\); a pwl table has 1025 knots",
        ),
        (
            {
                "a": Node(
                    "a",
                    (ConvSource("input", np.ones((1, 1, 3), np.int16)),),
                    np.zeros(3, np.int16),
                    "gated",
                    tables=(fixed.tanh_table(), fixed.sigmoid_table()),
                )
            },
            r"node 0 'a': a gated node has 2\*C pre-activations",
        ),
        (
            {"b": Node("b", (IdentitySource("a"),), np.zeros(2, np.int16), shift=4)},
            r"node 1 'b': weight shift 4 is not an integer in 0..3",
        ),
        (
            {"b": Node("b", (IdentitySource("input"),), np.zeros(2, np.int16))},
            r"node 1 'b' source 0: identity add of 'input' \(1 channels\) into 2 pre-activations",
        ),
        ({"outputs": (("a", 0), ("b", 5))}, r"output \('b', 5\): 'b' has channels 0..1"),
        ({"outputs": (("a", 0), ("a", 1))}, r"node 'b' feeds no output; remove it"),
        (
            {
                "a": Node(
                    "a",
                    (ConvSource("input", np.ones((1, 1, 2), np.int16)),),
                    np.zeros(2, np.int16),
                    "relu",
                    slope=3,
                )
            },
            r"node 0 'a': slope 3 is only meaningful for leaky_relu",
        ),
        (
            {
                "a": Node(
                    "input",
                    (ConvSource("input", np.ones((1, 1, 2), np.int16)),),
                    np.zeros(2, np.int16),
                )
            },
            r"node 0 'input': name used twice \(or is the reserved 'input'\)",
        ),
    ],
)
def test_invalid_graphs_name_the_node(changes, match):
    with pytest.raises(IRError, match=match):
        _tiny_graph(**changes)


@pytest.mark.parametrize("seed", range(6))
def test_graph_save_load_is_lossless_and_deterministic(tmp_path, seed):
    net = random_graph_network(seed)
    a = net.save(tmp_path / "a.npz")
    b = Network.load(a).save(tmp_path / "b.npz")
    loaded = Network.load(b)
    assert loaded.equals(net) and not loaded.is_chain
    assert loaded.fingerprint() == net.fingerprint()
    assert a.read_bytes() == b.read_bytes()


def test_graph_fingerprint_sees_tables_shifts_and_outputs():
    net = _tiny_graph()
    table = fixed.tanh_table().copy()
    table[500] += 1
    a = net.nodes[0]
    changed = [
        _tiny_graph(a=Node(a.name, a.sources, a.bias, "pwl", tables=(table,))),
        _tiny_graph(b=Node("b", net.nodes[1].sources, net.nodes[1].bias, shift=1)),
        _tiny_graph(outputs=(("b", 1), ("b", 0))),
    ]
    assert len({net.fingerprint(), *(n.fingerprint() for n in changed)}) == 4


def test_version_1_files_still_load(tmp_path):
    """A file in the version-1 layout (written here by hand) loads as the same plain chain."""
    net = random_network(2)
    header = {
        "format": "wavecomp-network",
        "version": 1,
        "name": net.name,
        "io": io_spec_to_dict(net.io),
        "layers": [
            {
                "name": layer.name,
                "kernel_size": layer.kernel_size,
                "dilation": layer.dilation,
                "in_channels": layer.in_channels,
                "out_channels": layer.out_channels,
                "activation": layer.activation,
            }
            for layer in net.layers
        ],
        "metadata": net.metadata,
    }
    path = tmp_path / "v1.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("network.json", json.dumps(header))
        for i, layer in enumerate(net.layers):
            for part, arr in (("weights", layer.weights), ("bias", layer.bias)):
                buf = io.BytesIO()
                np.save(buf, arr)
                zf.writestr(f"layer{i}_{part}.npy", buf.getvalue())
    loaded = Network.load(path)
    assert loaded.is_chain and loaded.equals(net)
    assert loaded.fingerprint() == net.fingerprint()


def test_unknown_format_version_is_refused_by_name(tmp_path):
    path = tmp_path / "v9.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("network.json", json.dumps({"format": "wavecomp-network", "version": 9}))
    with pytest.raises(IRError, match=r"v9\.npz: format version 9 is not supported"):
        Network.load(path)


def test_layers_view_refuses_graph_networks_by_reason():
    with pytest.raises(
        GraphNotSupportedError,
        match=r"graph network \(node 'a' uses activation 'pwl'\); the RTL backend",
    ):
        _tiny_graph().require_chain("the RTL backend")
