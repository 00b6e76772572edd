"""`wavecomp inspect`: a model's nodes, cost, memory, accumulators and fit per target."""

from __future__ import annotations

import json

import click
from rich.table import Table

from wavecomp.cli.common import load_model, stdout, submodel_option
from wavecomp.inspection import fit_rows, inspect_dict
from wavecomp.ir import Network, NetworkSummary


@click.command()
@click.argument("model", required=False)
@submodel_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables."
)
def inspect(model: str | None, as_json: bool, submodel: int | None) -> None:
    """Show a model's nodes, params, MACs/sample (plus identity adds and table
    lookups), receptive field, cache memory per tensor, accumulator widths and a
    first look at whether it fits each target.

    The fit figures are lower bounds (multipliers = ceil(MACs / cycles)); the FPGA
    scheduler and MCU emitter report the real numbers.
    """
    net = load_model(model, submodel=submodel)
    if as_json:
        doc = inspect_dict(net)
        stdout.print_json(json.dumps(doc, default=str))
        return
    s = net.summary()
    fit = fit_rows(net)
    stdout.print(_node_table(net, s))
    if not s.is_chain:
        stdout.print(_cache_table(s))
    stdout.print(
        ("" if s.is_chain else f"{s.params:,} params; ")
        + f"receptive field {s.receptive_field} samples"
        + (
            f" ({1000 * s.receptive_field / net.io.sample_rate:.2f} ms at "
            f"{net.io.sample_rate / 1000:g} kHz)"
            if net.io.sample_rate
            else ""
        )
        + f"; weights {s.weight_bytes:,} B, activation caches {s.cache_bytes:,} B"
        + (f", tables {s.table_bytes:,} B" if s.table_bytes else "")
    )
    if not s.is_chain:
        stdout.print(
            f"per sample: {s.macs_per_sample:,} MACs, {s.identity_adds_per_sample:,} identity "
            f"adds, {s.table_lookups_per_sample:,} table lookups"
        )
    stdout.print(
        "accumulators: widest needs "
        f"{s.max_accumulator_bits} bits (static bound, half_up) -> "
        + ("int32 is safe" if s.max_accumulator_bits <= 32 else "needs > 32 bits")
    )
    io = Table(title="I/O", title_justify="left")
    for col in ("channel", "direction", "kind", "jack", "default"):
        io.add_column(col)
    for ch in net.io.inputs:
        io.add_row(ch.name, "in", ch.kind, _jack(ch.jack), f"{ch.default:g}")
    for ch in net.io.outputs:
        io.add_row(ch.name, "out", "", _jack(ch.jack), "")
    stdout.print(io)
    stdout.print(f"codec scaling: in >> {net.io.input_shift}, out << {net.io.output_shift}")
    fit_table = Table(title="fit (lower bounds)", title_justify="left")
    for col in ("target", "needs", "has", "fits"):
        fit_table.add_column(col)
    for row in fit:
        fit_table.add_row(
            row["target"],
            row["need"],
            row["have"],
            "[green]yes[/]" if row["fits"] else "[red]no[/]",
        )
    stdout.print(fit_table)
    _print_import(net.metadata.get("import"))
    _print_nam_import(net.metadata.get("nam_import"))
    quality = net.metadata.get("training", {}).get("quality", {})
    if "corner_snr_db" in quality:
        per_corner = ", ".join(f"{k} {v:.1f}" for k, v in quality["corner_snr_db"].items())
        stdout.print(
            f"held-out SNR from training (integer reference): {per_corner}; "
            f"mean {quality['mean_corner_snr_db']:.1f} dB"
        )
    elif "heldout_snr_db" in quality:
        stdout.print(f"held-out SNR from training: {quality['heldout_snr_db']:.1f} dB")


