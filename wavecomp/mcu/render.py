"""Render every file of an emitted MCU project as bytes, from the jinja2 templates in ``firmware/``.

Why apart from writing: the output is a pure function of the network and the options (byte-
identical on every run), so it can be computed, compared and tested without touching disk;
``wavecomp.mcu.emit`` only writes what this returns. C++ and prose alike come from templates
(``firmware/engine/*.j2``, ``firmware/daisy/*.j2``); this module builds their contexts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import wavecomp
from wavecomp import fixed
from wavecomp.ir import ConvLayer, ConvSource, Network, Node
from wavecomp.mcu import daisy_boards, daisy_fit
from wavecomp.mcu.daisy_boards import DEFAULT_BOARD
from wavecomp.mcu.graph_plan import (
    DTCM_STORE_BUDGET,
    GraphPlan,
    NodePlan,
    describe_sources,
    engine_summary,
    plan_graph,
)
from wavecomp.mcu.plan import (
    CMSIS_SOURCES,
    GRAPH_KERNEL,
    EmitError,
    EngineLayer,
    Kernel,
    Numerics,
    check_options,
    plan_layers,
)
from wavecomp.resources import firmware_dir
from wavecomp.templating import folder_templates

ENGINE_DIR = "engine"
SHIM_DIR = "cmsis_shim"
DAISY_DIR = "daisy"
ARM_DEFINES = ("ARM_MATH_CM7", "ARM_MATH_LOOPUNROLL")
"""CMSIS-DSP configuration for the Cortex-M7 (without LOOPUNROLL it falls back to scalar loops)."""

KERNEL_HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("q12", "fused"): ("wavecomp_q12_fused.h", "wavecomp_store.h"),
    ("q12", "cmsis"): ("wavecomp_q12_cmsis.h", "wavecomp_window.h"),
    ("f32", "fused"): ("wavecomp_f32_fused.h", "wavecomp_store.h"),
    ("f32", "cmsis"): ("wavecomp_f32_cmsis.h", "wavecomp_window.h"),
}
WEIGHT_TYPES = {
    ("q12", "cmsis"): "int16_t",
    ("f32", "cmsis"): "float",
}
NAMESPACES = {
    ("q12", "cmsis"): "q12_cmsis",
    ("f32", "cmsis"): "f32_cmsis",
}

CONTROL_RANGE = (0.0, 1.0)
"""Model-unit range a knob sweeps for a ``control`` input (the embedding range training uses)."""
DAISY_KNOBS = 4
DAISY_AUDIO_JACKS = 4
DAISY_BLOCK_SIZE = 48

# Audio levels (the README says where each number comes from).
PMOD_COUNTS_PER_MV = 4
"""eurorack-pmod: 16-bit codec counts per millivolt (±8 V ≈ ±32000 counts; FACTS.md)."""
PMOD_FULL_SCALE_V = 32768 / PMOD_COUNTS_PER_MV / 1000
PATCH_POST_GAIN = 0.5
"""``DaisyPatch::Init`` sets AudioHandle's postgain to 0.5 (libDaisy src/daisy_patch.cpp)."""
PATCH_FULL_SCALE_V = 10.0
"""Codec full scale at the Patch's jacks: Electrosmith give callback ±1.0 (post-gain applied)
as ±5 V (10 Vpp), and the codec clips at 20 Vpp, i.e. ±1/postgain = ±2.0 in the callback."""


def _float_literal(value: float) -> str:
    """A float32 C literal that round-trips exactly (every Q4.12 value is exact in float32)."""
    return f"{float(value)!r}f"


