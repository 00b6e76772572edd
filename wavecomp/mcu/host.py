"""Build an emitted engine with the host compiler and run it: the bit-exact tests and
``wavecomp sim --target cmsis``.

``build(result)`` compiles ``engine_sources`` (g++, C++17) and the CMSIS-DSP files the
engine uses (gcc) together with ``firmware/host/wavecomp_host.cpp`` into a shared library,
cached under ``<cache>/host/<key>/`` where the key hashes every source byte, the flags and
the compiler version -- so rebuilding the same engine (in any folder, from any pytest
worker) is a cache hit (``wavecomp.cache.build_once``: locked, staged, renamed into place).
``HostEngine.run(x)`` resets the engine and steps it over every frame through ctypes.

Host flags mirror the Cortex-M7 build where it matters: ``-ffp-contract=off`` (no fused
multiply-add, so floats round the same), ``-DARM_MATH_LOOPUNROLL`` (the same CMSIS-DSP
summation order), and the CMSIS core shim, which on the host supplies the DSP intrinsics as
exact C and lets CMSIS-DSP take the same DSP code paths as on the Cortex-M7.
"""

from __future__ import annotations

import ctypes
import functools
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavecomp import fixed
from wavecomp.cache import build_once, cache_root, content_key, log_path
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.mcu import cmsis_dsp
from wavecomp.mcu.emit import EmitResult, emit
from wavecomp.mcu.plan import Kernel, Numerics
from wavecomp.resources import firmware_dir
from wavecomp.tools import require_tool

HARNESS = Path("host") / "wavecomp_host.cpp"
LIBRARY = "libwavecomp_engine.so"
CACHE_FORMAT = 2
"""Bump when the cache folder's layout or the harness's exported functions change."""
COMMON_FLAGS = ("-O2", "-fPIC", "-ffp-contract=off", "-fvisibility=hidden")
CXX_FLAGS = ("-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra")
C_FLAGS = ("-std=gnu11",)
DEFINES = ("ARM_MATH_LOOPUNROLL",)
BUILD_TIMEOUT_S = 600


class HostBuildError(WavecompError, RuntimeError):
    """The host compiler failed or is missing; the message names the tool or file and the log."""


@dataclass(frozen=True)
class HostEngine:
    """A built engine library, ready to run."""

    library: Path
    numerics: Numerics
    inputs: int
    outputs: int
    cached: bool

    def run(self, x: np.ndarray) -> np.ndarray:
        """From reset, one engine_step per frame: (T, inputs) -> (T, outputs).

        q12 takes and returns Q4.12 raw int16; f32 takes and returns float32 model units.
        """
        dtype = np.int16 if self.numerics == "q12" else np.float32
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise ValueError(f"inputs must have shape (T, {self.inputs}), got {x.shape}")
        if self.numerics == "q12" and not np.issubdtype(x.dtype, np.integer):
            raise ValueError(f"q12 inputs are Q4.12 raw integers, got {x.dtype}")
        x = np.ascontiguousarray(x, dtype=dtype)
        y = np.zeros((x.shape[0], self.outputs), dtype=dtype)
        lib = _load(self.library)
        lib.wavecomp_host_run(x.ctypes.data, y.ctypes.data, ctypes.c_int64(x.shape[0]))
        return y


@functools.cache
def _version(tool: str) -> str:
    run = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    return run.stdout.splitlines()[0] if run.stdout else tool


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    lib.wavecomp_host_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.wavecomp_host_run.restype = None
    return lib


