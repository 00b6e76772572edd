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


# ---- numerics v2: pwl tables, leaky_relu, gated, weight and identity shifts --------------------
ALL_INPUTS = np.arange(fixed.RAW_MIN, fixed.RAW_MAX + 1)


@pytest.mark.parametrize(
    ("table", "function"),
    [
        (fixed.tanh_table, np.tanh),
        (fixed.sigmoid_table, lambda x: 1.0 / (1.0 + np.exp(-x))),
    ],
)
def test_pwl_tables_track_the_true_function_over_every_input(table, function):
    """half_up: within 1 LSB everywhere. floor truncates the interpolation, which can add up
    to 1 LSB more (below 1.5 in all), like every other floor-mode step of the contract."""
    truth = function(ALL_INPUTS / 4096.0) * 4096.0
    half_up = np.abs(fixed.pwl(ALL_INPUTS, table(), "half_up") - truth)
    floor = np.abs(fixed.pwl(ALL_INPUTS, table(), "floor") - truth)
    assert half_up.max() <= 1.0
    assert floor.max() < 1.5


def test_pwl_hand_worked():
    table = np.arange(fixed.TABLE_SIZE, dtype=np.int64) * 3  # L[i] = 3i
    # p = -32768 + 64*2 + 10: i = 2, f = 10 -> 6 + (3*10 + r) >> 6
    p = np.array([fixed.RAW_MIN + 138, fixed.RAW_MIN + 128 + 32, fixed.RAW_MAX])
    assert fixed.pwl(p, table, "half_up").tolist() == [6 + 0, 6 + 2, 3 * 1023 + (3 * 63 + 32) // 64]
    assert fixed.pwl(p, table, "floor").tolist() == [6, 6 + 1, 3 * 1023 + 2]
    assert fixed.table_knots()[[0, 512, 1024]].tolist() == [-8.0, 0.0, 8.0]


def test_leaky_relu_and_gated_hand_worked():
    p = np.array([100, -100, -32768, 0])
    # slope 0.25 (1024): -100 * 1024 = -102400; + 2048 -> >> 12 = -25 (half_up), floor -25
    assert fixed.leaky_relu(p, 1024, "half_up").tolist() == [100, -25, -8192, 0]
    assert fixed.leaky_relu(np.array([-3]), 1024, "half_up").tolist() == [-1]  # -0.75 -> -1
    assert fixed.leaky_relu(np.array([-3]), 1024, "floor").tolist() == [-1]
    assert fixed.leaky_relu(np.array([-2]), 1024, "half_up").tolist() == [0]  # -0.5 -> 0
    assert fixed.leaky_relu(np.array([-2]), 1024, "floor").tolist() == [-1]
    ones = np.full(fixed.TABLE_SIZE, 4096)  # 1.0 everywhere
    halves = np.full(fixed.TABLE_SIZE, 2048)  # 0.5
    assert fixed.gated(np.zeros((1, 4)), (ones, halves), "half_up").tolist() == [[2048, 2048]]
    big = np.full(fixed.TABLE_SIZE, fixed.RAW_MAX)
    assert fixed.gated(np.zeros(2), (big, big), "floor").tolist() == [fixed.RAW_MAX]  # clamps


def test_shifts_scale_bias_rounding_and_identity_terms():
    assert fixed.rounding_constant("half_up", 3) == 1 << 14
    assert fixed.bias_term(np.array([1]), "floor", 2).tolist() == [1 << 14]
    assert fixed.identity_term(np.array([-3]), 1, 4).tolist() == [-3 << 9]
    # a Q1.15 weight of 0.5 (16384 with e = 3) times 1.0 (4096), + R_3 -> 0.5 after >> 15
    acc = 16384 * 4096 + fixed.rounding_constant("half_up", 3)
    assert fixed.pre_activation(np.array([acc]), 3).tolist() == [2048]
    assert fixed.pre_activation(np.array([1 << 40]), 0).tolist() == [fixed.RAW_MAX]
