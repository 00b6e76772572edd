"""Write a network as C++ for the Daisy: engine, weights, CMSIS shim, Daisy Patch project, report.

``emit(net, out_dir, numerics=..., kernel=..., rounding=..., sample_rate=...)`` writes::

    out_dir/
      README.md            how to build (your LIBDAISY_DIR) and flash, the knob/jack mapping
      report.md            params, MACs, accumulator widths, weight and cache memory
      engine/              self-contained C++17 engine (no heap, no exceptions, no RTTI)
        wavecomp_engine.h  the API (below)
        wavecomp_engine.cpp
        wavecomp_model.h   const weights + bias terms in the layout the kernel consumes
        wavecomp_*.h       the kernel (and ring) headers the engine uses
        cmsis_shim/cmsis_compiler.h   stand-in for CMSIS Core (standalone builds only)
      daisy/               Daisy Patch firmware: main.cpp + Makefile (libDaisy conventions)

Engine API contract (``engine/wavecomp_engine.h``; the Cortex-M7 emulator build in
``wavecomp.mcu.m7`` and the host build in ``wavecomp.mcu.host`` compile against exactly this):
namespace ``wavecomp``: ``constexpr int kInputs, kOutputs``; ``using sample_t = int16_t``
(numerics q12: Q4.12 raw) or ``float`` (f32: model units, raw / 4096); ``void engine_reset()``
zeroes every cache; ``void engine_step(const sample_t* in, sample_t* out)`` runs one sample.
To build it, an ``EmitResult`` gives ``engine_dir``, ``engine_sources`` (the .cpp files),
``cmsis_sources`` (paths relative to the CMSIS-DSP root, see ``cmsis_dsp.ensure().source``),
``include_dirs`` (the engine folder and the CMSIS core shim) and ``defines``.

Numerics: q12 is bit-exact with ``wavecomp.fixed`` in both rounding modes. The ``fused``
kernel (hand-scheduled SMLAD/SMLALD, see ``firmware/engine/wavecomp_q12_fused.h``) uses a 32-bit
accumulator only for layers whose static bound (``fixed.accumulator_bound``) is below 2^31,
64-bit otherwise; the ``cmsis`` kernel uses ``arm_dot_prod_q15``'s exact 64-bit sum. f32 is
float32 like the original firmware, matching ``wavecomp.reference.float_ref`` bit for bit.

The output folder is a pure function of the arguments (byte-identical on every run), written
next to the target and renamed into place so a failure never leaves half a project; a
non-empty folder that emit did not write is never replaced.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import numpy as np

import wavecomp
from wavecomp import fixed, targets
from wavecomp.errors import WavecompError
from wavecomp.ir import ConvLayer, Network
from wavecomp.output_dir import OutputFolder

Numerics = Literal["q12", "f32"]
Kernel = Literal["fused", "cmsis"]
NUMERICS: tuple[Numerics, ...] = ("q12", "f32")
KERNELS: tuple[Kernel, ...] = ("fused", "cmsis")
SAMPLE_RATES = (48_000, 96_000)
"""What the Daisy's SAI runs the codec at (SaiHandle::Config::SampleRate)."""

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
ENGINE_DIR = "engine"
SHIM_DIR = "cmsis_shim"
DAISY_DIR = "daisy"
MARKER_FILE = ".wavecomp-mcu"
MARKER_TEXT = "written by wavecomp.mcu.emit; the folder is replaced on regeneration\n"
ARM_DEFINES = ("ARM_MATH_CM7", "ARM_MATH_LOOPUNROLL")
"""CMSIS-DSP configuration for the Cortex-M7 (without LOOPUNROLL it falls back to scalar loops)."""

KERNEL_HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("q12", "fused"): ("wavecomp_q12_fused.h",),
    ("q12", "cmsis"): ("wavecomp_q12_cmsis.h", "wavecomp_window.h"),
    ("f32", "fused"): ("wavecomp_f32_fused.h", "wavecomp_window.h"),
    ("f32", "cmsis"): ("wavecomp_f32_cmsis.h", "wavecomp_window.h"),
}
CMSIS_SOURCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("q12", "cmsis"): ("Source/BasicMathFunctions/arm_dot_prod_q15.c",),
    ("f32", "cmsis"): ("Source/BasicMathFunctions/arm_dot_prod_f32.c",),
}
WEIGHT_TYPES = {
    ("q12", "fused"): "uint32_t",
    ("q12", "cmsis"): "int16_t",
    ("f32", "fused"): "float",
    ("f32", "cmsis"): "float",
}
NAMESPACES = {
    ("q12", "cmsis"): "q12_cmsis",
    ("f32", "fused"): "f32_fused",
    ("f32", "cmsis"): "f32_cmsis",
}

