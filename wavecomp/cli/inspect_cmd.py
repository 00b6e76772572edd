"""`wavecomp inspect`: a model's layers, cost, memory, accumulators and fit per target."""

from __future__ import annotations

import json

import click
from rich.table import Table

from wavecomp.cli.common import load_model, stdout
from wavecomp.inspection import fit_rows, inspect_dict


@click.command()
@click.argument("model", required=False)
@click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables."
)
def inspect(model: str | None, as_json: bool) -> None:
    """Show a model's layers, params, MACs/sample, receptive field, memory,
    accumulator widths and a first look at whether it fits each target.

    The fit figures are lower bounds (multipliers = ceil(MACs / cycles)); the FPGA
    scheduler and MCU emitter report the real numbers.
    """
    net = load_model(model)
    s = net.summary()
    fit = fit_rows(net)
    if as_json:
        doc = inspect_dict(net)
        stdout.print_json(json.dumps(doc, default=str))
        return
    table = Table(
        title=f"{s.name}  ({net.fingerprint()[:12]})",
        title_justify="left",
        caption="K kernel, d dilation, in/out channels, MACs per sample, span = cache columns "
        "(K-1)*d+1, acc = accumulator bits the static bound needs",
        caption_justify="left",
    )
    # short headers so the table fits an 80-column terminal; the caption explains them
    for col in ("layer", "K", "d", "in", "out", "act", "params", "MACs", "span", "cache B", "acc"):
        table.add_column(col, justify="left" if col in ("layer", "act") else "right")
    for r in s.layers:
        table.add_row(
            r.name,
            str(r.kernel_size),
            str(r.dilation),
            str(r.in_channels),
            str(r.out_channels),
            r.activation,
            f"{r.params:,}",
            f"{r.macs:,}",
            str(r.cache_columns),
            f"{r.cache_bytes:,}",
            str(r.accumulator_bits),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        str(s.in_channels),
        str(s.out_channels),
        "",
        f"{s.params:,}",
        f"{s.macs_per_sample:,}",
        "",
        f"{s.cache_bytes:,}",
        str(s.max_accumulator_bits),
    )
    stdout.print(table)
    stdout.print(
        f"receptive field {s.receptive_field} samples"
        + (
            f" ({1000 * s.receptive_field / net.io.sample_rate:.2f} ms at "
            f"{net.io.sample_rate / 1000:g} kHz)"
            if net.io.sample_rate
            else ""
        )
        + f"; weights {s.weight_bytes:,} B, activation caches {s.cache_bytes:,} B"
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
    quality = net.metadata.get("training", {}).get("quality", {})
    if "corner_snr_db" in quality:
        per_corner = ", ".join(f"{k} {v:.1f}" for k, v in quality["corner_snr_db"].items())
        stdout.print(
            f"held-out SNR from training (integer reference): {per_corner}; "
            f"mean {quality['mean_corner_snr_db']:.1f} dB"
        )
    elif "heldout_snr_db" in quality:
        stdout.print(f"held-out SNR from training: {quality['heldout_snr_db']:.1f} dB")


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


def _jack(jack: int | None) -> str:
    return "-" if jack is None else str(jack)