def build(result: EmitResult, *, cache_dir: Path | None = None) -> HostEngine:
    """Compile the emitted engine into a cached shared library (see the module docstring)."""
    cxx, cc = require_tool("g++"), require_tool("gcc")
    area = (Path(cache_dir) if cache_dir is not None else cache_root()) / "host"
    harness = firmware_dir() / HARNESS
    dsp = cmsis_dsp.ensure() if result.cmsis_sources else None
    cmsis_files = [dsp.source(rel) for rel in result.cmsis_sources] if dsp else []
    # every file the compiler can read, by a location-independent name
    engine_files = sorted(p for p in result.engine_dir.rglob("*") if p.is_file())
    sources = [(f"engine/{p.relative_to(result.engine_dir)}", p.read_bytes()) for p in engine_files]
    sources.append((f"harness/{harness.name}", harness.read_bytes()))
    sources += [
        (f"cmsis/{rel}", p.read_bytes())
        for rel, p in zip(result.cmsis_sources, cmsis_files, strict=True)
    ]
    flags = [*COMMON_FLAGS, *CXX_FLAGS, *C_FLAGS, *(f"-D{d}" for d in DEFINES)]
    versions = [_version(cxx), _version(cc), f"cmsis-dsp {cmsis_dsp.VERSION}"]
    key = content_key([f"format {CACHE_FORMAT}", *versions, " ".join(flags), *sources])
    log = log_path(area, key)

    def compile_into(staging: Path) -> None:
        _compile(cxx, cc, result, harness, cmsis_files, dsp, staging, log)

    entry = build_once(area, key, compile_into, done=LIBRARY)
    return _engine(entry.path / LIBRARY, result.numerics, cached=entry.cached)


def _compile(
    cxx: str,
    cc: str,
    result: EmitResult,
    harness: Path,
    cmsis_files: list[Path],
    dsp: cmsis_dsp.CmsisDsp | None,
    out: Path,
    log: Path,
) -> None:
    includes = [*result.include_dirs, *(dsp.include_dirs if dsp else [])]
    common = [*COMMON_FLAGS, *(f"-D{d}" for d in DEFINES), *(f"-I{d}" for d in includes)]
    objects = []
    jobs = [(cxx, [*CXX_FLAGS], src, f"engine_{src.stem}.o") for src in result.engine_sources]
    jobs.append((cxx, [*CXX_FLAGS], harness, "harness.o"))
    jobs += [(cc, [*C_FLAGS], src, f"cmsis_{src.stem}.o") for src in cmsis_files]
    for tool, flags, src, obj in jobs:
        _run([tool, *common, *flags, "-c", str(src), "-o", str(out / obj)], src.name, log)
        objects.append(str(out / obj))
    _run([cxx, "-shared", *objects, "-o", str(out / LIBRARY)], LIBRARY, log)
    for obj in objects:
        Path(obj).unlink()


def _run(cmd: list[str], what: str, log: Path) -> None:
    """Run one compiler step; on failure keep its full output in ``log`` and raise."""
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise HostBuildError(f"{Path(cmd[0]).name} timed out building {what}") from None
    if run.returncode != 0:
        log.write_text(" ".join(cmd) + "\n" + run.stdout + run.stderr)
        errors = [ln for ln in run.stderr.splitlines() if "error" in ln.lower()][:8]
        detail = "\n".join(errors or run.stderr.splitlines()[-8:])
        raise HostBuildError(f"{Path(cmd[0]).name} failed on {what} (full log: {log}):\n{detail}")


def _engine(library: Path, numerics: Numerics, *, cached: bool) -> HostEngine:
    lib = _load(library)
    return HostEngine(
        library=library,
        numerics=numerics,
        inputs=int(lib.wavecomp_host_inputs()),
        outputs=int(lib.wavecomp_host_outputs()),
        cached=cached,
    )


def run(
    net: Network,
    x: np.ndarray,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    cache_dir: Path | None = None,
) -> np.ndarray:
    """Emit ``net`` (into a temporary folder), build it (cached) and run it on ``x``."""
    with tempfile.TemporaryDirectory(prefix="wavecomp-mcu-") as tmp:
        # the host build simulates the engine: it needs no Daisy memory to fit
        result = emit(
            net,
            Path(tmp) / "out",
            numerics=numerics,
            kernel=kernel,
            rounding=rounding,
            require_fit=False,
        )
        engine = build(result, cache_dir=cache_dir)
    return engine.run(x)
