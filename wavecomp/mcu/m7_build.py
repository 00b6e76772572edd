"""Cross-build an emitted engine for the Cortex-M7 with the bare-metal harness (cached).

An emitted engine (``wavecomp.mcu.emit``) is linked with ``firmware/m7_harness`` for QEMU's
``mps2-an500`` (a Cortex-M7 with the FPv5 double-precision FPU, like the Daisy's STM32H750);
``wavecomp.mcu.m7_run`` runs the ELF and ``wavecomp.mcu.daisy_fit`` sizes it. A build is keyed
by the content of every input (sources, headers, flags, compiler version) and made once with
``wavecomp.cache.build_once``, so parallel pytest-xdist workers share one cache and the same
engine emitted into another folder is a cache hit.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import os
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from wavecomp.cache import build_once, cache_root, content_key, files_for_key
from wavecomp.errors import WavecompError
from wavecomp.mcu import cmsis_dsp
from wavecomp.resources import firmware_dir
from wavecomp.tools import require_tool

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

LINKER_SCRIPT = "m7.ld"
COMPILE_TIMEOUT_S = 300
HARNESS_INFO_MAGIC = 0x374D4357  # "WCM7"
ELF_FILE = "firmware.elf"
MAP_FILE = "firmware.map"
BUILD_RECORD = "build.json"
"""Written last into a build folder: the cache entry is complete when it exists."""


class M7Error(WavecompError, RuntimeError):
    """A cross build or emulator run that failed; the message says what and how to fix it."""


class EngineSources(Protocol):
    """What the harness build needs from an emitted engine (``wavecomp.mcu.emit.EmitResult``)."""

    engine_dir: Path
    engine_sources: Sequence[Path]
    cmsis_sources: Sequence[str]
    include_dirs: Sequence[Path]
    defines: Sequence[str]


def harness_dir() -> Path:
    """The bare-metal harness sources (``firmware/m7_harness``)."""
    return firmware_dir() / "m7_harness"


def run_tool(cmd: Sequence[str], *, what: str, timeout: float) -> str:
    """Run a toolchain command; its stdout, or an M7Error with the command and its stderr."""
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


@functools.cache
def compiler_version(compiler: str) -> str:
    """The first line of ``compiler --version`` (part of every cache key)."""
    text = run_tool([require_tool(compiler), "--version"], what=f"{compiler} --version", timeout=60)
    return text.splitlines()[0] if text else compiler


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
        data = json.loads((build_dir / BUILD_RECORD).read_text())
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


class _Unit(NamedTuple):
    """One translation unit: its source, object name (the prefix says whose it is), flags."""

    source: Path
    object_name: str
    flags: tuple[str, ...]

    @property
    def compiler(self) -> str:
        """gcc or g++, by the source's suffix."""
        return _compiler_for(self.source)[0]


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
    dsp = cmsis_dsp.ensure()
    return [dsp.source(rel) for rel in engine.cmsis_sources], [Path(d) for d in dsp.include_dirs]


def _unique_dirs(dirs: Iterable[Path]) -> list[Path]:
    seen: list[Path] = []
    for d in dirs:
        d = Path(d).resolve()
        if d not in seen:
            seen.append(d)
    return seen


def build_m7(
    engine: EngineSources, cache_dir: Path | None = None, *, jobs: int | None = None
) -> M7Build:
    """Cross-compile ``engine`` with the M7 harness; returns the (possibly cached) build.

    Flags are DESIGN.md's M7 flags (``-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16
    -mfloat-abi=hard -ffp-contract=off -O3``, C++17 without exceptions/RTTI); CMSIS-DSP is
    built with ``ARM_MATH_CM7`` and ``ARM_MATH_LOOPUNROLL``. The cache (``cache_dir``, default
    ``<wavecomp cache>/m7``) is keyed by every input file, flag and the compiler version.
    """
    cache = Path(cache_dir).resolve() if cache_dir is not None else cache_root() / "m7"
    for name in (
        "arm-none-eabi-gcc",
        "arm-none-eabi-g++",
        "arm-none-eabi-nm",
        "arm-none-eabi-objcopy",
    ):
        require_tool(name)
    harness = harness_dir()
    engine_dir = Path(engine.engine_dir).resolve()
    engine_sources = [Path(s).resolve() for s in engine.engine_sources]
    if not engine_sources:
        raise M7Error(f"{engine_dir}: the emitted engine lists no C++ sources to build")
    cmsis_sources, cmsis_includes = _cmsis_setup(engine)
    includes = _unique_dirs([engine_dir, *engine.include_dirs, *cmsis_includes])
    defines = _define_flags([*CMSIS_DEFINES, *DAISY_PLACEMENT_DEFINES, *engine.defines])
    common = [*ARCH_FLAGS, *OPT_FLAGS, *defines, *_include_flags(includes)]

    units = [_Unit(src, f"engine__{src.stem}.o", _flags(src, common)) for src in engine_sources]
    units += [_Unit(src, f"cmsis__{src.stem}.o", _flags(src, common)) for src in cmsis_sources]
    main = harness / "main.cpp"
    harness_flags = (*HARNESS_EXTRA_FLAGS, *_include_flags([harness]))
    units += [
        _Unit(main, "harness__main.o", (*_flags(main, common), *harness_flags)),
        _Unit(harness / "startup.S", "harness__startup.o", ARCH_FLAGS),
    ]
    headers = _headers_key([*includes, harness], engine_dir)
    key = content_key(
        [
            *(_unit_key(unit, engine_dir, headers) for unit in units),
            *files_for_key([harness / LINKER_SCRIPT], harness),
            " ".join([*ARCH_FLAGS, *LINK_FLAGS]),
        ],
        length=20,
    )

    def build(staging: Path) -> None:
        objects = _compile_all(units, staging, cache / "objects", jobs, engine_dir, headers)
        _link(objects, harness / LINKER_SCRIPT, staging)
        _describe(staging, key, cache).save(staging / BUILD_RECORD)

    entry = build_once(cache, key, build, done=BUILD_RECORD)
    return M7Build.load(entry.path, cache)


