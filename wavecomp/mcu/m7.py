"""Cortex-M7 cross build, emulated execution with instruction counts, and Daisy fit checks.

An emitted engine (``wavecomp.mcu.emit``) is linked with the bare-metal harness in
``firmware/m7_harness`` for QEMU's ``mps2-an500`` (a Cortex-M7 with the FPv5 double-precision
FPU, like the Daisy's STM32H750) and run there: inputs and outputs travel over semihosting,
and a small TCG plugin counts the guest instructions each ``engine_step`` executes. QEMU
counts *instructions*, not cycles: dual issue, flash wait states, cache misses and load-use
stalls are not modelled, so "% of a 480 MHz Daisy" figures from these counts are estimates.

Builds are cached by content hash under the caller's ``out_dir`` and published with an atomic
rename, so parallel pytest-xdist workers can share one cache.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from wavecomp.errors import WavecompError

HARNESS_DIR = Path(__file__).resolve().parents[2] / "firmware" / "m7_harness"
PLUGIN_SOURCE = HARNESS_DIR / "insn_count_plugin.c"

ARCH_FLAGS = ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard")
# -ffp-contract=off: GCC would otherwise fuse a*b+c into VFMA and float results would differ
# from the host build. Function/data sections let --gc-sections drop what the engine doesn't
# use, so the size figures are what a Daisy firmware would carry.
OPT_FLAGS = ("-O3", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections")
CXX_FLAGS = ("-std=c++17", "-fno-exceptions", "-fno-rtti")
C_FLAGS = ("-std=gnu11",)
CMSIS_DEFINES = ("ARM_MATH_CM7", "ARM_MATH_LOOPUNROLL")
# As in the Daisy firmware's Makefile: the engine then places its caches where it does on the
# Daisy (DTCM), so the size report and the fit check see the real memory map.
DAISY_PLACEMENT_DEFINES = ("WAVECOMP_DAISY",)
# The harness's own copy/zero/paint loops must not become memcpy/memset calls, which would
# be attributed to the runtime library (and so to the engine) in the size report.
HARNESS_EXTRA_FLAGS = ("-fno-tree-loop-distribute-patterns",)
LINK_FLAGS = (
    "-nostartfiles",
    "-Wl,--gc-sections",
    "--specs=nano.specs",
    "--specs=nosys.specs",
)

QEMU_MACHINE = ("-M", "mps2-an500", "-cpu", "cortex-m7")
COMPILE_TIMEOUT_S = 300
QEMU_TIMEOUT_BASE_S = 60.0
QEMU_TIMEOUT_PER_STEP_S = 2e-3

APT_PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "arm-none-eabi-g++": "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib",
    "arm-none-eabi-size": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "arm-none-eabi-nm": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "arm-none-eabi-objcopy": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "arm-none-eabi-objdump": "binutils-arm-none-eabi (comes with gcc-arm-none-eabi)",
    "qemu-system-arm": "qemu-system-arm",
    "gcc": "build-essential",
}

HARNESS_INFO_MAGIC = 0x374D4357  # "WCM7"
RUN_STATS_MAGIC = 0x54534357  # "WCST"


class M7Error(WavecompError, RuntimeError):
    """A cross build or emulator run that failed; the message says what and how to fix it."""


class EngineSources(Protocol):
    """What the harness build needs from an emitted engine (``wavecomp.mcu.emit.EmitResult``)."""

    engine_dir: Path
    engine_sources: Sequence[Path]
    cmsis_sources: Sequence[str]
    include_dirs: Sequence[Path]
    defines: Sequence[str]


def tool(name: str) -> str:
    """Absolute path of a required command-line tool, or an M7Error naming its apt package."""
    found = shutil.which(name)
    if found is None:
        raise M7Error(
            f"{name} not found on PATH: install it with "
            f"`apt-get install {APT_PACKAGES.get(name, name)}` (./bootstrap.sh does this)"
        )
    return found


def _run(cmd: Sequence[str], *, what: str, timeout: float) -> str:
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise M7Error(f"{what} did not finish within {timeout:.0f} s: {' '.join(cmd)}") from err
    if proc.returncode != 0:
        raise M7Error(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}"
        )
    return proc.stdout


def _publish_dir(tmp: Path, final: Path) -> None:
    """Atomically move a finished build into place; a concurrent identical build may win."""
    try:
        tmp.rename(final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _files_digest(paths: Iterable[Path], root: Path | None = None) -> bytes:
    """Digest of file names (relative to ``root`` if given) and contents."""
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(root) if root else path).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.digest()


# ---------------------------------------------------------------------------------------------
# Build


@dataclass(frozen=True)
class M7Build:
    """A linked harness ELF plus what the host needs to drive and measure it."""

    elf: Path
    map_file: Path
    key: str
    cache_dir: Path
    sample_dtype: str  # "int16" (q12) or "float32" (f32)
    inputs: int
    outputs: int
    step_begin: int
    step_end: int
    # Address ranges whose instructions the counter ignores (harness main loop, markers).
    harness_ranges: tuple[tuple[int, int], ...]

    def save(self, path: Path) -> None:
        data = {
            "elf": self.elf.name,
            "map_file": self.map_file.name,
            "key": self.key,
            "sample_dtype": self.sample_dtype,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "step_begin": self.step_begin,
            "step_end": self.step_end,
            "harness_ranges": [list(r) for r in self.harness_ranges],
        }
        path.write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, build_dir: Path, cache_dir: Path) -> M7Build:
        data = json.loads((build_dir / "build.json").read_text())
        return cls(
            elf=build_dir / data["elf"],
            map_file=build_dir / data["map_file"],
            key=data["key"],
            cache_dir=cache_dir,
            sample_dtype=data["sample_dtype"],
            inputs=data["inputs"],
            outputs=data["outputs"],
            step_begin=data["step_begin"],
            step_end=data["step_end"],
            harness_ranges=tuple((int(lo), int(hi)) for lo, hi in data["harness_ranges"]),
        )


@dataclass(frozen=True)
class _Unit:
    """One translation unit: its source, object name (the prefix says whose it is), flags."""

    source: Path
    object_name: str
    compiler: str
    flags: tuple[str, ...]


def _compiler_for(source: Path) -> tuple[str, tuple[str, ...]]:
    if source.suffix in (".cpp", ".cc", ".cxx"):
        return "arm-none-eabi-g++", CXX_FLAGS
    if source.suffix in (".c",):
        return "arm-none-eabi-gcc", C_FLAGS
    if source.suffix in (".S", ".s"):
        return "arm-none-eabi-gcc", ()
    raise M7Error(f"{source}: don't know how to compile a {source.suffix!r} file for the M7")


def _define_flags(defines: Iterable[str]) -> list[str]:
    """``-D`` flags, each define once, in first-seen order."""
    flags = [d if d.startswith("-D") else f"-D{d}" for d in defines]
    return list(dict.fromkeys(flags))


def _include_flags(dirs: Iterable[Path]) -> list[str]:
    return [f"-I{d}" for d in dirs]


def _cmsis_setup(engine: EngineSources) -> tuple[list[Path], list[Path]]:
    """Absolute CMSIS-DSP sources and include dirs the engine asks for (none: no download)."""
    if not engine.cmsis_sources:
        return [], []
    from wavecomp.mcu import cmsis_dsp

    dsp = cmsis_dsp.ensure()
    return [dsp.source(rel) for rel in engine.cmsis_sources], [Path(d) for d in dsp.include_dirs]


def _unique_dirs(dirs: Iterable[Path]) -> list[Path]:
    seen: list[Path] = []
    for d in dirs:
        d = Path(d).resolve()
        if d not in seen:
            seen.append(d)
    return seen


def build_m7(engine: EngineSources, out_dir: Path, *, jobs: int | None = None) -> M7Build:
    """Cross-compile ``engine`` with the M7 harness; returns the (possibly cached) build.

    Flags are DESIGN.md's M7 flags (``-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16
    -mfloat-abi=hard -ffp-contract=off -O3``, C++17 without exceptions/RTTI); CMSIS-DSP is
    built with ``ARM_MATH_CM7`` and ``ARM_MATH_LOOPUNROLL``. The cache key covers every
    input file, flag and the compiler version, so a changed engine always rebuilds.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (
        "arm-none-eabi-gcc",
        "arm-none-eabi-g++",
        "arm-none-eabi-nm",
        "arm-none-eabi-objcopy",
    ):
        tool(name)
    engine_dir = Path(engine.engine_dir).resolve()
    engine_sources = [Path(s).resolve() for s in engine.engine_sources]
    if not engine_sources:
        raise M7Error(f"{engine_dir}: the emitted engine lists no C++ sources to build")
    cmsis_sources, cmsis_includes = _cmsis_setup(engine)
    includes = _unique_dirs([engine_dir, *engine.include_dirs, *cmsis_includes])
    defines = _define_flags([*CMSIS_DEFINES, *DAISY_PLACEMENT_DEFINES, *engine.defines])
    common = [*ARCH_FLAGS, *OPT_FLAGS, *defines, *_include_flags(includes)]

    units = [_Unit(src, f"engine__{src.stem}.o", *_split(src, common)) for src in engine_sources]
    units += [_Unit(src, f"cmsis__{src.stem}.o", *_split(src, common)) for src in cmsis_sources]
    harness_includes = _include_flags([HARNESS_DIR])
    units += [
        _Unit(
            HARNESS_DIR / "main.cpp",
            "harness__main.o",
            "arm-none-eabi-g++",
            (*CXX_FLAGS, *common, *HARNESS_EXTRA_FLAGS, *harness_includes),
        ),
        _Unit(
            HARNESS_DIR / "startup.S", "harness__startup.o", "arm-none-eabi-gcc", tuple(ARCH_FLAGS)
        ),
    ]
    linker_script = HARNESS_DIR / "m7.ld"

    inputs_digest = _headers_digest([*includes, HARNESS_DIR], engine_dir)
    key = _build_key(units, engine_dir, linker_script, inputs_digest)
    final = out_dir / key
    if (final / "build.json").exists():
        return M7Build.load(final, out_dir)

    tmp = out_dir / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        objects = _compile_all(units, tmp, out_dir / "objects", jobs, engine_dir, inputs_digest)
        elf = tmp / "firmware.elf"
        map_file = tmp / "firmware.map"
        _run(
            [
                tool("arm-none-eabi-g++"),
                *ARCH_FLAGS,
                *LINK_FLAGS,
                f"-T{linker_script}",
                "-Xlinker",  # not -Wl,: that would split a path with a comma in it
                f"-Map={map_file}",
                *map(str, objects),
                "-lm",
                "-o",
                str(elf),
            ],
            what="linking the M7 harness",
            timeout=COMPILE_TIMEOUT_S,
        )
        build = _describe(elf, map_file, key, out_dir)
        build.save(tmp / "build.json")
        _publish_dir(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return M7Build.load(final, out_dir)


def _split(source: Path, common: list[str]) -> tuple[str, tuple[str, ...]]:
    compiler, lang_flags = _compiler_for(source)
    return compiler, (*lang_flags, *common)


@functools.cache
def _compiler_version(compiler: str) -> str:
    return _run([tool(compiler), "--version"], what=f"{compiler} --version", timeout=60)


HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".inc")


