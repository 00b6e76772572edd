"""Long renders through the generated RTL: Verilator + a small C++ main, no cocotb.

cocotb steps every clock from Python (~1,200 samples/s on the default model);
``net_main.cpp`` (``wavecomp.resources.sim_harness_dir()``) drives ``wavecomp_net`` from C++
at ~50,000 samples/s (256 cycles/sample), so whole WAV files can go through the real core.
Builds live in the build cache (``wavecomp.cache.build_once``) keyed by a hash of everything
that goes into the binary and its memory images, so rendering a second file through the same
core skips the build. The model is built to start from random state when asked
(``random_seed``): real hardware powers up in no known state, and only the reset may be
relied on.
"""

from __future__ import annotations

import importlib.metadata
import os
import shlex
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavecomp import cache, resources
from wavecomp import schedule as sched_mod
from wavecomp.ir import Network
from wavecomp.rtl.generate import copy_library, generate
from wavecomp.rtl.verilator import (
    RANDOM_STATE_BUILD_ARGS,
    ToolError,
    random_state_plusargs,
    verilator_env,
    verilator_path,
)

HARNESS = "net_main.cpp"
TOP = "wavecomp_net"
BINARY = "Vwavecomp_net"
STIMULUS_MAGIC = 0x31494357  # "WCI1" as a little-endian uint32; net_main.cpp checks it
CACHE_FORMAT = 2
"""Bump when the cache folder's layout or the harness protocol changes."""
VERILATOR_ARGS = (
    "--cc",
    "--exe",
    "--build",
    "-O3",
    *RANDOM_STATE_BUILD_ARGS,
    "-j",
    "2",
    "-Wno-fatal",  # lint is tests/test_hdl_lint.py's job; a warning must not stop a render
    # the model's C++ at -O2 instead of verilated.mk's -Os: ~1.5x the samples/s
    "-MAKEFLAGS",
    "OPT_FAST=-O2 OPT_GLOBAL=-O2",
)

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``: ("build", 0, None) when a build starts, ("build", 1, 1)
when it is done (not called on a cache hit), then ("run", samples done, samples in total)."""


@dataclass(frozen=True)
class RtlModel:
    """A built core: the folder (memory images + binary) and how it was obtained."""

    folder: Path
    binary: Path
    cached: bool
    build_seconds: float


def default_cache_root() -> Path:
    """``<cache_root()>/rtl``: builds outlive the process that made them."""
    return cache.cache_root() / "rtl"


def channel_defines(net: Network) -> str:
    """net_main.cpp's compile-time port widths (shared with the gate-level check's build)."""
    return f"-DWC_IN_CHANNELS={net.in_channels} -DWC_OUT_CHANNELS={net.out_channels}"


def _log_tail(log: Path, lines: int = 12) -> str:
    """The first error lines of a log (else its last lines), for the exception message."""
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [ln for ln in text if "error" in ln.lower()]
    picked = errors[:lines] if errors else text[-lines:]
    return "\n".join(picked)


def build_rtl(
    net: Network,
    sched: sched_mod.Schedule,
    *,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> RtlModel:
    """Generate the core and build it with Verilator into ``<work_dir>/<hash>`` (cached).

    ``work_dir`` is the cache area (default ``default_cache_root()``). The entry holds the
    sources it was built from, the memory images, ``build.log`` and the binary. A failed
    build leaves no entry, only its log beside where the entry would be.
    """
    exe = verilator_path()
    area = Path(work_dir) if work_dir is not None else default_cache_root()
    with tempfile.TemporaryDirectory(prefix="wavecomp-rtl-") as tmp:
        # hash the copies that get built, so a concurrent edit of hdl/ or the harness can
        # never put one version's binary under another version's key
        source = Path(tmp)
        files = copy_library(generate(net, sched, source))
        shutil.copyfile(resources.sim_harness_dir() / HARNESS, source / HARNESS)
        inputs = [*files.library, files.net_sv, source / HARNESS, *files.memory_images]
        key = cache.content_key(
            [
                f"format {CACHE_FORMAT}",
                f"verilator {importlib.metadata.version('verilator')}",
                " ".join((*VERILATOR_ARGS, channel_defines(net))),
                *cache.files_for_key(inputs, source),
            ]
        )
        sv_names = sorted(p.name for p in [*files.library, files.net_sv])

        def build(staging: Path) -> None:
            for path in inputs:
                shutil.copyfile(path, staging / path.name)
            if progress:
                progress("build", 0, None)
            _verilate(exe, net, sv_names, staging, cache.log_path(area, key))
            if progress:
                progress("build", 1, 1)

        entry = cache.build_once(area, key, build, done=BINARY)
    return RtlModel(entry.path, entry.path / BINARY, entry.cached, entry.seconds)


def _verilate(exe: str, net: Network, sv_names: list[str], folder: Path, log: Path) -> None:
    """verilator --build in ``folder``; ToolError with the log's error lines on failure.

    The log is written beside the cache entry (it survives a failed build) and copied into
    the entry as ``build.log`` when the build succeeds.
    """
    cmd = [
        exe,
        *VERILATOR_ARGS,
        "--top-module",
        TOP,
        "-Mdir",
        "obj",
        "-o",
        BINARY,
        "-CFLAGS",
        channel_defines(net),
        *sv_names,
        HARNESS,
    ]
    with open(log, "w") as fh:
        fh.write(shlex.join(cmd) + "\n\n")
        fh.flush()
        try:
            code = subprocess.run(
                cmd, cwd=folder, stdout=fh, stderr=subprocess.STDOUT, env=verilator_env(exe)
            ).returncode
        except OSError as err:  # e.g. no perl for the verilator script
            fh.write(f"error: cannot start {exe}: {err}\n")
            code = -1
    if code != 0 or not (folder / "obj" / BINARY).is_file():
        raise ToolError(
            f"Verilator build of {TOP} for {net.name!r} failed (exit {code}); "
            f"full log: {log}\n{_log_tail(log)}"
        )
    shutil.copy2(folder / "obj" / BINARY, folder / BINARY)
    shutil.rmtree(folder / "obj")  # objects and makefiles: a run needs the binary only
    shutil.move(log, folder / "build.log")


def run_rtl(
    model: RtlModel,
    x: np.ndarray,
    *,
    out_channels: int,
    cycles_per_sample: int,
    latency: int,
    reset_at: int = 0,
    strobe_held_over_reset: bool = False,
    random_seed: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """Stream ``x`` (T, C_in) int16 through a built core; returns (T, C_out), latency removed.

    The verification knobs (net_main.cpp's protocol): ``reset_at`` > 0 resets the core again
    just before sample ``reset_at``; ``strobe_held_over_reset`` drives upstream
    eurorack-pmod's strobe pattern at every reset (high during it and two clocks after);
    ``random_seed`` > 0 starts every uninitialised register and memory bit random.
    """
    x = np.ascontiguousarray(x, dtype="<i2")
    n, c_in = x.shape
    if not 0 <= reset_at < max(n, 1):
        raise ValueError(f"reset_at={reset_at} must be in 0..{n - 1} (0: no mid-stream reset)")
    header = struct.pack(
        "<8I",
        STIMULUS_MAGIC,
        c_in,
        out_channels,
        n,
        cycles_per_sample,
        latency,
        reset_at,
        int(strobe_held_over_reset),
    )
    with tempfile.TemporaryDirectory(prefix="wavecomp-rtl-run-") as tmp:
        stim, out = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        stim.write_bytes(header + x.tobytes())
        if progress:
            progress("run", 0, n)
        try:
            proc = subprocess.Popen(
                [str(model.binary), str(stim), str(out), *random_state_plusargs(random_seed)],
                cwd=model.folder,  # $readmemh reads the images from the working directory
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as err:
            raise ToolError(
                f"cannot start the RTL model {model.binary} ({err.strerror}); delete "
                f"{model.folder} so the next render rebuilds it"
            ) from None
        messages = []
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("progress "):
                if progress:
                    done = int(line.split()[1])
                    progress("run", min(done, n), n)
            else:
                messages.append(line)
        code = proc.wait()
        if code != 0:
            log = model.folder / f"run-{os.getpid()}.log"
            log.write_text("".join(messages))
            detail = "".join(messages).strip() or f"exit status {code}"
            raise ToolError(f"RTL run of {model.binary} failed: {detail} (log: {log})")
        y = np.fromfile(out, dtype="<i2")
    if y.size != n * out_channels:
        raise ToolError(
            f"RTL run of {model.binary} wrote {y.size} values, expected {n} x {out_channels}; "
            "the build cache entry may be damaged: delete the folder and render again"
        )
    if progress:
        progress("run", n, n)
    return y.reshape(n, out_channels).astype(np.int16)


def render_rtl(
    net: Network,
    sched: sched_mod.Schedule,
    x: np.ndarray,
    *,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """Run Q4.12 inputs ``x`` (T, C_in) int16 through the generated core from reset.

    Returns int16 (T, C_out), aligned with ``x`` (the core's latency is removed), bit-exact
    with ``reference.run(net, x, rounding=sched.rounding)`` if the core is right. The strobe
    period is ``sched.budget.cycles_per_sample``. Raises ToolError when the build or the run
    fails (including the core raising ``fault``), naming the log file.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != net.in_channels:
        raise ValueError(
            f"inputs have shape {x.shape}; network {net.name!r} needs (T, {net.in_channels})"
        )
    if not np.issubdtype(x.dtype, np.integer) or (
        x.size and (x.min() < -(1 << 15) or x.max() >= 1 << 15)
    ):
        raise ValueError("inputs must be Q4.12 raw integers in the int16 range")
    cps = sched.budget.cycles_per_sample
    if cps < sched.cycles_used:
        raise ValueError(
            f"the schedule uses {sched.cycles_used} cycles/sample but its budget is {cps}: "
            "schedule with a budget of at least that many cycles"
        )
    model = build_rtl(net, sched, work_dir=work_dir, progress=progress)
    return run_rtl(
        model,
        x,
        out_channels=net.out_channels,
        cycles_per_sample=cps,
        latency=sched.latency_samples,
        progress=progress,
    )
