"""The package as a user installs it: a wheel, non-editable, into a fresh venv, used from a
folder outside the checkout.

Why: an editable install finds hdl/, firmware/ and boards/ in the checkout, so it hides a
wheel that forgot them, or a module that reaches the repository by a relative path. This
test builds the wheel from the tracked files only, installs it with the dependencies it
declares (versions held to requirements.lock), and runs the three commands that need the
shipped folders: `build --target ecp5`, `emit-cmsis` and `sim --target rtl`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}"
    return output


def _tracked_copy(dest: Path) -> Path:
    """The files git tracks (plus new, not ignored ones): what a clean clone holds."""
    listed = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], REPO)
    for rel in filter(None, listed.split("\0")):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding the wheel and only its declared dependencies."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = _tracked_copy(tmp / "src")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(source),
        ],
        tmp,
    )
    (wheel,) = (tmp / "dist").glob("wavecomp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "wavecomp/_share/hdl/wc_mac_array.sv",
        "wavecomp/_share/firmware/daisy/main.cpp.j2",
        "wavecomp/_share/boards/ecpix5_85f.toml",
        "wavecomp/_share/sim/harness/net_main.cpp",
        "wavecomp/rtl/templates/wavecomp_core.sv.j2",
        "wavecomp/models/default.npz",
    ):
        assert shipped in names, f"{shipped} missing from {wheel.name}"
    venv = tmp / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], tmp)
    uv = Path(sys.executable).parent / "uv"
    _run(
        [
            str(uv),
            "pip",
            "install",
            "--no-config",
            "--python",
            str(venv / "bin" / "python"),
            "-c",
            str(REPO / "requirements.lock"),
            str(wheel),
        ],
        tmp,
    )
    return venv / "bin"


def test_wheel_commands_run_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    # only the fresh venv and the system on PATH: nothing from the development .venv
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([str(installed), "/usr/local/bin", "/usr/bin", "/bin"])
    wavecomp = str(installed / "wavecomp")
    where = _run(
        [str(installed / "python"), "-c", "import wavecomp; print(wavecomp.__file__)"],
        tmp_path,
        env,
    )
    assert str(installed.parent) in where and str(REPO) not in where

    _run([wavecomp, "tone", "tri.wav", "--seconds", "0.25"], tmp_path, env)
    _run([wavecomp, "sim", "--target", "reference", "tri.wav", "ref.wav"], tmp_path, env)
    _run([wavecomp, "sim", "--target", "rtl", "tri.wav", "rtl.wav"], tmp_path, env)
    assert (tmp_path / "rtl.wav").read_bytes() == (tmp_path / "ref.wav").read_bytes()

    _run([wavecomp, "emit-cmsis", "--out", "daisy"], tmp_path, env)
    for rel in ("engine/wavecomp_engine.cpp", "daisy/main.cpp", "daisy/Makefile", "README.md"):
        assert (tmp_path / "daisy" / rel).is_file(), rel

    _run([wavecomp, "build", "--target", "ecp5", "--out", "ecp5"], tmp_path, env)
    bits = list((tmp_path / "ecp5").rglob("*.bit"))
    assert bits and bits[0].stat().st_size > 100_000
    assert (tmp_path / "ecp5" / "report.md").is_file()
