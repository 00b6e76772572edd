// wavecomp float32 kernel: graph nodes in float32 model units with one fixed summation order.
//
// Tensors are float32 model units (Q4.12 raw / 4096) and nothing is requantised. One node
// computes, per pre-activation channel o (wavecomp.reference.float_ref specifies it):
//   s = (0.0f + every source in the node's order) + bias[o]
// where a conv source adds W[k][c][o] * X[t - (K-1-k)*d][c] over taps k (oldest first) and,
// within a tap, channels c in order, and an identity source adds X[t][o] * 2^-m; then the
// activation. Every product and sum rounds to float32: build with -ffp-contract=off (a fused
// multiply-add rounds once instead of twice). A plain conv chain is the graph whose nodes
// each read the one before, so its order is that of the CMSIS float kernel
// (wavecomp_f32_cmsis.h): both match float_ref bit for bit.
//
// Why it is shaped like this (instructions per MAC is the figure of merit; without a fused
// multiply-add a MAC is at least a VMUL and a VADD):
// - Each group of four output channels shares every activation load: a tap's channel is read
//   once and multiplied into four sums held in registers. Grouping leaves each channel's own
//   order of additions unchanged. Weights are laid out by the emitter in exactly the order
//   this code consumes them, so they stream through one post-incremented pointer, four at a
//   time with one VLDM on Arm (``mac``).
// - Taps stay a loop (code size: the Daisy's internal flash is mostly libDaisy's); channels
//   are unrolled by eight, or the loop overhead would cost about as much as the MACs.
// - A tensor read with a delay keeps a ring of span = (K-1)*d + 1 columns, each stored twice
//   (rows s and s + span) with time running towards higher rows, so all K taps of a sample
//   sit at compile-time offsets from the newest row: no masking or wrap in the inner loops.
// - pwl tables are the IR's 1,025 knots as floats (L / 4096, exact); see Pwl for the
//   interpolation's operation order.
// No heap, no exceptions, no CMSIS.
#ifndef WAVECOMP_F32_FUSED_H
#define WAVECOMP_F32_FUSED_H

#include <stdint.h>

#include "wavecomp_store.h"

// The engine's generated node bodies are lambdas: WAVECOMP_F32_LAMBDA_INLINE makes GCC inline
// them, so a group's four sums stay in registers.
#if defined(__GNUC__)
#define WAVECOMP_F32_INLINE inline __attribute__((always_inline))
#define WAVECOMP_F32_LAMBDA_INLINE __attribute__((always_inline))
#else
#define WAVECOMP_F32_INLINE inline
#define WAVECOMP_F32_LAMBDA_INLINE
#endif

namespace wavecomp {
namespace f32_fused {

// Output channels per group: four float sums next to the loads fit the FPU's registers.
constexpr int kGroup = 4;

// Tensor stores of float32 channels (wavecomp_store.h).
template <int kSpan, int kChannels>
using Ring = store::Ring<float, kSpan, kChannels>;
template <int kChannels>
using Column = store::Column<float, kChannels>;

// ---- where a node's outputs go -------------------------------------------------------------
// Into a tensor's new column (both copies when it is a ring).
template <int kCopy>
struct ColumnSink {
  float* column;
  WAVECOMP_F32_INLINE void put(int c, float y) {
    column[c] = y;
    if constexpr (kCopy > 0) column[c + kCopy] = y;
  }
};

// Into a plain array: the caller's outputs, or a gated node's pre-activations.
struct ArraySink {
  float* values;
  WAVECOMP_F32_INLINE void put(int c, float y) { values[c] = y; }
};

// Copy the network's input samples into the input tensor's new column.
template <int kChannels, int kCopy>
WAVECOMP_F32_INLINE void write_input(const float* in, float* column) {
  ColumnSink<kCopy> sink{column};
  for (int c = 0; c < kChannels; ++c) sink.put(c, in[c]);
}

// acc[o] += w[o] * x for the G sums of a group; the stream moves on by G weights. On Arm, four
// sums are one VLDM, four VMUL and four VADD in one asm block: GCC forms no VLDM from C, and a
// fixed-register VLDM feeding C arithmetic costs a VMOV per weight. The scratch registers
// s28-s31 are ones GCC rarely picks, so it does not shuffle the sums around them. Same
// operations, same rounding as the C loop the host build runs.
template <int G>
WAVECOMP_F32_INLINE void mac(float x, const float*& w, float (&acc)[G]) {
#if defined(__ARM_ARCH) && defined(__GNUC__) && defined(__ARM_FP)
  if constexpr (G == 4) {
    __asm__ volatile(
        "vldmia %[w]!, {s28-s31}\n\t"
        "vmul.f32 s28, s28, %[x]\n\t"
        "vmul.f32 s29, s29, %[x]\n\t"
        "vmul.f32 s30, s30, %[x]\n\t"
        "vmul.f32 s31, s31, %[x]\n\t"
        "vadd.f32 %[a0], %[a0], s28\n\t"
        "vadd.f32 %[a1], %[a1], s29\n\t"
        "vadd.f32 %[a2], %[a2], s30\n\t"
        "vadd.f32 %[a3], %[a3], s31"
        : [w] "+r"(w), [a0] "+t"(acc[0]), [a1] "+t"(acc[1]), [a2] "+t"(acc[2]), [a3] "+t"(acc[3])
        : [x] "t"(x), "m"(*(const float(*)[4])w)
        : "s28", "s29", "s30", "s31");
    return;
  }
#endif
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) acc[o] += w[o] * x;
  w += G;
}

// ---- sources --------------------------------------------------------------------------------
// A conv source: K taps at dilation D over C channels, into G sums; w streams G weights per
// (tap, channel), taps oldest first.
template <int K, int D, int C, int G>
WAVECOMP_F32_INLINE void accumulate(const float* newest, const float*& w, float (&acc)[G]) {
#pragma GCC unroll 1
  for (int k = 0; k < K; ++k) {
    const float* column = newest + (K - 1 - k) * D * C;  // tap k: lag (K-1-k)*d rows
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) mac(column[c], w, acc);
  }
}

