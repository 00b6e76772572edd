"""The emitted Daisy Patch firmware against what libDaisy really does: flash use, levels, make.

libDaisy is not installable here, so ``main.cpp`` is compiled against a stub of the slice of
its API the firmware uses. The host stub also *runs* ``main()``: it models libDaisy's audio
conversion (post-gain and the 24-bit codec format, typed in below from libDaisy's sources),
so the callback's level mapping is checked numerically, and a stub core Makefile with
libDaisy's rule shapes checks that ``make RATE=...`` rebuilds.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import wavecomp
from wavecomp.inspection import fit_rows
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.mcu import cmsis_dsp, emit, plan

ARM_FLAGS = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"]
# FACTS.md: a Patch firmware with the default model (libDaisy HEAD 08f2965) is 104,604 B.
PATCH_FIRMWARE_DEFAULT_MODEL = 104_604
INTERNAL_FLASH = 128 * 1024

# libDaisy facts (src/daisy_patch.cpp, src/hid/audio.cpp, src/daisy_core.h): the Patch's codec
# words are 24-bit; in = s242f(word) / postgain, word = f2s24(out * postgain), postgain 0.5,
# f2s24 clamps to +-FBIPMAX and scales by 2^23. Electrosmith: callback +-1.0 = +-5 V, so codec
# full scale = +-10 V. eurorack-pmod: 4 codec counts per mV; the default model's I/O spec
# shifts by 2, so one Q4.12 raw unit is 1 mV.
POST_GAIN = 0.5
FBIPMAX = 0.999985
CODEC_FULL_SCALE_V = 10.0
RAW_PER_MV = 4 / 2**2

AUDIO_STUB = """\
struct SaiHandle {
  struct Config {
    enum class SampleRate { SAI_8KHZ, SAI_16KHZ, SAI_32KHZ, SAI_48KHZ, SAI_96KHZ };
  };
};
class AudioHandle {
 public:
  typedef const float* const* InputBuffer;
  typedef float** OutputBuffer;
  typedef void (*AudioCallback)(InputBuffer in, OutputBuffer out, size_t size);
};
"""
"""libDaisy's audio types (src/per/sai.h, src/hid/audio.h), shared by the board stubs."""
DAISY_PATCH_STUB = (
    """\
// Test stub: the slice of libDaisy's API the emitted main.cpp uses (signatures as libDaisy's).
#pragma once
#include <stddef.h>
#include <stdint.h>
namespace daisy {
struct FontDef { uint8_t FontWidth; uint8_t FontHeight; const uint16_t* data; };
extern FontDef Font_7x10;
"""
    + AUDIO_STUB
    + """\
struct OledDisplayStub {
  void Fill(bool on);
  void SetCursor(uint16_t x, uint16_t y);
  char WriteString(const char* str, FontDef font, bool on);
  void Update();
};
class DaisyPatch {
 public:
  enum Ctrl { CTRL_1, CTRL_2, CTRL_3, CTRL_4, CTRL_LAST };
  void Init(bool boost = false);
  void DelayMs(size_t del);
  void StartAudio(AudioHandle::AudioCallback cb);
  void SetAudioSampleRate(SaiHandle::Config::SampleRate samplerate);
  float AudioSampleRate();
  void SetAudioBlockSize(size_t size);
  size_t AudioBlockSize();
  void StartAdc();
  void ProcessAllControls();
  float GetKnobValue(Ctrl k);
  OledDisplayStub display;
};
}  // namespace daisy
"""
)
CPU_LOAD_STUB = """\
#pragma once
namespace daisy {
class CpuLoadMeter {
 public:
  void Init(float sampleRateInHz, int blockSizeInSamples, float smoothingFilterCutoffHz = 1.0f);
  void OnBlockStart();
  void OnBlockEnd();
  float GetAvgCpuLoad() const;
  float GetMinCpuLoad() const;
  float GetMaxCpuLoad() const;
  void Reset();
};
}  // namespace daisy
"""
# Runs main() once through on the host. WC_STUB selects what the first DelayMs does:
# "rate" prints the SAI rate; "levels" feeds one block of codec words (stdin: "word y" per
# sample) through the callback like libDaisy and prints "engine_input codec_word"; "load"
# plays 25 display periods whose CPU load is 95% in the first (start-up) and 40% after.
DAISY_STUB_CPP = """\
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daisy_patch.h"
#include "util/CpuLoadMeter.h"

double wc_engine_in[64];  // written by the stub engine, when it is linked in
double wc_engine_out[64];

namespace daisy {
FontDef Font_7x10 = {7, 10, nullptr};
namespace {
AudioHandle::AudioCallback callback;
SaiHandle::Config::SampleRate rate = SaiHandle::Config::SampleRate::SAI_8KHZ;
float max_load = NAN;
int draws = 0;
const float kPostGain = 0.5f, kFbipMax = 0.999985f;  // libDaisy daisy_patch.cpp, daisy_core.h
float s242f(int32_t word) { return (float)word * 1.192092896e-07f; }
int32_t f2s24(float x) {
  x = x <= -kFbipMax ? -kFbipMax : (x >= kFbipMax ? kFbipMax : x);
  return (int32_t)(x * 8388608.0f);
}
void levels() {
  static float in[4][64], out[4][64];
  const float* ins[4] = {in[0], in[1], in[2], in[3]};
  float* outs[4] = {out[0], out[1], out[2], out[3]};
  long word;
  double y;
  size_t n = 0;
  while (n < 48 && scanf("%ld %lf", &word, &y) == 2) {
    for (int c = 0; c < 4; ++c) in[c][n] = s242f((int32_t)word) * (1.0f / kPostGain);
    wc_engine_out[n++] = y;
  }
  callback(ins, outs, n);
  for (size_t i = 0; i < n; ++i) {
    printf("%.6f %d\\n", wc_engine_in[i], f2s24(out[0][i] * kPostGain));
  }
}
}  // namespace
void OledDisplayStub::Fill(bool) {}
void OledDisplayStub::SetCursor(uint16_t, uint16_t) {}
char OledDisplayStub::WriteString(const char* s, FontDef, bool) {
  printf("oled %s\\n", s);
  return 0;
}
void OledDisplayStub::Update() {}
void DaisyPatch::Init(bool) {}
void DaisyPatch::StartAudio(AudioHandle::AudioCallback cb) { callback = cb; }
void DaisyPatch::SetAudioSampleRate(SaiHandle::Config::SampleRate sr) { rate = sr; }
float DaisyPatch::AudioSampleRate() {
  return rate == SaiHandle::Config::SampleRate::SAI_96KHZ ? 96000.0f : 48000.0f;
}
void DaisyPatch::SetAudioBlockSize(size_t) {}
size_t DaisyPatch::AudioBlockSize() { return 48; }
void DaisyPatch::StartAdc() {}
void DaisyPatch::ProcessAllControls() {}
float DaisyPatch::GetKnobValue(Ctrl) { return 0.0f; }
void DaisyPatch::DelayMs(size_t) {
  const char* mode = getenv("WC_STUB");
  if (!mode || !strcmp(mode, "rate")) {
    printf("rate %.0f\\n", AudioSampleRate());
    exit(0);
  }
  if (!strcmp(mode, "levels")) {
    levels();
    exit(0);
  }
  if (++draws > 25) exit(0);
  const float load = draws == 1 ? 0.95f : 0.40f;
  if (!(max_load >= load)) max_load = load;
}
void CpuLoadMeter::Init(float, int, float) {}
void CpuLoadMeter::OnBlockStart() {}
void CpuLoadMeter::OnBlockEnd() {}
float CpuLoadMeter::GetAvgCpuLoad() const { return 0.40f; }
float CpuLoadMeter::GetMinCpuLoad() const { return 0.40f; }
float CpuLoadMeter::GetMaxCpuLoad() const { return max_load; }
void CpuLoadMeter::Reset() { max_load = NAN; }
}  // namespace daisy
"""
# Stands in for the engine: records input 0 and plays back the scripted outputs (raw units).
STUB_ENGINE_CPP = """\
#include "wavecomp_engine.h"
extern double wc_engine_in[64];
extern double wc_engine_out[64];
namespace wavecomp {
static int step;
void engine_reset() { step = 0; }
void engine_step(const sample_t* in, sample_t* out) {
  const double scale = sizeof(sample_t) == 2 ? 1.0 : 4096.0;  // q12 raw / f32 model units
  wc_engine_in[step] = in[0] * scale;
  for (int o = 0; o < kOutputs; ++o) out[o] = (sample_t)(wc_engine_out[step] / scale);
  ++step;
}
}  // namespace wavecomp
"""
# libDaisy's core/Makefile rule shapes (objects in build/, rebuilt when the source, a header
# seen by -MMD, or the project Makefile changes; nothing else), compiled for the host.
STUB_CORE_MAKEFILE = """\
BUILD_DIR = build
C_INCLUDES += -I$(LIBDAISY_DIR)/src -I$(LIBDAISY_DIR)/cmsis
CPP_SOURCES += $(LIBDAISY_DIR)/src/daisy_stub.cpp
CFLAGS = $(C_DEFS) $(C_INCLUDES) $(OPT) -MMD -MP -MF"$(@:%.o=%.d)"
CPPFLAGS = $(CFLAGS)
CPPFLAGS += -fno-exceptions -fno-rtti
CPP_STANDARD ?= -std=gnu++14
all: $(BUILD_DIR)/$(TARGET).elf
OBJECTS = $(addprefix $(BUILD_DIR)/,$(notdir $(CPP_SOURCES:.cpp=.o)))
vpath %.cpp $(sort $(dir $(CPP_SOURCES)))
$(BUILD_DIR)/%.o: %.cpp Makefile | $(BUILD_DIR)
\t$(CXX) -c $(CPPFLAGS) $(CPP_STANDARD) $< -o $@
$(BUILD_DIR)/$(TARGET).elf: $(OBJECTS) Makefile
\t$(CXX) $(OBJECTS) -o $@
$(BUILD_DIR):
\tmkdir $@
-include $(wildcard $(BUILD_DIR)/*.d)
"""


