"""Fit a network onto the FPGA core: choose the MAC array shape and write the per-sample program.

The core (see ``hdl/README.md``) has one shared MAC array of ``G x Q`` multipliers: ``Q``
output channels at a time, each summing ``G`` input channels per clock through an adder tree.
A layer's outputs are computed in groups of ``Q``; one group takes ``K * ceil(C_in / G)``
steps (one step = one clock). Layers run last-to-first within a sample period, each reading
what the previous layer wrote in the previous period, so layers never wait for each other and
the network has a fixed latency of ``n_layers - 1`` samples.

This module is the single model of that hardware's timing: the scheduler counts cycles with
it, and the RTL generator builds the pipeline with the same constants, so "cycles used" in a
report is what the simulation measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from wavecomp import fixed, targets
from wavecomp.errors import WavecompError
from wavecomp.ir import LayerShape, Network
from wavecomp.rtl import memories

# ---- the hardware's pipeline constants (wavecomp/rtl builds exactly this) -------------------
FRONT_LATENCY = 6
"""Cycles from the strobe to step 0's operands at the MAC array: strobe->pc 1, program ROM 1,
step register 1, cache read 2, operand register 1. Step ``pc`` reaches the array at
strobe + 6 + pc."""
MIN_ACC_BITS = 29
"""wc_requant needs at least 29 accumulator bits (16 result bits + 12 fraction + sign)."""


def drain_lanes(g: int, q: int) -> int:
    """Channels the drain writes per clock: up to G (consecutive channels hit distinct
    banks), and no more than a group has."""
    return min(g, q)


def drain_beats(count: int, g: int, q: int) -> int:
    """Clocks the drain needs for a group of ``count`` channels."""
    return math.ceil(count / drain_lanes(g, q))


def mac_latency(g: int) -> int:
    """wc_mac_array: operand copies, product register, one register per tree level, accumulator."""
    return 3 + math.ceil(math.log2(g)) if g > 1 else 3


class ScheduleError(WavecompError, ValueError):
    """The network does not fit the budget; the message says what would."""


@dataclass(frozen=True)
class Budget:
    """What the core may use: clocks per sample and multipliers (MULT18X18D)."""

    cycles_per_sample: int = targets.EUROPMOD_CYCLES_PER_SAMPLE
    multipliers: int = targets.ECP5_PARTS["85F"].mult18
    part: str = "85F"

    def describe(self) -> str:
        return (
            f"{self.cycles_per_sample} cycles/sample, {self.multipliers} multipliers "
            f"(ECP5 {self.part})"
        )


@dataclass(frozen=True)
class LayerPlan(LayerShape):
    """How one layer maps onto the array and its cache."""

    index: int
    relu: bool
    words: int
    """Cache words per column: ceil(C_in / G), rounded up to a power of two for addressing."""
    steps_per_group: int
    groups: int
    span: int
    cache_columns: int
    """Power of two >= span."""

    @property
    def used_words(self) -> int:
        return self.steps_per_group // self.kernel_size


@dataclass(frozen=True)
class Step:
    """One clock of the per-sample program (a NOP has ``valid=False``)."""

    valid: bool = False
    layer: int = 0
    lag: int = 0
    word: int = 0
    first: bool = False
    last: bool = False
    group: int = 0
    """Global group id (bias ROM address)."""
    kernel_tap: int = 0
    relu: bool = False
    base: int = 0
    count: int = 0
    """Real output channels in this group (drain length), on last steps."""


@dataclass
class Schedule:
    """The chosen array shape, the program, and the figures a report shows."""

    net_name: str
    g: int
    q: int
    rounding: fixed.Rounding
    budget: Budget
    layers: list[LayerPlan]
    program: list[Step]
    acc_bits: int
    macs_per_sample: int
    notes: list[str] = field(default_factory=list)

    @property
    def multipliers(self) -> int:
        return self.g * self.q

    @property
    def d(self) -> int:
        """Drain lanes: channels requantised and written per clock."""
        return drain_lanes(self.g, self.q)

    @property
    def program_length(self) -> int:
        return len(self.program)

    @property
    def latency_samples(self) -> int:
        return len(self.layers) - 1

    @property
    def cycles_used(self) -> int:
        return cycles_used(self.program, self.g, self.q)

    @property
    def mac_slot_utilisation(self) -> float:
        """MACs/sample / (multipliers x cycles_per_sample): how busy the multipliers are."""
        return self.macs_per_sample / (self.multipliers * self.budget.cycles_per_sample)

    @property
    def n_groups(self) -> int:
        return sum(plan.groups for plan in self.layers)

    def block_ram_estimate(self) -> int:
        """DP16KDs synthesis will use: the caches, weight, bias and program ROMs, each where
        Yosys finds it cheapest (block RAM, LUT RAM or logic; see wavecomp.rtl.memories)."""
        return memories.dp16kd_estimate(self)

    def summary(self) -> dict:
        return {
            "array": f"{self.g} x {self.q}",
            "multipliers": self.multipliers,
            "cycles_used": self.cycles_used,
            "cycles_per_sample": self.budget.cycles_per_sample,
            "mac_slot_utilisation": round(self.mac_slot_utilisation, 4),
            "min_multipliers": targets.min_multipliers(
                self.macs_per_sample, self.budget.cycles_per_sample
            ),
            "program_steps": self.program_length,
            "latency_samples": self.latency_samples,
            "accumulator_bits": self.acc_bits,
            "block_ram_estimate": self.block_ram_estimate(),
            "rounding": self.rounding,
        }


# ---- cycle model -----------------------------------------------------------------------------
def _pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def plan_layers(net: Network, g: int, q: int) -> list[LayerPlan]:
    plans = []
    for i, layer in enumerate(net.layers):
        used_words = math.ceil(layer.in_channels / g)
        plans.append(
            LayerPlan.of(
                layer,
                index=i,
                relu=layer.activation == "relu",
                words=_pow2(used_words),
                steps_per_group=layer.kernel_size * used_words,
                groups=math.ceil(layer.out_channels / q),
                span=layer.span,
                cache_columns=max(2, _pow2(layer.span)),
            )
        )
    return plans


def input_words(net: Network, g: int) -> int:
    """Clocks the input writer needs to put one input sample into layer 0's cache."""
    return math.ceil(net.in_channels / g)


