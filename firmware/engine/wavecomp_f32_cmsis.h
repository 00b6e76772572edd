// wavecomp float kernel on CMSIS-DSP, like the original Daisy firmware (float32 throughout).
//
// Weights and activations are model units (Q4.12 raw / 4096, exact in float32); there is no
// requantisation. Each output channel is arm_dot_prod_f32 over the gathered window (it sums
// sequentially from 0.0f, tap-major then channel), then + bias, then ReLU -- the order
// wavecomp.reference.float_ref reproduces bit for bit. Build with -ffp-contract=off: a fused
// multiply-add would round differently.
#ifndef WAVECOMP_F32_CMSIS_H
#define WAVECOMP_F32_CMSIS_H

#include <stdint.h>

#include "dsp/basic_math_functions.h"
#include "wavecomp_window.h"

namespace wavecomp {
namespace f32_cmsis {

template <int K, int D, int Cin, int Cout, bool kRelu, int kRows>
inline void conv_layer(const WindowRing<float, kRows, Cin>& ring, float* window,
                       const float* weights /* [Cout][K*Cin] */, const float* bias, float* y) {
  ring.template gather<K, D>(window);
  for (int o = 0; o < Cout; ++o) {
    float32_t dot;
    arm_dot_prod_f32(window, weights + o * K * Cin, (uint32_t)(K * Cin), &dot);
    const float sum = dot + bias[o];
    y[o] = (kRelu && !(sum > 0.0f)) ? 0.0f : sum;
  }
}

}  // namespace f32_cmsis
}  // namespace wavecomp

#endif  // WAVECOMP_F32_CMSIS_H
