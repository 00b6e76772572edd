// wavecomp fused Q4.12 kernel: hand-scheduled SIMD convolution for the Cortex-M7.
//
// One output sample of a causal dilated conv layer is, per output channel o,
//   acc = bias_term[o] + sum_k sum_c W[k][c][o] * x[t - (K-1-k)*d][c]
//   y   = clamp(acc >> 12, -32768, 32767), then ReLU
// (DESIGN.md "Numerics contract"; bias_term = (bias << 12) + R is folded in by the emitter).
//
// Why it is shaped like this (instructions per MAC is the figure of merit):
// - Activations are stored as packed channel pairs (one 32-bit word = channels 2i, 2i+1), so
//   __SMLAD / __SMLALD do two 16x16 MACs per instruction and one LDRD fetches four channels.
// - Each group of G output channels shares every activation load; G = 4 with 32-bit
//   accumulators, G = 2 with 64-bit ones (they take two registers each: more would spill).
// - Weights are pre-packed by the emitter in exactly the order this code consumes them, so
//   they stream through one post-incremented pointer with LDM (up to four words per
//   instruction).
// - GCC forms neither that LDM nor the activations' LDRD from C loads (it splits 64-bit
//   loads into two LDRs), and has no builtin for PKHBT: those three are one-line asm helpers
//   on Arm, plain C elsewhere. Everything else is C with intrinsics.
// - Each layer's ring keeps every column twice (rows s and s + kRows) and time runs towards
//   higher addresses, so all K taps of a sample sit at compile-time positive offsets from the
//   newest row: no masking or wrap-around in the inner loops.
// - The accumulator width is a template argument the emitter picks from the layer's static
//   bound (fixed.accumulator_bound): 32-bit only when the bound is below 2^31.
//
// The DSP instructions are the CMSIS intrinsics (__SMLAD, __SMLALD, __SSAT, __USAT, __PKHBT).
// On Arm with GCC the kernel calls the ACLE builtins behind them directly: CMSIS Core writes
// them as volatile inline asm, which stops GCC folding the >> 12 into SSAT and scheduling
// around them (about 10% more instructions on the default model in a libDaisy build). The
// same source builds on the host, where wavecomp's CMSIS shim supplies the intrinsics as
// exact portable C: that is how the tests prove it bit-exact.
#ifndef WAVECOMP_Q12_FUSED_H
#define WAVECOMP_Q12_FUSED_H

#include <stdint.h>
#include <string.h>

#include "cmsis_compiler.h"

#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)
#include <arm_acle.h>
#define WAVECOMP_ACLE 1
#else
#define WAVECOMP_ACLE 0
#endif

#if defined(__GNUC__)
#define WAVECOMP_INLINE inline __attribute__((always_inline))
#else
#define WAVECOMP_INLINE inline
#endif

namespace wavecomp {
namespace q12_fused {

enum class AccWidth {
  narrow,     // int32 with __SMLAD: the layer's bound is below 2^31
  wide,       // int64 with __SMLALD: bound below 2^43, so acc >> 12 fits in 32 bits
  wide_clamp  // int64 with __SMLALD and a 64-bit clamp: any larger bound
};

template <AccWidth W>
struct AccType {
  using type = int64_t;
};
template <>
struct AccType<AccWidth::narrow> {
  using type = int32_t;
};
template <AccWidth W>
using acc_t = typename AccType<W>::type;

// Output channels per group: what fits the Cortex-M7's registers next to the loads.
template <AccWidth W>
constexpr int kGroup = W == AccWidth::narrow ? 4 : 2;

// A layer's activation cache: kRows (a power of two >= the layer's span) columns of
// kWords packed channel pairs, each column stored twice so taps never wrap.
template <int kRows, int kWords>
struct Ring {
  static_assert(kRows > 0 && (kRows & (kRows - 1)) == 0, "ring rows must be a power of two");
  static constexpr int kCopyWords = kRows * kWords;  // distance to a column's second copy

  alignas(8) uint32_t data[2 * kRows * kWords];
  uint32_t pos;  // row of the newest column; older columns follow at higher rows

