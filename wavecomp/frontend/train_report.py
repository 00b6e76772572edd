"""The training report: markdown + JSON + plots people would rather look at than read.

- ``loss.png``: training and held-out loss per epoch;
- ``embedding_grid.png``: the integer reference's output across the 2-D embedding square
  (corners are training targets, edges crossfades, the inside is the model's own invention);
- ``corners.png``: target vs output at each corner, with the held-out SNR.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from wavecomp.frontend import data, evaluate
from wavecomp.ir import Network

GRID_POINTS = 5
PLOT_FREQ = 220.0


def write(
    out_dir: Path, net: Network, report: dict[str, Any], wave_config: data.WaveshaperConfig | None
) -> None:
    """Write report.md, report.json and the PNGs into out_dir."""
    from wavecomp.frontend.train import report_json

    images = [_loss_plot(out_dir, report)]
    if wave_config is not None:
        images.append(_embedding_grid(out_dir, net, wave_config))
        images.append(_corner_plot(out_dir, net, wave_config, report))
    (out_dir / "report.json").write_text(report_json(report))
    (out_dir / "report.md").write_text(_markdown(report, images))


def _loss_plot(out_dir: Path, report: dict[str, Any]) -> str:
    history = report["history"]
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.semilogy(epochs, history["loss"], label="train")
    ax.semilogy(epochs, history["heldout_loss"], label="held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("masked MSE (model units²)")
    ax.set_title(f"{report['model']}: loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "loss.png")
    plt.close(fig)
    return "loss.png"


def _two_periods(net: Network, x: np.ndarray, config: data.WaveshaperConfig) -> np.ndarray:
    warm = net.receptive_field
    period = round(config.sample_rate / PLOT_FREQ)
    return evaluate.run_values(net, x, "half_up")[warm : warm + 2 * period]


def _embedding_grid(out_dir: Path, net: Network, config: data.WaveshaperConfig) -> str:
    period = round(config.sample_rate / PLOT_FREQ)
    n = net.receptive_field + 2 * period
    axis = np.linspace(0.0, 1.0, GRID_POINTS)
    fig, axes = plt.subplots(
        GRID_POINTS, GRID_POINTS, figsize=(10, 8), dpi=100, sharex=True, sharey=True
    )
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
    plt.close(fig)
    return "embedding_grid.png"


def _corner_plot(
    out_dir: Path, net: Network, config: data.WaveshaperConfig, report: dict[str, Any]
) -> str:
    period = round(config.sample_rate / PLOT_FREQ)
    n = net.receptive_field + 2 * period
    snr = report["quality"]["corner_snr_db"]
    fig, axes = plt.subplots(2, 2, figsize=(9, 5), dpi=100, sharex=True, sharey=True)
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
    plt.close(fig)
    return "corners.png"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "∞" if math.isinf(v) else f"{v:.2f}"
    return str(v)


def _markdown(report: dict[str, Any], images: list[str]) -> str:
    cfg = report["config"]
    q = report["quality"]
    cmp_ = report["qkeras_vs_reference"]
    lines = [
        f"# Training report: {report['model']}",
        "",
        f"- layers: `{report['layers']}`",
        f"- params {report['params']:,}, MACs/sample {report['macs_per_sample']:,}, "
        f"receptive field {report['receptive_field']} samples",
        f"- seed {cfg['seed']}, {cfg['epochs']} epochs × {cfg['examples']} windows of "
        f"{report['seq_len']} samples, batch {cfg['batch_size']}, lr {cfg['learning_rate']}",
        f"- training took {report['train_seconds']} s; final loss {report['final_loss']:.3g} "
        f"(held-out {report['final_heldout_loss']:.3g})",
        f"- model fingerprint `{report['fingerprint'][:16]}`",
        "",
        "## Quality on held-out data (integer reference = what the hardware outputs)",
        "",
    ]
    if "corner_snr_db" in q:
        lines += ["| corner | embedding | SNR (dB) |", "|---|---|---:|"]
        for name, snr in q["corner_snr_db"].items():
            lines.append(f"| {name} | {data.CORNERS[name]} | {_fmt(snr)} |")
        lines += [f"| **mean** | | **{_fmt(q['mean_corner_snr_db'])}** |", ""]
    else:
        lines += [f"held-out SNR: **{_fmt(q['heldout_snr_db'])} dB**", ""]
    lines += [
        "## QKeras float pass vs integer reference",
        "",
        "QKeras computes in float32 and rounds activations half-to-even; the integer pipeline",
        "is exact and rounds half-up. They are not expected to be bit-exact:",
        "",
        f"- max |difference| on held-out inputs: {_fmt(cmp_['max_abs_lsb'])} LSB "
        f"(SNR {_fmt(cmp_['snr_db'])} dB)",
        f"- guaranteed bound for any input: {_fmt(cmp_['error_bound_lsb'])} LSB",
        "",
    ]
    lines += [f"![{Path(img).stem}]({img})" for img in images]
    return "\n".join(lines) + "\n"
