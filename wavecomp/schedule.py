"""Fit a network onto the FPGA core: choose the MAC array shape within the budget of cycles,
multipliers and block RAM, and put together what the RTL generator needs.

The core (see ``hdl/README.md``) has one shared MAC array of ``G x Q`` multipliers running a
per-sample program (``wavecomp.program``: steps, order and the timing model); nodes are aligned
so they never wait for each other (``wavecomp.alignment``); the activation caches are rings
packed into memories (``wavecomp.cache_plan``). The scheduler tries array shapes in the
strategy's order and takes the first that meets the deadline and fits the block RAM; when
nothing fits, the error names the resource that is short and what would fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from wavecomp import fixed, targets
from wavecomp.alignment import hardware_network
from wavecomp.cache_plan import CacheMemory, TensorPlan, plan_memories, plan_tensors, ring_map
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.program import (
    NARROW_ACTIVATIONS,
    Step,
    build_program,
    cycles_used,
    drain_lanes,
    input_words,
    layout_cycles,
)

MIN_ACC_BITS = 29
"""wc_requant needs at least 29 + max weight shift accumulator bits (16 result bits + 12
fraction + sign, and e more fraction bits)."""


class ScheduleError(WavecompError, ValueError):
    """The network does not fit the budget; the message says what would."""


class BlockRamShortError(ScheduleError):
    """The caches and ROMs need more block RAM than the part has, at every array shape tried:
    a faster clock does not help, a bigger part or a smaller model does."""

    def __init__(self, message: str, part: str) -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class Budget:
    """What the core may use: clocks per sample and multipliers (MULT18X18D)."""

    cycles_per_sample: int = targets.EUROPMOD_CYCLES_PER_SAMPLE
    multipliers: int = targets.ECP5_PARTS["85F"].mult18
    part: str = "85F"

    @property
    def block_rams(self) -> int:
        """DP16KDs of the part: memory is a budget like multipliers and cycles."""
        return targets.ECP5_PARTS[self.part].dp16kd

    def describe(self) -> str:
        return (
            f"{self.cycles_per_sample} cycles/sample, {self.multipliers} multipliers "
            f"(ECP5 {self.part})"
        )


@dataclass(frozen=True)
class NodePlan:
    """How one node maps onto the array and the drain."""

    name: str
    index: int
    tau: int
    """The node computes reference time p - tau in sample period p."""
    activation: fixed.Activation
    shift: int
    pre_channels: int
    out_channels: int
    groups: int

    @property
    def narrow(self) -> bool:
        return self.activation in NARROW_ACTIVATIONS

    @property
    def relu(self) -> bool:
        return self.activation == "relu"


@dataclass
class Schedule:
    """The chosen array shape, the program, and the figures a report shows."""

    net_name: str
    g: int
    q: int
    rounding: fixed.Rounding
    budget: Budget
    tensors: list[TensorPlan]
    memories: list[CacheMemory]
    nodes: list[NodePlan]
    program: list[Step]
    acc_bits: int
    macs_per_sample: int
    """The model's MACs (output copies are not counted: they are the core's bookkeeping)."""
    network: Network
    """What the core computes: the model plus output copies (see hardware_network)."""
    in_words: int
    n_tables: int = 0
    """Distinct pwl tables in the activation unit's ROM."""
    gate_depth: int = 0
    """Gate-buffer entries: the largest C of a gated node (0: none)."""
    notes: list[str] = field(default_factory=list)

    @property
    def multipliers(self) -> int:
        """The MAC array's multipliers (the activation unit's are counted by synthesis)."""
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
        return max(plan.tau for plan in self.nodes)

    @property
    def has_activation_unit(self) -> bool:
        return any(plan.narrow for plan in self.nodes)

    @property
    def unsigned_weights(self) -> bool:
        """Some identity step needs a 2**15 weight (wc_mac_array UNSIGNED_W)."""
        return any(step.wunsigned for step in self.program)

    @property
    def max_shift(self) -> int:
        return max(plan.shift for plan in self.nodes)

    @property
    def cycles_used(self) -> int:
        return cycles_used(self.program, self.g, self.q, self.has_activation_unit)

    @property
    def mac_slot_utilisation(self) -> float:
        """MACs/sample / (multipliers x cycles_per_sample): how busy the multipliers are."""
        return self.macs_per_sample / (self.multipliers * self.budget.cycles_per_sample)

    @property
    def n_groups(self) -> int:
        return sum(plan.groups for plan in self.nodes)

    @property
    def identity_steps(self) -> int:
        return sum(step.identity for step in self.program)

    def tensor(self, index: int) -> TensorPlan:
        return next(t for t in self.tensors if t.index == index)

    def block_ram_estimate(self) -> int:
        """DP16KDs synthesis will use: the caches, weight, bias and program ROMs, each where
        Yosys finds it cheapest (block RAM, LUT RAM or logic; see wavecomp.rtl.memories)."""
        from wavecomp.rtl import memories

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
            "identity_steps": self.identity_steps,
            "latency_samples": self.latency_samples,
            "accumulator_bits": self.acc_bits,
            "block_ram_estimate": self.block_ram_estimate(),
            "rounding": self.rounding,
        }


