// Host-side runner for an emitted wavecomp engine, built as a shared library by
// wavecomp/mcu/host.py and called through ctypes. Only these C functions are exported
// (everything else is hidden), so several engines can be loaded into one process.
#include <stdint.h>

#include "wavecomp_engine.h"

#define WAVECOMP_HOST_EXPORT extern "C" __attribute__((visibility("default")))

WAVECOMP_HOST_EXPORT int wavecomp_host_inputs() { return wavecomp::kInputs; }

WAVECOMP_HOST_EXPORT int wavecomp_host_outputs() { return wavecomp::kOutputs; }

WAVECOMP_HOST_EXPORT int wavecomp_host_sample_bytes() { return (int)sizeof(wavecomp::sample_t); }

// From reset, step the engine over n frames: in is n x kInputs, out is n x kOutputs.
WAVECOMP_HOST_EXPORT void wavecomp_host_run(const wavecomp::sample_t* in, wavecomp::sample_t* out,
                                            int64_t n) {
  wavecomp::engine_reset();
  for (int64_t t = 0; t < n; ++t) {
    wavecomp::engine_step(in + t * wavecomp::kInputs, out + t * wavecomp::kOutputs);
  }
}
