"""Write a network as an Amaranth package: ``wavecomp emit-amaranth``.

Why a package that needs only Amaranth: Tiliqua builds with its own Python and Amaranth pins
and constructs a DSP core with no arguments, so the core must import without wavecomp and carry
its network with it. The package is ``stream_core.py`` (copied unchanged: the component), an
``__init__.py`` that binds it to this network's files and figures, the SystemVerilog sources and
memory images, and a README with the Tiliqua and plain-Amaranth steps. It is written
all-or-nothing (``wavecomp.output_dir``) and is a pure function of its inputs, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import wavecomp
from wavecomp import fixed, targets
from wavecomp.amaranth import stream_core
from wavecomp.amaranth.network_core import (
    TILIQUA_CYCLES_PER_SAMPLE,
    TILIQUA_PART,
    NetworkCoreError,
    prepare_core,
)
from wavecomp.fpga.emit_core import io_rows
from wavecomp.ir import Network
from wavecomp.output_dir import MARKER, check_folder, writing_folder
from wavecomp.templating import package_templates, render_document

CLASS_NAME = "WavecompCore"
WRITER = "wavecomp emit-amaranth"
TILIQUA_SYNC_HZ = 60_000_000
TILIQUA_COMMIT = "74e98af (2026-07-04)"
"""The Tiliqua tree the README's file names and symbols were read from."""


def _package_name(out_dir: Path) -> str:
    """The folder's name, which is the Python package users import: it must be an identifier."""
    name = Path(out_dir).absolute().name
    if not name.isidentifier() or name in ("wavecomp", "tiliqua", "amaranth"):
        raise NetworkCoreError(
            f"--out {out_dir}: the folder's name {name!r} is the Python package users import, "
            "so it must be a Python identifier other than wavecomp, tiliqua or amaranth; "
            "e.g. --out build/amaranth/wavecomp_core"
        )
    return name


def emit_amaranth(
    net: Network,
    out_dir: str | Path,
    *,
    cycles_per_sample: int = TILIQUA_CYCLES_PER_SAMPLE,
    domain: str = "sync",
    part: str = TILIQUA_PART,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    rate_hz: int = 48_000,
) -> Path:
    """Write the package for ``net`` into ``out_dir``; returns its absolute path.

    ``rate_hz`` only sets the README's latency in milliseconds. Raises ``NetworkCoreError``
    for an option that cannot work (before any work) and ``OutputFolderError`` for a folder
    wavecomp must not replace.
    """
    package = _package_name(Path(out_dir))
    check_folder(Path(out_dir), writer=WRITER, option="--out")
    sched, sources = prepare_core(net, cycles_per_sample, domain, part, rounding)
    tiliqua = domain == "sync" and cycles_per_sample == TILIQUA_CYCLES_PER_SAMPLE
    context = {
        "version": wavecomp.__version__,
        "fingerprint": net.fingerprint()[:16],
        "net_name": net.name,
        "package_name": package,
        "class_name": CLASS_NAME,
        "files": list(sources),
        "cycles_per_sample": cycles_per_sample,
        "cycles_used": sched.cycles_used,
        "latency": sched.latency_samples,
        "latency_ms": 1000 * sched.latency_samples / rate_hz,
        "rate_hz": rate_hz,
        "domain": domain,
        "domain_note": (
            f"Tiliqua's sync, {TILIQUA_SYNC_HZ / 1e6:g} MHz at 48 kHz"
            if tiliqua
            else f"{domain} clock / sample rate"
        ),
        "handshake": stream_core.HANDSHAKE_CLOCKS,
        "queue_depth": stream_core.QUEUE_DEPTH,
        "macs": net.macs_per_sample,
        "nodes": len(net.nodes),
        "s": sched,
        "block_rams": sched.block_ram_estimate(),
        "part": part,
        "part_mult18": targets.ECP5_PARTS[part].mult18,
        "part_dp16kd": targets.ECP5_PARTS[part].dp16kd,
        "input_shift": net.io.input_shift,
        "output_shift": net.io.output_shift,
        "io_rows": io_rows(net),
        "marker": MARKER,
        "tiliqua_commit": TILIQUA_COMMIT,
    }
    init = package_templates("wavecomp.amaranth").get_template("package_init.py.j2")
    with writing_folder(Path(out_dir), writer=WRITER, option="--out") as tmp:
        for name, text in sources.items():
            (tmp / name).write_text(text)
        (tmp / "stream_core.py").write_text(Path(stream_core.__file__).read_text())
        (tmp / "__init__.py").write_text(init.render(**context))
        (tmp / "README.md").write_text(
            render_document("wavecomp.amaranth", "readme.md.j2", **context)
        )
    return Path(out_dir).absolute()