  void reset() {
    memset(data, 0, sizeof data);
    pos = 0;
  }
  // Make room for a new column and return its (first) row; the caller writes both copies.
  uint32_t* push() {
    pos = (pos - 1u) & (kRows - 1u);
    return data + pos * kWords;
  }
  const uint32_t* newest() const { return data + pos * kWords; }
};

// ---- the DSP instructions ------------------------------------------------------------------
// acc + x[15:0] * y[15:0] + x[31:16] * y[31:16], wrapping like the instruction
__STATIC_FORCEINLINE uint32_t smlad(uint32_t x, uint32_t y, uint32_t acc) {
#if WAVECOMP_ACLE
  return (uint32_t)__smlad((int16x2_t)x, (int16x2_t)y, (int32_t)acc);
#else
  return __SMLAD(x, y, acc);
#endif
}

// the same with a 64-bit accumulator
__STATIC_FORCEINLINE uint64_t smlald(uint32_t x, uint32_t y, uint64_t acc) {
#if WAVECOMP_ACLE
  return (uint64_t)__smlald((int16x2_t)x, (int16x2_t)y, (int64_t)acc);
#else
  return __SMLALD(x, y, acc);
#endif
}

__STATIC_FORCEINLINE int32_t saturate_int16(int32_t v) {  // to [-32768, 32767]
#if WAVECOMP_ACLE
  return __ssat(v, 16);
#else
  return __SSAT(v, 16);
#endif
}

__STATIC_FORCEINLINE int32_t saturate_relu(int32_t v) {  // to [0, 32767]: saturation and ReLU
#if WAVECOMP_ACLE
  return (int32_t)__usat(v, 15);
#else
  return (int32_t)__USAT(v, 15);
#endif
}

__STATIC_FORCEINLINE uint32_t pack_pair(int32_t y0, int32_t y1) {  // y0 in bits 15:0, y1 in 31:16
#if WAVECOMP_ACLE
  uint32_t packed;  // PKHBT: ACLE has no builtin and GCC does not form it from C
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(packed) : "r"(y0), "r"(y1));
  return packed;
#else
  return __PKHBT(y0, y1, 16);
#endif
}

// Writes a layer's outputs into the next layer's new column (both copies).
template <int kCopyWords>
struct ColumnSink {
  uint32_t* row;
  WAVECOMP_INLINE void pair(int word, int32_t y0, int32_t y1) {
    const uint32_t packed = pack_pair(y0, y1);
    row[word] = packed;
    row[word + kCopyWords] = packed;
  }
  WAVECOMP_INLINE void single(int word, int32_t y0) {  // last channel of an odd count
    const uint32_t packed = (uint32_t)y0 & 0xFFFFu;  // the pad lane stays 0
    row[word] = packed;
    row[word + kCopyWords] = packed;
  }
};

// Writes the last layer's outputs to the caller's array.
struct OutputSink {
  int16_t* out;
  WAVECOMP_INLINE void pair(int word, int32_t y0, int32_t y1) {
    out[2 * word] = (int16_t)y0;
    out[2 * word + 1] = (int16_t)y1;
  }
  WAVECOMP_INLINE void single(int word, int32_t y0) { out[2 * word] = (int16_t)y0; }
};

// Copy the network's input samples into layer 0's new column (both copies).
template <int kChannels, int kCopyWords>
__STATIC_FORCEINLINE void write_input(const int16_t* in, uint32_t* row) {
  for (int i = 0; i < kChannels / 2; ++i) {
    const uint32_t packed = pack_pair(in[2 * i], in[2 * i + 1]);
    row[i] = packed;
    row[i + kCopyWords] = packed;
  }
  if (kChannels % 2) {
    const uint32_t packed = (uint16_t)in[kChannels - 1];
    row[kChannels / 2] = packed;
    row[kChannels / 2 + kCopyWords] = packed;
  }
}

// Load N (1..4) consecutive weight words and advance the stream: one LDM on Arm.
template <int N>
__STATIC_FORCEINLINE void load_weights(const uint32_t*& p, uint32_t (&w)[N]) {
  static_assert(N >= 1 && N <= 4, "load 1..4 weight words at a time");
#if defined(__ARM_ARCH) && defined(__GNUC__)
  // Fixed registers because LDM needs an ascending list; r9 (platform register) and r7
  // (Thumb frame pointer) are avoided. volatile keeps the stream order, which also stops the
  // scheduler from hoisting loads ahead of their use and running out of registers.
  register uint32_t r8 __asm__("r8");
  register uint32_t r10 __asm__("r10");
  register uint32_t r11 __asm__("r11");
  register uint32_t r12 __asm__("r12");
  if constexpr (N == 1) {
    __asm__ volatile("ldmia %[p]!, {r8}" : [p] "+r"(p), "=r"(r8) : "m"(*(const uint32_t(*)[N])p));
    w[0] = r8;
  } else if constexpr (N == 2) {
    __asm__ volatile("ldmia %[p]!, {r8, r10}"
                     : [p] "+r"(p), "=r"(r8), "=r"(r10)
                     : "m"(*(const uint32_t(*)[N])p));
    w[0] = r8;
    w[1] = r10;
  } else if constexpr (N == 3) {
    __asm__ volatile("ldmia %[p]!, {r8, r10, r11}"
                     : [p] "+r"(p), "=r"(r8), "=r"(r10), "=r"(r11)
                     : "m"(*(const uint32_t(*)[N])p));
    w[0] = r8;
    w[1] = r10;
    w[2] = r11;
  } else {
    __asm__ volatile("ldmia %[p]!, {r8, r10, r11, r12}"
                     : [p] "+r"(p), "=r"(r8), "=r"(r10), "=r"(r11), "=r"(r12)
                     : "m"(*(const uint32_t(*)[N])p));
    w[0] = r8;
    w[1] = r10;
    w[2] = r11;
    w[3] = r12;
  }
#else
  for (int i = 0; i < N; ++i) w[i] = p[i];
  p += N;
#endif
}

// Load two consecutive activation words (four channels): one LDRD on Arm. GCC splits a
// 64-bit C load into two LDRs; the "m" operand still lets it pick an LDRD-legal address.
// The operand's type must alias the uint32_t stores that wrote the ring: with a plain
// uint64_t, type-based alias analysis lets GCC move this load above those stores, and the
// layer reads the previous sample's column.
typedef uint64_t __attribute__((may_alias)) ring_pair_t;
__STATIC_FORCEINLINE void load_activations(const uint32_t* p, uint32_t (&x)[2]) {
#if defined(__ARM_ARCH) && defined(__GNUC__)
  __asm__("ldrd %0, %1, %2" : "=r"(x[0]), "=r"(x[1]) : "m"(*(const ring_pair_t*)p));
#else
  x[0] = p[0];
  x[1] = p[1];
#endif
}

template <AccWidth W>
__STATIC_FORCEINLINE acc_t<W> mac2(uint32_t x, uint32_t w, acc_t<W> acc) {
  if constexpr (W == AccWidth::narrow) {
    return (int32_t)smlad(x, w, (uint32_t)acc);
  } else {
    return (int64_t)smlald(x, w, (uint64_t)acc);
  }
}

template <AccWidth W, bool kRelu>
__STATIC_FORCEINLINE int32_t requantize(acc_t<W> acc) {
  int32_t shifted;
  if constexpr (W == AccWidth::wide_clamp) {
    const int64_t s = acc >> 12;
    shifted = s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
  } else {
    shifted = (int32_t)(acc >> 12);  // arithmetic shift; fits by the bound (see AccWidth)
  }
  if constexpr (kRelu) {
    return saturate_relu(shifted);
  } else {
    return saturate_int16(shifted);
  }
}

// G output channels: all K taps, all channel pairs, then requantise and hand to the sink.
template <int K, int D, int P, int G, AccWidth W, bool kRelu, class Sink>
__STATIC_FORCEINLINE void conv_group(const uint32_t* newest, const uint32_t*& w,
                                     const acc_t<W>* bias, Sink& sink, int word) {
  acc_t<W> acc[G];
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) acc[o] = bias[o];
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k) {
    const uint32_t* column = newest + (K - 1 - k) * D * P;  // tap k: lag (K-1-k)*d rows
#pragma GCC unroll 64
    for (int p = 0; p + 1 < P; p += 2) {  // two pairs (four channels) per activation load
      uint32_t x[2];
      load_activations(column + p, x);
      if constexpr (2 * G <= 4) {
        uint32_t wt[2 * G];
        load_weights<2 * G>(w, wt);
#pragma GCC unroll 2
        for (int s = 0; s < 2; ++s) {
#pragma GCC unroll 4
          for (int o = 0; o < G; ++o) acc[o] = mac2<W>(x[s], wt[s * G + o], acc[o]);
        }
      } else {
#pragma GCC unroll 2
        for (int s = 0; s < 2; ++s) {
          uint32_t wt[G];
          load_weights<G>(w, wt);
#pragma GCC unroll 4
          for (int o = 0; o < G; ++o) acc[o] = mac2<W>(x[s], wt[o], acc[o]);
        }
      }
    }
    if constexpr (P % 2) {  // odd pair count: the last pair on its own
      const uint32_t x = column[P - 1];
      uint32_t wt[G];
      load_weights<G>(w, wt);
#pragma GCC unroll 4
      for (int o = 0; o < G; ++o) acc[o] = mac2<W>(x, wt[o], acc[o]);
    }
  }