def _headers_digest(include_dirs: Iterable[Path], engine_dir: Path) -> bytes:
    """Every header reachable from the include dirs (CMSIS-DSP's are ~100 small files)."""
    h = hashlib.sha256()
    for d in include_dirs:
        headers = sorted(p for p in d.rglob("*") if p.suffix in HEADER_SUFFIXES and p.is_file())
        h.update(_portable(str(d), engine_dir).encode())
        h.update(_files_digest(headers, d))
    return h.digest()


def _portable(text: str, engine_dir: Path) -> str:
    """Hash input with the engine folder's location removed: emitting the same model into
    another folder (a new pytest tmp_path) must hit the same cache entry."""
    return text.replace(str(engine_dir), "<engine>")


def _unit_digest(unit: _Unit, engine_dir: Path, inputs_digest: bytes) -> bytes:
    h = hashlib.sha256()
    h.update(_compiler_version(unit.compiler).encode())
    flags = _portable(" ".join(unit.flags), engine_dir)
    source = _portable(str(unit.source), engine_dir)
    h.update(f"{unit.object_name}|{unit.compiler}|{flags}|{source}\n".encode())
    h.update(unit.source.read_bytes())
    h.update(inputs_digest)
    return h.digest()


def _build_key(
    units: list[_Unit], engine_dir: Path, linker_script: Path, inputs_digest: bytes
) -> str:
    h = hashlib.sha256()
    for unit in units:
        h.update(_unit_digest(unit, engine_dir, inputs_digest))
    h.update(_files_digest([linker_script]))
    h.update(" ".join([*ARCH_FLAGS, *LINK_FLAGS]).encode())
    return h.hexdigest()[:20]


