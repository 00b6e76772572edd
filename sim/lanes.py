"""Packing lanes into the wide buses the benches drive (lane i at [width*i +: width]), and
the MSB-first bit lists of serial-port models."""

from __future__ import annotations

from collections.abc import Iterable


def pack(values: Iterable[int], width: int) -> int:
    """Two's-complement lanes -> one unsigned bus value."""
    mask = (1 << width) - 1
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (width * i)
    return out


def unpack_signed(word: int, width: int, n: int) -> list[int]:
    """One bus value -> n signed lanes."""
    out = []
    for i in range(n):
        v = (word >> (width * i)) & ((1 << width) - 1)
        out.append(v - (1 << width) if v >> (width - 1) else v)
    return out


def to_bits(value: int, width: int) -> list[int]:
    """MSB-first bits of a two's-complement value (serial-port models)."""
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def from_bits(bits: list[int]) -> int:
    """Signed value of MSB-first two's-complement bits."""
    raw = 0
    for b in bits:
        raw = (raw << 1) | b
    return raw - (1 << len(bits)) if bits[0] else raw
