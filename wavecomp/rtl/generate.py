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
from wavecomp import resources
from wavecomp import schedule as sched_mod
from wavecomp.ir import Network
from wavecomp.rtl.program_word import bits_for, program_format
from wavecomp.templating import package_templates

HDL_LIBRARY = (
    "wc_rom",
    "wc_delay",
    "wc_sequencer",
    "wc_requant",
    "wc_drain",
    "wc_act_cache",
    "wc_mac_array",
)
PROGRAM_FILE = "wc_program.hex"
WEIGHT_FILE = "wc_weights.hex"
BIAS_FILE = "wc_bias.hex"


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
    weights = sched_mod.weight_words(net, sched)  # (LEN, G, Q): lane g*Q+q
    bias = sched_mod.bias_words(net, sched)
    return {
        PROGRAM_FILE: _hex_lines(program, fmt.width),
        WEIGHT_FILE: _hex_lines(
            [_pack(w.reshape(-1), 16) for w in weights], sched.g * sched.q * 16
        ),
        BIAS_FILE: _hex_lines([_pack(b, sched.acc_bits) for b in bias], sched.q * sched.acc_bits),
    }


def _net_context(net: Network, sched: sched_mod.Schedule) -> dict:
    fmt = program_format(sched)
    g = sched.g
    in_words = sched_mod.input_words(net, g)
    pad = in_words * g * 16 - net.in_channels * 16
    # for a beat starting at channel v: the drain lane that lands in bank b, and its word
    bank_w = bits_for(g - 1)
    max_channels = max(layer.out_channels for layer in net.layers)
    routes = [
        [((b - v) % g, (v + (b - v) % g) // g) for b in range(g)] for v in range(max_channels)
    ]
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
        "layer_w": fmt.layer_w,
        "lag_w": fmt.lag_w,
        "word_w": fmt.word_w,
        "gid_w": fmt.gid_w,
        "ch_w": fmt.ch_w,
        "f": fmt.slices(),
        "n_groups": sched.n_groups,
        "mac_latency": sched_mod.mac_latency(g),
        "in_words": in_words,
        "in_word_w": max(fmt.word_w, bits_for(in_words)),
        "in_latch_expr": f"{{{pad}'d0, in_data}}" if pad else "in_data",
        "in_channels": net.in_channels,
        "out_channels": net.out_channels,
        "n_layers": len(net.layers),
        "bank_w": bank_w,
        "routes": routes,
        "max_channels": max_channels,
        "d": sched.d,
        "layers": [
            {
                "index": p.index,
                "words": p.words,
                "col_w": p.cache_columns.bit_length() - 1,
                "span": p.span,
            }
            for p in sched.layers
        ],
        "program_file": PROGRAM_FILE,
        "weight_file": WEIGHT_FILE,
        "bias_file": BIAS_FILE,
    }


def _q12_literal(value: float) -> str:
    raw = int(wavecomp.fixed.to_q12(value))
    return f"16'sd{raw}" if raw >= 0 else f"-16'sd{-raw}"


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
    library = tuple(resources.hdl_dir() / f"{name}.sv" for name in HDL_LIBRARY)
    return CoreFiles(out_dir, net_sv, core_sv, tuple(images), library)


def copy_library(files: CoreFiles) -> CoreFiles:
    """Copy the hdl/ library next to the generated top (for a self-contained drop-in core)."""
    copied = []
    for src in files.library:
        dst = files.out_dir / src.name
        shutil.copyfile(src, dst)
        copied.append(dst)
    return CoreFiles(files.out_dir, files.net_sv, files.core_sv, files.memory_images, tuple(copied))