def libdaisy_stub(root: Path, engine_dir: Path) -> Path:
    """A stub libDaisy tree: headers, the host implementation, the core Makefile."""
    (root / "src" / "util").mkdir(parents=True)
    (root / "src" / "daisy_patch.h").write_text(DAISY_PATCH_STUB)
    (root / "src" / "util" / "CpuLoadMeter.h").write_text(CPU_LOAD_STUB)
    (root / "src" / "daisy_stub.cpp").write_text(DAISY_STUB_CPP)
    (root / "core").mkdir()
    (root / "core" / "Makefile").write_text(STUB_CORE_MAKEFILE)
    (root / "cmsis").mkdir()  # where libDaisy's CMSIS Core would be: our shim on the host
    shutil.copy(engine_dir / "cmsis_shim" / "cmsis_compiler.h", root / "cmsis")
    return root


def run(cmd: list[str], *, env: dict[str, str] | None = None, stdin: str = "") -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, input=stdin, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def run_firmware(binary: Path, mode: str, stdin: str = "") -> str:
    return run([str(binary)], env={**os.environ, "WC_STUB": mode}, stdin=stdin)


def host_firmware(result: emit.EmitResult, tmp_path: Path) -> Path:
    """main.cpp + the stub libDaisy + the stub engine, built for this machine."""
    stub = libdaisy_stub(tmp_path / "libDaisy", result.engine_dir)
    (tmp_path / "stub_engine.cpp").write_text(STUB_ENGINE_CPP)
    binary = tmp_path / "firmware"
    sources = [result.out_dir / "daisy" / "main.cpp", stub / "src" / "daisy_stub.cpp"]
    includes = [f"-I{stub / 'src'}", f"-I{result.engine_dir}"]
    run(
        [
            "g++",
            "-std=gnu++17",
            "-O1",
            *includes,
            *map(str, sources),
            str(tmp_path / "stub_engine.cpp"),
            "-o",
            str(binary),
        ]
    )
    return binary