def _compile_all(
    units: list[_Unit],
    build_dir: Path,
    object_cache: Path,
    jobs: int | None,
    engine_dir: Path,
    inputs_digest: bytes,
) -> list[Path]:
    """Compile every unit (in parallel); CMSIS objects are shared across builds by hash."""
    object_cache.mkdir(parents=True, exist_ok=True)

    def compile_one(unit: _Unit) -> Path:
        if unit.object_name.startswith("cmsis__"):
            digest = _unit_digest(unit, engine_dir, inputs_digest).hex()[:16]
            cached = object_cache / f"{unit.object_name[:-2]}-{digest}.o"
            if cached.exists():
                return cached
            tmp = object_cache / f".tmp-{uuid.uuid4().hex}.o"
            _compile(unit, tmp)
            os.replace(tmp, cached)  # atomic; identical content if two workers race
            return cached
        obj = build_dir / unit.object_name
        _compile(unit, obj)
        return obj

    workers = jobs or min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(compile_one, units))


def _compile(unit: _Unit, obj: Path) -> None:
    _run(
        [tool(unit.compiler), *unit.flags, "-c", str(unit.source), "-o", str(obj)],
        what=f"compiling {unit.source.name} for the Cortex-M7",
        timeout=COMPILE_TIMEOUT_S,
    )


