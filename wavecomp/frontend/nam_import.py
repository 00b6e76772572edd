"""A NAM capture -> the integer IR, with a report of what quantisation cost.

The level mapping: NAM models take and give values in [-1, 1]. wavecomp maps **codec full
scale to 1.0** in both directions, so the 16-bit sample from the codec is the network's raw
input (input tensor scale 1/8, ``input_shift`` 0) and the output raw is the codec sample
(``output_shift`` 0, more only if the capture's output can exceed 1.0). Input jack 0 carries
the guitar; output jack 0 plays the amp. On the eurorack-pmod, 1.0 is about 8.2 V, so a 10 Vpp
eurorack signal arrives at 0.61 - a hot guitar level; attenuate for a clean-DI capture.

Scales are calibrated on two seconds of strummed chords at full scale (twice the DI test level)
with 1.25x margin, so nothing saturates on realistic input; the report shows each tensor's
headroom and resolution, and the float-vs-integer difference on the standard test signal
(``stimulus.strummed_chords``, peak 0.5) with and without the first receptive field (NAM
prewarms its state; wavecomp starts from zeros).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp import fixed, reference
from wavecomp.frontend.evaluate import esr, snr_db
from wavecomp.frontend.float_graph import FloatGraph
from wavecomp.frontend.graph_quantize import TensorScale, quantize_graph
from wavecomp.frontend.nam_file import NamCapture, read_nam
from wavecomp.ir import InputChannel, IOSpec, Network, OutputChannel
from wavecomp.stimulus import GUITAR_PEAK, strummed_chords

CODEC_SCALE = 1.0 / 8
"""Tensor scale at which a raw int16 equals the codec sample: 1.0 = full scale."""
CALIBRATION_PEAK = 1.0
CALIBRATION_SEED = 1
SIZING_SAMPLES = 2048
"""Calibration samples of ``sizing_network``: scales need not be good to count costs."""
TEST_SEED = 0


@dataclass(frozen=True)
class NamComparison:
    """NAM's float output vs the integer reference on one signal (model units)."""

    max_abs_lsb: float
    """In LSB of the output tensor."""
    snr_db: float
    esr: float
    skipped: int
    """Leading samples left out (0, or the receptive field)."""
    n_samples: int


@dataclass(frozen=True)
class NamImportReport:
    source: str
    nam_version: str
    submodel: str | None
    head_scale: float
    rounding: str
    receptive_field: int
    scales: list[TensorScale]
    comparisons: list[NamComparison]
    """On the test signal: from t = 0, and from the receptive field on."""
    clipped: dict[str, int]
    """Per tensor: samples the integer reference clamped on the calibration signal (want 0)."""

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        for row in doc["comparisons"]:
            row["snr_db"] = row["snr_db"] if math.isfinite(row["snr_db"]) else None
        return doc


def codec_samples(values: np.ndarray) -> np.ndarray:
    """Float signal in [-1, 1] -> int16 codec samples (the network's raw input), (T, 1)."""
    return fixed.wav_to_board(values).reshape(-1, 1)


def output_values(net: Network, raw: np.ndarray) -> np.ndarray:
    """The network's raw outputs in NAM units (before the codec clips at full scale)."""
    return np.asarray(raw, dtype=np.float64) * (CODEC_SCALE * 2**net.io.output_shift) / fixed.ONE


def compare_with_float(
    graph: FloatGraph, net: Network, x: np.ndarray, rounding: fixed.Rounding
) -> list[NamComparison]:
    """The float graph (= NAM's forward pass) vs the integer reference on ``x`` (float)."""
    y_float = graph.forward(x)[:, 0]
    y_int = output_values(net, reference.run(net, codec_samples(x), rounding=rounding))[:, 0]
    lsb = CODEC_SCALE * 2**net.io.output_shift / fixed.ONE
    rows = []
    for skip in (0, net.receptive_field):
        ref, got = y_float[skip:], y_int[skip:]
        rows.append(
            NamComparison(
                max_abs_lsb=float(np.abs(got - ref).max() / lsb),
                snr_db=snr_db(ref, got),
                esr=esr(ref, got),
                skipped=skip,
                n_samples=len(ref),
            )
        )
    return rows


def clipped_tensors(net: Network, x: np.ndarray, rounding: fixed.Rounding) -> dict[str, int]:
    """Samples at the int16 ends per pass-through tensor (linear/relu/leaky): clamping there
    loses signal. A table's input may clamp freely: its function is flat beyond +-8."""
    values = reference.run_batch_tensors(net, codec_samples(x), rounding=rounding)
    counts = {}
    for node in net.nodes:
        if node.activation in ("linear", "relu", "leaky_relu"):
            y = values[node.name]
            counts[node.name] = int(np.sum((y >= fixed.RAW_MAX) | (y <= fixed.RAW_MIN)))
    return counts


def import_nam(
    path: str | Path,
    *,
    submodel: int | None = None,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> tuple[Network, NamImportReport]:
    """Read, quantise and check a ``.nam`` capture; the report is also in the network's
    ``metadata['nam_import']``."""
    path = Path(path)
    return quantize_capture(read_nam(path, submodel), path.stem, path.name, rounding)


def sizing_network(capture: NamCapture, name: str) -> Network:
    """The capture's integer network from a short calibration and without the import checks:
    its shapes and costs are exact, its scales only roughly right. For asking what fits."""
    return _integer_network(capture, name, _calibration()[:SIZING_SAMPLES])[0]


def _calibration() -> np.ndarray:
    """The signal the tensor scales are calibrated on: strummed chords at CALIBRATION_PEAK."""
    return strummed_chords(seed=CALIBRATION_SEED) * (CALIBRATION_PEAK / GUITAR_PEAK)


def _integer_network(
    capture: NamCapture, name: str, calibration: np.ndarray
) -> tuple[Network, list[TensorScale]]:
    rate = int(capture.sample_rate) if capture.sample_rate else None
    io = IOSpec(
        (InputChannel("guitar", "audio", 0),),
        (OutputChannel("amp", 0),),
        input_shift=0,
        output_shift=0,
        sample_rate=rate,
    )
    return quantize_graph(
        capture.graph,
        calibration,
        io,
        input_scale=CODEC_SCALE,
        output_scale=CODEC_SCALE,
        name=name,
    )


def quantize_capture(
    capture: NamCapture, name: str, source: str, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> tuple[Network, NamImportReport]:
    """A parsed capture -> the integer network and its import report."""
    calibration = _calibration()
    net, scales = _integer_network(capture, name, calibration)
    test = strummed_chords(seed=TEST_SEED)
    report = NamImportReport(
        source=source,
        nam_version=capture.version,
        submodel=capture.submodel,
        head_scale=capture.head_scale,
        rounding=rounding,
        receptive_field=net.receptive_field,
        scales=scales,
        comparisons=compare_with_float(capture.graph, net, test, rounding),
        clipped=clipped_tensors(net, calibration, rounding),
    )
    net.metadata["nam_import"] = report.to_dict()
    return net, report
