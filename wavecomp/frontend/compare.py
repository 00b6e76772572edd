"""Keras' float forward pass next to the integer reference on the same signal, in LSB.

Why: the float model is what the user trained and the integer reference is what the hardware
plays; the importer and the training report measure the gap between them (and
``error_bound.float_error_bound_lsb`` bounds it), so both use this one comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from wavecomp import fixed, reference
from wavecomp.frontend.evaluate import snr_db
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.ir import Network

__all__ = ["FloatComparison", "compare_float_to_reference", "default_calibration"]


@dataclass
class FloatComparison:
    """Keras float forward pass (outputs clamped to Q4.12) vs the integer reference, in LSB."""

    max_abs_lsb: float
    snr_db: float
    """10*log10(sum ref^2 / sum diff^2); ``inf`` when the two agree exactly."""
    per_channel_max_lsb: list[float]
    n_samples: int

    @property
    def exact(self) -> bool:
        return self.max_abs_lsb == 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: an infinite SNR is written as ``None`` with ``exact: true``."""
        return {
            "max_abs_lsb": float(self.max_abs_lsb),
            "snr_db": float(self.snr_db) if math.isfinite(self.snr_db) else None,
            "exact": self.exact,
            "per_channel_max_lsb": [float(v) for v in self.per_channel_max_lsb],
            "n_samples": int(self.n_samples),
        }


def _keras_forward(model: Any, x_values: np.ndarray) -> np.ndarray:
    import_tf()
    out = model(x_values[None].astype(np.float32), training=False)
    return np.asarray(out, dtype=np.float64)[0]


def _as_grid_signal(x_values: np.ndarray, c_in: int, what: str) -> np.ndarray:
    x = np.asarray(x_values, dtype=np.float64)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2 or x.shape[1] != c_in or x.shape[0] < 1:
        raise FrontendError(f"{what} must have shape (T, {c_in}), got {np.shape(x_values)}")
    if not np.all(np.isfinite(x)):
        raise FrontendError(f"{what} contains NaN or infinite values")
    return fixed.quantize_to_grid(x)


def compare_float_to_reference(
    model: Any,
    net: Network,
    x_values: np.ndarray,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
) -> FloatComparison:
    """Run the Keras model (float) and ``reference.run`` (integer) on the same signal.

    ``x_values`` is a float (T, C_in) signal; it is snapped to the Q4.12 grid first so both
    see identical inputs. The float outputs are clamped to the Q4.12 range (as the hardware
    saturates) before the difference is taken.
    """
    x = _as_grid_signal(x_values, net.in_channels, "x_values")
    y_float = np.clip(_keras_forward(model, x), fixed.VALUE_MIN, fixed.VALUE_MAX)
    if y_float.shape != (x.shape[0], net.out_channels):
        raise FrontendError(
            f"the Keras model returned shape {y_float.shape} for a ({x.shape[0]}, "
            f"{net.in_channels}) input; expected ({x.shape[0]}, {net.out_channels})"
        )
    y_ref = reference.run(net, fixed.to_q12(x), rounding=rounding).astype(np.float64)
    diff = y_float * fixed.ONE - y_ref  # in LSB
    return FloatComparison(
        max_abs_lsb=float(np.max(np.abs(diff))),
        snr_db=snr_db(y_ref, y_float * fixed.ONE),
        per_channel_max_lsb=[float(v) for v in np.max(np.abs(diff), axis=0)],
        n_samples=int(x.shape[0]),
    )


def default_calibration(c_in: int, n_samples: int = 4096, seed: int = 0) -> np.ndarray:
    """A seeded (T, C_in) signal on the grid: a few sines plus noise, within +-2 per channel."""
    rng = np.random.default_rng([seed, 0xCA1])
    t = np.arange(n_samples)[:, None]
    x = np.zeros((n_samples, c_in))
    for _ in range(3):
        freq = rng.uniform(0.0005, 0.05, c_in)
        x += rng.uniform(0.2, 0.5, c_in) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6.3, c_in))
    x += rng.normal(0.0, 0.1, x.shape)
    return fixed.quantize_to_grid(np.clip(x, -2.0, 2.0))