# ---- alignment: when each node runs ----------------------------------------------------------


def plan_nodes(net: Network, q: int, tau: dict[str, int]) -> list[NodePlan]:
    return [
        NodePlan(
            name=node.name,
            index=i,
            tau=tau[node.name],
            activation=node.activation,
            shift=node.shift,
            pre_channels=node.pre_channels,
            out_channels=node.out_channels,
            groups=math.ceil(node.pre_channels / q),
        )
        for i, node in enumerate(net.nodes)
    ]


def distinct_tables(net: Network) -> list[np.ndarray]:
    """The pwl tables of the network, each once, in order of first use (the ROM's order)."""
    tables: list[np.ndarray] = []
    for node in net.nodes:
        for table in node.tables:
            if not any(np.array_equal(table, t) for t in tables):
                tables.append(table)
    return tables


def accumulator_bits(net: Network, rounding: fixed.Rounding) -> int:
    """Accumulator width from the static bound (never assumed narrower)."""
    bound = max(int(b.max()) for b in net.node_bounds(rounding).values())
    max_shift = max(node.shift for node in net.nodes)
    return max(MIN_ACC_BITS + max_shift, fixed.accumulator_bits(bound))


# ---- the scheduler ---------------------------------------------------------------------------
Strategy = Literal["min_multipliers", "max_parallel"]


def _candidate_shapes(net: Network, limit: int) -> list[tuple[int, int]]:
    max_g = max(net.channels(s.tensor) for node in net.nodes for s in node.sources)
    max_q = max(node.pre_channels for node in net.nodes)
    return [(g, q) for g in range(1, max_g + 1) for q in range(1, max_q + 1) if g * q <= limit]


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
    macs = net.macs_per_sample
    net, tau = hardware_network(net)
    if shape is not None:
        g, q = shape
        if g < 1 or q < 1:
            raise ScheduleError(f"array shape {shape}: G and Q must be >= 1")
        if g * q > budget.multipliers:
            raise ScheduleError(
                f"array {g} x {q} needs {g * q} multipliers; the budget has {budget.multipliers}"
            )
        cycles = layout_cycles(net, g, q)
        if cycles > cps:
            raise ScheduleError(
                f"array {g} x {q} needs {cycles} cycles/sample; the budget is {cps}"
            )
        candidates = [(g, q)]
    else:
        if strategy not in ("min_multipliers", "max_parallel"):
            raise ScheduleError(
                f"unknown strategy {strategy!r}: use min_multipliers or max_parallel"
            )
        feasible = []
        for g, q in _candidate_shapes(net, budget.multipliers):
            cycles = layout_cycles(net, g, q)
            if cycles <= cps:
                feasible.append((g * q, cycles, g, q))
        if not feasible:
            raise ScheduleError(_explain_no_fit(net, budget))
        if strategy == "min_multipliers":
            feasible.sort()
        else:
            feasible.sort(key=lambda f: (f[1], f[0], f[2]))
        candidates = [(g, q) for _, _, g, q in feasible[:MEMORY_TRIES]]
    tried = []
    for g, q in candidates:
        tensors = plan_tensors(net, g, tau)
        memories = plan_memories(tensors)
        sched = Schedule(
            net_name=net.name,
            g=g,
            q=q,
            rounding=rounding,
            budget=budget,
            tensors=tensors,
            memories=memories,
            nodes=plan_nodes(net, q, tau),
            program=build_program(net, g, q, tau, ring_map(memories, tensors)),
            acc_bits=accumulator_bits(net, rounding),
            macs_per_sample=macs,
            network=net,
            in_words=input_words(net, g),
            n_tables=len(distinct_tables(net)),
            gate_depth=max(
                (n.out_channels for n in net.nodes if n.activation == "gated"), default=0
            ),
        )
        assert sched.cycles_used == layout_cycles(net, g, q) <= cps
        if sched.block_ram_estimate() <= budget.block_rams:
            return sched
        tried.append(sched)
    raise BlockRamShortError(
        _explain_memory(min(tried, key=lambda s: s.block_ram_estimate())), budget.part
    )


AUTO_CLOCK_HEADROOM = 0.75
"""``--core-clock auto`` prefers a clock at which the core takes at most this share of a
part's multipliers and block RAM: place-and-route on a nearly full part is slow and fragile,
the board top needs some too, and a faster clock with a smaller array usually packs memory
better (NAM A1-standard on the 45F: 4 x 256 fs, not 2 x)."""


def _roomy(sched: Schedule, part: str) -> bool:
    """Whether ``sched`` stays within AUTO_CLOCK_HEADROOM of ``part``'s multipliers and RAM."""
    spec = targets.ECP5_PARTS[part]
    return (
        sched.multipliers <= AUTO_CLOCK_HEADROOM * spec.mult18
        and sched.block_ram_estimate() <= AUTO_CLOCK_HEADROOM * spec.dp16kd
    )


