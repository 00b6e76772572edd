// wavecomp float kernel as a plain loop (no CMSIS-DSP), reading the taps in place.
//
// Same arithmetic and order as the CMSIS float kernel (wavecomp_f32_cmsis.h): per output
// channel a float32 sum from 0.0f over taps (oldest first) and channels, then + bias, then
// ReLU; so both match wavecomp.reference.float_ref bit for bit. No gather copy: each tap's
// column is read straight from the ring.
#ifndef WAVECOMP_F32_FUSED_H
#define WAVECOMP_F32_FUSED_H

#include <stdint.h>

#include "wavecomp_window.h"

namespace wavecomp {
namespace f32_fused {

template <int K, int D, int Cin, int Cout, bool kRelu, int kRows>
inline void conv_layer(const WindowRing<float, kRows, Cin>& ring,
                       const float* weights /* [Cout][K][Cin] */, const float* bias, float* y) {
  const float* taps[K];
  for (int k = 0; k < K; ++k) taps[k] = ring.column((uint32_t)((K - 1 - k) * D));
  for (int o = 0; o < Cout; ++o) {
    const float* w = weights + o * K * Cin;
    float sum = 0.0f;
    for (int k = 0; k < K; ++k) {
      for (int c = 0; c < Cin; ++c) sum += w[k * Cin + c] * taps[k][c];
    }
    sum += bias[o];
    y[o] = (kRelu && !(sum > 0.0f)) ? 0.0f : sum;
  }
}

}  // namespace f32_fused
}  // namespace wavecomp

#endif  // WAVECOMP_F32_FUSED_H
