"""Write the per-model core: ``wavecomp_net.sv``, ``wavecomp_core.sv`` and memory images.

Everything written is a pure function of (network, schedule): same inputs give byte-identical
files, so a compiled core can be checked into a design and reproduced later.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import wavecomp
from wavecomp import fixed, program, resources
from wavecomp import schedule as sched_mod
from wavecomp.cache_plan import CacheMemory
from wavecomp.ir import Network
from wavecomp.rtl.program_word import bits_for, program_format
from wavecomp.templating import package_templates

HDL_LIBRARY = (
    "wc_rom",
    "wc_delay",
    "wc_sequencer",
    "wc_requant",
    "wc_drain",
    "wc_cache_ptrs",
    "wc_ring_ptr",
    "wc_cache_ram",
    "wc_mac_array",
)
ACTIVATION_MODULES = ("wc_activation", "wc_table_rom", "wc_group_queue")
"""Only in cores with leaky_relu, pwl or gated nodes."""
PROGRAM_FILE = "wc_program.hex"
WEIGHT_FILE = "wc_weights.hex"
BIAS_FILE = "wc_bias.hex"
TABLE_FILE = "wc_tables.hex"
ACTIVATION_MODES = {"leaky_relu": 1, "pwl": 2, "gated": 3}
"""hdl/wc_activation.sv's in_mode per activation (0 = pass)."""


@dataclass(frozen=True)
class CoreFiles:
    """What ``generate`` wrote. ``sources`` is everything a simulator/synthesiser reads."""

    out_dir: Path
    net_sv: Path
    core_sv: Path
    memory_images: tuple[Path, ...]
    library: tuple[Path, ...]

    @property
    def sources(self) -> list[Path]:
        return [*self.library, self.net_sv, self.core_sv]


def _hex_lines(words: list[int], width: int) -> str:
    digits = (width + 3) // 4
    return "".join(f"{w:0{digits}x}\n" for w in words)


def _pack(lanes: np.ndarray, lane_bits: int) -> int:
    """Lane i (two's complement, lane_bits wide) at bits [i*lane_bits +: lane_bits]."""
    word, mask = 0, (1 << lane_bits) - 1
    for i, v in enumerate(lanes.tolist()):
        word |= (int(v) & mask) << (i * lane_bits)
    return word


def memory_images(net: Network, sched: sched_mod.Schedule) -> dict[str, str]:
    fmt = program_format(sched)
    program = [fmt.encode(step) for step in sched.program]
    weights = sched_mod.weight_words(sched)  # (LEN, G, Q): lane g*Q+q
    bias = sched_mod.bias_words(sched)
    images = {
        PROGRAM_FILE: _hex_lines(program, fmt.width),
        WEIGHT_FILE: _hex_lines(
            [_pack(w.reshape(-1), 16) for w in weights], sched.g * sched.q * 16
        ),
        BIAS_FILE: _hex_lines([_pack(b, 16) for b in bias], sched.q * 16),
    }
    if sched.has_activation_unit:
        images[TABLE_FILE] = _hex_lines(table_words(net), 16)
    return images


def _unit_tables(net: Network) -> list[np.ndarray]:
    """The distinct tables (a network with only leaky_relu nodes still gets one all-zero)."""
    return sched_mod.distinct_tables(net) or [np.zeros(fixed.TABLE_SIZE, np.int16)]


def table_words(net: Network) -> list[int]:
    """The activation unit's dual-port ROM (hdl/wc_table_rom.sv, one DP16KD per table):
    knots L[0..1023] of every distinct table; the last knots are ``table_ends``."""
    return [int(v) & 0xFFFF for table in _unit_tables(net) for v in table[:-1]]


def table_ends(net: Network) -> str:
    """wc_table_rom's TABLE_ENDS: table t's knot L[1024] at bits [16*t +: 16]."""
    ends = np.array([table[-1] for table in _unit_tables(net)])
    return f"{16 * len(ends)}'h{_pack(ends, 16):0{4 * len(ends)}x}"


