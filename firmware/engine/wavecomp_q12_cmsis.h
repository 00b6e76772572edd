// wavecomp Q4.12 kernel on plain CMSIS-DSP calls.
//
// arm_dot_prod_q15 is the one CMSIS-DSP q15 routine usable for Q4.12: it returns the exact
// 64-bit sum of the int16 products with no shift and no saturation (every other q15 routine
// shifts by 15). So each output channel is one dot product over the gathered window
// (K taps x C_in channels), plus the bias term (bias << 12) + R folded in by the emitter,
// then clamp(acc >> 12) and ReLU exactly as DESIGN.md's numerics contract says. The 64-bit
// sum holds any accumulator bound the emitter accepts, so no width decision is needed here.
#ifndef WAVECOMP_Q12_CMSIS_H
#define WAVECOMP_Q12_CMSIS_H

#include <stdint.h>

#include "dsp/basic_math_functions.h"
#include "wavecomp_window.h"

namespace wavecomp {
namespace q12_cmsis {

template <int K, int D, int Cin, int Cout, bool kRelu, int kRows>
inline void conv_layer(const WindowRing<int16_t, kRows, Cin>& ring, int16_t* window,
                       const int16_t* weights /* [Cout][K*Cin] */, const int32_t* bias_term,
                       int16_t* y) {
  ring.template gather<K, D>(window);
  for (int o = 0; o < Cout; ++o) {
    q63_t dot;
    arm_dot_prod_q15(window, weights + o * K * Cin, (uint32_t)(K * Cin), &dot);
    int64_t shifted = ((int64_t)bias_term[o] + dot) >> 12;  // arithmetic shift (floor)
    shifted = shifted < -32768 ? -32768 : (shifted > 32767 ? 32767 : shifted);
    if (kRelu && shifted < 0) shifted = 0;
    y[o] = (int16_t)shifted;
  }
}

}  // namespace q12_cmsis
}  // namespace wavecomp

#endif  // WAVECOMP_Q12_CMSIS_H
