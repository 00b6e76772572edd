"""cocotb tests for hdl/wc_group_queue.sv: one waiting slot in front of the drain.

The model is the module's contract in plain Python: a group goes straight through when the
slot is empty and the drain is not busy, waits otherwise, leaves the slot in the first cycle
the drain is free (a group arriving then takes the slot), and a group arriving while the slot
is full and the drain busy is lost and sets the sticky overflow. Outputs are checked in every
cycle (out_load, and out_data whenever out_load is high; overflow always).
"""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

SEED = 0x5EC0_0009


class QueueModel:
    def __init__(self) -> None:
        self.slot: int | None = None
        self.overflow = 0

    def outputs(self, valid: int, data: int, busy: int) -> tuple[int, int | None]:
        """(out_load, out_data when loading) in the current cycle."""
        if busy:
            return 0, None
        if self.slot is not None:
            return 1, self.slot
        return (1, data) if valid else (0, None)

    def step(self, rst: int, valid: int, data: int, busy: int) -> None:
        if rst:
            self.slot, self.overflow = None, 0
            return
        if self.slot is not None:
            if not busy:
                self.slot = data if valid else None
            elif valid:
                self.overflow = 1
        elif valid and busy:
            self.slot = data


@cocotb.test()
async def random_traffic(dut):
    """Random arrivals and drain-busy patterns (from idle to saturated), resets mid-stream."""
    width = int(dut.WIDTH.value)
    rng = random.Random(SEED + width)
    model = QueueModel()
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.drain_busy.value = 0
    await FallingEdge(dut.clk)
    model.step(1, 0, 0, 0)
    loads = 0
    overflows = 0
    for cycle in range(6000):
        phase = cycle // 1000  # arrival and busy rates change every 1000 cycles
        p_valid, p_busy = [(0.2, 0.2), (0.5, 0.5), (0.3, 0.8), (0.9, 0.1), (0.6, 0.6), (0.4, 0.3)][
            phase
        ]
        rst = int(rng.random() < 0.004)
        valid = int(rng.random() < p_valid)
        busy = int(rng.random() < p_busy)
        data = rng.getrandbits(width)
        dut.rst.value = rst
        dut.in_valid.value = valid
        dut.in_data.value = data
        dut.drain_busy.value = busy
        await Timer(1, "ns")  # out_load/out_data follow the inputs combinationally
        want_load, want_data = model.outputs(valid, data, busy)
        if not rst:
            assert int(dut.out_load.value) == want_load, f"cycle {cycle}: out_load"
            if want_load:
                assert int(dut.out_data.value) == want_data, f"cycle {cycle}: out_data"
                loads += 1
        assert int(dut.overflow.value) == model.overflow, f"cycle {cycle}: overflow"
        overflows += model.overflow
        model.step(rst, valid, data, busy)
        await FallingEdge(dut.clk)
    assert loads > 1000 and overflows > 0, (loads, overflows)
    dut._log.info("WIDTH=%d: %d loads checked", width, loads)