def build_program(net: Network, g: int, q: int, plans: list[LayerPlan]) -> list[Step]:
    """Steps for one sample period: layers last-to-first, groups in order, NOPs where needed.

    NOPs go (a) between groups so the drain (one channel per clock) finishes a group before
    the next group's results arrive, and (b) before layer 0 while the input writer is still
    filling its cache.
    """
    groups: list[list[Step]] = []
    gid = 0
    for plan in reversed(plans):
        for grp in range(plan.groups):
            base = grp * q
            count = min(q, plan.out_channels - base)
            steps = []
            for k in range(plan.kernel_size):
                lag = (plan.kernel_size - 1 - k) * plan.dilation
                for word in range(plan.used_words):
                    steps.append(
                        Step(
                            valid=True,
                            layer=plan.index,
                            lag=lag,
                            word=word,
                            group=gid,
                            kernel_tap=k,
                            relu=plan.relu,
                            base=base,
                            count=count,
                        )
                    )
            steps[0] = _with(steps[0], first=True)
            steps[-1] = _with(steps[-1], last=True)
            groups.append(steps)
            gid += 1
    program: list[Step] = []
    need_input_before = input_words(net, g)
    previous_beats = 0
    for steps in groups:
        # the drain of the previous group needs `previous_beats` clocks between last steps
        gap = previous_beats - len(steps)
        if steps[0].layer == 0:
            gap = max(gap, need_input_before - len(program))
        program.extend([Step()] * max(0, gap))
        program.extend(steps)
        previous_beats = drain_beats(steps[-1].count, g, q)
    return program


def _with(step: Step, **changes) -> Step:
    values = dict(step.__dict__)
    values.update(changes)
    return Step(**values)


def cycles_used(program: list[Step], g: int, q: int) -> int:
    """Clocks from the strobe up to and including the last cache/output write.

    The last group's result leaves the array ``mac_latency`` after its last step and the drain
    writes one channel per clock after that. The next strobe may come in the very next clock
    (its commits never collide with a write), so this must be <= cycles_per_sample.
    """
    last = max(i for i, s in enumerate(program) if s.valid and s.last)
    return FRONT_LATENCY + last + mac_latency(g) + drain_beats(program[last].count, g, q) + 1


def accumulator_bits(net: Network, rounding: fixed.Rounding) -> int:
    """Accumulator width from the static bound (never assumed narrower)."""
    bound = max(int(b.max()) for b in net.accumulator_bounds(rounding))
    return max(MIN_ACC_BITS, fixed.accumulator_bits(bound))


# ---- the scheduler ---------------------------------------------------------------------------
Strategy = Literal["min_multipliers", "max_parallel"]


def _candidate_shapes(net: Network, limit: int) -> list[tuple[int, int]]:
    max_g = max(layer.in_channels for layer in net.layers)
    max_q = max(layer.out_channels for layer in net.layers)
    return [(g, q) for g in range(1, max_g + 1) for q in range(1, max_q + 1) if g * q <= limit]


def _cycles_for(net: Network, g: int, q: int) -> int:
    plans = plan_layers(net, g, q)
    return cycles_used(build_program(net, g, q, plans), g, q)