def _flags(source: Path, common: list[str]) -> tuple[str, ...]:
    """The source language's flags, then ``common``."""
    return (*_compiler_for(source)[1], *common)


HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".inc")


def _headers_key(include_dirs: Iterable[Path], engine_dir: Path) -> str:
    """Every header reachable from the include dirs (CMSIS-DSP's are ~100 small files)."""
    parts: list[str | tuple[str, bytes]] = []
    for d in include_dirs:
        headers = [p for p in d.rglob("*") if p.suffix in HEADER_SUFFIXES and p.is_file()]
        parts += [_portable(str(d), engine_dir), *files_for_key(headers, d)]
    return content_key(parts)


def _portable(text: str, engine_dir: Path) -> str:
    """Hash input with the engine folder's location removed: emitting the same model into
    another folder (a new pytest tmp_path) must hit the same cache entry."""
    return text.replace(str(engine_dir), "<engine>")


def _unit_key(unit: _Unit, engine_dir: Path, headers: str) -> str:
    flags = _portable(" ".join(unit.flags), engine_dir)
    source = _portable(str(unit.source), engine_dir)
    return content_key(
        [
            compiler_version(unit.compiler),
            f"{unit.object_name}|{unit.compiler}|{flags}|{source}",
            unit.source.read_bytes(),
            headers,
        ]
    )


def _compile_all(
    units: list[_Unit],
    build_dir: Path,
    object_cache: Path,
    jobs: int | None,
    engine_dir: Path,
    headers: str,
) -> list[Path]:
    """Compile every unit (in parallel); CMSIS objects are shared across builds by hash."""

    def compile_one(unit: _Unit) -> Path:
        if unit.object_name.startswith("cmsis__"):
            key = _unit_key(unit, engine_dir, headers)
            entry = build_once(
                object_cache,
                key,
                lambda staging: _compile(unit, staging / unit.object_name),
                done=unit.object_name,
            )
            return entry.path / unit.object_name
        obj = build_dir / unit.object_name
        _compile(unit, obj)
        return obj

    workers = jobs or min(8, os.cpu_count() or 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(compile_one, units))


def _compile(unit: _Unit, obj: Path) -> None:
    run_tool(
        [require_tool(unit.compiler), *unit.flags, "-c", str(unit.source), "-o", str(obj)],
        what=f"compiling {unit.source.name} for the Cortex-M7",
        timeout=COMPILE_TIMEOUT_S,
    )


def _link(objects: list[Path], linker_script: Path, out: Path) -> None:
    run_tool(
        [
            require_tool("arm-none-eabi-g++"),
            *ARCH_FLAGS,
            *LINK_FLAGS,
            f"-T{linker_script}",
            "-Xlinker",  # not -Wl,: that would split a path with a comma in it
            f"-Map={out / MAP_FILE}",
            *map(str, objects),
            "-lm",
            "-o",
            str(out / ELF_FILE),
        ],
        what="linking the M7 harness",
        timeout=COMPILE_TIMEOUT_S,
    )


def symbols(elf: Path, *, demangle: bool = False) -> list[tuple[str, int, int, str]]:
    """Defined, sized symbols: (name, address with the Thumb bit cleared, size, nm type)."""
    text = run_tool(
        [
            require_tool("arm-none-eabi-nm"),
            *(["-C"] if demangle else []),
            "-S",
            "--defined-only",
            str(elf),
        ],
        what="reading the ELF's symbols",
        timeout=60,
    )
    found = []
    for line in text.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4:
            found.append((parts[3], int(parts[0], 16) & ~1, int(parts[1], 16), parts[2]))
    return found


def _describe(folder: Path, key: str, cache_dir: Path) -> M7Build:
    """Read the harness's info record and marker addresses out of the linked ELF."""
    elf = folder / ELF_FILE
    info_bin = folder / "wc_info.bin"
    run_tool(
        [
            require_tool("arm-none-eabi-objcopy"),
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
    table = {name: (address, size) for name, address, size, _ in symbols(elf)}
    needed = ("wc_step_begin", "wc_step_end", "main")
    missing = [n for n in needed if n not in table]
    if missing:
        raise M7Error(f"{elf}: harness symbols missing: {', '.join(missing)}")
    begin, end = table["wc_step_begin"][0], table["wc_step_end"][0]
    if begin == end:
        raise M7Error(f"{elf}: the step markers were folded into one function")
    ranges = tuple((table[n][0], table[n][0] + max(table[n][1], 2)) for n in needed)
    return M7Build(
        elf=elf,
        map_file=folder / MAP_FILE,
        key=key,
        cache_dir=cache_dir,
        sample_dtype=dtypes[(sample_bytes, is_float)],
        inputs=inputs,
        outputs=outputs,
        step_begin=begin,
        step_end=end,
        harness_ranges=ranges,
    )