def _node_table(net: Network, s: NetworkSummary) -> Table:
    """One row per node: its sources, activation, cost and accumulator width."""
    table = Table(
        title=f"{s.name}  ({net.fingerprint()[:12]})",
        title_justify="left",
        caption="sources: tensor(K kernel, d dilation) is a conv, +tensor an identity add "
        "(>>m: scaled by 2^-m); e weight shift; adds identity adds, luts table lookups per "
        "sample; acc = accumulator bits the static bound needs",
        caption_justify="left",
    )
    # short headers so the table fits an 80-column terminal; the caption explains them;
    # a plain chain has no shifts, identity adds or tables, so it skips those columns; a graph
    # gives params in the line below the table instead
    graph_only = ("e", "adds", "luts")
    columns = ("node", "sources", "act", "e", "out", "params", "MACs", "adds", "luts", "acc")
    hidden = graph_only if s.is_chain else ("params",)
    shown = [c for c in columns if c not in hidden]
    for col in shown:
        if col == "sources":
            table.add_column(col, overflow="fold", min_width=14)
        else:
            table.add_column(col, justify="left" if col in ("node", "act") else "right")

    def add(row: dict[str, str]) -> None:
        table.add_row(*(row[c] for c in shown))

    for r in s.nodes:
        add(
            {
                "node": r.name,
                "sources": r.sources.replace(" ", "\n"),  # one source per line
                "act": r.activation,
                "e": str(r.shift),
                "out": str(r.out_channels),
                "params": f"{r.params:,}",
                "MACs": f"{r.macs:,}",
                "adds": f"{r.identity_adds:,}",
                "luts": f"{r.table_lookups:,}",
                "acc": str(r.accumulator_bits),
            }
        )
    table.add_section()
    add(
        {
            "node": "total",
            "sources": f"{s.in_channels} in",
            "act": "",
            "e": "",
            "out": str(s.out_channels),
            "params": f"{s.params:,}",
            "MACs": f"{s.macs_per_sample:,}",
            "adds": f"{s.identity_adds_per_sample:,}",
            "luts": f"{s.table_lookups_per_sample:,}",
            "acc": str(s.max_accumulator_bits),
        }
    )
    return table


def _cache_table(s: NetworkSummary) -> Table:
    """One row per tensor a node reads: the columns its cache keeps and the proven range."""
    table = Table(
        title="activation caches",
        title_justify="left",
        caption="columns = max (K-1)*d+1 over the tensor's readers; |max| = proven bound on "
        "the raw value",
        caption_justify="left",
    )
    for col in ("tensor", "channels", "columns", "bytes", "|max|"):
        table.add_column(col, justify="left" if col == "tensor" else "right")
    for t in s.tensors:
        table.add_row(
            t.name, str(t.channels), f"{t.cache_columns:,}", f"{t.cache_bytes:,}", f"{t.max_abs:,}"
        )
    return table


def _print_import(info: dict | None) -> None:
    """What the Keras importer did: float layers it quantised, and float-vs-integer error."""
    if not info:
        return
    cmp_ = info["float_vs_reference"]
    snr = "exact" if cmp_["exact"] else f"SNR {cmp_['snr_db']:.1f} dB"
    stdout.print(
        f"imported from {info['source']}: Keras float vs integer reference max "
        f"{cmp_['max_abs_lsb']:g} LSB ({snr}) over {cmp_['n_samples']} samples; "
        f"proven bound {info['error_bound_lsb']:.4g} LSB"
    )
    if info["quantised_from_float"]:
        worst = max(info["weight_error_lsb"].values())
        stdout.print(
            f"quantised from float here: {', '.join(info['quantised_from_float'])} "
            f"(max weight error {worst:.3g} LSB)"
        )
    for note in info["notes"]:
        stdout.print(f"note: {note}")


def _print_nam_import(info: dict | None) -> None:
    """How a NAM capture was quantised: scales, headroom, and float-vs-integer error."""
    if not info:
        return
    where = f" ({info['submodel']})" if info["submodel"] else ""
    stdout.print(
        f"imported from {info['source']}{where}: NAM file version {info['nam_version']}, "
        f"head_scale {info['head_scale']:g} folded into the head; codec full scale = 1.0"
    )
    scales = Table(
        title="tensor scales (raw = value / scale * 4096)",
        title_justify="left",
        caption="peak on 2 s of strummed chords at full scale; headroom = 8*scale/peak",
        caption_justify="left",
    )
    for col in ("tensor", "scale", "peak", "headroom dB", "LSB", "e"):
        scales.add_column(col, justify="left" if col == "tensor" else "right")
    for row in info["scales"]:
        scales.add_row(
            row["name"],
            f"{row['scale']:g}",
            f"{row['calibrated_peak']:.3g}",
            f"{row['headroom_db']:.1f}",
            f"{row['lsb']:.2e}",
            "-" if row["weight_shift"] is None else str(row["weight_shift"]),
        )
    stdout.print(scales)
    for cmp_ in info["comparisons"]:
        span = (
            "from t = 0" if cmp_["skipped"] == 0 else f"after the first {cmp_['skipped']} samples"
        )
        snr = "exact" if cmp_["snr_db"] is None else f"SNR {cmp_['snr_db']:.1f} dB"
        stdout.print(
            f"NAM float vs integer reference ({span}, strummed chords, peak 0.5): "
            f"ESR {cmp_['esr']:.2e}, {snr}, max {cmp_['max_abs_lsb']:.1f} LSB"
        )
    clipped = {k: v for k, v in info["clipped"].items() if v}
    stdout.print(
        "no tensor clips at full-scale input"
        if not clipped
        else f"[yellow]clipping at full-scale input:[/] {clipped}"
    )


def _jack(jack: int | None) -> str:
    return "-" if jack is None else str(jack)
