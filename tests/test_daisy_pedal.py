"""The Daisy Pod and Seed pedal firmware (`emit-cmsis --board pod|seed`) against libDaisy's API.

libDaisy is not installable here, so the emitted ``main.cpp`` is compiled against a stub of
the slice of its API the pedal uses (signatures as in libDaisy's ``src/daisy_pod.h``,
``src/daisy_seed.h``, ``src/hid/switch.h``, ``src/per/adc.h``) and *run* on the host: one block
of audio through the callback with the knobs set, a press of the bypass switch, another
block, then the once-a-second log line. The Cortex-M7 cross-compile checks the same file
builds for the Daisy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_daisy_firmware import (
    ARM_FLAGS,
    AUDIO_STUB,
    CPU_LOAD_STUB,
    STUB_ENGINE_CPP,
    compile_arm,
    run,
)

import wavecomp
from wavecomp.io_spec import InputChannel
from wavecomp.ir import ConvLayer, IOSpec, Network
from wavecomp.mcu import daisy_boards, emit, plan

PEDALS = ("pod", "seed")

PEDAL_STUB = (
    """\
// Test stub: the slice of libDaisy's API the emitted pedal main.cpp uses.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
namespace daisy {
"""
    + AUDIO_STUB
    + """\
struct Pin { int port; int pin; };
namespace seed {
constexpr Pin D7 = {2, 10};
constexpr Pin A0 = {2, 0};
constexpr Pin A1 = {0, 3};
}  // namespace seed
class Switch {
 public:
  void Init(Pin pin, float update_rate = 0.f);
  void Debounce();
  bool RisingEdge() const;
};
struct AdcChannelConfig { void InitSingle(Pin pin); };
class AdcHandle {
 public:
  void Init(AdcChannelConfig* cfg, size_t num_channels);
  void Start();
  float GetFloat(uint8_t chn) const;
};
class RgbLed { public: void Set(float r, float g, float b); };
class DaisySeed {
 public:
  void Init(bool boost = false);
  void DelayMs(size_t del);
  void StartAudio(AudioHandle::AudioCallback cb);
  void SetAudioSampleRate(SaiHandle::Config::SampleRate samplerate);
  float AudioSampleRate();
  void SetAudioBlockSize(size_t blocksize);
  size_t AudioBlockSize();
  float AudioCallbackRate() const;
  void SetLed(bool state);
  static void StartLog(bool wait_for_pc = false);
  template <typename... VA>
  static void PrintLine(const char* format, VA... va) {
    printf("log ");
    printf(format, va...);
    printf("\\n");
  }
  AdcHandle adc;
};
class DaisyPod {
 public:
  enum Knob { KNOB_1, KNOB_2, KNOB_LAST };
  void Init(bool boost = false);
  void DelayMs(size_t del);
  void StartAudio(AudioHandle::AudioCallback cb);
  void SetAudioSampleRate(SaiHandle::Config::SampleRate samplerate);
  float AudioSampleRate();
  void SetAudioBlockSize(size_t blocksize);
  size_t AudioBlockSize();
  void StartAdc();
  void ProcessAllControls();
  float GetKnobValue(Knob k);
  void UpdateLeds();
  DaisySeed seed;
  Switch button1;
  RgbLed led1;
};
}  // namespace daisy
"""
)
# Runs main() on the host. The first DelayMs plays two blocks through the callback (stdin:
# one input sample and one scripted engine output per line), the bypass switch pressed
# between them, printing "net <engine input> <out 0> <out 1>" and then "dry <in> <out 0>
# <out 1>"; then main's loop runs until its first log line. The knobs read WC_GAIN and
# WC_LEVEL (0..1).
PEDAL_STUB_CPP = """\
#include <stdlib.h>
#include "daisy_pod.h"
#include "util/CpuLoadMeter.h"

double wc_engine_in[64];
double wc_engine_out[64];

