"""Gate-level proof (``wavecomp/fpga/netlist_check.py``): the core as Yosys synthesises it.

(a) Slow: the ``synth_ecp5`` netlist of the generated core, simulated in Verilator with Yosys'
ECP5 cell models (plus wavecomp's DP16KD / MULT18X18D models, which Yosys ships only as black
boxes), equals the reference on every sample of every channel: the default model, and a graph
network with tanh/sigmoid tables and a gated node at its tight strobe period. (b) Slow: the
check is not vacuous: one word of the activation ROM image (``wc_tables.hex``), a knot the
stimulus reaches, flipped before synthesis makes it fail, at or after the first sample
that reads it. (c) Quick: the cell library set-up, and the build step that runs only when asked for.

Run times (2 cores, shared) are printed with ``-s``: synthesis ~10 s, the Verilator build of
the flat netlist ~40-70 s, the simulation ~1 s per 1,000 samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from netgen import random_graph_network
from test_board_build import fake_toolchain

import wavecomp
from wavecomp import fixed, reference
from wavecomp import schedule as sch
from wavecomp.fpga.build import build_bitstream
from wavecomp.fpga.build_steps import STEPS, steps_for
from wavecomp.fpga.netlist_check import (
    CELL_MODELS,
    DEFAULT_SEED,
    NetlistMismatch,
    NetlistResult,
    check_netlist,
    prepare_cell_library,
)
from wavecomp.ir import Network
from wavecomp.rtl.generate import TABLE_FILE
from wavecomp.stimulus import random_inputs

N_SAMPLES = 2000


def graph_case() -> tuple[Network, sch.Schedule]:
    """random_graph_network(9) on a 2 x 3 array, strobe period cut to the cycles it uses."""
    net = random_graph_network(9)
    first = sch.schedule(net, sch.Budget(1024, 64), shape=(2, 3))
    tight = sch.Budget(cycles_per_sample=first.cycles_used, multipliers=first.multipliers)
    return net, sch.schedule(net, tight, shape=(2, 3))


def show(name: str, result: NetlistResult) -> None:
    times = ", ".join(f"{stage} {s:.1f} s" for stage, s in result.seconds.items())
    print(f"\n{name}: {result.summary()}\n  {times}\n  cells: {result.cells}")


@pytest.mark.slow
def test_default_core_is_bit_exact_at_gate_level(tmp_path: Path) -> None:
    net = wavecomp.load()
    sched = sch.schedule(net)
    result = check_netlist(net, sched, N_SAMPLES, tmp_path / "default")
    show("default", result)
    assert result.ok, result.summary()
    assert (result.samples, result.channels) == (N_SAMPLES, net.out_channels)
    assert result.cells["MULT18X18D"] == sched.multipliers
    assert result.cells["DP16KD"] >= 1 and result.cells["TRELLIS_FF"] > 0
    assert result.netlist.is_file() and (tmp_path / "default" / "sim" / "verilate.log").is_file()
    saved = json.loads((tmp_path / "default" / "result.json").read_text())
    assert saved["mismatches"] == 0 and saved["samples"] == N_SAMPLES


@pytest.mark.slow
def test_graph_core_with_tables_is_bit_exact_at_gate_level(tmp_path: Path) -> None:
    net, sched = graph_case()
    assert {n.activation for n in net.nodes} >= {"pwl", "gated"} and sched.has_activation_unit
    assert sched.budget.cycles_per_sample == sched.cycles_used
    result = check_netlist(net, sched, N_SAMPLES, tmp_path / "graph")
    show("graph", result)
    assert result.ok, result.summary()
    assert result.cells["MULT18X18D"] >= sched.multipliers and result.cells["DP16KD"] >= 1


def busiest_table_knot(
    net: Network, x: np.ndarray, rounding: fixed.Rounding, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int, int]:
    """(ROM table index, knot i, first sample that reads it) of the pwl knot the reference
    interpolates with most often on ``x``: L[i] is read by segments i - 1 and i."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    pwl = fixed.pwl

    def recording(p, table, rnd):
        seen.append((np.asarray(table), np.asarray(p)))
        return pwl(p, table, rnd)

    with monkeypatch.context() as patch:
        patch.setattr(fixed, "pwl", recording)
        reference.run(net, x, rounding=rounding)
    tables = sch.distinct_tables(net)
    hits: dict[tuple[int, int], list[int]] = {}
    for table, p in seen:  # p: (T, channels) pre-activations
        k = next(k for k, t in enumerate(tables) if np.array_equal(t, table))
        segment = (p.astype(np.int64) - fixed.RAW_MIN) >> fixed.TABLE_STEP_BITS
        for i in np.unique(segment):
            times = np.nonzero((segment == i).any(axis=-1))[0].tolist()
            for knot in (int(i), int(i) + 1):
                hits.setdefault((k, knot), []).extend(times)
    (k, i), times = max(hits.items(), key=lambda item: len(item[1]))
    return k, i, min(times)


