"""`wavecomp import`: a Neural Amp Modeler capture -> a wavecomp model file and a report."""

from __future__ import annotations

from pathlib import Path

import click

from wavecomp.cli.common import console, out_option, rounding_option, submodel_option


@click.command("import")
@click.argument("capture", type=click.Path(dir_okay=False, path_type=Path))
@out_option("runs/import", "Folder for model.npz + report (replaced only if wavecomp wrote it).")
@submodel_option
@rounding_option("Rounding used for the float-vs-integer figures.")
def import_capture(capture: Path, out_dir: Path, submodel: int | None, rounding: str) -> None:
    """Import a NAM capture (.nam): quantise it to Q4.12 with a scale per tensor and
    write OUT/model.npz plus OUT/report.md (scales, headroom, float-vs-integer ESR,
    plots).

    Every command also takes the .nam file directly (re-importing it each time,
    5-20 s); model.npz loads instantly. Levels: codec full scale = 1.0 in NAM
    units, in and out; input jack 0 is the guitar, output jack 0 the amp.
    """
    from wavecomp.frontend import nam_report
    from wavecomp.frontend.nam_file import read_nam
    from wavecomp.frontend.nam_import import quantize_capture
    from wavecomp.output_dir import writing_folder

    with console.status(f"importing {capture.name} ..."):
        parsed = read_nam(capture, submodel)
        net, report = quantize_capture(parsed, capture.stem, capture.name, rounding)
        with writing_folder(out_dir, writer="wavecomp import", option="--out") as staging:
            net.save(staging / "model.npz")
            nam_report.write(staging, net, parsed.graph)
    after = report.comparisons[-1]
    console.print(
        f"{capture.name}: {len(net.nodes)} nodes, {net.macs_per_sample:,} MACs/sample, "
        f"receptive field {net.receptive_field:,}; ESR vs NAM float {after.esr:.2e} "
        f"(after the receptive field)"
    )
    console.print(f"wrote {out_dir / 'model.npz'} and {out_dir / 'report.md'}")
