// wavecomp fused Q4.12 kernel: hand-scheduled SIMD graph nodes for the Cortex-M7.
//
// One node computes, per pre-activation channel o (DESIGN.md "Numerics contract"),
//   acc = bias_term[o] + sum_conv sum_k sum_c W[k][c][o] * X[t - (K-1-k)*d][c]
//                      + sum_identity X[t][o] << (12 + e - m)
//   p   = clamp(acc >> (12 + e), -32768, 32767), then its activation
// (bias_term = (bias << (12+e)) + R_e is folded in by the emitter). A plain conv chain is the
// graph whose nodes each read the one before.
//
// Why it is shaped like this (instructions per MAC is the figure of merit):
// - Tensors are stored as packed channel pairs (one 32-bit word = channels 2i, 2i+1), so
//   __SMLAD does two 16x16 MACs per instruction and one LDRD fetches four channels.
// - Each group of four output channels shares every activation load. Weights are pre-packed
//   by the emitter in exactly the order this code consumes them, so they stream through one
//   post-incremented pointer with LDM (up to four words per instruction).
// - GCC forms neither that LDM nor the activations' LDRD from C loads (it splits 64-bit
//   loads into two LDRs), and has no builtin for PKHBT: those three are one-line asm helpers
//   on Arm, plain C elsewhere. Everything else is C with intrinsics.
// - A tensor read with a delay keeps a ring of span = (K-1)*d + 1 columns, each stored twice,
//   so all K taps of a sample sit at compile-time offsets from the newest row
//   (wavecomp_store.h): no masking or wrap in the inner loops.
// - Accumulators are int32. Where the static bound (fixed.node_accumulator_bound) is below
//   2^31 that is proved exact ("narrow"). Above it ("checked"), the group runs in int32 all
//   the same and the Cortex-M7's sticky Q flag, which SMLAD sets when its exact sum leaves
//   int32, tells whether it was exact; if not, the group is recomputed in int64 (exact by the
//   bound < 2^62). Real audio almost never takes the slow path; the result is exact either way.
// - Identity adds are SMLADs with a one-lane weight 1 << s, so the Q flag covers them too.
// - pwl tables are stored as knot pairs {L[i], L[i+1]} in one word, so a lookup is one load
//   and one SMLAD: L[i] + (((L[i+1] - L[i]) * f + r) >> 6) = (L[i]*(64-f) + L[i+1]*f + r) >> 6.
//
// The DSP instructions are the CMSIS intrinsics (__SMLAD, __SMLALD, __SSAT, __USAT, __PKHBT).
// On Arm with GCC the kernel calls the ACLE builtins behind them directly: CMSIS Core writes
// them as volatile inline asm, which stops GCC folding the >> 12 into SSAT and scheduling
// around them. The same source builds on the host, where wavecomp's CMSIS shim supplies the
// intrinsics as exact portable C and this file emulates the Q flag: that is how the tests
// prove it bit-exact, slow path included.
#ifndef WAVECOMP_Q12_FUSED_H
#define WAVECOMP_Q12_FUSED_H

#include <stdint.h>

#include <type_traits>

#include "cmsis_compiler.h"
#include "wavecomp_store.h"

#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)
#include <arm_acle.h>
#define WAVECOMP_ACLE 1
#else
#define WAVECOMP_ACLE 0
#endif

// The engine's generated node bodies are lambdas: WAVECOMP_LAMBDA_INLINE makes GCC inline them
// (an out-of-line body keeps its accumulators in memory, a store after every MAC).
#if defined(__GNUC__)
#define WAVECOMP_INLINE inline __attribute__((always_inline))
#define WAVECOMP_LAMBDA_INLINE __attribute__((always_inline))
#define WAVECOMP_COLD __attribute__((noinline, cold))
#else
#define WAVECOMP_INLINE inline
#define WAVECOMP_LAMBDA_INLINE
#define WAVECOMP_COLD
#endif

