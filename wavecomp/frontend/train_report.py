"""The training report: markdown + JSON + plots people would rather look at than read.

- ``loss.png``: training and held-out loss per epoch;
- ``embedding_grid.png``: the integer reference's output across the 2-D embedding square
  (corners are training targets, edges crossfades, the inside is the model's own invention);
- ``corners.png``: target vs output at each corner, with the held-out SNR;
- ``spectra.png``: the harmonics of each corner's output vs its target's, because harmonics
  are what a listener hears.

report.md is rendered from ``train_report.md.j2``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp.frontend import data, evaluate
from wavecomp.ir import Network
from wavecomp.templating import render_document

GRID_POINTS = 5
PLOT_FREQ = 220.0
SPECTRUM_PERIODS = 40
SPECTRUM_FLOOR_DB = -100.0


def write(
    out_dir: Path, net: Network, report: dict[str, Any], wave_config: data.WaveshaperConfig | None
) -> None:
    """Write report.md, report.json and the PNGs into out_dir."""
    images = [_loss_plot(out_dir, report)]
    if wave_config is not None:
        images.append(_embedding_grid(out_dir, net, wave_config))
        images.append(_corner_plot(out_dir, net, wave_config, report))
        images.append(_spectrum_plot(out_dir, net, wave_config, report))
    (out_dir / "report.json").write_text(report_json(report))
    (out_dir / "report.md").write_text(markdown(report, images))


def _figure(**kwargs: Any) -> Any:
    """A matplotlib ``Figure`` (no pyplot state, no GUI backend). matplotlib loads here, on
    first use, so importing this module (and starting the CLI) does not pay for it."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _loss_plot(out_dir: Path, report: dict[str, Any]) -> str:
    history = report["history"]
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig = _figure(figsize=(6, 3.5), dpi=100)
    ax = fig.subplots()
    ax.semilogy(epochs, history["loss"], label="train")
    ax.semilogy(epochs, history["heldout_loss"], label="held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("masked MSE (model units²)")
    ax.set_title(f"{report['model']}: loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "loss.png")
    return "loss.png"


def _two_periods(net: Network, x: np.ndarray, config: data.WaveshaperConfig) -> np.ndarray:
    warm = net.receptive_field
    period = round(config.sample_rate / PLOT_FREQ)
    return evaluate.run_values(net, x, "half_up")[warm : warm + 2 * period]


def _embedding_grid(out_dir: Path, net: Network, config: data.WaveshaperConfig) -> str:
    period = round(config.sample_rate / PLOT_FREQ)
    n = net.receptive_field + 2 * period
    axis = np.linspace(0.0, 1.0, GRID_POINTS)
    fig = _figure(figsize=(10, 8), dpi=100)
    axes = fig.subplots(GRID_POINTS, GRID_POINTS, sharex=True, sharey=True)
    for row, e1 in enumerate(axis[::-1]):
        for col, e0 in enumerate(axis):
            x = data.grid_signal(float(e0), float(e1), n, freq=PLOT_FREQ, config=config)
            ax = axes[row, col]
            ax.plot(x[net.receptive_field :, 0], color="0.8", lw=1)
            ax.plot(_two_periods(net, x, config)[:, 0], color="C0", lw=1.4)
            corner = (e0 in (0.0, 1.0)) and (e1 in (0.0, 1.0))
            ax.set_title(
                f"e0={e0:.2f} e1={e1:.2f}", fontsize=8, fontweight="bold" if corner else "normal"
            )
            ax.set_xticks([])
            ax.tick_params(labelsize=7)
    fig.suptitle("output 0 across the embedding space (grey: triangle in; corners bold)")
    fig.tight_layout()
    fig.savefig(out_dir / "embedding_grid.png")
    return "embedding_grid.png"


def _corner_plot(
    out_dir: Path, net: Network, config: data.WaveshaperConfig, report: dict[str, Any]
) -> str:
    period = round(config.sample_rate / PLOT_FREQ)
    n = net.receptive_field + 2 * period
    snr = report["quality"]["corner_snr_db"]
    fig = _figure(figsize=(9, 5), dpi=100)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), data.WAVEFORMS, strict=True):
        sig = data.corner_signal(name, n, freq=PLOT_FREQ, config=config)
        out = _two_periods(net, sig.x[0], config)
        ax.plot(sig.x[0][net.receptive_field :, 0], color="0.8", lw=1, label="triangle in")
        ax.plot(sig.y[0][net.receptive_field :, 0], "k--", lw=1, label="target")
        ax.plot(out[:, 0], color="C1", lw=1.4, label="reference out")
        ax.set_title(f"{name} {data.CORNERS[name]}: held-out SNR {snr[name]:.1f} dB", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out_dir / "corners.png")
    return "corners.png"