NARROW_LIMIT = 1 << 31
"""Bounds below this fit an int32 accumulator (the contract's rule)."""
WIDE_LIMIT = 1 << 43
"""Below this, acc >> 12 fits in 32 bits, so the 64-bit requantisation stays cheap."""
INT64_LIMIT = 1 << 62
CONTROL_RANGE = (0.0, 1.0)
"""Model-unit range a knob sweeps for a ``control`` input (the embedding range training uses)."""
DAISY_KNOBS = 4
DAISY_AUDIO_JACKS = 4
DAISY_BLOCK_SIZE = 48


FILE_ROLES = {
    "README.md": "how to build and flash; knobs, jacks and levels",
    "report.md": "MACs, accumulator widths, memory",
    f"{ENGINE_DIR}/wavecomp_engine.h": "engine API: kInputs, kOutputs, sample_t, reset/step",
    f"{ENGINE_DIR}/wavecomp_engine.cpp": "the cached wavenet: ring buffers, one call per layer",
    f"{ENGINE_DIR}/wavecomp_model.h": "weights and bias terms in the kernel's layout",
    f"{ENGINE_DIR}/wavecomp_window.h": "activation ring buffer (mask indexing)",
    f"{ENGINE_DIR}/{SHIM_DIR}/cmsis_compiler.h": "CMSIS core shim (builds without libDaisy)",
    f"{DAISY_DIR}/main.cpp": "Daisy Patch firmware: audio callback, knobs/CV, OLED",
    f"{DAISY_DIR}/Makefile": "libDaisy build (LIBDAISY_DIR, RATE)",
}


def file_role(rel: Path) -> str:
    """One line saying what an emitted file is (for the CLI's summary)."""
    key = Path(rel).as_posix()
    if key in FILE_ROLES:
        return FILE_ROLES[key]
    return "the kernel" if key.startswith(f"{ENGINE_DIR}/wavecomp_") else ""


class EmitError(WavecompError, ValueError):
    """The engine cannot be written as asked; the message names the option or folder and the fix."""


@dataclass(frozen=True)
class LayerPlan:
    """How the engine computes one layer, with its memory figures."""

    index: int
    name: str
    kernel_size: int
    dilation: int
    in_channels: int
    out_channels: int
    activation: str
    macs: int
    bound: int
    """Static |accumulator| bound for the chosen rounding (q12); 0 for f32."""
    accumulator: str
    """What holds the sum: int32/int64 with the instruction, or float32."""
    ring_rows: int
    cache_bytes: int
    weight_bytes: int


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
    layers: tuple[LayerPlan, ...]
    files: tuple[Path, ...]
    """Every file written, relative to ``out_dir``."""

    @property
    def weight_bytes(self) -> int:
        return sum(layer.weight_bytes for layer in self.layers)

    @property
    def cache_bytes(self) -> int:
        return sum(layer.cache_bytes for layer in self.layers)

    @property
    def macs_per_sample(self) -> int:
        return sum(layer.macs for layer in self.layers)


# ---- planning ---------------------------------------------------------------------------------
def _check_options(numerics: str, kernel: str, rounding: str, sample_rate: int) -> None:
    if numerics not in NUMERICS:
        raise EmitError(f"numerics {numerics!r} is not supported: use one of {', '.join(NUMERICS)}")
    if kernel not in KERNELS:
        raise EmitError(f"kernel {kernel!r} is not supported: use one of {', '.join(KERNELS)}")
    if rounding not in fixed.ROUNDING_MODES:
        raise EmitError(
            f"rounding {rounding!r} is not supported: use one of {', '.join(fixed.ROUNDING_MODES)}"
        )
    if sample_rate not in SAMPLE_RATES:
        raise EmitError(
            f"sample rate {sample_rate} Hz: the Daisy firmware runs at "
            f"{' or '.join(str(r) for r in SAMPLE_RATES)} Hz"
        )


def ring_rows(layer: ConvLayer) -> int:
    """Cache rows: the smallest power of two holding the layer's span (mask indexing)."""
    return 1 << (layer.span - 1).bit_length()


