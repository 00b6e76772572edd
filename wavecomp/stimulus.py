"""The stimulus that proves a backend bit-exact: seeded, and hard on the arithmetic.

Why this shape: smooth and noisy stretches exercise ordinary values, and bursts at both ends of
the Q4.12 range (plus full scale on the first two samples) are where wrap, saturation and
rounding bugs hide. The build's RTL check and the tests use the same signal, so a seed
reproduces any failure.
"""

from __future__ import annotations

import numpy as np

from wavecomp import fixed


def random_inputs(n_samples: int, n_channels: int, seed: int) -> np.ndarray:
    """int16 (T, C) Q4.12 signals: smooth and noisy stretches plus bursts at ±full scale."""
    rng = np.random.default_rng([seed, 0x1A9])
    t = np.arange(n_samples)[:, None]
    freqs = rng.uniform(0.001, 0.05, n_channels)
    smooth = 3.0 * np.sin(2 * np.pi * freqs * t + rng.uniform(0, 2 * np.pi, n_channels))
    noise = rng.normal(0.0, 1.5, (n_samples, n_channels))
    x = fixed.to_q12(smooth + noise)
    for _ in range(max(1, n_samples // 256)):
        start = int(rng.integers(0, n_samples))
        length = int(rng.integers(1, 32))
        value = rng.choice([fixed.RAW_MIN, fixed.RAW_MAX], size=n_channels)
        x[start : start + length] = value
    x[0] = fixed.RAW_MAX
    if n_samples > 1:
        x[1] = fixed.RAW_MIN
    return x


GUITAR_PEAK = 0.5
"""Peak of the quality test signal: a DI guitar at a realistic level (NAM's [-1, 1] units)."""

_CHORDS_HZ = (
    (82.41, 123.47, 164.81, 207.65, 246.94, 329.63),  # E major
    (110.00, 164.81, 220.00, 277.18, 329.63),  # A major
    (146.83, 220.00, 293.66, 369.99),  # D major
    (98.00, 123.47, 146.83, 196.00, 246.94, 392.00),  # G major
)


def strummed_chords(seconds: float = 2.0, rate: int = 48_000, seed: int = 0) -> np.ndarray:
    """Float64 (T,) plucked and strummed sawtooth chords with a little noise, peak 0.5.

    Why: amp captures are judged on guitar-like input, whose decaying harmonics-rich notes
    sweep each tensor's range far more realistically than sines or white noise. The saws are
    PolyBLEP (nearly alias-free); seeded and deterministic.
    """
    rng = np.random.default_rng([seed, 0x617])
    n = round(seconds * rate)
    t = np.arange(n) / rate
    y = np.zeros(n)
    strum_every = seconds / len(_CHORDS_HZ)
    for i, chord in enumerate(_CHORDS_HZ):
        start = i * strum_every
        for j, f0 in enumerate(chord):
            onset = start + j * rng.uniform(0.006, 0.014)
            local = t - onset
            live = local >= 0
            tl = local[live]
            envelope = (1 - np.exp(-tl / 0.002)) * np.exp(-tl / rng.uniform(0.3, 0.6))
            saw = _polyblep_saw(f0 / rate, rng.uniform(0, 1), tl.size)
            y[live] += rng.uniform(0.6, 1.0) * envelope * saw
    y += rng.normal(0.0, 1e-3 * np.abs(y).max(), n)
    return GUITAR_PEAK * y / np.abs(y).max()


def _polyblep_saw(step: float, phase0: float, n: int) -> np.ndarray:
    """A rising sawtooth in [-1, 1] of ``step`` cycles per sample, its jumps smoothed by
    PolyBLEP so the signal has almost no aliasing of its own."""
    phase = (phase0 + step * np.arange(n)) % 1.0
    saw = 2.0 * phase - 1.0
    after = phase < step
    x = phase[after] / step
    saw[after] -= x + x - x * x - 1.0
    before = phase > 1.0 - step
    x = (phase[before] - 1.0) / step
    saw[before] -= x * x + x + x + 1.0
    return saw
