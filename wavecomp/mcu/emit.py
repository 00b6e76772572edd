"""Write a network as C++ for the Daisy: engine, weights, CMSIS shim, Daisy Patch project, report.

``emit(net, out_dir, numerics=..., kernel=..., rounding=..., sample_rate=...)`` writes::

    out_dir/
      README.md            how to build (your LIBDAISY_DIR) and flash, knobs/jacks, levels
      report.md            params, MACs, accumulator widths, weight and cache memory, Daisy fit
      engine/              self-contained C++17 engine (no heap, no exceptions, no RTTI)
        wavecomp_engine.h  the API (below)
        wavecomp_engine.cpp
        wavecomp_model.h   const weights, bias terms (and tables) in the layout the kernel consumes
        wavecomp_*.h       the kernel (and ring) headers the engine uses
        cmsis_shim/cmsis_compiler.h   stand-in for CMSIS Core (standalone builds only)
      daisy/               Daisy firmware (Patch, or a Pod/Seed pedal): main.cpp + Makefile

Engine API contract (``engine/wavecomp_engine.h``; the Cortex-M7 emulator build in
``wavecomp.mcu.m7_build`` and the host build in ``wavecomp.mcu.host`` compile against exactly
this): namespace ``wavecomp``: ``constexpr int kInputs, kOutputs``; ``using sample_t =
int16_t`` (numerics q12: Q4.12 raw) or ``float`` (f32: model units, raw / 4096); ``void
engine_reset()`` zeroes every cache; ``void engine_step(const sample_t* in, sample_t* out)``
runs one sample. To build it, an ``EmitResult`` gives ``engine_dir``, ``engine_sources`` (the
.cpp files), ``cmsis_sources`` (paths relative to the CMSIS-DSP root, see
``cmsis_dsp.ensure().source``), ``include_dirs`` (the engine folder and the CMSIS core shim)
and ``defines``.

Numerics: q12 is bit-exact with ``wavecomp.fixed`` in both rounding modes. The ``fused``
kernel (hand-scheduled SMLAD, see ``firmware/engine/wavecomp_q12_fused.h``) runs any graph
network: int32 sums, proved exact by the static bound or watched by the Q flag with an int64
redo (``graph_plan``); the ``cmsis`` kernel (plain chains) uses ``arm_dot_prod_q15``'s exact
64-bit sum. f32 (plain chains) is float32 like the original firmware, matching
``wavecomp.reference.float_ref`` bit for bit.

The folder is written all-or-nothing through ``wavecomp.output_dir.writing_folder``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wavecomp import fixed
from wavecomp.ir import Network
from wavecomp.mcu.daisy_boards import DEFAULT_BOARD
from wavecomp.mcu.graph_plan import engine_summary
from wavecomp.mcu.plan import CMSIS_SOURCES, EngineSummary, Kernel, Numerics
from wavecomp.mcu.render import ARM_DEFINES, DAISY_DIR, ENGINE_DIR, SHIM_DIR, render
from wavecomp.output_dir import MARKER, writing_folder

WRITER = "wavecomp emit-cmsis"

FILE_ROLES = {
    "README.md": "how to build and flash; knobs, jacks and levels",
    "report.md": "MACs, accumulator widths, memory, Daisy fit",
    f"{ENGINE_DIR}/wavecomp_engine.h": "engine API: kInputs, kOutputs, sample_t, reset/step",
    f"{ENGINE_DIR}/wavecomp_engine.cpp": "the cached wavenet: tensor stores, one block per node",
    f"{ENGINE_DIR}/wavecomp_model.h": "weights and bias terms in the kernel's layout",
    f"{ENGINE_DIR}/wavecomp_window.h": "activation ring buffer (mask indexing)",
    f"{ENGINE_DIR}/{SHIM_DIR}/cmsis_compiler.h": "CMSIS core shim (builds without libDaisy)",
    f"{DAISY_DIR}/main.cpp": "Daisy firmware: audio callback, controls, CPU load",
    f"{DAISY_DIR}/Makefile": "libDaisy build (LIBDAISY_DIR, RATE, APP_TYPE)",
}


def file_role(rel: Path) -> str:
    """One line saying what an emitted file is (for the CLI's summary)."""
    key = Path(rel).as_posix()
    if key in FILE_ROLES:
        return FILE_ROLES[key]
    return "the kernel" if key.startswith(f"{ENGINE_DIR}/wavecomp_") else ""


@dataclass(frozen=True)
class EmitResult:
    """What ``emit`` wrote and what a build of the engine needs."""

    out_dir: Path
    engine_dir: Path
    engine_sources: list[Path]
    cmsis_sources: list[str]
    """CMSIS-DSP files to compile, relative to the CMSIS-DSP root (``cmsis_dsp.ensure()``)."""
    include_dirs: list[Path]
    """The engine folder and the CMSIS core shim (add CMSIS-DSP's own include dirs)."""
    defines: list[str]
    """Preprocessor defines for the Cortex-M7 build (``NAME`` or ``NAME=VALUE``)."""
    numerics: Numerics
    kernel: Kernel
    rounding: fixed.Rounding
    sample_rate: int
    summary: EngineSummary
    """Per node: sources, accumulator, memory; and the totals."""
    files: tuple[Path, ...]
    """Every file written, relative to ``out_dir``."""


def emit(
    net: Network,
    out_dir: str | Path,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    sample_rate: int = 48_000,
    board: str = DEFAULT_BOARD,
    require_fit: bool = True,
) -> EmitResult:
    """Write the engine, the Daisy firmware project for ``board``, README.md and report.md into
    ``out_dir``.

    Raises ``EmitError`` for an unknown option or an accumulator bound no kernel can hold,
    ``BoardError`` for a network the board cannot run (a pedal needs an audio input), an
    ``EmitError`` for one that fits no Daisy memory (unless ``require_fit`` is False: the host
    and emulator builds, which only simulate the engine), and
    ``OutputFolderError`` for an ``out_dir`` that cannot be written or holds files wavecomp
    did not write.
    """
    files = render(
        net,
        numerics=numerics,
        kernel=kernel,
        rounding=rounding,
        sample_rate=sample_rate,
        board=board,
        require_fit=require_fit,
    )
    out = Path(out_dir).absolute()
    with writing_folder(out, writer=WRITER, option="--out") as staging:
        for rel, data in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    engine_dir = out / ENGINE_DIR
    return EmitResult(
        out_dir=out,
        engine_dir=engine_dir,
        engine_sources=[engine_dir / "wavecomp_engine.cpp"],
        cmsis_sources=list(CMSIS_SOURCES.get((numerics, kernel), ())),
        include_dirs=[engine_dir, engine_dir / SHIM_DIR],
        defines=list(ARM_DEFINES),
        numerics=numerics,
        kernel=kernel,
        rounding=rounding,
        sample_rate=sample_rate,
        summary=engine_summary(net, numerics, kernel, rounding),
        files=(*(Path(rel) for rel in files), Path(MARKER)),
    )
