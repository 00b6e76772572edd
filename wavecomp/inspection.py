"""What `wavecomp inspect` reports about a model, as data: the summary and a fit per target.

Why here and not in the CLI: the same figures feed ``inspect --json``, reports and tests, and
the fit check must be the one the backends use (the Daisy row counts libDaisy's own flash).
"""

from __future__ import annotations

from typing import Any

from wavecomp import targets
from wavecomp.ir import Network
from wavecomp.mcu import daisy_fit


def fit_rows(net: Network) -> list[dict[str, Any]]:
    """One row per target: what the model needs, what the target has, and whether it fits.

    The ECP5 rows are lower bounds (multipliers = ceil(MACs / cycles)); the scheduler gives
    the real figure. Graph networks get rows saying the backends do not take them yet.
    """
    if not net.is_chain:
        return [
            {
                "target": target,
                "need": f"graph network: not yet supported by {backend}",
                "have": "-",
                "fits": False,
            }
            for target, backend in (
                ("ECP5 (eurorack-pmod)", "the FPGA backend"),
                ("Daisy Patch (STM32H750)", "the MCU backend"),
            )
        ]
    need = targets.min_multipliers(net.macs_per_sample, targets.EUROPMOD_CYCLES_PER_SAMPLE)
    cycles = targets.EUROPMOD_CYCLES_PER_SAMPLE
    rows = []
    for key, part in targets.ECP5_PARTS.items():
        rows.append(
            {
                "target": f"ECP5 {key} ({part.name})",
                "need": f">= {need} MULT18X18D at {cycles} cycles/sample",
                "have": f"{part.mult18} MULT18X18D",
                "fits": need <= part.mult18,
            }
        )
    rows.append(_daisy_row(net))
    return rows


def _daisy_row(net: Network) -> dict[str, Any]:
    """The Daisy Patch firmware (q12, fused kernel) against the internal flash, libDaisy
    counted; a firmware that needs the Daisy bootloader does not fit here and says so."""
    fit = daisy_fit.estimate(net)
    flash = fit.internal_flash
    need = (
        f"{flash.used:,} B flash (libDaisy + Patch {daisy_fit.LIBDAISY_PATCH_FLASH:,} B, "
        f"engine {fit.engine.code:,} B), {fit.engine.dtcm:,} B DTCM (q12)"
    )
    if fit.app_type != "BOOT_NONE":
        need += (
            f"; too big for internal flash: use the Daisy bootloader "
            f"(APP_TYPE={fit.app_type}, `wavecomp emit-cmsis` sets it)"
            if fit.fits
            else f"; does not fit the Daisy even with the bootloader ({fit.verdict})"
        )
    return {
        "target": "Daisy Patch (STM32H750, libDaisy, internal flash)",
        "need": need,
        "have": f"{flash.capacity // 1024} KB internal flash",
        "fits": fit.app_type == "BOOT_NONE" and fit.fits,
    }


def inspect_dict(net: Network) -> dict[str, Any]:
    """Everything `inspect --json` prints: summary, I/O, accumulator bounds, fit, metadata."""
    doc = net.summary().to_dict()
    doc["fingerprint"] = net.fingerprint()
    doc["io"] = {
        "inputs": [ch.__dict__ for ch in net.io.inputs],
        "outputs": [ch.__dict__ for ch in net.io.outputs],
        "input_shift": net.io.input_shift,
        "output_shift": net.io.output_shift,
        "sample_rate": net.io.sample_rate,
    }
    doc["accumulator_bounds"] = {
        name: [int(b) for b in bound] for name, bound in net.node_bounds().items()
    }
    doc["fit"] = fit_rows(net)
    doc["metadata"] = net.metadata
    return doc
