"""The numerics contract on hand-worked examples (expected values derived by hand, not by code)."""

import numpy as np
import pytest

from wavecomp import fixed


def test_q12_range_ends():
    assert fixed.VALUE_MIN == -8.0
    assert fixed.VALUE_MAX == 8.0 - 2.0**-12
    assert fixed.to_q12([-8.0, 8.0 - 2**-12]).tolist() == [-32768, 32767]


def test_to_q12_rounds_half_to_even_then_saturates():
    half_lsb = 2.0**-13
    values = [half_lsb, 3 * half_lsb, -half_lsb, -3 * half_lsb, 5 * half_lsb, 100.0, -100.0, 8.0]
    assert fixed.to_q12(values).tolist() == [0, 2, 0, -2, 2, 32767, -32768, 32767]


def test_requantize_floors_negative_values():
    # acc is in Q.24 units; >> 12 must be floor (arithmetic shift), not round toward zero
    acc = np.array([-1, -4096, -4097, 4095, 4096, 8191])
    assert fixed.requantize(acc, "linear").tolist() == [-1, -1, -2, 0, 1, 1]


def test_requantize_saturates_and_relu():
    acc = np.array([1 << 40, -(1 << 40), (32767 << 12) + 4095, -32768 << 12, -5 << 12])
    assert fixed.requantize(acc, "linear").tolist() == [32767, -32768, 32767, -32768, -5]
    assert fixed.requantize(acc, "relu").tolist() == [32767, 0, 32767, 0, 0]


@pytest.mark.parametrize(("rounding", "expected"), [("floor", [0, -1, 1]), ("half_up", [1, 0, 1])])
def test_rounding_modes_on_exact_halves(rounding, expected):
    # +half an LSB (x=1 LSB times w=0.5): floor -> 0, half_up -> 1;
    # -half an LSB: floor -> -1, half_up -> 0; exactly 1 LSB: 1 in both modes.
    products = np.array([1 * 2048, -1 * 2048, 1 * 4096])
    acc = products + fixed.rounding_constant(rounding)
    assert fixed.requantize(acc, "linear").tolist() == expected


def test_rounding_constant_and_bias_term():
    assert fixed.rounding_constant("floor") == 0
    assert fixed.rounding_constant("half_up") == 2048
    assert fixed.bias_term(np.array([1, -1]), "half_up").tolist() == [4096 + 2048, -4096 + 2048]
    with pytest.raises(ValueError, match="half_up"):
        fixed.rounding_constant("nearest")


def test_accumulator_bound_matches_formula_by_hand():
    weights = np.zeros((2, 3, 1), dtype=np.int16)
    weights[0, 0, 0] = -32768
    weights[1, 2, 0] = 100
    bias = np.array([-7], dtype=np.int16)
    bound = fixed.accumulator_bound(weights, bias, "half_up")
    assert bound.tolist() == [7 * 4096 + 2048 + (32768 + 100) * 32768]
    # the worst case is reachable: every input at the range end that maximises |acc|
    worst = (-7 << 12) + 2048 + (-32768) * (-32768) + 100 * 32767
    assert abs(worst) <= bound[0]


def test_accumulator_bits():
    assert fixed.accumulator_bits(2**31 - 1) == 32
    assert fixed.accumulator_bits(2**31) == 33
    assert fixed.accumulator_bits(1) == 2


def test_board_scaling_matches_eurorack_pmod_convention():
    # 8 V = 32000 raw codec counts -> >> 2 -> 8000 raw Q4.12 = 1.953
    assert fixed.board_to_q12(np.array([32000, -32000, -1])).tolist() == [8000, -8000, -1]
    assert fixed.q12_to_board(np.array([8000, 8192, -8193])).tolist() == [32000, 32767, -32768]


def test_wav_conversion_is_exact_for_16_bit_samples():
    raw = np.arange(-32768, 32768, 7, dtype=np.int16)
    assert np.array_equal(fixed.wav_to_board(fixed.board_to_wav(raw)), raw)
