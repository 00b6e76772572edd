"""Run a Cortex-M7 harness build on QEMU and count the instructions each ``engine_step`` takes.

The ELF from ``wavecomp.mcu.m7_build`` runs on QEMU ``mps2-an500``: inputs and outputs travel
over semihosting, and a small TCG plugin (``firmware/m7_harness/insn_count_plugin.c``, built
with the host gcc on first use and cached) counts the guest instructions executed between the
harness's step markers. QEMU counts *instructions*, not cycles: dual issue, flash wait
states, cache misses and load-use stalls are not modelled, so "% of a 480 MHz Daisy" figures
from these counts are estimates.
"""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavecomp.cache import build_once, content_key
from wavecomp.mcu.m7_build import (
    M7Build,
    M7Error,
    compiler_version,
    harness_dir,
    run_tool,
    symbols,
)
from wavecomp.tools import require_tool

QEMU_MACHINE = ("-M", "mps2-an500", "-cpu", "cortex-m7")
QEMU_TIMEOUT_BASE_S = 60.0
QEMU_TIMEOUT_PER_STEP_S = 2e-3
PLUGIN_TIMEOUT_S = 300
PLUGIN_SOURCE = "insn_count_plugin.c"
PLUGIN_LIBRARY = "insn_count.so"
RUN_STATS_MAGIC = 0x54534357  # "WCST"


@dataclass(frozen=True)
class M7Run:
    """One emulated run: outputs plus instruction counts (instructions, not cycles)."""

    outputs: np.ndarray
    instructions: int  # summed over every engine_step call
    steps: int
    min_step_instructions: int
    max_step_instructions: int
    stack_bytes: int  # main-stack high-water mark (harness main + engine)
    wall_seconds: float
    # With run_qemu(..., profile=True): executed blocks during steps, hottest first.
    blocks: tuple[BlockCount, ...] = ()

    @property
    def instructions_per_sample(self) -> float:
        return self.instructions / self.steps if self.steps else 0.0


@dataclass(frozen=True)
class BlockCount:
    """A straight-line block of guest code (a QEMU translation block) and how often it ran."""

    address: int
    instructions: int  # per execution
    executions: int

    @property
    def total(self) -> int:
        return self.instructions * self.executions


def plugin_path(cache_dir: Path) -> Path:
    """The instruction-counting QEMU plugin, compiled with host gcc on first use (cached)."""
    gcc = require_tool("gcc")
    source = harness_dir() / PLUGIN_SOURCE
    key = content_key([source.read_bytes(), compiler_version("gcc")], length=16)

    def build(staging: Path) -> None:
        run_tool(
            [
                gcc,
                "-shared",
                "-fPIC",
                "-O2",
                "-Wall",
                "-fvisibility=hidden",
                str(source),
                "-o",
                str(staging / PLUGIN_LIBRARY),
            ],
            what="building the QEMU instruction-counting plugin",
            timeout=PLUGIN_TIMEOUT_S,
        )

    entry = build_once(Path(cache_dir) / "qemu-plugin", key, build, done=PLUGIN_LIBRARY)
    return entry.path / PLUGIN_LIBRARY


def _qemu_opt(value: str) -> str:
    """QEMU option values escape a literal comma by doubling it."""
    return value.replace(",", ",,")


def _as_samples(build: M7Build, inputs: np.ndarray) -> np.ndarray:
    x = np.asarray(inputs)
    if x.ndim != 2 or x.shape[1] != build.inputs:
        raise ValueError(
            f"inputs must have shape (T, {build.inputs}) for this engine, got {x.shape}"
        )
    if build.sample_dtype == "int16":
        if not np.issubdtype(x.dtype, np.integer):
            raise ValueError(
                f"a q12 engine takes Q4.12 raw integers, got {x.dtype} "
                "(convert floats with wavecomp.fixed.to_q12)"
            )
        if x.size and (x.min() < -32768 or x.max() > 32767):
            raise ValueError("inputs are outside the int16 Q4.12 range")
        return np.ascontiguousarray(x, dtype="<i2")
    return np.ascontiguousarray(x, dtype="<f4")


def _parse_counts(text: str) -> dict[str, int]:
    counts = {}
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if value:
            counts[name.strip()] = int(value)
    return counts


