"""Tests for wavecomp.frontend.data: the synthetic waveshaper set and the recording loader.

Expected values come from the written spec (formulas re-derived here from the triangle's value
and slope), never from the code under test.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import soundfile as sf

from wavecomp.frontend.data import (
    CORNERS,
    WAVEFORMS,
    DataError,
    WaveshaperConfig,
    corner_signal,
    grid_signal,
    load_recordings,
    waveform,
    waveshaper_dataset,
)

SR = 48_000
W = 0.06


def assert_on_grid(a: np.ndarray) -> None:
    raw = a.astype(np.float64) * 4096.0
    assert np.all(np.isfinite(raw))
    assert np.array_equal(raw, np.round(raw)), "value not a multiple of 2**-12"
    assert raw.min() >= -32768 and raw.max() <= 32767


@pytest.fixture(scope="module")
def train():
    return waveshaper_dataset(400, 1024, seed=7)


@pytest.fixture(scope="module")
def train4():
    cfg = WaveshaperConfig(n_inputs=4, n_outputs=4)
    return waveshaper_dataset(400, 1024, seed=7, config=cfg)


# --- independent phase reconstruction from the triangle -----------------------------------


def phase_from_triangle(x: np.ndarray, amp: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Phase in [0, 1) from the triangle's value and slope direction; mask of reliable samples.

    Rising half: tri = -1 + 4p; falling half: tri = 3 - 4p. Samples near the extremes (where
    the slope direction is ambiguous) and at the ends are not reliable.
    """
    v = x / amp
    slope = np.zeros_like(v)
    slope[1:-1] = v[2:] - v[:-2]
    p = np.where(slope > 0, (v + 1) / 4, 1 - (v + 1) / 4)
    ok = (np.abs(v) < 0.85) & (slope != 0)
    ok[0] = ok[-1] = False
    return np.mod(p, 1.0), ok


def tri(p):
    return 1 - 4 * np.abs(np.mod(p, 1.0) - 0.5)


def spec_wave(name: str, p: np.ndarray) -> np.ndarray:
    if name == "sine":
        return -np.cos(2 * np.pi * p)
    if name == "ramp":
        return np.where(p < 1 - W, -1 + 2 * p / (1 - W), 1 - 2 * (p - (1 - W)) / W)
    if name == "square":
        # trapezoid: +1 on the rising half, -1 on the falling half, w-wide linear edges
        d_up = np.mod(p + 0.5, 1.0) - 0.5  # signed distance to p=0
        d_dn = p - 0.5
        return np.where(
            np.abs(d_up) < 0.25, np.clip(d_up / (W / 2), -1, 1), np.clip(-d_dn / (W / 2), -1, 1)
        )
    if name == "zigzag":
        return 0.6 * tri(p) + 0.4 * tri(3 * p)
    raise AssertionError(name)


# --- waveform() ---------------------------------------------------------------------------


