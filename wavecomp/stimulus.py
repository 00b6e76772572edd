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