#pragma GCC unroll 4
  for (int o = 0; o + 1 < G; o += 2) {
    sink.pair(word + o / 2, requantize<W, kRelu>(acc[o]), requantize<W, kRelu>(acc[o + 1]));
  }
  if constexpr (G % 2) sink.single(word + G / 2, requantize<W, kRelu>(acc[G - 1]));
}

// One layer: K taps at dilation D over P packed pairs per column, Cout outputs.
template <int K, int D, int P, int Cout, AccWidth W, bool kRelu, class Sink>
inline void conv_layer(const uint32_t* newest, const uint32_t* w, const acc_t<W>* bias,
                       Sink sink) {
  constexpr int G = kGroup<W>;
  for (int g = 0; g < Cout / G; ++g) {
    const uint32_t* column = newest;
#if defined(__GNUC__)
    // Opaque to the optimiser: otherwise GCC hoists every activation load out of the group
    // loop (they repeat for each group) and spills them all to the stack.
    __asm__("" : "+r"(column));
#endif
    conv_group<K, D, P, G, W, kRelu>(column, w, bias + g * G, sink, g * G / 2);
  }
  if constexpr (Cout % G) {
    conv_group<K, D, P, Cout % G, W, kRelu>(newest, w, bias + Cout / G * G, sink, Cout / G * G / 2);
  }
}

}  // namespace q12_fused
}  // namespace wavecomp

#endif  // WAVECOMP_Q12_FUSED_H
