"""The shapes of Neural Amp Modeler's standard architectures, as ``.nam`` documents.

Why: benches and tests need NAM-size networks without shipping trained captures. These are the
A1 presets (standard, lite, feather, nano: tanh, kernel 3, two layer arrays) and the 2026 A2
(one array of 23 layers, kernel 6 with two K=15 layers, LeakyReLU 0.01, a K=16 head), written
in the 0.7 layout NAM's exporter uses, with seeded random weights of a trained capture's scale
(median |w| about 0.1, max about 1.5). Their outputs are not amps, but their costs are exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavecomp.frontend.nam_file import weight_count

_A1_LONG = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
_A1_SHORT = ([1, 2, 4, 8, 16, 32, 64], [128, 256, 512, *_A1_LONG])
A1_SHAPES = {
    "standard": ((16, 8), (_A1_LONG, _A1_LONG)),
    "lite": ((12, 6), _A1_SHORT),
    "feather": ((8, 4), _A1_SHORT),
    "nano": ((4, 2), _A1_SHORT),
}
_A2_CYCLE = [1, 3, 7, 17, 41, 101, 239]
A2_DILATIONS = [*_A2_CYCLE, *_A2_CYCLE, 1, 13, *_A2_CYCLE]
A2_KERNELS = [6] * 14 + [15, 15] + [6] * 7
A2_CHANNELS = {"lite": 3, "full": 8}
PRESETS = ("a1_standard", "a1_lite", "a1_feather", "a1_nano", "a2_lite", "a2_full")
MEDIAN_ABS_WEIGHT = 0.1
MAX_ABS_WEIGHT = 1.5


def _array(
    input_size: int,
    channels: int,
    dilations: list[int],
    kernels: list[int],
    activation: dict[str, Any],
    head: dict[str, Any],
) -> dict[str, Any]:
    return {
        "input_size": input_size,
        "condition_size": 1,
        "channels": channels,
        "bottleneck": channels,
        "kernel_sizes": kernels,
        "dilations": dilations,
        "activation": [activation] * len(dilations),
        "gating_mode": ["none"] * len(dilations),
        "head": head,
        "layer1x1": {"active": True, "groups": 1},
        "head1x1": {"active": False, "out_channels": 1, "groups": 1},
    }


def preset_config(preset: str) -> tuple[dict[str, Any], float]:
    """(the WaveNet config, head_scale) of a preset named like ``a1_standard`` or ``a2_full``."""
    family, _, size = preset.partition("_")
    if family == "a1" and size in A1_SHAPES:
        (c0, c1), (d0, d1) = A1_SHAPES[size]
        tanh = {"type": "Tanh"}
        arrays = [
            _array(
                1,
                c0,
                d0,
                [3] * len(d0),
                tanh,
                {"out_channels": c1, "kernel_size": 1, "bias": False},
            ),
            _array(
                c0, c1, d1, [3] * len(d1), tanh, {"out_channels": 1, "kernel_size": 1, "bias": True}
            ),
        ]
        return {"layers": arrays, "head": None, "head_scale": 0.02}, 0.02
    if family == "a2" and size in A2_CHANNELS:
        leaky = {"type": "LeakyReLU", "negative_slope": 0.01}
        head = {"out_channels": 1, "kernel_size": 16, "bias": True}
        arrays = [_array(1, A2_CHANNELS[size], A2_DILATIONS, A2_KERNELS, leaky, head)]
        return {"layers": arrays, "head": None, "head_scale": 0.01}, 0.01
    raise ValueError(f"unknown NAM preset {preset!r}: use one of {', '.join(PRESETS)}")


def random_capture(preset: str, seed: int = 0) -> dict[str, Any]:
    """A ``.nam`` document of ``preset`` with seeded Laplace weights of a trained scale."""
    config, head_scale = preset_config(preset)
    rng = np.random.default_rng([seed, 0x4A4D])
    count = weight_count(config) - 1
    scale = MEDIAN_ABS_WEIGHT / np.log(2)  # Laplace: median |w| = b ln 2
    weights = np.clip(rng.laplace(0.0, scale, count), -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
    return {
        "version": "0.7.0",
        "architecture": "WaveNet",
        "config": config,
        "weights": [*weights.tolist(), head_scale],
        "sample_rate": 48000,
        "metadata": {"name": f"{preset} (random weights, seed {seed})"},
    }
