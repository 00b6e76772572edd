"""Where the activation caches live: a ring of exactly its span per tensor, packed into memories.

Every tensor some node reads keeps its last ``span`` columns (the longest lag read + 1) of
``ceil(C/G)`` words, bank ``b`` of a word holding channel ``c`` with ``c % G == b``. Rings are
packed back to back into one block-RAM memory (hdl/wc_cache_ram.sv, addressed by
wc_cache_ptrs.sv with modulo arithmetic, no power-of-two rounding), with LUT RAM for a memory
that small or for small rings when that saves a DP16KD per bank: block RAM used stays close to
the bits the caches need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from wavecomp.alignment import source_delay
from wavecomp.ir import INPUT, ConvSource, Network

LUTRAM_WORDS = 64
"""A cache memory this deep (words per bank) or less is LUT RAM: cheaper than a DP16KD."""
BLOCK_WORDS = 1024
"""Words of one DP16KD at 16 (18) bits."""
LUTRAM_SPILL_SHARE = 0.15
"""Small rings move from block RAM into LUT RAM when that saves a DP16KD per bank (the block
memory's last block would be partly empty), up to a block's words per bank and this share of
the memory: LUT RAM takes the tail of a big memory (NAM-size caches, where block RAM is the
scarce resource: A1-standard's 739-word tail costs ~750 TRELLIS_DPR16X4 and saves 4 DP16KD,
A2-Lite's 801-word tail ~600 and saves 3), never a small memory whole."""


@dataclass(frozen=True)
class TensorPlan:
    """One tensor's activation cache: a ring of exactly ``span`` columns of ``used_words``
    words (tensors no node reads have none)."""

    name: str
    index: int
    """Tensor id: 0 = input, 1 + i = node i's output."""
    channels: int
    used_words: int
    """ceil(C / G): the words a column's channels take."""
    span: int
    """Columns the readers need (the largest lag read + 1): the ring's size."""

    @property
    def region(self) -> int:
        """Words per bank the ring takes in its memory."""
        return self.span * self.used_words


@dataclass(frozen=True)
class CacheMemory:
    """One packed activation memory (hdl/wc_cache_ram.sv with wc_cache_ptrs.sv): the rings
    of several tensors back to back, each exactly its span, in block RAM or LUT RAM."""

    index: int
    style: Literal["block", "distributed"]
    tensors: tuple[int, ...]
    """Tensor ids; a ring's position here is its select code."""
    bases: tuple[int, ...]
    depth: int
    """Words per bank."""


def plan_tensors(net: Network, g: int, tau: dict[str, int]) -> list[TensorPlan]:
    """A cache for every tensor some node reads, sized by its longest read."""
    ids = {INPUT: 0} | {node.name: i + 1 for i, node in enumerate(net.nodes)}
    spans: dict[str, int] = {}
    for node in net.nodes:
        for s in node.sources:
            lag = source_delay(tau, node, s.tensor)
            if isinstance(s, ConvSource):
                lag += (s.kernel_size - 1) * s.dilation
            spans[s.tensor] = max(spans.get(s.tensor, 0), lag + 1)
    return [
        TensorPlan(
            name=name,
            index=ids[name],
            channels=net.channels(name),
            used_words=math.ceil(net.channels(name) / g),
            span=span,
        )
        for name, span in sorted(spans.items(), key=lambda kv: ids[kv[0]])
    ]


def plan_memories(tensors: list[TensorPlan]) -> list[CacheMemory]:
    """Pack the rings into memories: one LUT-RAM memory when all are small; else one block
    memory, with the smallest rings spilled into LUT RAM when that saves a DP16KD per bank."""
    total = sum(t.region for t in tensors)
    if total <= LUTRAM_WORDS:
        return [_memory(0, "distributed", tensors)]
    spill: list[TensorPlan] = []
    partial = total % BLOCK_WORDS
    if partial:
        moved = 0
        for t in sorted(tensors, key=lambda t: (t.region, t.index)):
            if moved >= partial:
                break
            spill.append(t)
            moved += t.region
        if moved < partial or moved > min(BLOCK_WORDS, LUTRAM_SPILL_SHARE * total):
            spill = []
    block = [t for t in tensors if t not in spill]
    if not block:
        return [_memory(0, "distributed", spill)]
    memories = [_memory(0, "block", block)]
    if spill:
        memories.append(_memory(1, "distributed", spill))
    return memories


def _memory(
    index: int, style: Literal["block", "distributed"], tensors: list[TensorPlan]
) -> CacheMemory:
    bases, depth = [], 0
    for t in tensors:
        bases.append(depth)
        depth += t.region
    return CacheMemory(index, style, tuple(t.index for t in tensors), tuple(bases), depth)


Rings = dict[int, tuple[int, int, int]]
"""Tensor id -> (memory, select code, words per column): where a step's source lives."""


def ring_map(memories: list[CacheMemory], tensors: list[TensorPlan]) -> Rings:
    words = {t.index: t.used_words for t in tensors}
    return {
        tensor: (mem.index, sel, words[tensor])
        for mem in memories
        for sel, tensor in enumerate(mem.tensors)
    }
