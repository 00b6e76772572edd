// wavecomp tensor stores for the fused engines (q12 and f32): where a tensor's columns live.
//
// A tensor read with a delay keeps a Ring of span = (K-1)*d + 1 columns, each stored twice
// (rows s and s + span) with time running towards higher rows, so all K taps of a sample sit
// at compile-time offsets from the newest row: no masking or wrap in the inner loops. A tensor
// read only at delay 0 (or only an output) keeps this sample's Column. T is a column's element:
// packed Q4.12 channel pairs (uint32_t) or float32 channels.
#ifndef WAVECOMP_STORE_H
#define WAVECOMP_STORE_H

#include <stdint.h>
#include <string.h>

namespace wavecomp {
namespace store {

template <class T, int kSpan, int kWidth>
struct Ring {
  static_assert(kSpan > 1, "a tensor read only at delay 0 is a Column");
  static constexpr int kCopy = kSpan * kWidth;  // distance to a column's second copy

  alignas(8) T data[2 * kSpan * kWidth];
  uint32_t pos;  // row of the newest column; older columns follow at higher rows

  void reset() {
    memset(data, 0, sizeof data);
    pos = 0;
  }
  // Make room for a new column and return its (first) row; the writer fills both copies.
  T* push() {
    if constexpr ((kSpan & (kSpan - 1)) == 0) {
      pos = (pos - 1u) & (kSpan - 1u);
    } else {
      pos = pos == 0 ? kSpan - 1u : pos - 1u;
    }
    return data + pos * kWidth;
  }
  const T* newest() const { return data + pos * kWidth; }
};

template <class T, int kWidth>
struct Column {
  static constexpr int kCopy = 0;

  alignas(8) T data[kWidth];

  void reset() { memset(data, 0, sizeof data); }
  T* push() { return data; }
  const T* newest() const { return data; }
};

}  // namespace store
}  // namespace wavecomp

#endif  // WAVECOMP_STORE_H