namespace daisy {
namespace {
AudioHandle::AudioCallback callback;
bool pressed = false;
int delays = 0;
float knob(const char* name) { return (float)atof(getenv(name)); }
void play(const char* label) {
  static float in[2][64], out[2][64];
  const float* ins[2] = {in[0], in[1]};
  float* outs[2] = {out[0], out[1]};
  float x;
  double y;
  size_t n = 0;
  while (n < 4 && scanf("%f %lf", &x, &y) == 2) {
    in[0][n] = x;
    wc_engine_out[n++] = y;
  }
  callback(ins, outs, n);
  for (size_t i = 0; i < n; ++i) {
    printf("%s %.9g %.9g %.9g\\n", label, label[0] == 'n' ? wc_engine_in[i] : in[0][i],
           out[0][i], out[1][i]);
  }
}
void delay() {
  if (++delays == 1) {
    play("net");
    pressed = true;
    play("dry");
  }
  if (delays > 200) exit(0);
}
}  // namespace
void Switch::Init(Pin, float) {}
void Switch::Debounce() {}
bool Switch::RisingEdge() const {
  const bool edge = pressed;
  pressed = false;
  return edge;
}
void AdcChannelConfig::InitSingle(Pin) {}
void AdcHandle::Init(AdcChannelConfig*, size_t) {}
void AdcHandle::Start() {}
float AdcHandle::GetFloat(uint8_t chn) const { return knob(chn == 0 ? "WC_GAIN" : "WC_LEVEL"); }
void RgbLed::Set(float, float, float) {}
void DaisySeed::Init(bool) {}
void DaisySeed::DelayMs(size_t) { delay(); }
void DaisySeed::StartAudio(AudioHandle::AudioCallback cb) { callback = cb; }
void DaisySeed::SetAudioSampleRate(SaiHandle::Config::SampleRate) {}
float DaisySeed::AudioSampleRate() { return 48000.0f; }
void DaisySeed::SetAudioBlockSize(size_t) {}
size_t DaisySeed::AudioBlockSize() { return 48; }
float DaisySeed::AudioCallbackRate() const { return 1000.0f; }
void DaisySeed::SetLed(bool) {}
void DaisySeed::StartLog(bool) {}
void DaisyPod::Init(bool) {}
void DaisyPod::DelayMs(size_t) { delay(); }
void DaisyPod::StartAudio(AudioHandle::AudioCallback cb) { callback = cb; }
void DaisyPod::SetAudioSampleRate(SaiHandle::Config::SampleRate) {}
float DaisyPod::AudioSampleRate() { return 48000.0f; }
void DaisyPod::SetAudioBlockSize(size_t) {}
size_t DaisyPod::AudioBlockSize() { return 48; }
void DaisyPod::StartAdc() {}
void DaisyPod::ProcessAllControls() {}
float DaisyPod::GetKnobValue(Knob k) { return knob(k == KNOB_1 ? "WC_GAIN" : "WC_LEVEL"); }
void DaisyPod::UpdateLeds() {}
void CpuLoadMeter::Init(float, int, float) {}
void CpuLoadMeter::OnBlockStart() {}
void CpuLoadMeter::OnBlockEnd() {}
float CpuLoadMeter::GetAvgCpuLoad() const { return 0.42f; }
float CpuLoadMeter::GetMinCpuLoad() const { return 0.40f; }
float CpuLoadMeter::GetMaxCpuLoad() const { return 0.57f; }
void CpuLoadMeter::Reset() {}
}  // namespace daisy
"""
INPUTS = [0.5, -1.0, 0.999969482421875, 1e-4]
ENGINE_OUTPUTS = [4_096, -32_768, 8_191, 3]


def stub_headers(root: Path) -> Path:
    (root / "util").mkdir(parents=True)
    for header in ("daisy_pod.h", "daisy_seed.h"):
        (root / header).write_text(PEDAL_STUB)
    (root / "util" / "CpuLoadMeter.h").write_text(CPU_LOAD_STUB)
    return root


def pedal_firmware(result: emit.EmitResult, tmp_path: Path) -> Path:
    stub = stub_headers(tmp_path / "stub")
    (stub / "stub.cpp").write_text(PEDAL_STUB_CPP)
    (tmp_path / "stub_engine.cpp").write_text(STUB_ENGINE_CPP)
    binary = tmp_path / "pedal"
    sources = [
        result.out_dir / "daisy" / "main.cpp",
        stub / "stub.cpp",
        tmp_path / "stub_engine.cpp",
    ]
    run(
        ["g++", "-std=gnu++17", "-O1", f"-I{stub}", f"-I{result.engine_dir}"]
        + [str(s) for s in sources]
        + ["-o", str(binary)]
    )
    return binary


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("numerics", plan.NUMERICS)
@pytest.mark.parametrize("board", PEDALS)
def test_pedal_gain_level_and_bypass(board, numerics, tmp_path):
    """Audio in 1 times the input gain reaches the network's audio input at WAV levels (codec
    full scale = 1.0, then the I/O spec's shift); its first output, times the output level,
    drives both outputs; after a press of the bypass switch the dry input does."""
    net = wavecomp.load()  # audio in 0, two controls, a spare: 4 inputs, 4 outputs
    result = emit.emit(net, tmp_path / "out", numerics=numerics, board=board)
    binary = pedal_firmware(result, tmp_path)
    block = "".join(f"{x!r} {y}\n" for x, y in zip(INPUTS, ENGINE_OUTPUTS, strict=True))
    stdin = block + block  # one block through the network, one bypassed
    knobs = {"WC_GAIN": "0.75", "WC_LEVEL": "0.5"}
    text = run([str(binary)], env={**os.environ, **knobs}, stdin=stdin)
    lines = [ln.split() for ln in text.splitlines()]
    net_rows = np.array([[float(v) for v in ln[1:]] for ln in lines if ln[0] == "net"])
    dry_rows = np.array([[float(v) for v in ln[1:]] for ln in lines if ln[0] == "dry"])
    gain = 0.75 * daisy_boards.MAX_INPUT_GAIN
    raw_in = gain * np.array(INPUTS) * 32768 / 2**net.io.input_shift
    if numerics == "q12":
        raw_in = np.clip(np.rint(raw_in), -32768, 32767)
    assert np.allclose(net_rows[:, 0], raw_in, atol=1e-3), (net_rows[:, 0], raw_in)
    out = 0.5 * np.clip(np.array(ENGINE_OUTPUTS) * 2**net.io.output_shift / 32768, -1, 1)
    assert np.allclose(net_rows[:, 1], out, atol=1e-6) and np.array_equal(
        net_rows[:, 1], net_rows[:, 2]
    )
    assert np.array_equal(dry_rows[:, 1], dry_rows[:, 0])  # bypassed: the input, untouched
    assert np.array_equal(dry_rows[:, 2], dry_rows[:, 0])
    logs = [" ".join(ln) for ln in lines if ln[0] == "log"]
    assert logs and logs[0] == "log wavecomp fpga: CPU 42% (max 57%), bypassed"
    assert len(logs) == 2  # once a second: main's loop ran 200 times 10 ms


def test_pedal_readme_and_help_name_the_controls(tmp_path):
    for board in PEDALS:
        out = emit.emit(wavecomp.load(), tmp_path / board, board=board).out_dir
        readme = (out / "README.md").read_text()
        assert f"# fpga: wavecomp engine and {daisy_boards.BOARDS[board].title} firmware" in readme
        assert "input gain" in readme and "output level" in readme and "bypass" in readme
        assert f"--board {board}" in readme
    seed = (tmp_path / "seed" / "README.md").read_text()
    assert "`A0`" in seed and "`A1`" in seed and "`D7`" in seed


def test_a_network_without_audio_input_is_no_pedal(tmp_path):
    layer = ConvLayer("c", np.ones((1, 1, 1), np.int16), np.zeros(1, np.int16), 1, "linear")
    io = IOSpec.default(1, 1)
    io = IOSpec((InputChannel("cv", kind="control"),), io.outputs)
    net = Network([layer], io, name="cv_only")
    with pytest.raises(daisy_boards.BoardError, match=r"no audio input .* use --board patch"):
        emit.emit(net, tmp_path / "out", board="pod")
    assert not (tmp_path / "out").exists()
    emit.emit(net, tmp_path / "out", board="patch")  # the Patch's knobs can drive it


@pytest.mark.skipif(shutil.which("arm-none-eabi-g++") is None, reason="needs arm-none-eabi-g++")
@pytest.mark.parametrize("board", PEDALS)
def test_pedal_cortex_m7_cross_compile(board, tmp_path):
    result = emit.emit(wavecomp.load(), tmp_path / "out", board=board)
    stub = stub_headers(tmp_path / "stub")
    flags = [*ARM_FLAGS, "-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra"]
    main_cpp = result.out_dir / "daisy" / "main.cpp"
    compile_arm(
        [
            "arm-none-eabi-g++",
            *flags,
            "-Werror",
            "-O2",
            "-c",
            f"-I{stub}",
            f"-I{result.engine_dir}",
            str(main_cpp),
        ],
        tmp_path,
    )