def _activation_nodes(net: Network) -> list[dict]:
    """wc_activation's per-node inputs (mode, slope, table indices, gated half)."""
    tables = sched_mod.distinct_tables(net)

    def index(table: np.ndarray) -> int:
        return next(k for k, t in enumerate(tables) if np.array_equal(t, table))

    rows = []
    for i, node in enumerate(net.nodes):
        if node.activation not in ACTIVATION_MODES:
            continue
        indices = [index(t) for t in node.tables] + [0, 0]
        rows.append(
            {
                "index": i,
                "mode": ACTIVATION_MODES[node.activation],
                "slope": _int16_literal(node.slope),
                "table_a": indices[0],
                "table_b": indices[1],
                "half": node.out_channels if node.activation == "gated" else 0,
            }
        )
    return rows


def _net_context(net: Network, sched: sched_mod.Schedule) -> dict:
    """Template values; the structure comes from ``sched.network`` (the model plus output
    copies), the name and fingerprint from the model."""
    hw = sched.network
    fmt = program_format(sched)
    g = sched.g
    in_words = program.input_words(net, g)
    pad = in_words * g * 16 - net.in_channels * 16
    # for a beat starting at channel v: the drain lane that lands in bank b, and its word
    bank_w = bits_for(g - 1)
    max_channels = max(node.pre_channels for node in hw.nodes)
    routes = [
        [((b - v) % g, (v + (b - v) % g) // g) for b in range(g)] for v in range(max_channels)
    ]
    node_ids = {node.name: i for i, node in enumerate(hw.nodes)}
    written = [t for t in sched.tensors if t.index > 0]
    slots = {t.index: k for k, t in enumerate(written)}
    return {
        "version": wavecomp.__version__,
        "name": net.name,
        "fingerprint": net.fingerprint()[:16],
        "g": g,
        "q": sched.q,
        "acc_bits": sched.acc_bits,
        "program_length": sched.program_length,
        "cycles_used": sched.cycles_used,
        "cycles_per_sample": sched.budget.cycles_per_sample,
        "rounding": sched.rounding,
        "latency": sched.latency_samples,
        "pc_w": bits_for(sched.program_length - 1),
        "prog_w": fmt.width,
        "node_w": fmt.node_w,
        "mem_w": max(1, fmt.mem_w),
        "sel_w": fmt.sel_w,
        "lagw_w": fmt.lagw_w,
        "word_w": fmt.word_w,
        "operand_latency": program.FRONT_LATENCY - 3,
        "gid_w": fmt.gid_w,
        "ch_w": fmt.ch_w,
        "f": fmt.slices(),
        "n_groups": sched.n_groups,
        "mac_latency": program.mac_latency(g),
        "in_words": in_words,
        "in_word_w": max(fmt.word_w, bits_for(in_words)),
        "in_latch_expr": f"{{{pad}'d0, in_data}}" if pad else "in_data",
        "in_channels": net.in_channels,
        "out_channels": net.out_channels,
        "bank_w": bank_w,
        "routes": routes if written else [],
        "max_channels": max_channels,
        "d": sched.d,
        "max_shift": sched.max_shift,
        "unsigned_w": int(sched.unsigned_weights),
        "tensors": [{"index": t.index, "slot": slots.get(t.index, 0)} for t in sched.tensors],
        "memories": [_memory_context(m, sched, slots) for m in sched.memories],
        "multi_mem": len(sched.memories) > 1,
        "written": written,
        "nodes": [{"index": p.index, "tau": p.tau} for p in sched.nodes],
        "warm_w": bits_for(sched.latency_samples + 1),
        "outputs": [
            {"index": o, "node": node_ids[tensor], "channel": channel}
            for o, (tensor, channel) in enumerate(hw.outputs)
        ],
        "act": sched.has_activation_unit,
        "act_latency": program.ACTIVATION_LATENCY,
        "act_nodes": _activation_nodes(hw),
        "n_tables": max(1, sched.n_tables),
        "tbl_w": bits_for(max(1, sched.n_tables) - 1),
        "gate_depth": max(1, sched.gate_depth),
        "half_up": int(sched.rounding == "half_up"),
        "rounding_constants": [
            fixed.rounding_constant(sched.rounding, e) for e in range(sched.max_shift + 1)
        ],
        "table_file": TABLE_FILE,
        "table_ends": table_ends(hw),
        "program_file": PROGRAM_FILE,
        "weight_file": WEIGHT_FILE,
        "bias_file": BIAS_FILE,
    }


def _memory_context(mem: CacheMemory, sched: sched_mod.Schedule, slots: dict[int, int]) -> dict:
    """One packed cache memory: its rings' constants as wc_cache_ptrs' packed parameters."""
    plans = {t.index: t for t in sched.tensors}
    rings = [plans[t] for t in mem.tensors]
    addr_w = bits_for(mem.depth)

    def packed(values: list[int]) -> str:  # ring t at [t*ADDR_W +: ADDR_W]: highest first
        return "{" + ", ".join(f"{addr_w}'d{v}" for v in reversed(values)) + "}"

    return {
        "index": mem.index,
        "style": mem.style,
        "depth": mem.depth,
        "addr_w": addr_w,
        "n": len(rings),
        "sel_w": bits_for(len(rings) - 1),
        "names": ", ".join(t.name for t in rings),
        "bases": packed(list(mem.bases)),
        "sizes": packed([t.region for t in rings]),
        "words": packed([t.used_words for t in rings]),
        "spanws": packed([t.region for t in rings]),
        "rings": [
            {
                "sel": sel,
                "node": t.index - 1 if t.index else None,
                "slot": slots.get(t.index, 0),
            }
            for sel, t in enumerate(rings)
        ],
        "input_sel": next((sel for sel, t in enumerate(rings) if t.index == 0), None),
        "has_nodes": any(t.index for t in rings),
    }


def _int16_literal(raw: int) -> str:
    return f"16'sd{raw}" if raw >= 0 else f"-16'sd{-raw}"


def _q12_literal(value: float) -> str:
    return _int16_literal(int(fixed.to_q12(value)))


def _core_context(net: Network, sched: sched_mod.Schedule) -> dict:
    io = net.io
    inputs = []
    for ch in io.inputs:
        if ch.jack is not None:
            expr = f"sample_in{ch.jack} >>> {io.input_shift}"
            source = f"sample_in{ch.jack} >>> {io.input_shift} ({ch.kind})"
        else:
            expr = _q12_literal(ch.default)
            source = f"constant {ch.default:g} ({ch.kind})"
        inputs.append({"name": ch.name, "expr": expr, "source": source})
    by_jack = {ch.jack: o for o, ch in enumerate(io.outputs) if ch.jack is not None}
    outputs = []
    for jack in range(4):
        if jack in by_jack:
            o = by_jack[jack]
            outputs.append(
                {
                    "jack": jack,
                    "expr": f"to_codec(net_out[{16 * o} +: 16])",
                    "source": f"{io.outputs[o].name} <<< {io.output_shift}, saturated",
                }
            )
        else:
            outputs.append({"jack": jack, "expr": "16'sd0", "source": "silence (no output mapped)"})
    return {
        "version": wavecomp.__version__,
        "name": net.name,
        "fingerprint": net.fingerprint()[:16],
        "inputs": inputs,
        "outputs": outputs,
        "input_shift": io.input_shift,
        "output_shift": io.output_shift,
        "in_channels": net.in_channels,
        "out_channels": net.out_channels,
        "latency": sched.latency_samples,
        "cycles_per_sample": sched.budget.cycles_per_sample,
    }


def generate(net: Network, sched: sched_mod.Schedule, out_dir: str | Path) -> CoreFiles:
    """Write the core into out_dir (created); returns the file list."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = package_templates("wavecomp.rtl", "templates")
    net_sv = out_dir / "wavecomp_net.sv"
    core_sv = out_dir / "wavecomp_core.sv"
    net_sv.write_text(env.get_template("wavecomp_net.sv.j2").render(**_net_context(net, sched)))
    core_sv.write_text(env.get_template("wavecomp_core.sv.j2").render(**_core_context(net, sched)))
    images = []
    for name, text in memory_images(net, sched).items():
        (out_dir / name).write_text(text)
        images.append(out_dir / name)
    (out_dir / "schedule.json").write_text(json.dumps(sched.summary(), indent=2) + "\n")
    modules = HDL_LIBRARY + (ACTIVATION_MODULES if sched.has_activation_unit else ())
    library = tuple(resources.hdl_dir() / f"{name}.sv" for name in modules)
    return CoreFiles(out_dir, net_sv, core_sv, tuple(images), library)


def copy_library(files: CoreFiles) -> CoreFiles:
    """Copy the hdl/ library next to the generated top (for a self-contained drop-in core)."""
    copied = []
    for src in files.library:
        dst = files.out_dir / src.name
        shutil.copyfile(src, dst)
        copied.append(dst)
    return CoreFiles(files.out_dir, files.net_sv, files.core_sv, files.memory_images, tuple(copied))
