"""Training end to end (slow: TensorFlow), and the shipped default model's quality."""

import json

import numpy as np
import pytest

import wavecomp
from wavecomp.frontend import data, evaluate
from wavecomp.frontend.train import TrainConfig, train

TINY = dict(layers="4x1:4,4x4:4", epochs=2, examples=64, heldout_examples=16, seq_len=128)


@pytest.mark.slow
def test_training_is_reproducible_and_writes_the_report(tmp_path):
    config = TrainConfig(seed=7, **TINY)
    a = train(config, tmp_path / "a")
    train(config, tmp_path / "b")
    assert (tmp_path / "a" / "model.npz").read_bytes() == (
        tmp_path / "b" / "model.npz"
    ).read_bytes()
    for name in (
        "model.npz",
        "model.keras",
        "report.md",
        "report.json",
        "loss.png",
        "embedding_grid.png",
        "corners.png",
    ):
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert len(report["history"]["loss"]) == 2
    assert set(report["quality"]["corner_snr_db"]) == set(data.WAVEFORMS)
    # the float-vs-integer error measured on held-out data respects the guaranteed bound
    cmp_ = report["qkeras_vs_reference"]
    assert cmp_["max_abs_lsb"] <= cmp_["error_bound_lsb"]
    assert a.net.equals(wavecomp.load(tmp_path / "a" / "model.npz"))
    c = train(TrainConfig(seed=8, **TINY), tmp_path / "c")
    assert c.net.fingerprint() != a.net.fingerprint()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_training_on_recordings(tmp_path):
    import soundfile as sf

    rate = 8000
    t = np.arange(rate * 2) / rate
    x = 0.4 * np.sin(2 * np.pi * 110 * t)
    y = 0.2 * np.tanh(3 * x)
    sf.write(tmp_path / "in.wav", x, rate, subtype="PCM_16")
    sf.write(tmp_path / "target.wav", y, rate, subtype="PCM_16")
    config = TrainConfig(
        preset="mcu",
        layers="4x1:4,1x1:1",
        epochs=2,
        seq_len=256,
        input_wav=str(tmp_path / "in.wav"),
        target_wav=str(tmp_path / "target.wav"),
        controls={"e0": 0.0, "e1": 1.0},
        sample_rate=rate,
    )
    result = train(config, tmp_path / "rec")
    assert "heldout_snr_db" in result.report["quality"]
    assert (tmp_path / "rec" / "report.md").exists()


def test_default_model_held_out_snr_per_corner():
    """The shipped model, re-measured on fresh held-out signals: mean corner SNR >= 15 dB."""
    net = wavecomp.load()
    config = data.WaveshaperConfig(sample_rate=net.io.sample_rate, n_inputs=4, n_outputs=4)
    scores = evaluate.corner_snr(net, config, seed=12345)
    mean = float(np.mean([s.snr_db for s in scores]))
    assert mean >= 15.0, {s.waveform: round(s.snr_db, 1) for s in scores}
