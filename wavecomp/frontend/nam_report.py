"""The NAM import report: report.md + report.json + two plots.

- ``error.png``: NAM's float output and the integer reference's error on the test signal
  (the error magnified so both show), because "is it audible?" is a question about sizes;
- ``headroom.png``: each tensor's peak against its clamp, because a scale that is too small
  shows up there first.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from wavecomp import reference
from wavecomp.frontend.float_graph import FloatGraph
from wavecomp.frontend.nam_import import codec_samples, output_values
from wavecomp.ir import Network
from wavecomp.stimulus import strummed_chords
from wavecomp.templating import render_document


def write(out_dir: Path, net: Network, graph: FloatGraph) -> None:
    """report.md, report.json, error.png and headroom.png for an imported capture."""
    info = net.metadata["nam_import"]
    _error_plot(out_dir / "error.png", net, graph)
    _headroom_plot(out_dir / "headroom.png", info)
    summary = net.summary()
    (out_dir / "report.json").write_text(
        json.dumps({"import": info, "summary": summary.to_dict()}, indent=2, default=str) + "\n"
    )
    clipped = {k: v for k, v in info["clipped"].items() if v}
    (out_dir / "report.md").write_text(
        render_document(
            "wavecomp.frontend",
            "nam_report.md.j2",
            info=info,
            summary=summary,
            io=net.io,
            fingerprint=net.fingerprint(),
            clipped=clipped,
        )
    )


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _error_plot(path: Path, net: Network, graph: FloatGraph) -> None:
    x = strummed_chords()
    y_float = graph.forward(x)[:, 0]
    y_int = output_values(net, reference.run(net, codec_samples(x)))[:, 0]
    error = y_int - y_float
    gain = 10 ** np.floor(np.log10(np.abs(y_float).max() / max(np.abs(error).max(), 1e-12)))
    t = np.arange(len(x)) / 48_000
    fig = _figure(figsize=(8, 3.5), dpi=100)
    ax = fig.subplots()
    ax.plot(t, y_float, lw=0.6, label="NAM float output")
    ax.plot(t, error * gain, lw=0.6, label=f"integer - float, x{gain:g}")
    ax.axvline(net.receptive_field / 48_000, color="grey", ls=":", label="receptive field")
    ax.set_xlabel("seconds")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def _headroom_plot(path: Path, info: dict) -> None:
    rows = info["scales"]
    fig = _figure(figsize=(8, max(3.0, 0.12 * len(rows) + 1)), dpi=100)
    ax = fig.subplots()
    y = np.arange(len(rows))
    colors = ["tab:grey" if r["bounded"] else "tab:green" for r in rows]
    ax.barh(y, [r["headroom_db"] for r in rows], color=colors)
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel(
        "headroom at full-scale input (dB below the clamp); grey: tanh/sigmoid outputs, "
        "whose range is the function's"
    )
    fig.tight_layout()
    fig.savefig(path)