// An identity source: acc[o] += X[o] * 2^-m (exact: a power of two). ``x`` points at the
// group's first channel.
template <int G>
WAVECOMP_F32_INLINE void add_identity(const float* x, float scale, float (&acc)[G]) {
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) acc[o] += x[o] * scale;
}

// ---- activations ----------------------------------------------------------------------------
struct Linear {
  WAVECOMP_F32_INLINE float operator()(float s) const { return s; }
};

struct Relu {
  WAVECOMP_F32_INLINE float operator()(float s) const { return s > 0.0f ? s : 0.0f; }
};

struct LeakyRelu {
  float slope;  // a / 4096
  WAVECOMP_F32_INLINE float operator()(float s) const { return s >= 0.0f ? s : s * slope; }
};

// Linear interpolation between the knots at x = -8, -8 + 1/64, ..., +8; beyond them the end
// knots. u counts segments from x = -8 (NaN clamps to 0, like float_ref).
struct Pwl {
  const float* knots;  // 1,025: L[i] / 4096
  WAVECOMP_F32_INLINE float operator()(float s) const {
    float u = (s + 8.0f) * 64.0f;
    u = u > 0.0f ? u : 0.0f;
    u = u < 1024.0f ? u : 1024.0f;
    int i = (int)u;  // floor: u >= 0
    i = i < 1023 ? i : 1023;
    const float low = knots[i];
    return low + (knots[i + 1] - low) * (u - (float)i);
  }
};

// ---- a node ---------------------------------------------------------------------------------
// Hand G finished sums to a sink: + bias, then the activation.
template <class Act, class Sink, int G>
WAVECOMP_F32_INLINE void emit_group(const Act& act, const float* bias, Sink& sink, int o0,
                                    const float (&acc)[G]) {
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) sink.put(o0 + o, act(acc[o] + bias[o0 + o]));
}

// y[c] = signal(p[c]) * gate(p[C + c]) for a gated node's C outputs.
template <int C, class Sink>
WAVECOMP_F32_INLINE void gate(const float* p, const Pwl& signal, const Pwl& gate, Sink& sink) {
  for (int c = 0; c < C; ++c) sink.put(c, signal(p[c]) * gate(p[C + c]));
}

template <int G, class Body, class Finish>
WAVECOMP_F32_INLINE void run_group(const float*& w, int o0, const Body& body,
                                   const Finish& finish) {
  float acc[G];
#pragma GCC unroll 4
  for (int o = 0; o < G; ++o) acc[o] = 0.0f;
  body(acc, w, o0);
  finish(acc, o0);
}

// One node over its Cpre pre-activations, four at a time. ``body(acc, w, o0)`` adds every
// source into the sums of channels o0..; ``finish(acc, o0)`` adds the bias, activates, stores.
template <int Cpre, class Body, class Finish>
WAVECOMP_F32_INLINE void run_node(const float* w, const Body& body, const Finish& finish) {
  for (int g = 0; g < Cpre / kGroup; ++g) run_group<kGroup>(w, g * kGroup, body, finish);
  if constexpr (Cpre % kGroup) run_group<Cpre % kGroup>(w, Cpre / kGroup * kGroup, body, finish);
}

}  // namespace f32_fused
}  // namespace wavecomp

#endif  // WAVECOMP_F32_FUSED_H
