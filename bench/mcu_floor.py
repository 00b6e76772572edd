"""A lower bound on the instructions any exact Q4.12 engine needs per sample on the Cortex-M7.

    python bench/mcu_floor.py [--nam PRESET ...]

Why: the NAM goals (A2-Full <= 9,000 instructions/sample, A1-standard <= 10,000, A2-Lite
<= 1,600) were set against the 0.5 instructions/MAC SMLAD ceiling, which counts no loads. This
counts what no engine can avoid when it computes one sample at a time, bit-exact to the
numerics contract, and is generous everywhere else (so a goal below it cannot be met):

- MACs: one SMLAD per two MACs, perfectly packed. Every weight is used once per sample, so
  every weight word must be loaded every sample, and an activation word feeds at most one
  SMLAD per accumulator held in a register. With G accumulators, X activation words and W
  weight words live (one LDM/LDRD fills at most X or W registers), G + X + W <= 12 (r0-r12 and
  lr, less the weight and activation pointers; SP and PC cannot be LDM data registers), so each
  SMLAD costs at least 1 + 1/W + 1/(G X) instructions: ``SMLAD_COST``, minimised over G, X, W.
- per pre-activation: one SSAT (the contract's shift, round and clamp in one instruction; the
  rounding constant is already in the bias).
- per output: leaky_relu >= 2 (test and select), pwl >= 4 (index, fraction weight, knot load,
  SMLAD), gated = two lookups, one multiply and one SSAT.
- per stored pair of channels: one PKHBT and one store per copy (a ring read with a delay keeps
  two copies so its taps never wrap; a single-copy ring pays more per tap instead).
- per identity-added channel: one SMLAD (or SXTAH); their loads are not counted.
Not counted at all: bias loads, address arithmetic, loops, the int64 redo, the input copy.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from wavecomp.ir import Network
from wavecomp.mcu.graph_plan import plan_graph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from netgen import nam_network

DATA_REGISTERS = 12
"""r0-r12 and lr (14), less one weight-stream and one activation pointer."""
PER_OUTPUT = {"linear": 0, "relu": 0, "leaky_relu": 2, "pwl": 4, "gated": 4 + 4 + 2}


def smlad_cost(blocks: bool, registers: int = DATA_REGISTERS) -> tuple[float, tuple[int, ...]]:
    """Fewest instructions per SMLAD (with its loads), and the (G, T, X, W) that reach it.

    One sample at a time (``blocks`` False) every weight word is loaded every sample: T = 1.
    An engine that ran a block of samples layer by layer could hold accumulators for T samples
    and use each loaded weight word T times (G T accumulators in registers)."""
    counts = range(1, registers)
    tiles = counts if blocks else (1,)
    return min(
        (1 + 1 / (w * t) + 1 / (g * x), (g, t, x, w))
        for g, t, x, w in product(counts, tiles, counts, counts)
        if g * t + x + w <= registers
    )


@dataclass(frozen=True)
class Floor:
    macs: float
    requantise: int
    activations: int
    stores: int
    identity: int

    @property
    def total(self) -> float:
        return self.macs + self.requantise + self.activations + self.stores + self.identity


def floor(net: Network, blocks: bool = False) -> Floor:
    """The lower bound for ``net`` (see the module docstring for what each part counts)."""
    cost = smlad_cost(blocks)[0]
    plan = plan_graph(net, "half_up")
    macs = requantise = activations = stores = identity = 0
    for n in plan.nodes:
        node = n.node
        macs += node.macs / 2 * cost
        requantise += node.pre_channels
        activations += PER_OUTPUT[node.activation] * node.out_channels
        copies = 2 if n.store is not None and n.store.is_ring else 1
        pairs = (node.out_channels + 1) // 2
        stores += node.out_channels // 2 + pairs * copies
        identity += node.identity_adds
    return Floor(macs, requantise, activations, stores, identity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nam", nargs="*", default=["a2_full", "a1_standard", "a2_lite"])
    args = parser.parse_args()
    for blocks in (False, True):
        cost, (g, t, x, w) = smlad_cost(blocks)
        print(
            f"{'blocks of samples' if blocks else 'one sample at a time'}: per SMLAD >= "
            f"{cost:.3f} instructions (G={g}, T={t}, X={x}, W={w})"
        )
        for preset in args.nam:
            f = floor(nam_network(preset, "half_up", seed=3), blocks)
            print(
                f"  {preset}: >= {f.total:,.0f} instructions/sample (MACs {f.macs:,.0f}, "
                f"requantise {f.requantise:,}, activations {f.activations:,}, pack+store "
                f"{f.stores:,}, identity {f.identity:,})"
            )


if __name__ == "__main__":
    main()
