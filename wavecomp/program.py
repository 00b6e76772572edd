"""The per-sample program and the hardware's timing model.

One step (one clock) feeds the MAC array one word (``G`` channels) of one source tensor at one
lag. A node's pre-activation channels are done in groups of ``Q``; a group takes, per conv
source, ``K * ceil(C_X/G)`` steps, and per identity source one step per word its channels touch
(the array adds ``X << (12+e-m)`` through a diagonal of power-of-two weights: adds, not MACs,
through the same adder trees). Nodes run in reverse topological order, ordered to avoid drain
NOPs; a finished group goes through the drain (and the activation unit) while later groups run.

This module is the single model of the hardware's timing: the scheduler counts cycles with it,
and the RTL generator builds the pipeline with the same constants, so "cycles used" in a report
is what the simulation measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from wavecomp import fixed
from wavecomp.alignment import source_delay
from wavecomp.cache_plan import Rings
from wavecomp.ir import INPUT, ConvSource, IdentitySource, Network, Node

FRONT_LATENCY = 8
"""Cycles from the strobe to step 0's operands at the MAC array: strobe->pc 1, program ROM 1,
step register 1, ring address 2 (wc_cache_ptrs), memory read 2 (wc_cache_ram), operand
register 1. Step ``pc`` reaches the array at strobe + 8 + pc."""
ACTIVATION_LATENCY = 7
"""hdl/wc_activation.sv: the one-lane unit for leaky_relu, pwl and gated nodes. A core without
such nodes has no unit and no extra latency."""
NARROW_ACTIVATIONS = ("leaky_relu", "pwl", "gated")
"""Activations computed by the one-lane unit: their groups drain one channel per clock."""
IDENTITY_WIDE_SHIFT = 15
"""An identity step's weight is 2**s; int16 holds up to 2**14, so the array reads a 2**15
weight (stored as 0x8000) as unsigned on that step (wc_mac_array UNSIGNED_W)."""


def drain_lanes(g: int, q: int) -> int:
    """Channels the drain writes per clock: up to G (consecutive channels hit distinct
    banks), and no more than a group has."""
    return min(g, q)


def drain_beats(count: int, g: int, q: int, narrow: bool = False) -> int:
    """Clocks the drain needs for a group of ``count`` channels."""
    return count if narrow else math.ceil(count / drain_lanes(g, q))


def mac_latency(g: int) -> int:
    """wc_mac_array: operand copies, product register, one register per tree level, accumulator."""
    return 3 + math.ceil(math.log2(g)) if g > 1 else 3


@dataclass(frozen=True)
class Step:
    """One clock of the per-sample program (a NOP has ``valid=False``)."""

    valid: bool = False
    node: int = 0
    """Node index: the drain's tag (the tensor written is node + 1)."""
    src: int = 0
    """Tensor id read (0 = input, 1 + i = node i)."""
    lag: int = 0
    """Columns back from the newest committed one."""
    word: int = 0
    mem: int = 0
    """The cache memory holding ``src``, and the ring's select code in it."""
    sel: int = 0
    lagw: int = 0
    """``lag`` in words of ``src``'s ring (lag x ceil(C/G)): what wc_cache_ptrs takes."""
    first: bool = False
    last: bool = False
    group: int = 0
    """Global group id (bias ROM address)."""
    source: int = 0
    """Index of the node's source this step reads (weights)."""
    kernel_tap: int = 0
    """Conv sources: the tap k. Identity steps: -1."""
    gain_shift: int = 0
    """Identity steps: the weight 2**gain_shift on the diagonal."""
    wunsigned: bool = False
    """The array reads this step's weights as unsigned (a 2**15 identity weight)."""
    relu: bool = False
    narrow: bool = False
    shift: int = 0
    base: int = 0
    count: int = 0
    """Real pre-activation channels in this group (drain length)."""

    @property
    def identity(self) -> bool:
        return self.valid and self.kernel_tap < 0