def auto_clock(
    net: Network, part: str, multiples: tuple[int, ...] = targets.CLOCK_MULTIPLES
) -> tuple[int, Schedule]:
    """The core clock multiple M (M x 256 fs) for ``net`` on ``part``, and its schedule.

    The clock is the one the smallest ECP5 part with room would take: the slowest at which
    the core stays within AUTO_CLOCK_HEADROOM of that part. A bigger part therefore gets the
    same core, not a wider array at a slower clock: the sample rate is fixed, so the wider
    array buys nothing but costs LUTs and place-and-route time (NAM A1-lite on the 85F at
    1 x 256 fs was a 6 x 12 array at 34% MAC-slot use; at 2 x it is 3 x 6 at 67%, as on the
    25F). With no room anywhere, the slowest clock that fits ``part`` at all. ScheduleError
    with the fastest clock's reason when none fits."""
    mult18 = targets.ECP5_PARTS[part].mult18
    attempts: dict[int, Schedule | ScheduleError] = {}  # by multiple, made when first needed

    def attempt(multiple: int) -> Schedule | ScheduleError:
        if multiple not in attempts:
            budget = Budget(targets.EUROPMOD_CYCLES_PER_SAMPLE * multiple, mult18, part)
            try:
                attempts[multiple] = schedule(net, budget)
            except ScheduleError as err:
                attempts[multiple] = err
        return attempts[multiple]

    sizes = list(targets.ECP5_PARTS)
    for reference in sizes[: sizes.index(part) + 1]:
        for multiple in multiples:
            sched = attempt(multiple)
            if isinstance(sched, Schedule) and _roomy(sched, reference):
                return multiple, sched
    fitting = [(m, s) for m, s in attempts.items() if isinstance(s, Schedule)]
    if fitting:
        return fitting[0]
    last = attempts[multiples[-1]]
    assert isinstance(last, ScheduleError)
    tried = f" (tried core clocks {', '.join(f'{m} x 256 fs' for m in multiples)})"
    if isinstance(last, BlockRamShortError):
        raise BlockRamShortError(f"{last}{tried}", part) from last
    raise ScheduleError(f"{last}{tried}") from last


MEMORY_TRIES = 8
"""Array shapes tried (in the strategy's order) before the block-RAM budget is declared short:
the caches dominate and hardly depend on the shape."""


def _explain_memory(sched: Schedule) -> str:
    """Which memories take the block RAM, how much is missing, and what would fit."""
    from wavecomp.rtl import memories

    budget = sched.budget
    need = sched.block_ram_estimate()
    parts = memories.block_rams_by_kind(sched)
    detail = ", ".join(f"{kind} {n}" for kind, n in parts.items() if n)
    bigger = [p for p in targets.ECP5_PARTS.values() if p.dp16kd >= need]
    options = (
        f"a bigger part: {bigger[0].name} ({bigger[0].dp16kd} DP16KD)"
        if bigger
        else "no ECP5 part has that many"
    )
    return (
        f"network {sched.net_name!r} needs {need} block RAMs (DP16KD: {detail}) but the "
        f"{targets.ECP5_PARTS[budget.part].name} has {budget.block_rams}: "
        f"{need - budget.block_rams} short. Options: {options}; or a smaller model (fewer "
        f"channels or shorter dilations: the activation caches hold "
        f"{memories.cache_bits(sched) / 1024:,.0f} kbit)."
    )


def _explain_no_fit(net: Network, budget: Budget) -> str:
    """Say what would fit: fewer MACs, a lower rate, or a bigger part."""
    cps = budget.cycles_per_sample
    best = min(
        ((layout_cycles(net, g, q), g * q) for g, q in _candidate_shapes(net, budget.multipliers)),
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
def weight_words(sched: Schedule) -> np.ndarray:
    """(program_length, G, Q) int16: the weights each step feeds the array (0 for NOPs and
    padding). Identity steps carry 2**gain_shift where row channel == column channel."""
    net = sched.network
    out = np.zeros((sched.program_length, sched.g, sched.q), dtype=np.int16)
    for pc, step in enumerate(sched.program):
        if not step.valid:
            continue
        source = net.nodes[step.node].sources[step.source]
        channels = np.arange(step.word * sched.g, (step.word + 1) * sched.g)
        if step.identity:
            for col in range(step.count):
                row = step.base + col - step.word * sched.g
                if 0 <= row < sched.g:  # 2**15 is stored as 0x8000 and read unsigned
                    out[pc, row, col] = np.int16(np.uint16(1 << step.gain_shift))
            continue
        rows = channels < source.in_channels
        taps = source.weights[step.kernel_tap, channels[rows], step.base : step.base + step.count]
        out[pc, : int(rows.sum()), : step.count] = taps
    return out


def bias_words(sched: Schedule) -> np.ndarray:
    """(n_groups, Q) int16: each group's biases, raw Q4.12 (0 for padding). The core makes the
    accumulator start ``(bias << (12+e)) + R_e`` from them (16 bits per column in the ROM
    instead of the accumulator width)."""
    out = np.zeros((sched.n_groups, sched.q), dtype=np.int16)
    for step in sched.program:
        if step.valid and step.first:
            node = sched.network.nodes[step.node]
            out[step.group, : step.count] = node.bias[step.base : step.base + step.count]
    return out
