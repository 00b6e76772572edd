"""The quality measures in the training report, against figures worked out by hand."""

import math

import numpy as np
import pytest

from wavecomp.frontend import evaluate, train_report


def test_snr_and_esr_of_a_known_error():
    target = np.array([1.0, -1.0, 1.0, -1.0])
    output = target + np.array([0.1, 0.0, -0.1, 0.0])  # error power 0.02 / signal power 4
    assert evaluate.esr(target, output) == pytest.approx(0.005)
    assert evaluate.snr_db(target, output) == pytest.approx(10 * math.log10(200))
    assert evaluate.esr(target, target) == 0.0
    assert evaluate.snr_db(target, target) == math.inf


def test_harmonics_of_a_square_wave_follow_its_fourier_series():
    """A +-1 square wave of 40 periods: odd harmonics at 4/(pi k), even ones absent."""
    period, periods = 200, 40
    square = np.where(np.arange(period * periods) % period < period // 2, 1.0, -1.0)
    levels = train_report._harmonics_db(square, periods)
    assert len(levels) == period // 2
    for k in (1, 3, 5, 7):
        # sampled square: the Fourier amplitude of harmonic k is 4/(N sin(pi k / N)) for N samples
        exact = 4.0 / (period * math.sin(math.pi * k / period))
        assert levels[k - 1] == pytest.approx(20 * math.log10(exact), abs=1e-6)
    assert levels[1] == train_report.SPECTRUM_FLOOR_DB  # 2nd harmonic: none


def test_harmonics_of_a_half_scale_sine():
    period, periods = 64, 10
    sine = 0.5 * np.sin(2 * np.pi * np.arange(period * periods) / period)
    levels = train_report._harmonics_db(sine, periods)
    assert levels[0] == pytest.approx(20 * math.log10(0.5), abs=1e-9)
    assert np.all(levels[1:] == train_report.SPECTRUM_FLOOR_DB)  # nothing but the fundamental
