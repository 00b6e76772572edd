"""Graph networks: the three references agree bit for bit, and agree with plain Python.

The plain-Python oracle below is written from DESIGN.md's contract alone (loops over Python
ints, its own pwl/leaky/gated arithmetic) and shares no code with ``wavecomp.fixed``.
"""

import numpy as np
import pytest
from netgen import GRAPH_ACTIVATIONS, random_graph_network

from wavecomp import fixed, reference
from wavecomp.ir import IdentitySource, Network
from wavecomp.stimulus import random_inputs

N_SAMPLES = 4000
ALL_SEEDS = range(30)
QUICK_SEEDS = range(3)


def python_reference(net: Network, x: np.ndarray, rounding: str) -> list[list[int]]:
    """The contract with Python ints: per node, per time step, per channel."""
    half_up = rounding == "half_up"
    values = {"input": [[int(v) for v in row] for row in x]}
    steps = len(values["input"])

    def clamp(v: int) -> int:
        return max(-32768, min(32767, v))

    def table_at(table: list[int], p: int) -> int:
        u = p + 32768
        i, f = u // 64, u % 64
        return table[i] + ((table[i + 1] - table[i]) * f + (32 if half_up else 0)) // 64

    for node in net.nodes:
        e = node.shift
        tables = [t.tolist() for t in node.tables]
        out = []
        for t in range(steps):
            pre = []
            for o in range(node.pre_channels):
                acc = int(node.bias[o]) * 2 ** (12 + e) + (2 ** (11 + e) if half_up else 0)
                for s in node.sources:
                    src = values[s.tensor]
                    if isinstance(s, IdentitySource):
                        acc += src[t][o] * 2 ** (12 + e - s.shift)
                        continue
                    k_size = s.weights.shape[0]
                    for k in range(k_size):
                        ts = t - (k_size - 1 - k) * s.dilation
                        if ts >= 0:
                            for c in range(s.weights.shape[1]):
                                acc += int(s.weights[k, c, o]) * src[ts][c]
                pre.append(clamp(acc // 2 ** (12 + e)))
            r0 = 2048 if half_up else 0
            if node.activation == "linear":
                y = pre
            elif node.activation == "relu":
                y = [max(p, 0) for p in pre]
            elif node.activation == "leaky_relu":
                y = [p if p >= 0 else clamp((p * node.slope + r0) // 4096) for p in pre]
            elif node.activation == "pwl":
                y = [table_at(tables[0], p) for p in pre]
            else:
                c_out = node.pre_channels // 2
                y = [
                    clamp(
                        (table_at(tables[0], pre[c]) * table_at(tables[1], pre[c_out + c]) + r0)
                        // 4096
                    )
                    for c in range(c_out)
                ]
            out.append(y)
        values[node.name] = out
    return [[values[tensor][t][c] for tensor, c in net.outputs] for t in range(steps)]


def _check_engines(seed: int, rounding: str) -> None:
    net = random_graph_network(seed)
    x = random_inputs(N_SAMPLES, net.in_channels, seed)
    assert 10 * net.receptive_field < N_SAMPLES
    batch = reference.run(net, x, rounding=rounding, engine="batch")
    for engine in ("stream", "fxpmath"):
        other = reference.run(net, x, rounding=rounding, engine=engine)
        mismatches = np.argwhere(batch != other)
        assert mismatches.size == 0, (
            f"{engine} != batch for random_graph_network({seed}), rounding={rounding}: "
            f"{len(mismatches)} samples differ, first at (t, ch)={tuple(mismatches[0])}"
        )
    assert batch.shape == (N_SAMPLES, net.out_channels)
    assert np.mean(np.abs(batch) < 32767) > 0.5, "the outputs are mostly saturated"


@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_graph_engines_agree_quick(seed):
    _check_engines(seed, fixed.ROUNDING_MODES[seed % 2])


@pytest.mark.slow
@pytest.mark.parametrize("seed", ALL_SEEDS)
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_graph_engines_agree_random_networks(seed, rounding):
    _check_engines(seed, rounding)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("rounding", fixed.ROUNDING_MODES)
def test_graph_batch_matches_plain_python(seed, rounding):
    net = random_graph_network(seed)
    x = random_inputs(240, net.in_channels, seed + 100)
    expected = np.array(python_reference(net, x, rounding), dtype=np.int64)
    got = reference.run(net, x, rounding=rounding)
    mismatches = np.argwhere(got != expected)
    assert mismatches.size == 0, f"first mismatch at (t, ch)={tuple(mismatches[0])}"


def test_random_graphs_cover_the_required_space():
    nets = [random_graph_network(seed) for seed in ALL_SEEDS]
    nodes = [node for net in nets for node in net.nodes]
    assert {n.activation for n in nodes} == set(fixed.ACTIVATIONS)
    assert {n.shift for n in nodes} == {0, 1, 2, 3}
    identities = [s for n in nodes for s in n.identity_sources]
    assert {s.shift for s in identities} >= {0, 1, 2, 3}
    assert any(len(n.identity_sources) >= 3 for n in nodes), "a skip sum of 3+ tensors"
    assert any(len({s.tensor for s in n.conv_sources}) >= 3 for n in nodes), "3+ conv sources"
    mixins = [
        n
        for n in nodes
        if n.name.startswith("act") and any(s.tensor == "input" for s in n.conv_sources)
    ]
    assert mixins, "input mixins into later layers"
    convs = [s for n in nodes for s in n.conv_sources]
    assert {s.kernel_size for s in convs} >= {1, 2, 3, 4}
    assert max(s.dilation for s in convs) >= 8
    slopes = {n.slope for n in nodes if n.activation == "leaky_relu"}
    assert len(slopes) >= 3
    weights = np.concatenate([s.weights.ravel() for s in convs])
    assert weights.min() == fixed.RAW_MIN and weights.max() == fixed.RAW_MAX
    assert any(n.tables and n.tables[0].max() == fixed.RAW_MAX for n in nodes), "saturated knots"
    assert any(net.outputs[0][0] != "head" for net in nets), "outputs from inner tensors"
    assert len(GRAPH_ACTIVATIONS) == 6


def test_fxpmath_one_sample_at_a_time_equals_blocks():
    net = random_graph_network(4)
    x = random_inputs(300, net.in_channels, 9)
    spec = reference.FxpStreamingReference(net)
    stepped = np.array([spec.step(column) for column in x[:40]])
    rest = spec.run(x[40:])
    assert np.array_equal(np.concatenate([stepped, rest]), reference.run_batch(net, x))


def test_graph_streaming_continues_across_calls_and_resets():
    net = random_graph_network(7)
    x = random_inputs(1000, net.in_channels, 1)
    ref = reference.StreamingReference(net)
    first, second = ref.run(x[:333]), ref.run(x[333:])
    assert np.array_equal(np.concatenate([first, second]), reference.run_batch(net, x))
    ref.reset()
    assert np.array_equal(ref.run(x[:333]), first)