def wide_network() -> Network:
    """4 -> 40 -> 40 -> 40 -> 4 (K = 4): its Patch firmware overflowed the internal flash."""
    rng = np.random.default_rng(40)
    sizes = [4, 40, 40, 40, 4]
    layers = []
    for i, (c_in, c_out) in enumerate(itertools.pairwise(sizes)):
        w = np.rint(rng.normal(0, 4096 / np.sqrt(4 * c_in), (4, c_in, c_out))).astype(np.int16)
        b = np.rint(rng.normal(0, 1024, c_out)).astype(np.int16)
        layers.append(ConvLayer(f"c{i}", w, b, 4**i, "relu" if i < 3 else "linear"))
    return Network(layers, IOSpec.default(4, 4), name="wide40")


# ---- flash: libDaisy counted -------------------------------------------------------------------
def daisy_row(net: Network) -> dict:
    (row,) = [r for r in fit_rows(net) if r["target"].startswith("Daisy")]
    return row


def flash_figure(text: str) -> int:
    return int(re.search(r"([\d,]+) B flash", text).group(1).replace(",", ""))


def test_inspect_and_report_count_libdaisy(tmp_path):
    row = daisy_row(wavecomp.load())
    assert row["fits"] and "internal flash" in row["target"]
    assert abs(flash_figure(row["need"]) - PATCH_FIRMWARE_DEFAULT_MODEL) <= 2048
    report = (emit.emit(wavecomp.load(), tmp_path / "out").out_dir / "report.md").read_text()
    (used,) = re.findall(r"\| flash \| ([\d,]+) B \| 131,072 B", report)
    assert abs(int(used.replace(",", "")) - PATCH_FIRMWARE_DEFAULT_MODEL) <= 2048
    assert "fits the Daisy's internal flash (APP_TYPE=BOOT_NONE)" in report


