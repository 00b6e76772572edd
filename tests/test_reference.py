"""The three references agree bit for bit, and agree with an independent naive convolution."""

import numpy as np
import pytest
from netgen import random_network

from wavecomp import fixed, reference
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.stimulus import random_inputs

N_SAMPLES = 2000
ALL_SEEDS = range(24)
QUICK_SEEDS = range(3)


def naive_reference(net: Network, x: np.ndarray, rounding: str) -> np.ndarray:
    """Straight from DESIGN.md with Python ints: loops, no numpy arithmetic, no wavecomp.fixed."""
    r = 0 if rounding == "floor" else 1 << 11
    h = [[int(v) for v in row] for row in x]
    for layer in net.layers:
        k_size, c_in, c_out = layer.weights.shape
        w = layer.weights.tolist()
        out = []
        for t in range(len(h)):
            row = []
            for o in range(c_out):
                acc = (int(layer.bias[o]) << 12) + r
                for k in range(k_size):
                    src = t - (k_size - 1 - k) * layer.dilation
                    if src < 0:
                        continue
                    for c in range(c_in):
                        acc += w[k][c][o] * h[src][c]
                y = max(-32768, min(32767, acc >> 12))
                if layer.activation == "relu":
                    y = max(y, 0)
                row.append(y)
            out.append(row)
        h = out
    return np.array(h, dtype=np.int16)


def _check_all_engines(seed: int, rounding: str) -> None:
    net = random_network(seed)
    x = random_inputs(N_SAMPLES, net.in_channels, seed)
    batch = reference.run(net, x, rounding=rounding, engine="batch")
    for engine in ("stream", "fxpmath"):
        other = reference.run(net, x, rounding=rounding, engine=engine)
        mismatches = np.argwhere(batch != other)
        assert mismatches.size == 0, (
            f"{engine} != batch for random_network({seed}), rounding={rounding}: "
            f"{len(mismatches)} samples differ, first at (t, ch)={tuple(mismatches[0])}"
        )
    assert batch.shape == (N_SAMPLES, net.out_channels)


@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_engines_agree_quick(seed):
    _check_all_engines(seed, fixed.ROUNDING_MODES[seed % 2])


@pytest.mark.slow
@pytest.mark.parametrize("seed", ALL_SEEDS)
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_engines_agree_random_networks(seed, rounding):
    _check_all_engines(seed, rounding)


def test_random_networks_cover_the_required_space():
    nets = [random_network(seed) for seed in ALL_SEEDS]
    layers = [layer for net in nets for layer in net.layers]
    assert {layer.kernel_size for layer in layers} == {1, 2, 3, 4, 5}
    assert max(layer.dilation for layer in layers) > 48
    assert min(layer.dilation for layer in layers) < 8
    assert {layer.activation for layer in layers} == {"relu", "linear"}
    channels = {c for layer in layers for c in (layer.in_channels, layer.out_channels)}
    assert min(channels) <= 2 and max(channels) >= 30
    for net in nets:
        w = np.concatenate([layer.weights.ravel() for layer in net.layers])
        assert w.min() == fixed.RAW_MIN and w.max() == fixed.RAW_MAX
        x = random_inputs(N_SAMPLES, net.in_channels, 0)
        assert x.min() == fixed.RAW_MIN and x.max() == fixed.RAW_MAX


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_batch_matches_naive_python(seed, rounding):
    net = random_network(seed)
    x = random_inputs(300, net.in_channels, seed + 100)
    expected = naive_reference(net, x, rounding)
    assert np.array_equal(reference.run(net, x, rounding=rounding), expected)


@pytest.mark.parametrize("seed", range(12))
def test_streaming_equals_batch_long_signal(seed):
    """Streaming with ring buffers == whole-signal causal conv, over several cache wraps."""
    net = random_network(seed)
    x = random_inputs(5000, net.in_channels, seed + 7)
    streamed = reference.StreamingReference(net).run(x)
    assert np.array_equal(streamed, reference.run_batch(net, x))


def test_streaming_continues_across_calls_and_resets():
    net = random_network(5)
    x = random_inputs(1000, net.in_channels, 1)
    ref = reference.StreamingReference(net)
    first, second = ref.run(x[:400]), ref.run(x[400:])
    assert np.array_equal(np.concatenate([first, second]), reference.run_batch(net, x))
    ref.reset()
    assert np.array_equal(ref.run(x[:400]), first)


def _single(weight: int, bias: int = 0, activation: str = "linear", k: int = 1, d: int = 1):
    w = np.zeros((k, 1, 1), dtype=np.int16)
    w[0, 0, 0] = weight
    layer = ConvLayer("l", w, np.array([bias], dtype=np.int16), d, activation)
    return Network([layer], IOSpec.default(1, 1))


@pytest.mark.parametrize("engine", reference.ENGINES)
def test_hand_worked_examples(engine):
    x = np.array([[1], [-1], [-32768], [32767], [3]], dtype=np.int16)
    half = _single(2048)  # w = 0.5
    assert reference.run(half, x, rounding="floor", engine=engine).ravel().tolist() == [
        0,
        -1,
        -16384,
        16383,
        1,
    ]
    assert reference.run(half, x, rounding="half_up", engine=engine).ravel().tolist() == [
        1,
        0,
        -16384,
        16384,
        2,
    ]
    # -8 * -8 = 64 saturates to 8 - 2^-12; relu clips negatives
    most_negative = _single(-32768, activation="relu")
    assert reference.run(most_negative, x, engine=engine).ravel().tolist() == [0, 8, 32767, 0, 0]


@pytest.mark.parametrize("engine", reference.ENGINES)
def test_causal_tap_order_and_dilation(engine):
    # K=3, d=2: only the oldest tap (k=0, lag (K-1)*d = 4) has weight 1.0 -> y[t] = x[t-4]
    net = _single(4096, k=3, d=2)
    x = np.arange(1, 11, dtype=np.int16)[:, None]
    y = reference.run(net, x, engine=engine, rounding="floor").ravel().tolist()
    assert y == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]


def test_bad_inputs_are_rejected_with_a_reason():
    net = _single(4096)
    with pytest.raises(ValueError, match=r"shape \(T, 1\)"):
        reference.run(net, np.zeros((5, 2), dtype=np.int16))
    with pytest.raises(ValueError, match="to_q12"):
        reference.run(net, np.zeros((5, 1)))
    with pytest.raises(ValueError, match="engine"):
        reference.run(net, np.zeros((5, 1), dtype=np.int16), engine="magic")