namespace wavecomp {
namespace q12_fused {

enum class AccWidth {
  narrow,  // int32: the node's static bound is below 2^31
  checked  // int32, the Q flag watched; a group that overflowed is redone in int64
};

// Output channels per group: four int32 accumulators fit the Cortex-M7's registers next to
// the loads.
constexpr int kGroup = 4;

// Tensor stores of packed channel pairs (wavecomp_store.h).
template <int kSpan, int kWords>
using Ring = store::Ring<uint32_t, kSpan, kWords>;
template <int kWords>
using Column = store::Column<uint32_t, kWords>;

// ---- the DSP instructions ------------------------------------------------------------------
#if !WAVECOMP_ACLE
// The host has no Q flag: the kernel's own int32 MACs keep one (set when the exact sum
// leaves int32, like SMLAD's), so the checked path and its fallback run as on the M7.
inline bool host_overflow = false;
#endif

// The Q flag is read and cleared with volatile asm, and the checked MACs are volatile asm too
// (``Watched``): GCC keeps volatile asm in program order, so no MAC of a group can move past
// the read that judges it. (GCC's own Q-flag builtins do not order __smlad: at -O3 it moved
// MACs below __saturation_occurred.) SSAT/USAT may still move across the clear; a stray Q
// from them can only cause a needless, exact redo.
__STATIC_FORCEINLINE void clear_overflow() {
#if WAVECOMP_ACLE
  __asm__ volatile("msr APSR_nzcvq, %0" : : "r"(0) : "cc");
#else
  host_overflow = false;
#endif
}

__STATIC_FORCEINLINE bool overflowed() {
#if WAVECOMP_ACLE
  uint32_t apsr;
  __asm__ volatile("mrs %0, APSR" : "=r"(apsr));
  return (apsr >> 27) & 1u;  // Q
#else
  return host_overflow;
#endif
}

// acc + x[15:0] * y[15:0] + x[31:16] * y[31:16] modulo 2^32; sets the Q flag if the exact sum
// leaves int32
__STATIC_FORCEINLINE int32_t smlad(uint32_t x, uint32_t y, int32_t acc) {
#if WAVECOMP_ACLE
  return __smlad((int16x2_t)x, (int16x2_t)y, acc);
#else
  const int64_t exact = (int64_t)acc + (int64_t)(int16_t)(x & 0xFFFFu) * (int16_t)(y & 0xFFFFu) +
                        (int64_t)(int16_t)(x >> 16) * (int16_t)(y >> 16);
  if (exact != (int32_t)exact) host_overflow = true;
  return (int32_t)__SMLAD(x, y, (uint32_t)acc);
#endif
}

// the same with an exact 64-bit accumulator
__STATIC_FORCEINLINE int64_t smlald(uint32_t x, uint32_t y, int64_t acc) {
#if WAVECOMP_ACLE
  return __smlald((int16x2_t)x, (int16x2_t)y, acc);
#else
  return (int64_t)__SMLALD(x, y, (uint64_t)acc);
#endif
}

// A checked node's int32 sum: its MACs stay in order with the Q-flag reads (see above).
struct Watched {
  int32_t v;
};

__STATIC_FORCEINLINE int32_t mac2(uint32_t x, uint32_t w, int32_t acc) { return smlad(x, w, acc); }
__STATIC_FORCEINLINE int64_t mac2(uint32_t x, uint32_t w, int64_t acc) { return smlald(x, w, acc); }
__STATIC_FORCEINLINE Watched mac2(uint32_t x, uint32_t w, Watched acc) {
#if WAVECOMP_ACLE
  int32_t sum;
  __asm__ volatile("smlad %0, %1, %2, %3" : "=r"(sum) : "r"(x), "r"(w), "r"(acc.v));
  return {sum};
#else
  return {smlad(x, w, acc.v)};
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

// Channel c of a packed column.
__STATIC_FORCEINLINE int16_t lane(const uint32_t* column, int c) {
  return (int16_t)(column[c / 2] >> (16 * (c % 2)));
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
// node reads the previous sample's column.
typedef uint64_t __attribute__((may_alias)) ring_pair_t;
__STATIC_FORCEINLINE void load_activations(const uint32_t* p, uint32_t (&x)[2]) {
#if defined(__ARM_ARCH) && defined(__GNUC__)
  __asm__("ldrd %0, %1, %2" : "=r"(x[0]), "=r"(x[1]) : "m"(*(const ring_pair_t*)p));
#else
  x[0] = p[0];
  x[1] = p[1];
#endif
}

// ---- where a node's outputs go -------------------------------------------------------------
// Into a tensor's new column (both copies when it is a ring).
template <int kCopy>
struct ColumnSink {
  uint32_t* row;
  WAVECOMP_INLINE void pair(int word, int32_t y0, int32_t y1) {
    const uint32_t packed = pack_pair(y0, y1);
    row[word] = packed;
    if constexpr (kCopy > 0) row[word + kCopy] = packed;
  }
  WAVECOMP_INLINE void single(int word, int32_t y0) {  // last channel of an odd count
    const uint32_t packed = (uint32_t)y0 & 0xFFFFu;     // the pad lane stays 0
    row[word] = packed;
    if constexpr (kCopy > 0) row[word + kCopy] = packed;
  }
};

// Straight to the caller's output array (a last node whose channels are the outputs).
struct OutputSink {
  int16_t* out;
  WAVECOMP_INLINE void pair(int word, int32_t y0, int32_t y1) {
    out[2 * word] = (int16_t)y0;
    out[2 * word + 1] = (int16_t)y1;
  }
  WAVECOMP_INLINE void single(int word, int32_t y0) { out[2 * word] = (int16_t)y0; }
};

// A gated node's pre-activations p, for the gate pass.
struct PreactSink {
  int32_t* p;
  WAVECOMP_INLINE void pair(int word, int32_t y0, int32_t y1) {
    p[2 * word] = y0;
    p[2 * word + 1] = y1;
  }
  WAVECOMP_INLINE void single(int word, int32_t y0) { p[2 * word] = y0; }
};

// Copy the network's input samples into the input tensor's new column (both copies).
template <int kChannels, int kCopy>
__STATIC_FORCEINLINE void write_input(const int16_t* in, uint32_t* row) {
  ColumnSink<kCopy> sink{row};
  for (int i = 0; i < kChannels / 2; ++i) sink.pair(i, in[2 * i], in[2 * i + 1]);
  if (kChannels % 2) sink.single(kChannels / 2, in[kChannels - 1]);
}

// ---- sources --------------------------------------------------------------------------------
// A conv source: K taps at dilation D over P packed pairs, into G accumulators.
template <int K, int D, int P, class A, int G>
__STATIC_FORCEINLINE void accumulate(const uint32_t* newest, const uint32_t*& w, A (&acc)[G]) {
  if constexpr (sizeof(A) == 8) {
    // The int64 redo: rare, so plain loops, small code.
#pragma GCC unroll 1
    for (int k = 0; k < K; ++k) {
      const uint32_t* column = newest + (K - 1 - k) * D * P;
#pragma GCC unroll 1
      for (int p = 0; p < P; ++p) {
        for (int o = 0; o < G; ++o) acc[o] = mac2(column[p], w[o], acc[o]);
        w += G;
      }
    }
    return;
  }
#if defined(__GNUC__)
  // Opaque to the optimiser: otherwise GCC hoists the activation loads out of the group loop
  // (they repeat for each group) and spills them all to the stack.
  __asm__("" : "+r"(newest));
#endif
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k) {
    const uint32_t* column = newest + (K - 1 - k) * D * P;  // tap k: lag (K-1-k)*d rows
#pragma GCC unroll 64
    for (int p = 0; p + 1 < P; p += 2) {  // two pairs (four channels) per activation load
      uint32_t x[2];
      load_activations(column + p, x);
#pragma GCC unroll 2
      for (int s = 0; s < 2; ++s) {
        uint32_t wt[G];
        load_weights<G>(w, wt);
#pragma GCC unroll 4
        for (int o = 0; o < G; ++o) acc[o] = mac2(x[s], wt[o], acc[o]);
      }
    }
    if constexpr (P % 2) {  // odd pair count: the last pair on its own
      const uint32_t x = column[P - 1];
      uint32_t wt[G];
      load_weights<G>(w, wt);
#pragma GCC unroll 4
      for (int o = 0; o < G; ++o) acc[o] = mac2(x, wt[o], acc[o]);
    }
  }
}

// An identity source: acc[o] += X[o] << S, as SMLADs with a one-lane weight (two of 1 << 14
// for S = 15, which is not an int16). ``column`` points at the group's first pair.
template <int S, class A, int G>
__STATIC_FORCEINLINE void add_identity(const uint32_t* column, A (&acc)[G]) {
  static_assert(S >= 0 && S <= 15, "identity shift 12 + e - m lies in 0..15");
  constexpr uint32_t kOne = 1u << (S == 15 ? 14 : S);
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) {
    const uint32_t weight = o % 2 ? kOne << 16 : kOne;
    acc[o] = mac2(column[o / 2], weight, acc[o]);
    if constexpr (S == 15) acc[o] = mac2(column[o / 2], weight, acc[o]);
  }
}

// ---- requantisation and activations --------------------------------------------------------
__STATIC_FORCEINLINE int32_t sum32(int32_t acc) { return acc; }
__STATIC_FORCEINLINE int32_t sum32(Watched acc) { return acc.v; }

// clamp(acc >> S) to int16
template <int S, class A>
__STATIC_FORCEINLINE int32_t preactivation(A acc) {
  if constexpr (sizeof(A) == 8) {
    const int64_t p = acc >> S;
    return p > 32767 ? 32767 : (p < -32768 ? -32768 : (int32_t)p);
  } else {
    return saturate_int16(sum32(acc) >> S);
  }
}

struct Linear {
  template <int S, class A>
  WAVECOMP_INLINE int32_t apply(A acc) const {
    return preactivation<S>(acc);
  }
};

struct Relu {
  template <int S, class A>
  WAVECOMP_INLINE int32_t apply(A acc) const {
    if constexpr (sizeof(A) == 8) {
      const int32_t p = preactivation<S>(acc);
      return p > 0 ? p : 0;
    } else {
      return saturate_relu(sum32(acc) >> S);
    }
  }
};

// p if p >= 0, else clamp((p * slope + R_0) >> 12)
struct LeakyRelu {
  int32_t slope;
  int32_t round;  // R_0
  template <int S, class A>
  WAVECOMP_INLINE int32_t apply(A acc) const {
    const int32_t p = preactivation<S>(acc);
    return p >= 0 ? p : saturate_int16((p * slope + round) >> 12);
  }
};

// Table lookup with linear interpolation; knots[i] = {L[i], L[i+1]} packed, 1,024 words.
struct Pwl {
  const uint32_t* knots;
  int32_t round;  // r: 32 (half_up) or 0 (floor)
  WAVECOMP_INLINE int32_t lookup(int32_t p) const {
    const uint32_t u = (uint32_t)(p + 32768);
    const uint32_t f = u & 63u;
    return smlad(knots[u >> 6], (64u - f) | (f << 16), round) >> 6;
  }
  template <int S, class A>
  WAVECOMP_INLINE int32_t apply(A acc) const {
    return lookup(preactivation<S>(acc));
  }
};

// Hand G finished accumulators to a sink, activated; ``word`` is the group's first pair.
template <int S, class Act, class Sink, class A, int G>
__STATIC_FORCEINLINE void emit_group(const Act& act, Sink& sink, int word, A (&acc)[G]) {
#pragma GCC unroll 4
  for (int o = 0; o + 1 < G; o += 2) {
    sink.pair(word + o / 2, act.template apply<S>(acc[o]), act.template apply<S>(acc[o + 1]));
  }
  if constexpr (G % 2) sink.single(word + G / 2, act.template apply<S>(acc[G - 1]));
}

// y[c] = clamp((tanh(p[c]) * sigmoid(p[C + c]) + R_0) >> 12) for a gated node's C outputs.
template <int C, class Sink>
__STATIC_FORCEINLINE void gate(const int32_t* p, const Pwl& signal, const Pwl& gate, int32_t round,
                               Sink& sink) {
  auto one = [&](int c) {
    return saturate_int16((signal.lookup(p[c]) * gate.lookup(p[C + c]) + round) >> 12);
  };
  for (int c = 0; c + 1 < C; c += 2) sink.pair(c / 2, one(c), one(c + 1));
  if constexpr (C % 2) sink.single(C / 2, one(C - 1));
}

// ---- a node ---------------------------------------------------------------------------------
// The int64 redo of a group whose int32 sums overflowed: same sources, same weight words.
template <int G, class Body, class Finish>
WAVECOMP_COLD void redo_exact(const int32_t* bias, const uint32_t* w, int o0, const Body& body,
                              const Finish& finish) {
  int64_t acc[G];
  for (int o = 0; o < G; ++o) acc[o] = bias[o];
  body(acc, w, o0);
  finish(acc, o0);
}

template <int G, AccWidth W, class Body, class Finish>
__STATIC_FORCEINLINE void run_group(const int32_t* bias, const uint32_t*& w, int o0,
                                    const Body& body, const Finish& finish) {
  using Acc = std::conditional_t<W == AccWidth::checked, Watched, int32_t>;
  const uint32_t* start = w;
  Acc acc[G];
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) acc[o] = Acc{bias[o]};
  if constexpr (W == AccWidth::checked) clear_overflow();
  body(acc, w, o0);
  if constexpr (W == AccWidth::checked) {
    if (__builtin_expect(overflowed(), 0)) {
      redo_exact<G>(bias, start, o0, body, finish);
      return;
    }
  }
  finish(acc, o0);
}

// One node over its Cpre pre-activations, four at a time. ``body(acc, w, o0)`` adds every
// source into the accumulators of channels o0..; ``finish(acc, o0)`` requantises and stores.
template <int Cpre, AccWidth W, class Body, class Finish>
WAVECOMP_INLINE void run_node(const int32_t* bias, const uint32_t* w, const Body& body,
                     const Finish& finish) {
  for (int g = 0; g < Cpre / kGroup; ++g) {
    run_group<kGroup, W>(bias + g * kGroup, w, g * kGroup, body, finish);
  }
  if constexpr (Cpre % kGroup) {
    constexpr int o0 = Cpre / kGroup * kGroup;
    run_group<Cpre % kGroup, W>(bias + o0, w, o0, body, finish);
  }
}

}  // namespace q12_fused
}  // namespace wavecomp

#endif  // WAVECOMP_Q12_FUSED_H