def test_a_firmware_too_big_for_internal_flash_uses_the_bootloader(tmp_path):
    net = wide_network()
    row = daisy_row(net)
    assert not row["fits"]
    assert flash_figure(row["need"]) > INTERNAL_FLASH
    assert "Daisy bootloader (APP_TYPE=BOOT_SRAM" in row["need"]
    out = emit.emit(net, tmp_path / "out").out_dir
    report = (out / "report.md").read_text()
    assert "does not fit the internal flash" in report and "APP_TYPE=BOOT_SRAM" in report
    assert "APP_TYPE ?= BOOT_SRAM" in (out / "daisy" / "Makefile").read_text()
    readme = (out / "README.md").read_text()
    assert "does not fit the Daisy's 128 KB internal flash" in readme
    assert readme.index("make program-boot") < readme.index("make program-dfu")


# ---- levels: libDaisy's post-gain undone, a model unit the same volts as on the pmod ----------
CODEC_WORDS = [2**23 - 1, -(2**23), 2**22, -(2**22), 1 << 10, -12345, 0, 3_000_000]
ENGINE_OUTPUTS = [10_000, -10_000, 5_000, -5_000, 32_767, -32_768, 0, 1_234]


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("numerics", plan.NUMERICS)
def test_patch_levels_undo_the_post_gain(numerics, tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out", numerics=numerics)
    binary = host_firmware(result, tmp_path)
    stdin = "".join(f"{w} {y}\n" for w, y in zip(CODEC_WORDS, ENGINE_OUTPUTS, strict=True))
    lines = run_firmware(binary, "levels", stdin).split("\n")[: len(CODEC_WORDS)]
    got = np.array([[float(v) for v in line.split()] for line in lines])
    engine_in, codec_out = got[:, 0], got[:, 1]
    # in: codec word -> volts at the jack -> pmod raw units (1 mV each)
    want_in = np.array(CODEC_WORDS) / 2**23 * CODEC_FULL_SCALE_V * 1000 * RAW_PER_MV
    tolerance = 0.5 if numerics == "q12" else 1e-3  # q12 rounds to integers
    assert np.all(np.abs(engine_in - want_in) <= tolerance + 1e-3), (engine_in, want_in)
    assert engine_in[0] > 9_999 and engine_in[1] <= -9_999  # full scale is not clipped
    # out: raw units -> volts -> codec word, as libDaisy writes it (f2s24 of out * postgain)
    fraction = np.array(ENGINE_OUTPUTS) / RAW_PER_MV / 1000 / CODEC_FULL_SCALE_V
    want_out = np.trunc(np.clip(fraction, -FBIPMAX, FBIPMAX) * 2**23)
    assert np.all(np.abs(codec_out - want_out) <= 1), (codec_out, want_out)
    assert codec_out[0] == codec_out[4] == np.trunc(FBIPMAX * 2**23)  # reaches full scale
    assert codec_out[2] == 2**22  # half scale: 5 V


# ---- the CPU-load peak restarts every second --------------------------------------------------
@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_cpu_peak_is_the_last_windows(tmp_path):
    binary = host_firmware(emit.emit(wavecomp.load(), tmp_path / "out"), tmp_path)
    shown = [ln for ln in run_firmware(binary, "load").splitlines() if "CPU" in ln]
    assert len(shown) == 25
    assert shown[9] == "oled CPU 40% max 95%"  # the first second holds the start-up block
    assert shown[19] == "oled CPU 40% max 40%"  # and the next one does not


# ---- make: a change of RATE rebuilds ----------------------------------------------------------
@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_make_rebuilds_when_rate_changes(tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out")
    stub = libdaisy_stub(tmp_path / "libDaisy", result.engine_dir)
    daisy = result.out_dir / "daisy"
    binary = daisy / "build" / "wavecomp_fpga.elf"
    main_o = daisy / "build" / "main.o"

    def make(*args: str) -> str:
        return run(["make", "-C", str(daisy), f"LIBDAISY_DIR={stub}", "CXX=g++", *args])

    make("RATE=48000")
    assert run_firmware(binary, "rate") == "rate 48000\n"
    built = main_o.stat().st_mtime_ns
    make("RATE=96000")
    assert run_firmware(binary, "rate") == "rate 96000\n"
    assert main_o.stat().st_mtime_ns > built
    built = main_o.stat().st_mtime_ns
    make("RATE=96000")  # nothing changed: nothing rebuilt
    assert main_o.stat().st_mtime_ns == built
    make("RATE=48000")
    assert run_firmware(binary, "rate") == "rate 48000\n"


# ---- Cortex-M7 cross compile (the engine, CMSIS-DSP files, and main.cpp on the stub) ----------
@pytest.mark.skipif(shutil.which("arm-none-eabi-g++") is None, reason="needs arm-none-eabi-g++")
@pytest.mark.parametrize(
    ("numerics", "kernel"), list(itertools.product(plan.NUMERICS, plan.KERNELS))
)
def test_cortex_m7_cross_compile(numerics, kernel, tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out", numerics=numerics, kernel=kernel)
    dsp = cmsis_dsp.ensure()
    includes = [f"-I{d}" for d in [*result.include_dirs, *dsp.include_dirs]]
    defines = [f"-D{d}" for d in result.defines]
    common = [*ARM_FLAGS, "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", *defines]
    cxx = [*common, "-std=c++17", "-fno-exceptions", "-fno-rtti", "-c"]
    for opt in ("-O3", "-O0"):  # -O0: the inline-asm helpers must not rely on optimisation
        for src in result.engine_sources:
            compile_arm(["arm-none-eabi-g++", *cxx, opt, *includes, str(src)], tmp_path)
    for rel in result.cmsis_sources:
        cc = ["arm-none-eabi-gcc", *ARM_FLAGS, "-ffp-contract=off", *defines, "-O3", "-c"]
        compile_arm([*cc, *includes, str(dsp.source(rel))], tmp_path)
    stub = tmp_path / "libdaisy_stub"
    (stub / "util").mkdir(parents=True)
    (stub / "daisy_patch.h").write_text(DAISY_PATCH_STUB)
    (stub / "util" / "CpuLoadMeter.h").write_text(CPU_LOAD_STUB)
    main_cpp = result.out_dir / "daisy" / "main.cpp"
    for rate in ("48000", "96000"):
        rate_flags = [f"-I{stub}", f"-I{result.engine_dir}", f"-DWAVECOMP_SAMPLE_RATE={rate}"]
        compile_arm(["arm-none-eabi-g++", *cxx, "-O2", *rate_flags, str(main_cpp)], tmp_path)


def compile_arm(cmd: list[str], tmp_path: Path) -> None:
    run([*cmd, "-o", str(tmp_path / "x.o")])