def _harmonics_db(signal: np.ndarray, periods: int) -> np.ndarray:
    """Amplitude (dB re 1.0) of harmonics 1.. of a signal holding exactly ``periods`` periods.

    The input is periodic and the net time-invariant, so after the receptive field the output
    is periodic too: both spectra are pure harmonic lines, measured exactly by the DFT bins at
    multiples of ``periods`` (no window, no leakage)."""
    spectrum = np.abs(np.fft.rfft(signal)) * 2.0 / len(signal)
    lines = spectrum[periods::periods]
    return 20.0 * np.log10(np.maximum(lines, 10 ** (SPECTRUM_FLOOR_DB / 20)))


def _spectrum_plot(
    out_dir: Path, net: Network, config: data.WaveshaperConfig, report: dict[str, Any]
) -> str:
    period = round(config.sample_rate / PLOT_FREQ)  # whole samples, so the DFT bins hit lines
    f0 = config.sample_rate / period
    warm = net.receptive_field
    n = warm + SPECTRUM_PERIODS * period
    esr = report["quality"]["corner_esr"]
    fig = _figure(figsize=(10, 6), dpi=100)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), data.WAVEFORMS, strict=True):
        sig = data.corner_signal(name, n, freq=f0, config=config)
        target = sig.y[0][warm:, 0]
        out = evaluate.run_values(net, sig.x[0], "half_up")[warm:, 0]
        target_db = _harmonics_db(target, SPECTRUM_PERIODS)
        out_db = _harmonics_db(out, SPECTRUM_PERIODS)
        error_db = _harmonics_db(out - target, SPECTRUM_PERIODS)
        hz = f0 * np.arange(1, len(target_db) + 1)
        ax.vlines(hz, SPECTRUM_FLOOR_DB, target_db, color="0.6", lw=1.2, label="target")
        ax.plot(hz, out_db, "o", color="C1", ms=2.5, label="reference out")
        ax.plot(hz, error_db, ".", color="C3", ms=2, label="error (out - target)")
        ax.set_title(f"{name} at {f0:.0f} Hz: ESR {esr[name]:.4f}", fontsize=9)
        ax.set_ylim(SPECTRUM_FLOOR_DB, 5)
        ax.grid(True, alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("harmonic frequency (Hz)")
    for ax in axes[:, 0]:
        ax.set_ylabel("dB re amplitude 1")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.suptitle("output 0 at each corner: harmonics of the integer reference vs the target")
    fig.tight_layout()
    fig.savefig(out_dir / "spectra.png")
    return "spectra.png"


def markdown(report: dict[str, Any], images: list[str]) -> str:
    """report.md: the figures of ``report`` (as ``train.train`` builds it) and the plots."""
    return render_document(
        "wavecomp.frontend",
        "train_report.md.j2",
        report=report,
        config=report["config"],
        quality=report["quality"],
        float_vs_reference=report["qkeras_vs_reference"],
        corners=data.CORNERS,
        images=images,
    )


def report_json(report: dict[str, Any]) -> str:
    """JSON with non-finite floats spelled out (JSON has no inf)."""

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(report), indent=2, sort_keys=True) + "\n"