def _symbols(elf: Path) -> dict[str, tuple[int, int]]:
    """Defined symbols: name -> (address with the Thumb bit cleared, size)."""
    text = _run(
        [tool("arm-none-eabi-nm"), "-S", "--defined-only", str(elf)],
        what="reading the harness symbols",
        timeout=60,
    )
    symbols = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            symbols[parts[3]] = (int(parts[0], 16) & ~1, int(parts[1], 16))
    return symbols


def _describe(elf: Path, map_file: Path, key: str, cache_dir: Path) -> M7Build:
    """Read the harness's info record and marker addresses out of the linked ELF."""
    info_bin = elf.with_suffix(".info")
    _run(
        [
            tool("arm-none-eabi-objcopy"),
            "-O",
            "binary",
            "--only-section=.wc_info",
            str(elf),
            str(info_bin),
        ],
        what="extracting the harness info record",
        timeout=60,
    )
    raw = info_bin.read_bytes()
    info_bin.unlink()
    if len(raw) != 24:
        raise M7Error(f"{elf}: .wc_info is {len(raw)} bytes, expected 24 (harness out of date?)")
    magic, version, sample_bytes, is_float, inputs, outputs = struct.unpack("<6I", raw)
    if magic != HARNESS_INFO_MAGIC or version != 1:
        raise M7Error(f"{elf}: unknown harness info record (magic {magic:#x}, version {version})")
    dtypes = {(2, 0): "int16", (4, 1): "float32"}
    if (sample_bytes, is_float) not in dtypes:
        raise M7Error(
            f"{elf}: engine sample_t is {sample_bytes} bytes ({'float' if is_float else 'int'}); "
            "the harness supports int16_t (q12) and float (f32)"
        )
    symbols = _symbols(elf)
    needed = ("wc_step_begin", "wc_step_end", "main")
    missing = [n for n in needed if n not in symbols]
    if missing:
        raise M7Error(f"{elf}: harness symbols missing: {', '.join(missing)}")
    begin, end = symbols["wc_step_begin"][0], symbols["wc_step_end"][0]
    if begin == end:
        raise M7Error(f"{elf}: the step markers were folded into one function")
    ranges = tuple((symbols[n][0], symbols[n][0] + max(symbols[n][1], 2)) for n in needed)
    return M7Build(
        elf=elf,
        map_file=map_file,
        key=key,
        cache_dir=cache_dir,
        sample_dtype=dtypes[(sample_bytes, is_float)],
        inputs=inputs,
        outputs=outputs,
        step_begin=begin,
        step_end=end,
        harness_ranges=ranges,
    )


