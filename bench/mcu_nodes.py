"""Where a fused engine's instructions go, node by node, on the emulated Cortex-M7.

    python bench/mcu_nodes.py [MODEL | --nam PRESET] [--numerics q12|f32] [--samples N] [--top N]

MODEL is anything ``wavecomp.load`` reads (default: the default model); ``--nam a2_full`` takes
a NAM preset's shape with seeded realistic weights (as ``bench/mcu.py``). The engine is
emitted, built with the M7 harness and run on QEMU with the block profile; the same engine
source is compiled once more with ``-g`` (identical code: debug info changes no instruction)
so ``addr2line`` can say which node's block in ``wavecomp_engine.cpp`` each executed
instruction was inlined into. Prints instructions per sample per node, with MACs and
instructions per MAC: the table to read before optimising the kernel. QEMU counts
instructions, not cycles.
"""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import wavecomp
from wavecomp.ir import Network
from wavecomp.mcu import m7_build, m7_run
from wavecomp.mcu.emit import emit
from wavecomp.stimulus import random_inputs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from netgen import nam_network

CACHE = Path("build/m7-cache")
STEP_SYMBOL = re.compile(r"_ZN8wavecomp11engine_stepEPK([sf])P\1$")
"""engine_step(const sample_t*, sample_t*), int16_t (q12) or float (f32)."""
OUTSIDE = "(calls: int64 redo)"
NODE_LINE = re.compile(r'// node \d+ "([^"]+)"')


def node_of_line(engine_cpp: Path) -> dict[int, str]:
    """Source line of wavecomp_engine.cpp -> the node whose block it is in."""
    owner, current = {}, "input"
    for number, line in enumerate(engine_cpp.read_text().splitlines(), 1):
        match = NODE_LINE.search(line)
        current = match.group(1) if match else current
        current = "outputs" if "lane(" in line else current
        owner[number] = current
    return owner


def debug_object(result, build_flags: list[str], work: Path) -> Path:
    """The engine compiled as the M7 build does, plus -g."""
    obj = work / "engine_g.o"
    source = result.engine_sources[0]
    includes = [f"-I{d}" for d in result.include_dirs]
    defines = [
        f"-D{d}"
        for d in (*m7_build.CMSIS_DEFINES, *m7_build.DAISY_PLACEMENT_DEFINES, *result.defines)
    ]
    compile_cmd = ["arm-none-eabi-g++", *build_flags, *defines, *includes, "-g", "-c"]
    subprocess.run([*compile_cmd, str(source), "-o", str(obj)], check=True)
    return obj


def per_node(net: Network, numerics: str, samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="wavecomp-nodes-") as tmp:
        work = Path(tmp)
        result = emit(net, work / "out", numerics=numerics)
        build = m7_build.build_m7(result, CACHE)
        x = random_inputs(samples, net.in_channels, 5)
        inputs = x if numerics == "q12" else (x / 4096).astype("float32")
        run = m7_run.run_qemu(build, inputs, profile=True)
        flags = [*m7_build.ARCH_FLAGS, *m7_build.OPT_FLAGS, *m7_build.CXX_FLAGS]
        obj = debug_object(result, flags, work)
        symbols = subprocess.run(
            ["arm-none-eabi-nm", "-S", str(build.elf)], capture_output=True, text=True, check=True
        ).stdout
        address, size, _, name = next(
            s.split() for s in symbols.splitlines() if STEP_SYMBOL.search(s)
        )
        step, step_end = int(address, 16) & ~1, (int(address, 16) & ~1) + int(size, 16)
        listing = subprocess.run(
            ["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(build.elf)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        addresses = sorted(int(m, 16) for m in re.findall(r"^\s+([0-9a-f]+):\t", listing, re.M))
        blocks = []
        for block in run.blocks:
            first = bisect.bisect_left(addresses, block.address)
            blocks.append((block, addresses[first : first + block.instructions]))
        inside = [a for _, ins in blocks for a in ins if step <= a < step_end]
        lookup = ["arm-none-eabi-addr2line", "-a", "-i", "-e", str(obj), "-j", f".text.{name}"]
        lines = subprocess.run(
            [*lookup, *(hex(a - step) for a in inside)], capture_output=True, text=True, check=True
        ).stdout
        chains = re.split(r"^0x[0-9a-f]+\n", lines, flags=re.M)[1:]
        owner = node_of_line(result.engine_sources[0])
    counts: dict[str, float] = defaultdict(float)
    chain = iter(chains)
    for block, instructions in blocks:
        for a in instructions:
            if not step <= a < step_end:
                counts[OUTSIDE] += block.executions / samples
                continue
            hits = re.findall(r"wavecomp_engine\.cpp:(\d+)", next(chain))
            name = owner.get(int(hits[-1]), "?") if hits else "(outside engine_step)"
            counts[name] += block.executions / samples
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="a model file (default: the default model)")
    parser.add_argument("--nam", help="a NAM preset's shape instead (a2_full, a1_standard, ...)")
    parser.add_argument("--numerics", choices=["q12", "f32"], default="q12")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--top", type=int, default=60, help="rows to print")
    args = parser.parse_args()
    net = nam_network(args.nam, "half_up") if args.nam else wavecomp.load(args.model)
    counts = per_node(net, args.numerics, args.samples)
    macs = {node.name: node.macs for node in net.nodes}
    total = sum(counts.values())
    print(f"{net.name} ({args.numerics}): {total:,.1f} instructions/sample on the emulated M7")
    print(f"{'node':24s} {'instr/sample':>12s} {'MACs':>6s} {'per MAC':>8s}")
    for name, count in sorted(counts.items(), key=lambda t: -t[1])[: args.top]:
        per_mac = f"{count / macs[name]:.2f}" if macs.get(name) else "-"
        print(f"{name:24s} {count:12.1f} {macs.get(name, 0):6d} {per_mac:>8s}")


if __name__ == "__main__":
    main()