def run_qemu(
    build: M7Build, inputs: np.ndarray, *, timeout: float | None = None, profile: bool = False
) -> M7Run:
    """Run the engine on the emulated M7 over ``inputs`` (T, C_in) from reset.

    Returns outputs of shape (T, C_out) in the engine's sample type (int16 Q4.12 raw for q12,
    float32 model units for f32) and the instructions executed inside ``engine_step``.
    ``profile`` also counts executions per code block (slower; see ``profile_by_function``).
    """
    x = _as_samples(build, inputs)
    qemu = require_tool("qemu-system-arm")
    plugin = plugin_path(build.cache_dir)
    steps = x.shape[0]
    limit = timeout or QEMU_TIMEOUT_BASE_S + QEMU_TIMEOUT_PER_STEP_S * steps
    excludes = ",".join(f"exclude={lo:#x}-{hi:#x}" for lo, hi in build.harness_ranges)
    plugin_opts = (
        f"{_qemu_opt(str(plugin))},begin={build.step_begin:#x},end={build.step_end:#x},"
        f"{excludes},out=wc_counts.txt{',profile=wc_profile.txt' if profile else ''}"
    )
    cmd = [
        qemu,
        *QEMU_MACHINE,
        "-display",
        "none",
        "-serial",
        "null",
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(build.elf),
        "-plugin",
        plugin_opts,
    ]
    with tempfile.TemporaryDirectory(prefix="wavecomp-m7-run-") as tmp:
        run_dir = Path(tmp)
        x.tofile(run_dir / "wc_in.bin")
        started = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, cwd=run_dir, capture_output=True, text=True, timeout=limit, check=False
            )
        except subprocess.TimeoutExpired as err:
            raise M7Error(
                f"QEMU did not finish {steps} steps within {limit:.0f} s "
                f"(engine stuck in a loop?): {' '.join(cmd)}"
            ) from err
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise M7Error(
                f"QEMU run of {build.elf} failed (exit {proc.returncode}):\n"
                f"{(proc.stderr + proc.stdout).strip() or '(no output)'}"
            )
        out_path = run_dir / "wc_out.bin"
        counts_path = run_dir / "wc_counts.txt"
        stats_path = run_dir / "wc_stats.bin"
        for path in (out_path, counts_path, stats_path):
            if not path.exists():
                raise M7Error(f"QEMU run finished but wrote no {path.name}:\n{proc.stderr}")
        dtype = "<i2" if build.sample_dtype == "int16" else "<f4"
        y = np.fromfile(out_path, dtype=dtype)
        counts = _parse_counts(counts_path.read_text())
        blocks = _parse_profile(run_dir / "wc_profile.txt") if profile else ()
        magic, frames, stack_bytes = struct.unpack("<3I", stats_path.read_bytes())
    if magic != RUN_STATS_MAGIC or frames != steps or y.size != steps * build.outputs:
        raise M7Error(
            f"harness processed {frames} frames and wrote {y.size} values; "
            f"expected {steps} frames x {build.outputs} outputs"
        )
    if counts.get("steps") != steps or counts.get("unbalanced", 1) != 0:
        raise M7Error(
            f"instruction counter saw {counts.get('steps')} steps "
            f"({counts.get('unbalanced')} unbalanced markers), expected {steps}"
        )
    return M7Run(
        outputs=y.reshape(steps, build.outputs).astype(build.sample_dtype),
        instructions=counts["step_instructions"],
        steps=steps,
        min_step_instructions=counts["min_step"],
        max_step_instructions=counts["max_step"],
        stack_bytes=stack_bytes,
        wall_seconds=wall,
        blocks=blocks,
    )


def _parse_profile(path: Path) -> tuple[BlockCount, ...]:
    """Blocks from the plugin's profile, retranslations of one address merged, hottest first."""
    if not path.exists():
        raise M7Error(f"QEMU run finished but the plugin wrote no {path.name}")
    merged: dict[tuple[int, int], int] = {}
    for line in path.read_text().splitlines():
        addr, insns, execs = line.split()
        key = (int(addr, 16), int(insns))
        merged[key] = merged.get(key, 0) + int(execs)
    blocks = [BlockCount(a, n, e) for (a, n), e in merged.items()]
    return tuple(sorted(blocks, key=lambda b: (-b.total, b.address)))


def _functions(build: M7Build) -> list[tuple[int, int, str]]:
    """(start, end, demangled name) of every sized function in the ELF, by address."""
    return sorted(
        (address, address + size, name)
        for name, address, size, kind in symbols(build.elf, demangle=True)
        if kind in ("T", "t")
    )


def profile_by_function(build: M7Build, run: M7Run) -> list[tuple[str, int]]:
    """Instructions executed during steps per function (from a ``profile=True`` run)."""
    if not run.blocks:
        raise ValueError("this run has no block profile: call run_qemu(..., profile=True)")
    functions = _functions(build)
    totals: dict[str, int] = {}
    for block in run.blocks:
        name = next(
            (n for lo, hi, n in functions if lo <= block.address < hi), f"{block.address:#x}"
        )
        totals[name] = totals.get(name, 0) + block.total
    return sorted(totals.items(), key=lambda item: -item[1])


def disassemble_block(build: M7Build, block: BlockCount) -> str:
    """The block's instructions as ``arm-none-eabi-objdump -d`` prints them."""
    text = run_tool(
        [
            require_tool("arm-none-eabi-objdump"),
            "-d",
            "--no-show-raw-insn",
            f"--start-address={block.address:#x}",
            f"--stop-address={block.address + 4 * block.instructions:#x}",
            str(build.elf),
        ],
        what="disassembling a hot block",
        timeout=60,
    )
    lines = [ln for ln in text.splitlines() if re.match(r"^\s+[0-9a-f]+:\t", ln)]
    return "\n".join(lines[: block.instructions])


# ---------------------------------------------------------------------------------------------