@pytest.mark.slow
def test_a_flipped_table_word_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, sched = graph_case()
    x = random_inputs(N_SAMPLES, net.in_channels, seed=DEFAULT_SEED)
    k, i, first_read = busiest_table_knot(net, x, sched.rounding, monkeypatch)
    assert i < 1024  # in the ROM image (L[1024] is a parameter)
    word = k * 1024 + i  # word i of table k: its knot L[i]; flip bit 14

    def flip(core: Path) -> None:
        image = core / TABLE_FILE
        words = image.read_text().split()
        words[word] = f"{int(words[word], 16) ^ (1 << 14):04x}"
        image.write_text("".join(f"{w}\n" for w in words))

    work = tmp_path / "mutant"
    with pytest.raises(NetlistMismatch) as err:
        check_netlist(net, sched, N_SAMPLES, work, mutate=flip)
    result = err.value.result
    show(f"mutant (table {k}, knot {i}, first read at sample {first_read})", result)
    assert result.mismatches > 0
    assert result.first_mismatch.sample >= first_read
    assert f"first: sample {result.first_mismatch.sample}" in str(err.value)
    assert str(work) in str(err.value)
    kept = np.load(work / "outputs.npz")
    assert int((kept["got"] != kept["want"]).sum()) == result.mismatches
    assert (work / "core" / "yosys_full.log").is_file()


def test_cell_library_replaces_yosys_black_boxes(tmp_path: Path) -> None:
    """Yosys' cells_sim.v is copied without its DP16KD black box; wavecomp's models of the
    cells Yosys does not model are added; the usual synth_ecp5 cells are all modelled."""
    library = prepare_cell_library(tmp_path)
    text = (tmp_path / "cells_sim.v").read_text()
    assert "blackbox" not in text and "common_sim.vh" in text
    assert (tmp_path / CELL_MODELS).is_file()
    assert set(library.sources) == {"cells_sim.v", CELL_MODELS}
    used = {"LUT4", "CCU2C", "PFUMX", "L6MUX21", "TRELLIS_FF", "TRELLIS_DPR16X4"}
    assert used | {"DP16KD", "MULT18X18D"} <= library.modelled
    # a cell Yosys models itself is taken from Yosys (its define switches ours off)
    assert library.defines == tuple(f"+define+WC_YOSYS_HAS_{c}" for c in library.yosys_models)


def test_build_runs_the_step_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off by default (no step, no folder); ``--check-netlist N`` puts it after the RTL check."""
    names = [step.name for step in steps_for(1000)]
    assert names[names.index("RTL bit-exact check") + 1] == "gate-level check"
    assert steps_for(0) == STEPS and "gate-level check" not in [s.name for s in STEPS]
    fake_toolchain(tmp_path / "tools", monkeypatch)
    monkeypatch.setenv("WAVECOMP_CACHE", str(tmp_path / "cache"))
    result = build_bitstream(wavecomp.load(), out_dir=tmp_path / "b", rtl_check_samples=0)
    assert [s.name for s in result.steps] == [s.name for s in STEPS]
    assert not (tmp_path / "b" / "netlist-check").exists()