def _group_steps(
    net: Network,
    i: int,
    tau: dict[str, int],
    rings: Rings,
    g: int,
    base: int,
    count: int,
) -> list[Step]:
    """The steps of node i's group of pre-activation channels base .. base+count-1."""
    node = net.nodes[i]
    ids = {INPUT: 0} | {n.name: k + 1 for k, n in enumerate(net.nodes)}
    common = dict(
        valid=True,
        node=i,
        relu=node.activation == "relu",
        narrow=node.activation in NARROW_ACTIVATIONS,
        shift=node.shift,
        base=base,
        count=count,
    )
    steps = []
    for j, s in enumerate(node.sources):
        delay = source_delay(tau, node, s.tensor)
        src = ids[s.tensor]
        mem, sel, words = rings[src]
        where = dict(src=src, mem=mem, sel=sel, source=j)
        if isinstance(s, ConvSource):
            for k in range(s.kernel_size):
                lag = delay + (s.kernel_size - 1 - k) * s.dilation
                for word in range(words):
                    steps.append(
                        Step(lag=lag, lagw=lag * words, word=word, kernel_tap=k, **where, **common)
                    )
        else:
            gain = fixed.FRAC_BITS + node.shift - s.shift
            for word in range(base // g, (base + count - 1) // g + 1):
                steps.append(
                    Step(
                        lag=delay,
                        lagw=delay * words,
                        word=word,
                        kernel_tap=-1,
                        gain_shift=gain,
                        wunsigned=gain == IDENTITY_WIDE_SHIFT,
                        **where,
                        **common,
                    )
                )
    steps[0] = replace(steps[0], first=True)
    steps[-1] = replace(steps[-1], last=True)
    return steps


def _source_steps(
    source: ConvSource | IdentitySource, node: Node, g: int, base: int, count: int
) -> int:
    """Steps one source takes in a group (what _group_steps emits for it)."""
    if isinstance(source, ConvSource):
        return source.kernel_size * math.ceil(source.in_channels / g)
    return (base + count - 1) // g - base // g + 1


def _group_sizes(net: Network, g: int, q: int) -> list[list[int]]:
    """Steps per group, per node."""
    sizes = []
    for node in net.nodes:
        sizes.append(
            [
                sum(
                    _source_steps(s, node, g, base, min(q, node.pre_channels - base))
                    for s in node.sources
                )
                for base in range(0, node.pre_channels, q)
            ]
        )
    return sizes


def node_order(net: Network, g: int, q: int) -> list[int]:
    """A reverse topological order (every reader of a tensor before its producer) that avoids
    drain NOPs: among the nodes whose readers are all placed, take one whose first group is
    at least as long as the previous group's drain (latest node first on ties)."""
    readers: dict[int, set[int]] = {i: set() for i in range(len(net.nodes))}
    index = {node.name: i for i, node in enumerate(net.nodes)}
    for i, node in enumerate(net.nodes):
        for s in node.sources:
            if s.tensor in index:
                readers[index[s.tensor]].add(i)
    sizes = _group_sizes(net, g, q)
    placed: set[int] = set()
    order: list[int] = []
    previous_beats = 0
    while len(order) < len(net.nodes):
        ready = [i for i in readers if i not in placed and readers[i] <= placed]
        i = min(ready, key=lambda i: (max(0, previous_beats - sizes[i][0]), -i))
        order.append(i)
        placed.add(i)
        node = net.nodes[i]
        last = node.pre_channels - (len(sizes[i]) - 1) * q
        previous_beats = drain_beats(last, g, q, node.activation in NARROW_ACTIVATIONS)
    return order


def program_layout(net: Network, g: int, q: int) -> list[tuple[int, int, int, int]]:
    """(node, base, count, NOPs before) per group, in program order.

    NOPs go (a) before a group whose results would reach the drain too early (see
    ``drain_loads``), and (b) before the first read of the input while the input writer is
    still filling its cache. Counted without building the steps: the scheduler tries every
    array shape with this.
    """
    need_input_before = input_words(net, g)
    queue = has_narrow_nodes(net)
    layout = []
    length = 0
    load, beats = None, 0  # the previous group's drain load position and beats
    for i in node_order(net, g, q):
        node = net.nodes[i]
        narrow = node.activation in NARROW_ACTIVATIONS
        for base in range(0, node.pre_channels, q):
            count = min(q, node.pre_channels - base)
            sizes = [_source_steps(s, node, g, base, count) for s in node.sources]
            gap = 0
            if load is not None:  # the group's last step may come no earlier than this
                earliest = load if queue else load + beats
                gap = earliest - (length + sum(sizes) - 1)
            reads_input = [k for k, s in enumerate(node.sources) if s.tensor == INPUT]
            if reads_input:
                first_read = sum(sizes[: reads_input[0]])
                gap = max(gap, need_input_before - length - first_read)
            if not layout:  # the first write must come after the input writer's last one
                first_write = FRONT_LATENCY + sum(sizes) - 1 + mac_latency(g) + 1
                gap = max(gap, need_input_before + 1 - first_write)
            gap = max(0, gap)
            layout.append((i, base, count, gap))
            length += gap + sum(sizes)
            last = length - 1
            load = last if load is None else max(last, load + beats)
            beats = drain_beats(count, g, q, narrow)
    return layout


def has_narrow_nodes(net: Network) -> bool:
    """The core has the activation unit, and with it wc_group_queue in front of the drain."""
    return any(node.activation in NARROW_ACTIVATIONS for node in net.nodes)


def drain_loads(lasts: list[int], beats: list[int], queue: bool) -> list[int]:
    """Program position at which each group (given its last step's position and its drain
    beats) loads into the drain: its last step, or with the queue (wc_group_queue) later,
    when the drain has finished the group before it (that group waits in the queue's slot)."""
    loads: list[int] = []
    for k, last in enumerate(lasts):
        free = loads[-1] + beats[k - 1] if loads else last
        loads.append(max(last, free) if queue else last)
    return loads


def build_program(net: Network, g: int, q: int, tau: dict[str, int], rings: Rings) -> list[Step]:
    """Steps for one sample period: nodes in reverse topological order, groups in order,
    NOPs where ``program_layout`` puts them."""
    program: list[Step] = []
    for gid, (i, base, count, gap) in enumerate(program_layout(net, g, q)):
        program.extend([Step()] * gap)
        steps = _group_steps(net, i, tau, rings, g, base, count)
        program.extend(replace(s, group=gid) for s in steps)
    return program


def layout_cycles(net: Network, g: int, q: int) -> int:
    """cycles_used of build_program's program, from the layout alone."""
    narrow = [n.activation in NARROW_ACTIVATIONS for n in net.nodes]
    lasts, beats = [], []
    position = -1
    for i, base, count, gap in program_layout(net, g, q):
        node = net.nodes[i]
        position += gap + sum(_source_steps(s, node, g, base, count) for s in node.sources)
        lasts.append(position)
        beats.append(drain_beats(count, g, q, narrow[i]))
    return _cycles(lasts, beats, g, any(narrow))


def _cycles(lasts: list[int], beats: list[int], g: int, activation_unit: bool) -> int:
    load = drain_loads(lasts, beats, queue=activation_unit)[-1]
    return (
        FRONT_LATENCY
        + load
        + mac_latency(g)
        + beats[-1]
        + (ACTIVATION_LATENCY if activation_unit else 0)
        + 1
    )


def input_words(net: Network, g: int) -> int:
    """Clocks the input writer needs to put one input sample into the input cache."""
    return math.ceil(net.in_channels / g)


def cycles_used(program: list[Step], g: int, q: int, activation_unit: bool = False) -> int:
    """Clocks from the strobe up to and including the last cache/output write.

    A group's result leaves the array ``mac_latency`` after its last step and loads into the
    drain (see ``drain_loads``), which writes its channels after that (through the activation
    unit when the core has one). The last group loads last. The next strobe may come in the
    very next clock (its commits never collide with a write), so this must be <=
    cycles_per_sample.
    """
    lasts = [i for i, s in enumerate(program) if s.valid and s.last]
    beats = [drain_beats(program[i].count, g, q, program[i].narrow) for i in lasts]
    return _cycles(lasts, beats, g, activation_unit)
