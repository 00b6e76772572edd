"""``NetworkCore``: a wavecomp network as an Amaranth stream component, built in one call.

Why apart from ``stream_core``: this half schedules the network and generates its
SystemVerilog (it needs wavecomp); ``stream_core.StreamCore``, which it builds on, is the
component itself and needs only Amaranth, so ``wavecomp emit-amaranth`` can ship it. The
scaling, frame-mapping, pacing and clock-domain rules are in ``stream_core``'s docstring.
"""

from __future__ import annotations

import tempfile

from wavecomp import fixed, targets
from wavecomp import schedule as sch
from wavecomp.amaranth.stream_core import HANDSHAKE_CLOCKS, StreamCore
from wavecomp.errors import WavecompError
from wavecomp.fpga.build_steps import schedule_advice
from wavecomp.ir import Network
from wavecomp.rtl.generate import copy_library, generate

TILIQUA_CYCLES_PER_SAMPLE = 1250
"""Tiliqua's ``sync`` clock (60 MHz) per sample at 48 kHz."""
TILIQUA_PART = "25F"
"""The FPGA of Tiliqua R3-R5 (LFE5U-25F; the R2 board has the 45F)."""


class NetworkCoreError(WavecompError, ValueError):
    """A ``NetworkCore`` option that cannot work; the message names the option and the fix."""


def check_options(cycles_per_sample: object, domain: object, part: str, rounding: str) -> None:
    """Refuse an option that cannot work before any scheduling, naming it and the fix."""
    if isinstance(cycles_per_sample, bool) or not isinstance(cycles_per_sample, int):
        raise NetworkCoreError(
            f"cycles_per_sample={cycles_per_sample!r}: pass an int, the core clock / sample "
            f"rate (e.g. {TILIQUA_CYCLES_PER_SAMPLE} for 60 MHz at 48 kHz)"
        )
    if cycles_per_sample <= HANDSHAKE_CLOCKS:
        raise NetworkCoreError(
            f"cycles_per_sample={cycles_per_sample}: must be more than {HANDSHAKE_CLOCKS} (the "
            "clocks the stream handshake keeps per sample); pass the core clock / sample rate, "
            f"e.g. {TILIQUA_CYCLES_PER_SAMPLE} for 60 MHz at 48 kHz"
        )
    if not isinstance(domain, str) or not domain.isidentifier() or domain == "comb":
        raise NetworkCoreError(
            f"domain={domain!r}: not a clock domain name; pass 'sync' (the default: the core "
            "runs in the streams' domain) or the name of a clock domain the design defines, "
            "e.g. 'audio'"
        )
    if part not in targets.ECP5_PARTS:
        raise NetworkCoreError(
            f"part={part!r}: unknown ECP5 part; use one of {', '.join(targets.ECP5_PARTS)}"
        )
    if rounding not in fixed.ROUNDING_MODES:
        raise NetworkCoreError(
            f"rounding={rounding!r}: use one of {', '.join(fixed.ROUNDING_MODES)}"
        )


def schedule_core(
    net: Network, cycles_per_sample: int, part: str, rounding: fixed.Rounding
) -> sch.Schedule:
    """The network scheduled into the clocks the pacing leaves it; an explained error if not."""
    budget = sch.Budget(
        cycles_per_sample=cycles_per_sample - HANDSHAKE_CLOCKS,
        multipliers=targets.ECP5_PARTS[part].mult18,
        part=part,
    )
    try:
        return sch.schedule(net, budget, rounding=rounding)
    except sch.ScheduleError as e:
        bigger = ", ".join(p for p in targets.ECP5_PARTS if p != part)
        if isinstance(e, sch.BlockRamShortError):
            fix = (
                f"pass part= a bigger part ({bigger}; emit-amaranth --part; Tiliqua R2 has the "
                "45F) or use a smaller model: cycles_per_sample does not shrink the caches"
            )
        else:
            fix = (
                "Raise cycles_per_sample (with a faster core clock: domain=...) or pass part= "
                f"a bigger part ({bigger})"
            )
        raise NetworkCoreError(
            f"network {net.name!r} does not fit cycles_per_sample={cycles_per_sample} "
            f"({budget.cycles_per_sample} for the network after the {HANDSHAKE_CLOCKS}-clock "
            f"handshake) on an ECP5 {part}: {schedule_advice(net, e, build_options=False)} "
            f"To fit: {fix}."
        ) from e


def core_sources(net: Network, sched: sch.Schedule) -> dict[str, str]:
    """Every file the core needs, by bare name: SV sources in compile order, then images."""
    with tempfile.TemporaryDirectory(prefix="wavecomp-amaranth-") as tmp:
        files = copy_library(generate(net, sched, tmp))
        return {p.name: p.read_text() for p in (*files.sources, *files.memory_images)}


def prepare_core(
    net: Network, cycles_per_sample: int, domain: str, part: str, rounding: fixed.Rounding
) -> tuple[sch.Schedule, dict[str, str]]:
    """The options checked, the schedule, and the core's files (``core_sources``): what
    ``NetworkCore`` wraps and ``emit-amaranth`` writes out."""
    check_options(cycles_per_sample, domain, part, rounding)
    sched = schedule_core(net, cycles_per_sample, part, rounding)
    return sched, core_sources(net, sched)


class NetworkCore(StreamCore):
    """``net`` as a stream component: 4-lane frames in on ``i``, the network's frames out on ``o``.

    Output frame n answers input frame n - ``latency`` (all zeros before that). The network is
    scheduled for the fewest multipliers of ``part`` that fit ``cycles_per_sample`` less the
    handshake's clocks. Raises ``NetworkCoreError`` for an option that cannot work, naming it
    and the fix.
    """

    def __init__(
        self,
        net: Network,
        *,
        cycles_per_sample: int = TILIQUA_CYCLES_PER_SAMPLE,
        domain: str = "sync",
        part: str = TILIQUA_PART,
        rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
        sample_shape: object | None = None,
    ) -> None:
        self.schedule, sources = prepare_core(net, cycles_per_sample, domain, part, rounding)
        self.rounding = rounding
        extra = {} if sample_shape is None else {"sample_shape": sample_shape}
        try:
            super().__init__(
                sources,
                cycles_per_sample=cycles_per_sample,
                cycles_used=self.schedule.cycles_used,
                latency=self.schedule.latency_samples,
                domain=domain,
                **extra,
            )
        except ValueError as err:
            raise NetworkCoreError(f"{err}; pass a 16-bit sample_shape") from None