def _layer_context(
    layer: ConvLayer, plan: EngineLayer, numerics: str, rounding: fixed.Rounding
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
    ctx["weights"] = [str(v) for v in layer.weights.transpose(2, 0, 1).reshape(-1).tolist()]
    ctx["bias"] = [str(v) for v in bias_term]
    ctx["bias_type"] = "int32_t"
    return ctx


def _hex_words(words: Any) -> list[str]:
    return [f"0x{int(v):08x}u" for v in words]


def _node_body(n: NodePlan, plan: GraphPlan, numerics: Numerics) -> list[str]:
    """The C++ lines that add a node's sources, in order, into its accumulators (``acc``,
    ``w``, ``o0``). Each reads its tensor's newest column itself: hoisting those pointers out
    of the group loop costs registers and measured slower."""
    lines = []
    for s in n.node.sources:
        x = f"{plan.stores[s.tensor].symbol}.newest()"
        if isinstance(s, ConvSource):
            width = s.in_channels if numerics == "f32" else (s.in_channels + 1) // 2
            lines.append(f"accumulate<{s.kernel_size}, {s.dilation}, {width}>({x}, w, acc);")
        elif numerics == "f32":
            lines.append(f"add_identity({x} + o0, {_float_literal(2.0**-s.shift)}, acc);")
        else:
            scale = fixed.FRAC_BITS + n.node.shift - s.shift
            lines.append(f"add_identity<{scale}>({x} + o0 / 2, acc);")
    return lines


def _activation(n: NodePlan, numerics: Numerics, rounding: fixed.Rounding) -> str:
    """The C++ activation object for a node (``q12_fused::Linear``, ``f32_fused::Pwl`` ...)."""
    node = n.node
    if node.activation in ("linear", "relu"):
        return "Linear{}" if node.activation == "linear" else "Relu{}"
    if node.activation == "leaky_relu":
        if numerics == "f32":
            return f"LeakyRelu{{{_float_literal(node.slope / fixed.ONE)}}}"
        return f"LeakyRelu{{{node.slope}, {fixed.rounding_constant(rounding)}}}"
    return _pwl(n.tables[0], numerics, rounding)


def _pwl(table: int, numerics: Numerics, rounding: fixed.Rounding) -> str:
    """A ``Pwl`` over model table ``table`` (q12 also takes its interpolation rounding)."""
    if numerics == "f32":
        return f"Pwl{{model::kTable{table}}}"
    half = 1 << (fixed.TABLE_STEP_BITS - 1)
    return f"Pwl{{model::kTable{table}, {half if fixed.rounding_constant(rounding) else 0}}}"


def _graph_context(net: Network, plan: GraphPlan, rounding: fixed.Rounding) -> dict[str, Any]:
    """What the fused q12 templates (engine and model) need."""
    nodes = []
    for n in plan.nodes:
        node = n.node
        nodes.append(
            {
                "index": n.index,
                "name": node.name,
                "summary": _summary(node),
                "bound": n.bound,
                "accumulator": n.accumulator,
                "width": n.width,
                "store": n.store.symbol if n.store else None,
                "body": _node_body(n, plan, "q12"),
                "cpre": node.pre_channels,
                "cout": node.out_channels,
                "scale": fixed.FRAC_BITS + node.shift,
                "weights": f"model::kWeights{n.index}" if n.weights.size else "nullptr",
                "weight_words": _hex_words(n.weights),
                "bias": [str(v) for v in n.bias.tolist()],
                "gated": node.activation == "gated",
                "act": "" if node.activation == "gated" else _activation(n, "q12", rounding),
                "signal": _pwl(n.tables[0], "q12", rounding) if node.activation == "gated" else "",
                "gate": _pwl(n.tables[1], "q12", rounding) if node.activation == "gated" else "",
                "round": fixed.rounding_constant(rounding),
            }
        )
    return {**_stores_tables_gathers(net, plan, _hex_words), "nodes": nodes}


def _summary(node: Node) -> str:
    """A node in one line, for the generated files' comments."""
    return f"{describe_sources(node)} -> {node.pre_channels}, {node.activation}, shift {node.shift}"


def _stores_tables_gathers(
    net: Network, plan: GraphPlan, words: Callable[[np.ndarray], list[str]]
) -> dict[str, Any]:
    """The part of a fused engine's context both numerics share: the tensor stores, the tables
    (their values as C literals by ``words``) and, unless a node writes the outputs directly,
    where each output is gathered from."""
    readers: dict[int, list[str]] = {}
    for n in plan.nodes:
        for t in n.tables:
            readers.setdefault(t, []).append(n.node.name)
    tables = [
        {"index": i, "words": words(values), "readers": ", ".join(readers[i])}
        for i, values in enumerate(plan.tables)
    ]
    direct = any(n.store is None for n in plan.nodes)
    gathers = (
        []
        if direct
        else [
            {"index": i, "store": plan.stores[t].symbol, "tensor": t, "channel": c}
            for i, (t, c) in enumerate(net.outputs)
        ]
    )
    return {"stores": list(plan.stores.values()), "tables": tables, "gathers": gathers}


def _float_literals(values: np.ndarray) -> list[str]:
    """float32 weights, biases or knots as C literals that round-trip exactly."""
    return [_float_literal(v) for v in values.tolist()]


def _f32_graph_context(net: Network, plan: GraphPlan) -> dict[str, Any]:
    """What the fused f32 templates (engine and model) need."""
    nodes = []
    for n in plan.nodes:
        node = n.node
        gated = node.activation == "gated"
        nodes.append(
            {
                "index": n.index,
                "name": node.name,
                "summary": _summary(node),
                "store": n.store.symbol if n.store else None,
                "body": _node_body(n, plan, "f32"),
                "cpre": node.pre_channels,
                "cout": node.out_channels,
                "weights": f"model::kWeights{n.index}" if n.weights.size else "nullptr",
                "weight_words": _float_literals(n.weights),
                "bias": _float_literals(n.bias),
                "gated": gated,
                "act": "" if gated else _activation(n, "f32", "half_up"),
                "signal": _pwl(n.tables[0], "f32", "half_up") if gated else "",
                "gate": _pwl(n.tables[1], "f32", "half_up") if gated else "",
            }
        )
    return {**_stores_tables_gathers(net, plan, _float_literals), "nodes": nodes}


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


def _pedal_sources(net: Network) -> list[dict[str, Any]]:
    """Where a pedal gets each network input (``daisy_boards.pedal_sources``)."""
    defaults = {i: _float_literal(ch.default) for i, ch in enumerate(net.io.inputs)}
    return daisy_boards.pedal_sources(net, defaults)


def _output_sinks(net: Network) -> list[dict[str, Any]]:
    """Per Daisy Patch audio output: the network output it plays, if any."""
    by_jack = {ch.jack: (o, ch.name) for o, ch in enumerate(net.io.outputs) if ch.jack is not None}
    return [
        {"jack": j, "output": by_jack[j][0], "name": by_jack[j][1]}
        if j in by_jack
        else {"jack": j, "output": None, "name": None}
        for j in range(DAISY_AUDIO_JACKS)
    ]


def _levels(net: Network) -> dict[str, Any]:
    """Volts per model unit on both boards (eurorack-pmod convention, matched on the Patch)."""
    volts_per_unit = {
        side: fixed.ONE * (1 << shift) / PMOD_COUNTS_PER_MV / 1000
        for side, shift in (("in", net.io.input_shift), ("out", net.io.output_shift))
    }
    return {
        "volts_per_unit_in": volts_per_unit["in"],
        "volts_per_unit_out": volts_per_unit["out"],
        "pmod_full_scale_v": PMOD_FULL_SCALE_V,
        "patch_full_scale_v": PATCH_FULL_SCALE_V,
        "patch_post_gain": PATCH_POST_GAIN,
        "counts_per_mv": PMOD_COUNTS_PER_MV,
        "post_gain_literal": _float_literal(PATCH_POST_GAIN),
        "full_scale_literal": _float_literal(PATCH_FULL_SCALE_V),
        "counts_per_volt_literal": _float_literal(PMOD_COUNTS_PER_MV * 1000),
    }


def render(
    net: Network,
    *,
    numerics: Numerics = "q12",
    kernel: Kernel = "fused",
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    sample_rate: int = 48_000,
    board: str = DEFAULT_BOARD,
    require_fit: bool = True,
) -> dict[str, bytes]:
    """Every emitted file as bytes, keyed by its path relative to the output folder."""
    check_options(numerics, kernel, rounding, sample_rate)
    daisy = daisy_boards.board(board)
    summary = engine_summary(net, numerics, kernel, rounding)
    fit = daisy_fit.estimate(net, numerics=numerics, kernel=kernel, rounding=rounding)
    if require_fit and not fit.fits:
        hint = " (q12 keeps half the state of f32: try --numerics q12)" if numerics == "f32" else ""
        raise EmitError(f"network {net.name!r} {fit.verdict}{hint}")
    env = folder_templates(firmware_dir() / ENGINE_DIR, firmware_dir() / DAISY_DIR)
    common = {
        "version": wavecomp.__version__,
        "name": net.name,
        "fingerprint": net.fingerprint()[:16],
        "numerics": numerics,
        "kernel": kernel,
        "rounding": rounding,
        "sample_rate": sample_rate,
        "inputs": net.in_channels,
        "outputs": net.out_channels,
        "macs": net.macs_per_sample,
        "input_names": ", ".join(ch.name for ch in net.io.inputs),
        "output_names": ", ".join(ch.name for ch in net.io.outputs),
        "cmsis_sources": list(CMSIS_SOURCES.get((numerics, kernel), ())),
    }
    if kernel == GRAPH_KERNEL:
        graph = plan_graph(net, rounding, numerics)
        engine_ctx = {
            **common,
            **(
                _graph_context(net, graph, rounding)
                if numerics == "q12"
                else _f32_graph_context(net, graph)
            ),
        }
        templates = (f"wavecomp_engine_{numerics}.cpp.j2", f"wavecomp_model_{numerics}.h.j2")
        window = 0
    else:
        plans = plan_layers(net, numerics, kernel, rounding)
        window = max(p.kernel_size * p.in_channels for p in plans)
        engine_ctx = {
            **common,
            "layers": [
                _layer_context(layer, plan, numerics, rounding)
                for layer, plan in zip(net.layers, plans, strict=True)
            ],
            "kernel_header": KERNEL_HEADERS[(numerics, kernel)][0],
            "namespace": NAMESPACES.get((numerics, kernel), ""),
            "window": window,
            "weight_type": WEIGHT_TYPES[(numerics, kernel)],
            "per_line": 6 if numerics == "f32" else 8,
        }
        templates = ("wavecomp_engine.cpp.j2", "wavecomp_model.h.j2")
    engine_ctx["node_count"] = len(net.nodes)
    daisy_ctx = {
        **common,
        **_levels(net),
        "input_shift": net.io.input_shift,
        "output_shift": net.io.output_shift,
        "board": daisy,
        "sources": _pedal_sources(net) if daisy.is_pedal else _input_sources(net),
        "output_name": net.io.outputs[0].name,
        "max_input_gain": daisy_boards.MAX_INPUT_GAIN,
        "max_input_gain_literal": _float_literal(daisy_boards.MAX_INPUT_GAIN),
        "sinks": _output_sinks(net),
        "block_size": DAISY_BLOCK_SIZE,
        "control_lo": CONTROL_RANGE[0],
        "control_hi": CONTROL_RANGE[1],
        "control_lo_literal": _float_literal(CONTROL_RANGE[0]),
        "control_hi_literal": _float_literal(CONTROL_RANGE[1]),
        "defines": list(ARM_DEFINES),
        "target": "wavecomp_" + "".join(c if c.isalnum() else "_" for c in net.name.lower()),
        "fit": fit,
        "app_type": fit.app_type,
        "clock_mhz": daisy_fit.CLOCK_HZ // 1_000_000,
    }
    doc_ctx = {
        **daisy_ctx,
        "rows": summary.rows,
        "params": net.params,
        "receptive_field": net.receptive_field,
        "cycles": daisy_fit.CLOCK_HZ // sample_rate,
        "weight_bytes": summary.weight_bytes,
        "cache_bytes": summary.cache_bytes,
        "spill_bytes": summary.spill_bytes,
        "dtcm_store_budget": DTCM_STORE_BUDGET,
        "window_bytes": (2 if numerics == "q12" else 4) * window,
        "dtcm_kib": daisy_fit.MEMORIES["DTCM"] // 1024,
        "libdaisy_flash": daisy_fit.LIBDAISY_PATCH_FLASH,
    }
    shim = firmware_dir() / ENGINE_DIR / SHIM_DIR / "cmsis_compiler.h"
    files: dict[str, str | bytes] = {
        f"{ENGINE_DIR}/wavecomp_engine.h": env.get_template("wavecomp_engine.h.j2").render(
            engine_ctx
        ),
        f"{ENGINE_DIR}/wavecomp_engine.cpp": env.get_template(templates[0]).render(engine_ctx),
        f"{ENGINE_DIR}/wavecomp_model.h": env.get_template(templates[1]).render(engine_ctx),
        f"{ENGINE_DIR}/{SHIM_DIR}/cmsis_compiler.h": shim.read_bytes(),
        f"{DAISY_DIR}/main.cpp": env.get_template(daisy.template).render(daisy_ctx),
        f"{DAISY_DIR}/Makefile": env.get_template("Makefile.j2").render(daisy_ctx),
        "README.md": env.get_template("README.md.j2").render(doc_ctx),
        "report.md": env.get_template("report.md.j2").render(doc_ctx),
    }
    for header in KERNEL_HEADERS[(numerics, kernel)]:
        files[f"{ENGINE_DIR}/{header}"] = (firmware_dir() / ENGINE_DIR / header).read_bytes()
    return {
        path: data.encode() if isinstance(data, str) else data
        for path, data in sorted(files.items())
    }