def schedule(
    net: Network,
    budget: Budget = Budget(),
    *,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    strategy: Strategy = "min_multipliers",
    shape: tuple[int, int] | None = None,
) -> Schedule:
    """Choose the array shape (G, Q) and build the program.

    ``min_multipliers``: the fewest multipliers that meet the deadline (ties: fewest cycles,
    then the smaller adder tree). ``max_parallel``: the fewest cycles within the multiplier
    budget. ``shape`` forces a shape (it must still meet the budget).
    """
    fixed.rounding_constant(rounding)
    cps = budget.cycles_per_sample
    if shape is not None:
        g, q = shape
        if g < 1 or q < 1:
            raise ScheduleError(f"array shape {shape}: G and Q must be >= 1")
        if g * q > budget.multipliers:
            raise ScheduleError(
                f"array {g} x {q} needs {g * q} multipliers; the budget has {budget.multipliers}"
            )
        cycles = _cycles_for(net, g, q)
        if cycles > cps:
            raise ScheduleError(
                f"array {g} x {q} needs {cycles} cycles/sample; the budget is {cps}"
            )
    else:
        feasible = []
        for g, q in _candidate_shapes(net, budget.multipliers):
            cycles = _cycles_for(net, g, q)
            if cycles <= cps:
                feasible.append((g * q, cycles, g, q))
        if not feasible:
            raise ScheduleError(_explain_no_fit(net, budget))
        if strategy == "min_multipliers":
            _, _, g, q = min(feasible)
        elif strategy == "max_parallel":
            _, _, g, q = min(feasible, key=lambda f: (f[1], f[0], f[2]))
        else:
            raise ScheduleError(
                f"unknown strategy {strategy!r}: use min_multipliers or max_parallel"
            )
    plans = plan_layers(net, g, q)
    program = build_program(net, g, q, plans)
    sched = Schedule(
        net_name=net.name,
        g=g,
        q=q,
        rounding=rounding,
        budget=budget,
        layers=plans,
        program=program,
        acc_bits=accumulator_bits(net, rounding),
        macs_per_sample=net.macs_per_sample,
    )
    assert sched.cycles_used <= cps
    return sched


def _explain_no_fit(net: Network, budget: Budget) -> str:
    """Say what would fit: fewer MACs, a lower rate, or a bigger part."""
    cps = budget.cycles_per_sample
    best = min(
        ((_cycles_for(net, g, q), g * q) for g, q in _candidate_shapes(net, budget.multipliers)),
        default=None,
    )
    macs = net.macs_per_sample
    lines = [f"network {net.name!r} ({macs:,} MACs/sample) does not fit {budget.describe()}."]
    if best is not None:
        cycles, mults = best
        lines.append(
            f"Its fastest schedule within {budget.multipliers} multipliers needs {cycles} "
            f"cycles/sample ({mults} multipliers)."
        )
        lines.append(
            f"Options: a lower sample rate or faster core clock giving >= {cycles} cycles/sample "
            f"(e.g. {cycles / cps:.2f}x the current clock per sample); or about "
            f"{macs * cps // cycles:,} MACs/sample or fewer at this rate;"
        )
    need = targets.min_multipliers(macs, cps)
    bigger = [
        p for p in targets.ECP5_PARTS.values() if p.mult18 > budget.multipliers and p.mult18 >= need
    ]
    if bigger:
        lines.append(f"or a bigger part: {bigger[0].name} ({bigger[0].mult18} multipliers).")
    else:
        lines.append(
            f"No bigger ECP5 part helps: this is already {budget.multipliers} "
            f"multipliers (>= {need} needed at this rate)."
        )
    return " ".join(lines)


# ---- memory images ---------------------------------------------------------------------------
def weight_words(net: Network, sched: Schedule) -> np.ndarray:
    """(program_length, G, Q) int16: the weights each step feeds the array (0 for NOPs/padding)."""
    out = np.zeros((sched.program_length, sched.g, sched.q), dtype=np.int16)
    for pc, step in enumerate(sched.program):
        if not step.valid:
            continue
        layer = net.layers[step.layer]
        for row in range(sched.g):
            c = step.word * sched.g + row
            if c >= layer.in_channels:
                continue
            for col in range(step.count):
                out[pc, row, col] = layer.weights[step.kernel_tap, c, step.base + col]
    return out


def bias_words(net: Network, sched: Schedule) -> np.ndarray:
    """(n_groups, Q) int64: each group's accumulator start, (bias << 12) + R (0 for padding)."""
    out = np.zeros((sched.n_groups, sched.q), dtype=np.int64)
    for step in sched.program:
        if step.valid and step.first:
            layer = net.layers[step.layer]
            start = fixed.bias_term(layer.bias, sched.rounding)
            out[step.group, : step.count] = start[step.base : step.base + step.count]
    return out