def accumulator_width(layer: ConvLayer, rounding: fixed.Rounding) -> str:
    """The fused kernel's ``AccWidth`` for a layer, from its static bound (never assumed)."""
    bound = int(layer.accumulator_bound(rounding).max())
    if bound < NARROW_LIMIT:
        return "narrow"
    if bound < WIDE_LIMIT:
        return "wide"
    if bound < INT64_LIMIT:
        return "wide_clamp"
    raise EmitError(
        f"layer {layer.name!r}: accumulator bound {bound} needs more than 63 bits; "
        "no MCU kernel holds it exactly (reduce the weights or split the layer)"
    )


def fused_group(width: str) -> int:
    """Output channels per pass of the fused kernel (``q12_fused::kGroup``)."""
    return 4 if width == "narrow" else 2


def packed_pairs(weights: np.ndarray) -> np.ndarray:
    """(K, C_in, C_out) int16 -> (K, ceil(C_in/2), C_out) uint32: channel 2p in the low half,
    2p+1 in the high half (a zero pad channel when C_in is odd), as __SMLAD reads them."""
    k, c_in, c_out = weights.shape
    pairs = (c_in + 1) // 2
    padded = np.zeros((k, 2 * pairs, c_out), dtype=np.int64)
    padded[:, :c_in] = weights
    low = padded[:, 0::2] & 0xFFFF
    high = padded[:, 1::2] & 0xFFFF
    return (low | (high << 16)).astype(np.uint32)


def fused_weight_stream(layer: ConvLayer, width: str) -> np.ndarray:
    """The layer's weights in the exact order ``q12_fused::conv_layer`` consumes them.

    Per group of G output channels (the last group may be smaller), per tap k, per two
    channel pairs (p, p+1): G words for pair p then G for pair p+1; an odd last pair alone.
    """
    packed = packed_pairs(layer.weights)
    kernel_size, pairs, c_out = packed.shape
    group = fused_group(width)
    starts = [(o, min(group, c_out - o)) for o in range(0, c_out, group)]
    words = []
    for o0, g in starts:
        for k in range(kernel_size):
            for p in range(pairs):
                words.append(packed[k, p, o0 : o0 + g])
    return np.concatenate(words).astype(np.uint32)


def plan_layers(
    net: Network, numerics: Numerics, kernel: Kernel, rounding: fixed.Rounding
) -> tuple[LayerPlan, ...]:
    """Per layer: accumulator, cache rows and the bytes the engine spends on it."""
    plans = []
    for i, layer in enumerate(net.layers):
        rows = ring_rows(layer)
        pairs = (layer.in_channels + 1) // 2
        bound = int(layer.accumulator_bound(rounding).max()) if numerics == "q12" else 0
        if numerics == "f32":
            accumulator = "float32"
            cache = rows * layer.in_channels * 4
            weight_bytes = 4 * layer.params
        elif kernel == "cmsis":
            accumulator_width(layer, rounding)  # reject unholdable bounds up front
            accumulator = "int64 dot_prod_q15"
            cache = rows * layer.in_channels * 2
            weight_bytes = 2 * layer.macs + 4 * layer.out_channels
        else:
            width = accumulator_width(layer, rounding)
            accumulator = "int32 SMLAD" if width == "narrow" else "int64 SMLALD"
            cache = 2 * rows * pairs * 4  # every column twice, in packed pairs
            bias_bytes = 4 if width == "narrow" else 8
            weight_bytes = 4 * layer.kernel_size * pairs * layer.out_channels
            weight_bytes += bias_bytes * layer.out_channels
        plans.append(
            LayerPlan(
                index=i,
                name=layer.name,
                kernel_size=layer.kernel_size,
                dilation=layer.dilation,
                in_channels=layer.in_channels,
                out_channels=layer.out_channels,
                activation=layer.activation,
                macs=layer.macs,
                bound=bound,
                accumulator=accumulator,
                ring_rows=rows,
                cache_bytes=cache,
                weight_bytes=weight_bytes,
            )
        )
    return tuple(plans)


