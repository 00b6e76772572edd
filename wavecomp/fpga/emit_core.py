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

The folder is written all-or-nothing through ``wavecomp.output_dir.writing_folder``: a user
points this at a folder inside their gateware checkout, where a half-written core would fail
synthesis in confusing ways, and a typo must never wipe someone's unrelated files. The README
comes from ``emit_core_readme.md.j2``.
"""

from __future__ import annotations

import re
from pathlib import Path

from wavecomp import fixed, targets
from wavecomp import schedule as sch
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.output_dir import MARKER, writing_folder
from wavecomp.rtl.generate import HDL_LIBRARY, copy_library, generate
from wavecomp.templating import render_document

GENERATED_MODULE = "wavecomp_core"
"""The module name the RTL template writes (renamed to ``module_name`` here)."""
RESERVED_NAMES = frozenset({"wavecomp_net", *HDL_LIBRARY})
UPSTREAM_REPO = "https://github.com/apfelaudio/eurorack-pmod"
UPSTREAM_BOARDS = {  # upstream's ECP5 boards (gateware/boards/<BOARD>/Makefile) and their parts
    "ecpix5": "LFE5UM5G-85F",
    "colorlight_i9": "LFE5U-45F",
    "colorlight_i5": "LFE5U-25F",
    "tiliqua": "LFE5U-45F",
}
UPSTREAM_LINT_INCLUDES = "-Icores -Icores/util/wavecomp"
"""How upstream's scripts/verilator_lint.sh lints a core (in gateware/), plus our folder."""
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


Row = tuple[str, str, str, str]


def _jack_rows(
    jack: str, direction: str, used: dict[int, str], scaling: str, unused: str
) -> list[Row]:
    """One row per jack 0..3: the channel on it, or ``unused``."""
    return [
        (f"{jack}{j}", direction, used[j], scaling)
        if j in used
        else (f"{jack}{j}", direction, unused, "—")
        for j in range(4)
    ]


def io_rows(net: Network) -> list[Row]:
    """(jack, direction, network channel, scaling) for the README's I/O table."""
    io = net.io
    inputs = {ch.jack: f"`{ch.name}` ({ch.kind})" for ch in io.inputs if ch.jack is not None}
    outputs = {ch.jack: f"`{ch.name}`" for ch in io.outputs if ch.jack is not None}
    in_scaling = f"sample >>> {io.input_shift}: 1.0 = {_volts(io.input_shift):g} V"
    out_scaling = f"y <<< {io.output_shift}, saturated: 1.0 = {_volts(io.output_shift):g} V"
    return [
        *_jack_rows("in", "input", inputs, in_scaling, "not used"),
        *_jack_rows("out", "output", outputs, out_scaling, "none (silence, 0)"),
        *(
            ("—", "constant", f"`{ch.name}` ({ch.kind})", f"held at {ch.default:g}")
            for ch in io.inputs
            if ch.jack is None
        ),
    ]


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
    cps = sched.budget.cycles_per_sample
    return render_document(
        "wavecomp.fpga",
        "emit_core_readme.md.j2",
        module=module_name,
        core_file=f"{module_name}.sv",
        support=["wavecomp_net.sv", *library],
        images=images,
        net_name=net.name,
        fingerprint=net.fingerprint()[:16],
        nodes=len(net.nodes),
        macs=net.macs_per_sample,
        s=sched,
        cps=cps,
        block_rams=sched.block_ram_estimate(),
        parts_that_fit=_parts_that_fit(sched.multipliers),
        trained=f"{net.io.sample_rate} Hz" if net.io.sample_rate else "not recorded",
        io_rows=io_rows(net),
        rate_hz=rate_hz,
        clock_mhz=rate_hz * cps / 1e6,
        upstream=UPSTREAM_REPO,
        upstream_boards=UPSTREAM_BOARDS,
        lint_command=f"verilator --lint-only {UPSTREAM_LINT_INCLUDES} {module_name}.sv",
        marker=MARKER,
    )


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
    quotes: the core runs once per strobe whatever the rate. Raises ``OutputFolderError`` if
    ``out_dir`` is a non-empty folder wavecomp did not write (checked before any work), and
    ``ScheduleError`` if the network does not fit.
    """
    _check_module_name(module_name)
    if rate_hz <= 0 or cycles_per_sample <= 0:
        raise EmitCoreError("rate_hz and cycles_per_sample must be positive")
    with writing_folder(out_dir, writer="wavecomp build --emit-core", option="--emit-core") as tmp:
        sched = sch.schedule(
            net, sch.Budget(cycles_per_sample=cycles_per_sample), rounding=rounding
        )
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
    return Path(out_dir).absolute()