def test_waveform_key_points():
    p = np.array([0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(waveform("triangle", p), [-1, 0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(waveform("sine", p), [-1, 0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(waveform("ramp", [0.0, 1 - W, 1 - W / 2]), [-1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(waveform("square", [0.0, 0.25, 0.5, 0.75]), [0, 1, 0, -1])
    np.testing.assert_allclose(waveform("zigzag", [0.0, 0.5]), [-1, 1], atol=1e-12)


@pytest.mark.parametrize("name", ("triangle", *WAVEFORMS))
def test_waveforms_continuous_and_bounded(name):
    p = np.linspace(0, 2, 200_001)
    v = waveform(name, p)
    assert np.all(np.abs(v) <= 1 + 1e-12)
    # finite edges: the steepest slope is 2/w per period (ramp reset, square edges)
    assert np.max(np.abs(np.diff(v))) <= (2 / W) * (p[1] - p[0]) * 1.0001
    assert v[0] == pytest.approx(v[-1], abs=1e-9)


@pytest.mark.parametrize("name", WAVEFORMS)
def test_waveforms_match_spec(name):
    p = np.linspace(0, 1, 10_001, endpoint=False)
    np.testing.assert_allclose(waveform(name, p), spec_wave(name, p), atol=1e-9)


# --- shapes, grid, determinism -----------------------------------------------------------


def test_shapes_dtypes_grid(train, train4):
    assert train.x.shape == (400, 1024, 3) and train.y.shape == (400, 1024, 1)
    assert train4.x.shape == (400, 1024, 4) and train4.y.shape == (400, 1024, 4)
    for ds in (train, train4):
        assert ds.x.dtype == np.float32 and ds.y.dtype == np.float32
        assert ds.embedding.shape == (400, 2) and ds.embedding.dtype == np.float32
        assert len(ds.label) == 400 and ds.sample_rate == SR
        assert_on_grid(ds.x)
        assert_on_grid(ds.y)
    assert np.all(train4.x[:, :, 3] == 0)
    # embedding channels are constant per example and equal the embedding
    np.testing.assert_array_equal(train.x[:, :, 1:3], np.repeat(train.embedding[:, None], 1024, 1))


def test_same_draws_for_any_channel_count(train, train4):
    np.testing.assert_array_equal(train.x, train4.x[:, :, :3])
    np.testing.assert_array_equal(train.y[:, :, 0], train4.y[:, :, 0])
    assert train.label == train4.label


def test_deterministic_and_splits_differ(train):
    again = waveshaper_dataset(400, 1024, seed=7)
    np.testing.assert_array_equal(train.x, again.x)
    np.testing.assert_array_equal(train.y, again.y)
    assert train.label == again.label
    held = waveshaper_dataset(400, 1024, seed=7, split="heldout")
    assert not np.array_equal(train.x, held.x)
    other = waveshaper_dataset(400, 1024, seed=8)
    assert not np.array_equal(train.x, other.x)
    with pytest.raises(ValueError):
        waveshaper_dataset(4, 64, seed=7, split="test")


def test_a_training_sized_set():
    """1000 windows of 1024 samples (a training run's scale) come out whole; how fast is a
    benchmark's business, not a test's."""
    ds = waveshaper_dataset(1000, 1024, seed=0)
    assert ds.x.shape == (1000, 1024, 3) and ds.y.shape == (1000, 1024, 1)
    assert len(ds.label) == 1000


# --- corner examples -----------------------------------------------------------------------


def test_corner_fraction(train):
    n_corner = sum(lbl in CORNERS for lbl in train.label)
    assert n_corner == 200
    assert {lbl for lbl in train.label if lbl in CORNERS} == set(WAVEFORMS)
    ds = waveshaper_dataset(100, 64, seed=1, corner_fraction=0.2)
    assert sum(lbl in CORNERS for lbl in ds.label) == 20
    ds = waveshaper_dataset(20, 64, seed=1, corner_fraction=1.0)
    assert all(lbl in CORNERS for lbl in ds.label)


def test_corner_embeddings_exact(train):
    for i, lbl in enumerate(train.label):
        if lbl in CORNERS:
            assert tuple(train.embedding[i]) == CORNERS[lbl]


def test_corner_targets_follow_triangle(train):
    seen = set()
    for i, lbl in enumerate(train.label):
        if lbl not in CORNERS:
            continue
        x, y = train.x[i, :, 0].astype(np.float64), train.y[i, :, 0].astype(np.float64)
        if lbl == "sine":
            # sine as a function of the triangle value alone: -cos(pi (v + 1) / 2)
            np.testing.assert_allclose(y, -np.cos(np.pi * (x + 1) / 2), atol=1e-3)
        elif lbl == "square":
            slope = np.sign(x[2:] - x[:-2])
            far = np.abs(x[1:-1]) < 0.8  # away from the w-wide transitions
            assert far.sum() > 100
            np.testing.assert_array_equal(y[1:-1][far], slope[far])
        p, ok = phase_from_triangle(x)
        assert ok.sum() > 500
        np.testing.assert_allclose(y[ok], spec_wave(lbl, p[ok]), atol=3e-3)
        seen.add(lbl)
    assert seen == set(WAVEFORMS)


# --- edge examples -------------------------------------------------------------------------

LABEL = re.compile(r"^(\w+)~(\w+)@(\d\.\d\d)$")


def test_edge_examples(train):
    n_edges = 0
    edges_seen = set()
    for i, lbl in enumerate(train.label):
        if lbl in CORNERS:
            continue
        m = LABEL.match(lbl)
        assert m, lbl
        a, b, t_label = m.group(1), m.group(2), float(m.group(3))
        ca, cb = np.array(CORNERS[a]), np.array(CORNERS[b])
        assert np.sum(np.abs(ca - cb)) == 1.0, "corners must share an edge"
        e = train.embedding[i].astype(np.float64)
        # on an edge: one coordinate is 0 or 1, both in [0, 1]
        assert np.all((e >= 0) & (e <= 1))
        assert np.any((e == 0) | (e == 1))
        # e = (1 - t) a + t b: recover t along the varying axis
        axis = int(np.argmax(np.abs(cb - ca)))
        t = (e[axis] - ca[axis]) / (cb[axis] - ca[axis])
        np.testing.assert_allclose(e, (1 - t) * ca + t * cb, atol=1e-7)
        assert abs(t - t_label) <= 0.005 + 1e-9
        x, y = train.x[i, :, 0].astype(np.float64), train.y[i, :, 0].astype(np.float64)
        p, ok = phase_from_triangle(x)
        expected = math.cos(t * math.pi / 2) * spec_wave(a, p) + math.sin(
            t * math.pi / 2
        ) * spec_wave(b, p)
        np.testing.assert_allclose(y[ok], expected[ok], atol=3e-3)
        edges_seen.add((a, b))
        n_edges += 1
    assert n_edges == 200
    assert len(edges_seen) == 4


def test_edge_crossfade_is_constant_power():
    # Fit each edge target as c_a * wave_a + c_b * wave_b (waves from the reconstructed phase):
    # constant power means c_a^2 + c_b^2 == 1. The voice mirrored across the edge's varying
    # axis sits at t' = 1 - t on the same edge, so its weights are (c_b, c_a).
    ds = waveshaper_dataset(
        40, 2048, seed=3, corner_fraction=0.0, config=WaveshaperConfig(n_outputs=4)
    )
    for i, lbl in enumerate(ds.label):
        a, b = LABEL.match(lbl).group(1, 2)
        p, ok = phase_from_triangle(ds.x[i, :, 0].astype(np.float64))
        design = np.stack([spec_wave(a, p[ok]), spec_wave(b, p[ok])], axis=1)
        k = 1 if CORNERS[a][0] != CORNERS[b][0] else 2  # 1 mirrors e0, 2 mirrors e1
        c0, *_ = np.linalg.lstsq(design, ds.y[i, ok, 0].astype(np.float64), rcond=None)
        ck, *_ = np.linalg.lstsq(design, ds.y[i, ok, k].astype(np.float64), rcond=None)
        assert c0 @ c0 == pytest.approx(1.0, abs=3e-3)
        assert np.all(c0 > 0)
        np.testing.assert_allclose(ck, c0[::-1], atol=3e-3)


# --- mirrored voices -----------------------------------------------------------------------


def test_mirrored_voices_at_sine_corner():
    cfg = WaveshaperConfig(n_outputs=4)
    sine = corner_signal("sine", 512, freq=440.0, config=cfg, phase=0.1)
    assert sine.y.shape == (1, 512, 4) and sine.label == ["sine"]
    assert tuple(sine.embedding[0]) == (0.0, 0.0)
    p = np.mod(0.1 + np.arange(512) * 440.0 / SR, 1.0)
    for k, name in enumerate(("sine", "square", "ramp", "zigzag")):
        np.testing.assert_allclose(sine.y[0, :, k], spec_wave(name, p), atol=2.5e-4)


def test_mirrored_voices_in_dataset(train4):
    # voice k is the target at the mirrored embedding: for a corner example, another corner
    mirror = {
        1: lambda e: (1 - e[0], e[1]),
        2: lambda e: (e[0], 1 - e[1]),
        3: lambda e: (1 - e[0], 1 - e[1]),
    }
    by_corner = {v: k for k, v in CORNERS.items()}
    for i, lbl in enumerate(train4.label[:60]):
        if lbl not in CORNERS:
            continue
        x = train4.x[i, :, 0].astype(np.float64)
        p, ok = phase_from_triangle(x)
        for k, f in mirror.items():
            other = by_corner[f(CORNERS[lbl])]
            np.testing.assert_allclose(train4.y[i, ok, k], spec_wave(other, p[ok]), atol=3e-3)


# --- frequency variation -------------------------------------------------------------------


def test_frequency_varies_within_examples():
    cfg = WaveshaperConfig(min_freq=200.0, max_freq=2000.0)
    ds = waveshaper_dataset(200, 4096, seed=11, config=cfg)
    ratios = []
    for x in ds.x[:, :, 0].astype(np.float64):
        # phase continuity: no step larger than the steepest triangle slope allows
        assert np.max(np.abs(np.diff(x))) <= 4 * cfg.max_freq / SR + 2 / 4096
        up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
        frac = -x[up] / (x[up + 1] - x[up])  # sub-sample crossing position
        periods = np.diff(up + frac)
        assert len(periods) >= 2
        freqs = SR / periods
        # a period spanning a jump is a mix of two frequencies, still within the range
        assert freqs.min() >= cfg.min_freq * 0.97 and freqs.max() <= cfg.max_freq * 1.03
        ratios.append(freqs.max() / freqs.min())
    ratios = np.array(ratios)
    assert np.mean(ratios > 1.2) > 0.4, "frequency should jump within many examples"
    assert np.mean(ratios < 1.02) > 0.1, "some examples should keep one frequency"
    # log-uniform: both ends of the range are used
    assert ds.x.shape[0] == 200


# --- grid_signal / config ---------------------------------------------------------------


def test_grid_signal():
    cfg = WaveshaperConfig(n_inputs=4, amplitude=0.5)
    g = grid_signal(0.3, 0.7, 256, freq=100.0, config=cfg)
    assert g.shape == (256, 4) and g.dtype == np.float32
    assert_on_grid(g)
    assert np.all(g[:, 1] == np.float32(round(0.3 * 4096) / 4096))
    assert np.all(g[:, 2] == np.float32(round(0.7 * 4096) / 4096))
    assert np.all(g[:, 3] == 0)
    p = np.arange(256) * 100.0 / SR
    np.testing.assert_allclose(g[:, 0], 0.5 * tri(p), atol=2**-13)


def test_amplitude_scales_everything():
    cfg = WaveshaperConfig(amplitude=2.0)
    ds = corner_signal("square", 2000, freq=300.0, config=cfg)
    assert ds.x[0, :, 0].max() == 2.0 and ds.x[0, :, 0].min() == -2.0
    assert ds.y[0, :, 0].max() == 2.0 and ds.y[0, :, 0].min() == -2.0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_outputs=2),
        dict(n_inputs=2),
        dict(max_freq=30_000.0),
        dict(amplitude=7.0),
        dict(min_freq=0.0),
        dict(edge_width=0.0),
    ],
)
def test_bad_config(kwargs):
    with pytest.raises(DataError):
        WaveshaperConfig(**kwargs)


# --- load_recordings -----------------------------------------------------------------------


def write(path, data, sr=SR, subtype="PCM_16"):
    sf.write(str(path), data, sr, subtype=subtype)
    return path


@pytest.fixture
def pair(tmp_path):
    n = 4000
    idx = np.arange(n)
    # input sample i is the codec value 4*i - 8000 (int16 PCM): identifiable positions
    inp = (4 * idx - 8000).astype(np.int16)
    rng = np.random.default_rng(0)
    tgt = rng.integers(-32768, 32768, size=(n, 2)).astype(np.int16)
    return (write(tmp_path / "in.wav", inp), write(tmp_path / "out.wav", tgt), inp, tgt)


def test_recordings_exact_conversion_and_split(pair):
    in_path, out_path, inp, tgt = pair
    train, held = load_recordings(in_path, out_path, seq_len=256, heldout_fraction=0.25)
    assert train.x.shape[1:] == (256, 1) and train.y.shape[1:] == (256, 2)
    assert train.x.dtype == np.float32 and held.y.dtype == np.float32
    assert_on_grid(train.x)
    assert_on_grid(train.y)
    # input: s >> 2 (arithmetic shift) in Q4.12
    np.testing.assert_array_equal(train.x[0, :, 0], (inp[:256].astype(np.int64) >> 2) / 4096)
    # target: the output r with r << 2 closest to the codec sample, i.e. round(s / 4)
    np.testing.assert_array_equal(train.y[0], np.rint(tgt[:256] / 4) / 4096)
    # time split: first 3000 samples train, last 1000 held out, hop 128
    split = 3000
    assert len(train) == (split - 256) // 128 + 1
    assert len(held) == (1000 - 256) // 128 + 1

    def pos(ds):  # sample index i from its value: raw = (4 i - 8000) >> 2 = i - 2000
        return np.rint(ds.x[..., 0].astype(np.float64) * 4096).astype(int) + 2000

    assert pos(train).max() < split and pos(held).min() >= split
    np.testing.assert_array_equal(pos(train)[1, 0], 128)
    np.testing.assert_array_equal(pos(held)[:, 0], split + 128 * np.arange(len(held)))
    assert np.all(np.isnan(train.embedding)) and train.embedding.shape == (len(train), 2)
    assert train.label == ["recording"] * len(train)
    assert train.sample_rate == SR


def test_recordings_float_wav_and_hop(tmp_path):
    vals = np.array([0.5, -0.25, 1.0, -1.0, 1.5, 0.123456] * 100, dtype=np.float32)
    i = write(tmp_path / "in.wav", vals, subtype="FLOAT")
    o = write(tmp_path / "out.wav", vals, subtype="FLOAT")
    train, held = load_recordings(i, o, seq_len=6, hop=6, heldout_fraction=0.0)
    assert len(held) == 0 and held.x.shape == (0, 6, 1)
    assert len(train) == 100
    s = np.clip(np.rint(vals[:6].astype(np.float64) * 32768), -32768, 32767)
    np.testing.assert_array_equal(train.x[0, :, 0], np.floor(s / 4) / 4096)
    np.testing.assert_array_equal(train.y[0, :, 0], np.rint(s / 4) / 4096)
    assert train.x[0, 0, 0] == 0.5 * 2  # +0.5 full scale = 16384 counts = 4096 raw = 1.0


def test_recordings_controls(pair, tmp_path):
    in_path, out_path, _, _ = pair
    cv = (np.arange(4000) % 1000 * 8).astype(np.int16)
    cv_path = write(tmp_path / "cv.wav", cv)
    controls = {"gain": 0.3, "cv": cv_path, "mode": 1}
    train, held = load_recordings(in_path, out_path, seq_len=400, controls=controls)
    assert train.x.shape[2] == 4 and held.x.shape[2] == 4
    assert np.all(train.x[:, :, 1] == np.float32(round(0.3 * 4096) / 4096))
    assert np.all(train.x[:, :, 3] == 1.0)
    np.testing.assert_array_equal(train.x[0, :, 2], (cv[:400] >> 2) / 4096)
    assert_on_grid(train.x)


def err(match_file, **kwargs):
    with pytest.raises(DataError) as info:
        load_recordings(**kwargs)
    assert str(match_file) in str(info.value), str(info.value)
    return str(info.value)


def test_recording_errors(pair, tmp_path):
    in_path, out_path, inp, tgt = pair
    missing = tmp_path / "nope.wav"
    err(missing, input_wav=missing, target_wav=out_path, seq_len=64)
    err(missing, input_wav=in_path, target_wav=missing, seq_len=64)

    junk = tmp_path / "junk.wav"
    junk.write_text("not a wav file")
    err(junk, input_wav=junk, target_wav=out_path, seq_len=64)

    other_rate = write(tmp_path / "rate.wav", tgt, sr=44_100)
    msg = err(other_rate, input_wav=in_path, target_wav=other_rate, seq_len=64)
    assert "44100" in msg and "48000" in msg

    short = write(tmp_path / "short.wav", tgt[:3000])
    msg = err(short, input_wav=in_path, target_wav=short, seq_len=64)
    assert "4000" in msg and "3000" in msg and "trim" in msg

    tiny_in = write(tmp_path / "tiny_in.wav", inp[:100])
    tiny_out = write(tmp_path / "tiny_out.wav", tgt[:100])
    err(tiny_in, input_wav=tiny_in, target_wav=tiny_out, seq_len=128)
    # held-out part (400 samples) shorter than a window
    err(in_path, input_wav=in_path, target_wav=out_path, seq_len=512, heldout_fraction=0.1)

    stereo_cv = write(tmp_path / "cv2.wav", tgt)
    msg = err(
        stereo_cv, input_wav=in_path, target_wav=out_path, seq_len=64, controls={"cv": stereo_cv}
    )
    assert "mono" in msg
    short_cv = write(tmp_path / "cv_short.wav", inp[:10])
    err(short_cv, input_wav=in_path, target_wav=out_path, seq_len=64, controls={"cv": short_cv})
    rate_cv = write(tmp_path / "cv_rate.wav", inp, sr=96_000)
    err(rate_cv, input_wav=in_path, target_wav=out_path, seq_len=64, controls={"cv": rate_cv})
    err(missing, input_wav=in_path, target_wav=out_path, seq_len=64, controls={"cv": missing})

    with pytest.raises(DataError, match="gain"):
        load_recordings(in_path, out_path, seq_len=64, controls={"gain": 9.0})
    assert issubclass(DataError, ValueError)