# ---------------------------------------------------------------------------------------------
# Run on QEMU


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
    h = hashlib.sha256(PLUGIN_SOURCE.read_bytes())
    h.update(_compiler_version("gcc").encode())
    plugin_dir = Path(cache_dir) / "qemu-plugin"
    plugin_dir.mkdir(parents=True, exist_ok=True)
    so = plugin_dir / f"insn_count-{h.hexdigest()[:16]}.so"
    if so.exists():
        return so
    tmp = plugin_dir / f".tmp-{uuid.uuid4().hex}.so"
    _run(
        [
            tool("gcc"),
            "-shared",
            "-fPIC",
            "-O2",
            "-Wall",
            "-fvisibility=hidden",
            str(PLUGIN_SOURCE),
            "-o",
            str(tmp),
        ],
        what="building the QEMU instruction-counting plugin",
        timeout=COMPILE_TIMEOUT_S,
    )
    os.replace(tmp, so)
    return so


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
    qemu = tool("qemu-system-arm")
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
    text = _run(
        [tool("arm-none-eabi-nm"), "-C", "-S", "--defined-only", str(build.elf)],
        what="reading function symbols",
        timeout=60,
    )
    functions = []
    for line in text.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[2] in "Tt" and len(parts[2]) == 1:
            start = int(parts[0], 16) & ~1
            functions.append((start, start + int(parts[1], 16), parts[3]))
    return sorted(functions)


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
    text = _run(
        [
            tool("arm-none-eabi-objdump"),
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
# Size and Daisy fit

KIB = 1024

# Daisy Seed (STM32H750IB) memories as libDaisy's default linker script (core/
# STM32H750IB_flash.lds) uses them: code, constants and .data's initial image in the 128 KB
# internal flash; .data and .bss in the 512 KB AXI SRAM; DTCM_MEM_SECTION (.dtcmram_bss) and
# the main stack (top of DTCM) in the 128 KB DTCM; ITCM is unused by that script.
DAISY_MEMORIES: dict[str, int] = {
    "flash": 128 * KIB,
    "AXI SRAM": 512 * KIB,
    "DTCM": 128 * KIB,
    "ITCM": 64 * KIB,
    "D2 SRAM": 288 * KIB,
}
SECTION_MEMORIES: dict[str, tuple[str, ...]] = {
    ".isr_vector": ("flash",),
    ".text": ("flash",),
    ".rodata": ("flash",),
    ".ARM.extab": ("flash",),
    ".ARM.exidx": ("flash",),
    ".init_array": ("flash",),
    ".data": ("flash", "AXI SRAM"),
    ".bss": ("AXI SRAM",),
    ".dtcmram_bss": ("DTCM",),
    ".sram1_bss": ("D2 SRAM",),
}
TEXT_SECTIONS = (".isr_vector", ".text", ".rodata", ".ARM.extab", ".ARM.exidx", ".init_array")
BSS_SECTIONS = (".bss", ".dtcmram_bss", ".sram1_bss")
HARNESS_ONLY_SECTIONS = (".wc_info",)
ORIGINS = ("engine", "cmsis-dsp", "runtime", "harness", "linker")


@dataclass(frozen=True)
class SectionUse:
    """One allocated ELF section: its size and who put the bytes there (from the link map)."""

    name: str
    address: int
    size: int
    by_origin: Mapping[str, int] = field(default_factory=dict)

    @property
    def daisy_memories(self) -> tuple[str, ...]:
        return SECTION_MEMORIES.get(self.name, ())

    @property
    def model_bytes(self) -> int:
        """Bytes a Daisy firmware would carry for the engine: everything but the harness."""
        if self.name in HARNESS_ONLY_SECTIONS:
            return 0
        return self.size - self.by_origin.get("harness", 0)


@dataclass(frozen=True)
class M7Size:
    """Section sizes of an M7 build, with the harness's share separated out."""

    sections: tuple[SectionUse, ...]

    def _total(self, names: Iterable[str], model_only: bool) -> int:
        wanted = set(names)
        return sum(
            s.model_bytes if model_only else s.size for s in self.sections if s.name in wanted
        )

    def text(self, model_only: bool = True) -> int:
        """Code and constants (weights live here: they are ``const``)."""
        return self._total(TEXT_SECTIONS, model_only)

    def data(self, model_only: bool = True) -> int:
        return self._total((".data",), model_only)

    def bss(self, model_only: bool = True) -> int:
        """Zero-initialised state (activation caches)."""
        return self._total(BSS_SECTIONS, model_only)

    def by_origin(self) -> dict[str, int]:
        totals = dict.fromkeys(ORIGINS, 0)
        for s in self.sections:
            for origin, n in s.by_origin.items():
                totals[origin] = totals.get(origin, 0) + n
        return totals

    def daisy_use(self) -> dict[str, int]:
        """Engine bytes per Daisy memory under libDaisy's default (flash) layout."""
        use = dict.fromkeys(DAISY_MEMORIES, 0)
        for s in self.sections:
            for memory in s.daisy_memories:
                use[memory] += s.model_bytes
        return use

    def unplaced(self) -> list[str]:
        """Allocated sections with engine bytes we can't map onto a Daisy memory."""
        return [
            s.name
            for s in self.sections
            if s.model_bytes and not s.daisy_memories and s.name not in HARNESS_ONLY_SECTIONS
        ]


_SECTION_LINE = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s*$")
_MAP_INPUT_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s*(.*)$")
_MAP_INPUT_NAME = re.compile(r"^ (\S+)\s*$")
_MAP_INPUT_REST = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s*(.*)$")
_MAP_OUTPUT = re.compile(r"^(\.\S+)")


def _origin(source: str, name: str) -> str:
    if name == "*fill*" or not source or source == "linker stubs":
        return "linker"
    base = Path(source.split("(")[0]).name
    if ".a" in Path(base).suffixes or base.endswith(".a"):
        return "runtime"
    for prefix, origin in (
        ("engine__", "engine"),
        ("cmsis__", "cmsis-dsp"),
        ("harness__", "harness"),
    ):
        if base.startswith(prefix):
            return origin
    return "linker"


def parse_link_map(text: str) -> dict[str, dict[str, int]]:
    """Bytes per (output section, origin) from a GNU ld map file."""
    result: dict[str, dict[str, int]] = {}
    _, _, body = text.partition("Linker script and memory map")
    current: str | None = None
    pending: str | None = None
    for line in body.splitlines():
        if pending is not None:
            rest = _MAP_INPUT_REST.match(line)
            if rest and current:
                _add(
                    result, current, _origin(rest.group(3).strip(), pending), int(rest.group(2), 16)
                )
            pending = None
            continue
        if not line.strip():
            continue
        if not line.startswith(" "):
            out = _MAP_OUTPUT.match(line)
            current = out.group(1) if out else None
            continue
        if line.startswith(" *(") or line.startswith("  "):
            continue  # input-section patterns, symbol assignments and symbol addresses
        full = _MAP_INPUT_FULL.match(line)
        if full and current:
            _add(
                result,
                current,
                _origin(full.group(4).strip(), full.group(1)),
                int(full.group(3), 16),
            )
            continue
        name = _MAP_INPUT_NAME.match(line)
        if name:
            pending = name.group(1)
    return result


def _add(result: dict[str, dict[str, int]], section: str, origin: str, n: int) -> None:
    if n:
        per = result.setdefault(section, {})
        per[origin] = per.get(origin, 0) + n


def size(build: M7Build) -> M7Size:
    """Allocated sections of the ELF (``arm-none-eabi-size -A``) with the map's attribution."""
    text = _run(
        [tool("arm-none-eabi-size"), "-A", "-d", str(build.elf)],
        what="arm-none-eabi-size",
        timeout=60,
    )
    origins = parse_link_map(build.map_file.read_text())
    sections = []
    for line in text.splitlines():
        m = _SECTION_LINE.match(line.strip())
        if not m or not m.group(1).startswith("."):
            continue
        name, n, addr = m.group(1), int(m.group(2)), int(m.group(3))
        if name in (".ARM.attributes", ".comment") or name.startswith(".debug"):
            continue
        sections.append(SectionUse(name, addr, n, origins.get(name, {})))
    return M7Size(tuple(sections))


@dataclass(frozen=True)
class MemoryUse:
    memory: str
    used: int
    capacity: int

    @property
    def fraction(self) -> float:
        return self.used / self.capacity


@dataclass(frozen=True)
class DaisyFit:
    """Whether an engine fits the Daisy's memories, with a verdict a user can act on."""

    rows: tuple[MemoryUse, ...]
    unplaced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        return all(r.used <= r.capacity for r in self.rows) and not self.unplaced

    @property
    def verdict(self) -> str:
        used = ", ".join(
            f"{r.memory} {_kb(r.used)} of {_kb(r.capacity)} ({100 * r.fraction:.1f}%)"
            for r in self.rows
        )
        if self.fits:
            head = f"fits the Daisy (STM32H750, libDaisy flash layout): {used}"
        else:
            over = [r for r in self.rows if r.used > r.capacity]
            problems = [f"{r.memory} needs {_kb(r.used)} > {_kb(r.capacity)}" for r in over]
            problems += [
                f"section {name} has no Daisy memory (place it in a libDaisy section)"
                for name in self.unplaced
            ]
            head = f"does NOT fit the Daisy: {'; '.join(problems) or 'see notes'} ({used})"
            if any(r.memory == "flash" for r in over):
                head += (
                    ". Shrink the model, or build the firmware for the Daisy bootloader "
                    "(libDaisy APP_TYPE = BOOT_SRAM or BOOT_QSPI) which lifts the 128 KB limit"
                )
        return "; ".join([head, *self.notes])

    def __str__(self) -> str:
        return self.verdict


def _kb(n: int) -> str:
    return f"{n / KIB:.1f} KB"


def fits_daisy(m7_size: M7Size, *, stack_bytes: int | None = None) -> DaisyFit:
    """Check the engine's footprint (harness excluded) against the Daisy's memories.

    ``stack_bytes`` (e.g. ``M7Run.stack_bytes``) is added to DTCM, where libDaisy puts the
    main stack. libDaisy itself and the rest of the app need room too: the verdict reports
    what the engine uses so the margin is visible.
    """
    use = m7_size.daisy_use()
    notes = []
    if stack_bytes is not None:
        use["DTCM"] += stack_bytes
        notes.append(f"DTCM includes {stack_bytes} B of measured stack")
    rows = tuple(
        MemoryUse(memory, use[memory], capacity)
        for memory, capacity in DAISY_MEMORIES.items()
        if use[memory] or memory in ("flash", "AXI SRAM", "DTCM", "ITCM")
    )
    return DaisyFit(rows, tuple(m7_size.unplaced()), tuple(notes))