# ---- rendering --------------------------------------------------------------------------------
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([FIRMWARE_DIR / ENGINE_DIR, FIRMWARE_DIR / DAISY_DIR]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _float_literal(value: float) -> str:
    """A float32 C literal that round-trips exactly (every Q4.12 value is exact in float32)."""
    return f"{float(value)!r}f"


def _layer_context(
    layer: ConvLayer, plan: LayerPlan, numerics: str, kernel: str, rounding: fixed.Rounding
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "index": plan.index,
        "name": layer.name,
        "k": layer.kernel_size,
        "d": layer.dilation,
        "cin": layer.in_channels,
        "cout": layer.out_channels,
        "activation": layer.activation,
        "relu": "true" if layer.activation == "relu" else "false",
        "rows": plan.ring_rows,
        "words": (layer.in_channels + 1) // 2,
        "acc_note": "",
    }
    if numerics == "f32":
        kco = layer.weights.transpose(2, 0, 1).reshape(-1)  # [o][k][c]
        ctx["weights"] = [_float_literal(v / fixed.ONE) for v in kco.tolist()]
        ctx["bias"] = [_float_literal(v / fixed.ONE) for v in layer.bias.tolist()]
        ctx["bias_type"] = "float"
        return ctx
    bias_term = fixed.bias_term(layer.bias, rounding).tolist()
    ctx["acc_note"] = f"|acc| <= {plan.bound} -> {plan.accumulator}"
    if kernel == "cmsis":
        ctx["weights"] = [str(v) for v in layer.weights.transpose(2, 0, 1).reshape(-1).tolist()]
        ctx["bias"] = [str(v) for v in bias_term]
        ctx["bias_type"] = "int32_t"
        return ctx
    width = accumulator_width(layer, rounding)
    ctx["acc"] = width
    ctx["weights"] = [f"0x{v:08x}u" for v in fused_weight_stream(layer, width).tolist()]
    if width == "narrow":
        ctx["bias"] = [str(v) for v in bias_term]
        ctx["bias_type"] = "int32_t"
    else:
        ctx["bias"] = [f"{v}LL" for v in bias_term]
        ctx["bias_type"] = "int64_t"
    return ctx


def _layout_notes(numerics: str, kernel: str) -> list[str]:
    if numerics == "f32":
        return [
            "kWeights<i>[o][k][c] = W[k][c][o] / 4096 (model units), kBias<i>[o] = bias / 4096.",
        ]
    if kernel == "cmsis":
        return [
            "kWeights<i>[o][k][c] = W[k][c][o] (Q4.12 raw), one contiguous row per output for",
            "arm_dot_prod_q15; kBias<i>[o] = (bias << 12) + R, the accumulator's start value.",
        ]
    return [
        "kWeights<i>: packed pairs (channel 2p in bits 15:0, 2p+1 in 31:16) in consumption order:",
        "per group of G outputs (4 with int32, 2 with int64 accumulators), per tap k, per pair p:",
        "G words. kBias<i>[o] = (bias << 12) + R, the accumulator's start value.",
    ]


def _common_context(
    net: Network, numerics: str, kernel: str, rounding: str, sample_rate: int
) -> dict[str, Any]:
    return {
        "version": wavecomp.__version__,
        "name": net.name,
        "fingerprint": net.fingerprint()[:16],
        "numerics": numerics,
        "kernel": kernel,
        "rounding": rounding,
        "sample_rate": sample_rate,
        "inputs": net.in_channels,
        "outputs": net.out_channels,
        "input_names": ", ".join(ch.name for ch in net.io.inputs),
        "output_names": ", ".join(ch.name for ch in net.io.outputs),
        "macs": net.macs_per_sample,
    }


def _input_sources(net: Network) -> list[dict[str, Any]]:
    """Where the Daisy Patch firmware gets each network input from."""
    sources = []
    knob = 0
    for i, ch in enumerate(net.io.inputs):
        entry: dict[str, Any] = {"index": i, "name": ch.name, "kind": ch.kind}
        if ch.kind == "control" and knob < DAISY_KNOBS:
            entry.update(source="knob", knob=knob)
            knob += 1
        elif ch.kind == "audio" and ch.jack is not None and ch.jack < DAISY_AUDIO_JACKS:
            entry.update(source="audio", jack=ch.jack)
        else:
            entry.update(source="constant", value=_float_literal(ch.default), default=ch.default)
        sources.append(entry)
    return sources


def _output_sinks(net: Network) -> list[dict[str, Any]]:
    """Per Daisy Patch audio output: the network output it plays, if any."""
    by_jack = {ch.jack: (o, ch.name) for o, ch in enumerate(net.io.outputs) if ch.jack is not None}
    return [
        {"jack": j, "output": by_jack[j][0], "name": by_jack[j][1]}
        if j in by_jack
        else {"jack": j, "output": None, "name": None}
        for j in range(DAISY_AUDIO_JACKS)
    ]


def render(
    net: Network,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    sample_rate: int = 48_000,
) -> dict[str, bytes]:
    """Every emitted file as bytes, keyed by its path relative to the output folder."""
    _check_options(numerics, kernel, rounding, sample_rate)
    plans = plan_layers(net, numerics, kernel, rounding)
    env = _env()
    common = _common_context(net, numerics, kernel, rounding, sample_rate)
    layers = [
        _layer_context(layer, plan, numerics, kernel, rounding)
        for layer, plan in zip(net.layers, plans, strict=True)
    ]
    engine_ctx = {
        **common,
        "layers": layers,
        "kernel_header": KERNEL_HEADERS[(numerics, kernel)][0],
        "namespace": NAMESPACES.get((numerics, kernel), ""),
        "window": max(layer.kernel_size * layer.in_channels for layer in net.layers),
    }
    model_ctx = {
        **engine_ctx,
        "layout": _layout_notes(numerics, kernel),
        "weight_type": WEIGHT_TYPES[(numerics, kernel)],
        "per_line": 6 if numerics == "f32" else 8,
    }
    daisy_ctx = {
        **common,
        "input_shift": net.io.input_shift,
        "output_shift": net.io.output_shift,
        "sources": _input_sources(net),
        "sinks": _output_sinks(net),
        "block_size": DAISY_BLOCK_SIZE,
        "control_lo": _float_literal(CONTROL_RANGE[0]),
        "control_hi": _float_literal(CONTROL_RANGE[1]),
        "cmsis_sources": list(CMSIS_SOURCES.get((numerics, kernel), ())),
        "defines": list(ARM_DEFINES),
        "target": "wavecomp_" + "".join(c if c.isalnum() else "_" for c in net.name.lower()),
    }
    files: dict[str, str | bytes] = {
        f"{ENGINE_DIR}/wavecomp_engine.h": env.get_template("wavecomp_engine.h.j2").render(
            engine_ctx
        ),
        f"{ENGINE_DIR}/wavecomp_engine.cpp": env.get_template("wavecomp_engine.cpp.j2").render(
            engine_ctx
        ),
        f"{ENGINE_DIR}/wavecomp_model.h": env.get_template("wavecomp_model.h.j2").render(model_ctx),
        f"{ENGINE_DIR}/{SHIM_DIR}/cmsis_compiler.h": (
            FIRMWARE_DIR / ENGINE_DIR / SHIM_DIR / "cmsis_compiler.h"
        ).read_bytes(),
        f"{DAISY_DIR}/main.cpp": env.get_template("main.cpp.j2").render(daisy_ctx),
        f"{DAISY_DIR}/Makefile": env.get_template("Makefile.j2").render(daisy_ctx),
        "README.md": readme_text(net, plans, numerics, kernel, rounding, sample_rate),
        "report.md": report_text(net, plans, numerics, kernel, rounding, sample_rate),
        MARKER_FILE: MARKER_TEXT,
    }
    for header in KERNEL_HEADERS[(numerics, kernel)]:
        files[f"{ENGINE_DIR}/{header}"] = (FIRMWARE_DIR / ENGINE_DIR / header).read_bytes()
    return {
        path: data.encode() if isinstance(data, str) else data
        for path, data in sorted(files.items())
    }


# ---- README and report -------------------------------------------------------------------------
def _fmt_bytes(n: int) -> str:
    return f"{n:,} B" if n < 10 * 1024 else f"{n / 1024:,.1f} KiB"


def report_text(
    net: Network,
    plans: tuple[LayerPlan, ...],
    numerics: str,
    kernel: str,
    rounding: str,
    sample_rate: int,
) -> str:
    """The markdown report: what the engine computes and what memory it needs."""
    weights = sum(p.weight_bytes for p in plans)
    cache = sum(p.cache_bytes for p in plans)
    cycles = targets.DAISY.clock_hz // sample_rate
    cmsis = CMSIS_SOURCES.get((numerics, kernel), ())
    sample_bytes = 2 if numerics == "q12" else 4
    window = sample_bytes * max(p.kernel_size * p.in_channels for p in plans)
    rows = [
        "| layer | K | d | in | out | act | MACs | accumulator | bound | cache rows | cache | "
        "weights |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in plans:
        bound = f"{p.bound:,} ({p.bound / 2**31:.2f} × 2^31)" if p.bound else "—"
        rows.append(
            f"| {p.name} | {p.kernel_size} | {p.dilation} | {p.in_channels} | {p.out_channels} | "
            f"{p.activation} | {p.macs:,} | {p.accumulator} | {bound} | {p.ring_rows} | "
            f"{_fmt_bytes(p.cache_bytes)} | {_fmt_bytes(p.weight_bytes)} |"
        )
    numerics_line = (
        f"q12 (Q4.12, bit-exact with the numerics contract), rounding `{rounding}`"
        if numerics == "q12"
        else "f32 (float32 model units, no requantisation; like the original float firmware)"
    )
    lines = [
        f"# wavecomp MCU report: {net.name}",
        "",
        f"- network: `{net.name}` (fingerprint `{net.fingerprint()[:16]}`), {len(plans)} layers, "
        f"{net.params:,} params, **{net.macs_per_sample:,} MACs/sample**, receptive field "
        f"{net.receptive_field} samples",
        f"- numerics: {numerics_line}",
        f"- kernel: `{kernel}` — "
        + (
            "hand-scheduled SMLAD/SMLALD loop (`wavecomp_q12_fused.h`)"
            if (numerics, kernel) == ("q12", "fused")
            else "plain float loop (`wavecomp_f32_fused.h`)"
            if kernel == "fused"
            else "CMSIS-DSP dot products over the gathered taps"
        ),
        f"- CMSIS-DSP files: {', '.join(f'`{s}`' for s in cmsis) or 'none'}",
        f"- audio: {sample_rate} Hz -> {cycles:,} CPU cycles per sample at 480 MHz "
        f"({cycles / net.macs_per_sample:.2f} cycles per MAC available)",
        "",
        *rows,
        "",
        f"**Memory:** weights and biases {_fmt_bytes(weights)} (const, in flash: "
        f"{targets.DAISY.flash_bytes // 1024} KiB), activation caches {_fmt_bytes(cache)} "
        + (
            f"plus a {_fmt_bytes(window)} window the taps are gathered into "
            if kernel == "cmsis"
            else ""
        )
        + f"(static RAM; DTCM is {targets.DAISY.dtcm_bytes // 1024} KiB).",
        "",
        "The bound is the contract's static accumulator bound "
        "`|bias|·2^12 + R + Σ|W|·32768` (largest output channel); a 32-bit accumulator is used "
        "only where it is below 2^31.",
        "",
        "Speed: `bench/mcu.py` measures instructions per sample on an emulated Cortex-M7 "
        "(emulators count instructions, not cycles).",
        "",
    ]
    return "\n".join(lines)


def readme_text(
    net: Network,
    plans: tuple[LayerPlan, ...],
    numerics: str,
    kernel: str,
    rounding: str,
    sample_rate: int,
) -> str:
    """The README of the emitted folder: build, flash, controls, and using the engine elsewhere."""
    sources = _input_sources(net)
    sinks = _output_sinks(net)
    io_rows = ["| network input | kind | Daisy Patch source |", "|---|---|---|"]
    for s in sources:
        if s["source"] == "knob":
            where = (
                f"knob/CV {s['knob'] + 1} (`CTRL_{s['knob'] + 1}`), 0..1 mapped to "
                f"{CONTROL_RANGE[0]:g}..{CONTROL_RANGE[1]:g}"
            )
        elif s["source"] == "audio":
            where = f"audio in {s['jack'] + 1} (`in[{s['jack']}]`)"
        else:
            where = f"held at {s['default']:g}"
        io_rows.append(f"| `{s['name']}` | {s['kind']} | {where} |")
    for s in sinks:
        what = f"network output `{s['name']}`" if s["output"] is not None else "silence"
        io_rows.append(f"| audio out {s['jack'] + 1} (`out[{s['jack']}]`) | output | {what} |")
    cmsis = CMSIS_SOURCES.get((numerics, kernel), ())
    lines = [
        f"# {net.name}: wavecomp engine and Daisy Patch firmware",
        "",
        f"Generated by wavecomp {wavecomp.__version__} (`wavecomp emit-cmsis --numerics "
        f"{numerics} --kernel {kernel}"
        + (f" --rounding {rounding}" if numerics == "q12" else "")
        + f" --rate {sample_rate}`). Do not edit `engine/`: regenerate instead — the folder is "
        "a pure function of the model and these options. `report.md` has the per-layer figures.",
        "",
        "## Build and flash the Daisy Patch firmware",
        "",
        "libDaisy is not in any package registry: use your own checkout, with its submodules "
        "(they bring CMSIS Core and the CMSIS-DSP sources this project compiles) and built once:",
        "",
        "```sh",
        "git clone --recurse-submodules https://github.com/electro-smith/libDaisy",
        "make -C libDaisy",
        f"cd daisy && make LIBDAISY_DIR=/path/to/libDaisy          # {sample_rate} Hz",
        "make LIBDAISY_DIR=/path/to/libDaisy RATE=96000            # or 48000 / 96000",
        "```",
        "",
        "`LIBDAISY_DIR` defaults to `../../libDaisy` (this folder next to your libDaisy "
        "checkout). Needs `arm-none-eabi-gcc` (Debian: `gcc-arm-none-eabi`). Flash over USB "
        "with the Daisy in its bootloader (hold BOOT, tap RESET): `make program-dfu` (needs "
        "`dfu-util`), or with an ST-Link: `make program` (OpenOCD).",
        "",
        f"The firmware runs the Daisy at 480 MHz (`patch.Init(true)`), processes audio in "
        f"blocks of {DAISY_BLOCK_SIZE} samples and calls `engine_step` once per sample. The "
        "OLED shows the average and peak CPU load (`CpuLoadMeter`) and the control values.",
        "",
        "## Controls and jacks",
        "",
        *io_rows,
        "",
        "Audio levels follow the eurorack-pmod convention wavecomp models are trained with: a "
        "Daisy sample in [-1, 1) is the 16-bit codec sample ×32768, which enters the network "
        f"shifted right by {net.io.input_shift} (so ±1.0 is ±{8 >> net.io.input_shift:g} in "
        f"model units); outputs are shifted left by {net.io.output_shift} and saturated. Edit "
        "`kControlLo`/`kControlHi` in `daisy/main.cpp` to give a knob another range.",
        "",
        "## Using the engine in another project",
        "",
        "`engine/` is self-contained C++17 (no heap, exceptions or RTTI): compile "
        "`engine/wavecomp_engine.cpp` with `-ffp-contract=off`"
        + (
            f" and the CMSIS-DSP file(s) {', '.join(f'`{s}`' for s in cmsis)} "
            "(`-DARM_MATH_LOOPUNROLL`)"
            if cmsis
            else ""
        )
        + ". Call `wavecomp::engine_reset()` once, then `wavecomp::engine_step(in, out)` per "
        "sample; see `engine/wavecomp_engine.h`. "
        + (
            "Samples are Q4.12 `int16_t` (raw r means r/4096)."
            if numerics == "q12"
            else "Samples are `float` model units."
        ),
        "",
    ]
    if (numerics, kernel) != ("f32", "fused"):
        lines += [
            "The engine includes `cmsis_compiler.h` for the DSP intrinsics. Inside a libDaisy "
            "(or any STM32 CMSIS) build that is the real CMSIS Core header; elsewhere (host "
            "tests, bare-metal builds without CMSIS Core) add `engine/cmsis_shim` to the "
            "include path — never both.",
            "",
        ]
    return "\n".join(lines)


# ---- writing ----------------------------------------------------------------------------------
def _output_folder(out: Path) -> OutputFolder:
    return OutputFolder(out, MARKER_FILE, "wavecomp emit-cmsis", "--out", EmitError)


def emit(
    net: Network,
    out_dir: str | Path,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    sample_rate: int = 48_000,
) -> EmitResult:
    """Write the engine, the Daisy Patch project, README.md and report.md into ``out_dir``.

    Raises ``EmitError`` for an unknown option, an accumulator bound no kernel can hold, or
    an ``out_dir`` that cannot be written or holds files emit did not write.
    """
    files = render(
        net, numerics=numerics, kernel=kernel, rounding=rounding, sample_rate=sample_rate
    )
    out = Path(out_dir).resolve()
    folder = _output_folder(out)
    tmp = folder.stage()
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        folder.publish(tmp)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise EmitError(f"cannot write the project to {out} ({err.strerror or err})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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
        layers=plan_layers(net, numerics, kernel, rounding),
        files=tuple(Path(rel) for rel in files),
    )
