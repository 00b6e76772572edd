"""How well a compiled network does the waveshaping task, measured on the integer reference.

Every figure here comes from ``reference.run`` (what the hardware will produce bit for bit),
not from the QKeras float model, so a report's SNR is the SNR the user will hear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from wavecomp import fixed, reference
from wavecomp.frontend import data
from wavecomp.ir import Network

# Held-out corner signals: frequencies spread over the training range (log-spaced, so every
# octave counts), none of them a training draw, each long enough for many periods.
EVAL_FREQS_PER_CORNER = 5
EVAL_SECONDS = 0.1


def _powers(target: np.ndarray, output: np.ndarray) -> tuple[float, float]:
    """(signal power, error power) as float64 sums: what both SNR and ESR are made of."""
    target = np.asarray(target, dtype=np.float64)
    error = np.asarray(output, dtype=np.float64) - target
    return float(np.sum(target**2)), float(np.sum(error**2))


def snr_db(target: np.ndarray, output: np.ndarray) -> float:
    """10*log10(signal power / error power); +inf when the output is exact."""
    signal, noise = _powers(target, output)
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


def esr(target: np.ndarray, output: np.ndarray) -> float:
    """Error-to-signal ratio sum((y - target)^2) / sum(target^2), as NAM reports it (lower is
    better; 0.01 is -20 dB). The same information as the SNR, on the scale amp modellers use."""
    signal, noise = _powers(target, output)
    return noise / signal if signal > 0 else math.inf


def run_values(net: Network, x: np.ndarray, rounding: fixed.Rounding) -> np.ndarray:
    """Model-unit floats in (T, C_in) -> reference outputs as model-unit floats (T, C_out)."""
    return fixed.from_q12(reference.run(net, fixed.to_q12(x), rounding=rounding))


@dataclass(frozen=True)
class CornerScore:
    waveform: str
    embedding: tuple[float, float]
    snr_db: float
    """Over every output voice and every held-out frequency, after the receptive-field warm-up."""
    esr: float
    """Error-to-signal ratio over the same samples."""


def corner_snr(
    net: Network,
    config: data.WaveshaperConfig,
    *,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    seed: int = 0,
) -> list[CornerScore]:
    """Held-out SNR per corner of the embedding square, through the integer reference."""
    rng = np.random.default_rng([seed, 0xC0])
    lo, hi = math.log(config.min_freq), math.log(config.max_freq)
    edges = np.linspace(lo, hi, EVAL_FREQS_PER_CORNER + 1)
    # one random frequency inside each log-spaced band: held out, yet covering the range
    freqs = np.exp(rng.uniform(edges[:-1], edges[1:]))
    n = int(EVAL_SECONDS * config.sample_rate) + net.receptive_field
    scores = []
    for name in data.WAVEFORMS:
        targets, outputs = [], []
        for freq in freqs:
            sig = data.corner_signal(
                name, n, freq=float(freq), config=config, phase=float(rng.random())
            )
            out = run_values(net, sig.x[0], rounding)
            warm = net.receptive_field - 1
            targets.append(sig.y[0][warm:])
            outputs.append(out[warm:])
        target, output = np.concatenate(targets), np.concatenate(outputs)
        scores.append(
            CornerScore(name, data.CORNERS[name], snr_db(target, output), esr(target, output))
        )
    return scores


def dataset_snr(
    net: Network, dataset: data.Dataset, *, rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING
) -> float:
    """SNR over a whole dataset (e.g. held-out windows of a user's recording)."""
    warm = net.receptive_field - 1
    targets, outputs = [], []
    for x, y in zip(dataset.x, dataset.y, strict=True):
        targets.append(y[warm:])
        outputs.append(run_values(net, x, rounding)[warm:])
    return snr_db(np.concatenate(targets), np.concatenate(outputs))
