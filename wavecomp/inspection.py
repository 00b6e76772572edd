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

    The ECP5 rows come from the scheduler (multipliers, cycles and block RAM) at the core clock
    ``build --core-clock auto`` would take (256 cycles/sample when the model fits there); the
    Daisy row from the q12 engine's plan.
    """
    return [*(_ecp5_row(net, key) for key in targets.ECP5_PARTS), _daisy_row(net)]


def _ecp5_row(net: Network, key: str) -> dict[str, Any]:
    """The scheduler's answer for one part at the core clock ``build --core-clock auto``
    takes: the array, cycles and block RAM, or why it does not fit."""
    from wavecomp import schedule as sch

    part = targets.ECP5_PARTS[key]
    row = {
        "target": f"ECP5 {key} ({part.name})",
        "have": f"{part.mult18} MULT18X18D, {part.dp16kd} DP16KD",
    }
    try:
        multiple, s = sch.auto_clock(net, key)
    except sch.ScheduleError as err:
        return {**row, "need": str(err), "fits": False}
    cycles = s.budget.cycles_per_sample
    clock = f" (--core-clock {multiple})" if multiple > 1 else ""
    need = (
        f"{s.multipliers} MULT18X18D ({s.g} x {s.q}), {s.cycles_used} of {cycles} "
        f"cycles/sample{clock}, ~{s.block_ram_estimate()} DP16KD"
    )
    return {**row, "need": need, "fits": True}


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
