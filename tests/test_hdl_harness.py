"""hdl/wc_synth_harness.sv (the 4-pin wrapper used for core-only synthesis) really carries the
core's samples: bits shifted in on ``din`` reach the core's inputs and its outputs come back out
on ``dout``, bit-exact with the reference and the codec scaling."""

from __future__ import annotations

import numpy as np
import pytest
from benches import BUILD_ROOT, run_bench

from wavecomp import fixed, reference, resources
from wavecomp import schedule as sch
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.rtl.generate import generate

BUILD = BUILD_ROOT / "synth_harness"
CYCLES_PER_SAMPLE = 64  # the smallest period that still shifts a whole 64-bit word
N_SAMPLES = 120


def tiny_network() -> Network:
    """One K=1 layer 4->4: a signed, scaled identity with a little crosstalk and bias.

    Gains of 2 and -1.5 with full-scale inputs drive the codec outputs into saturation, the
    -1 and the bias make negative and odd values, and the crosstalk makes every output depend
    on more than one input lane, so a swapped or shifted lane shows.
    """
    gains = np.diag([1.0, -1.0, 2.0, -1.5])
    gains[1, 0], gains[3, 2] = 0.25, -0.125
    weights = fixed.to_q12(gains)[None, :, :]
    bias = fixed.to_q12([0.0, 0.5, -0.25, 1 / 4096])
    layer = ConvLayer("mix", weights, bias, dilation=1, activation="linear")
    return Network([layer], IOSpec.default(4, 4), name="harness4")


def codec_inputs(n: int, seed: int) -> np.ndarray:
    """Codec samples on the four jacks: random, with full-scale runs at both ends."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-32768, 32768, size=(n, 4))
    x[5:9] = 32767
    x[20:24] = -32768
    x[30] = [1, -1, 3, -3]  # tiny values: the floor shift maps 1, 3 -> 0 and -1, -3 -> -1
    return x.astype(np.int16)


def expected_codec_outputs(net: Network, x: np.ndarray, rounding: fixed.Rounding) -> np.ndarray:
    """What the board's DAC gets: codec in >> input_shift, reference, << output_shift, saturate."""
    net_in = np.stack(
        [fixed.board_to_q12(x[:, ch.jack], net.io.input_shift) for ch in net.io.inputs], axis=1
    )
    y = reference.run(net, net_in, rounding=rounding)
    out = np.zeros((x.shape[0], 4), dtype=np.int16)
    for o, ch in enumerate(net.io.outputs):
        out[:, ch.jack] = fixed.q12_to_board(y[:, o], net.io.output_shift)
    return out


@pytest.mark.slow
def test_synth_harness_shifts_core_samples_in_and_out():
    net = tiny_network()
    budget = sch.Budget(cycles_per_sample=CYCLES_PER_SAMPLE, multipliers=16)
    sched = sch.schedule(net, budget)
    work = BUILD / "tiny"
    files = generate(net, sched, work)
    x = codec_inputs(N_SAMPLES, 7)
    expected = expected_codec_outputs(net, x, sched.rounding)
    assert np.any(expected == 32767) and np.any(expected == -32768), "exercise saturation"
    stim = work / "stimulus.npz"
    np.savez(stim, x=x, expected=expected, latency=sched.latency_samples, cps=CYCLES_PER_SAMPLE)
    run_bench(
        toplevel="wc_synth_harness",
        sources=[*files.sources, resources.hdl_dir() / "wc_synth_harness.sv"],
        test_module="test_wc_synth_harness",
        build_dir=work / "obj",
        parameters={"CYCLES_PER_SAMPLE": CYCLES_PER_SAMPLE},
        test_dir=files.out_dir,  # $readmemh finds the memory images in the working directory
        extra_env={"WAVECOMP_STIM": str(stim)},
    )
