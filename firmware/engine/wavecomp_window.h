// wavecomp activation cache for the CMSIS-DSP kernels (plain conv chains).
//
// Each layer keeps its last kRows input columns (kRows: a power of two >= (K-1)*d + 1) of
// kChannels samples; the write position moves down one row per sample, so the column with
// lag j sits at row (pos + j) & (kRows - 1) -- a mask, never a modulo. CMSIS-DSP's dot
// products want one contiguous vector, so gather() copies the K taps of the current sample
// into a window, tap-major (tap 0, the oldest, first), which is also the summation order the
// float reference (wavecomp.reference.float_ref) follows.
#ifndef WAVECOMP_WINDOW_H
#define WAVECOMP_WINDOW_H

#include <stdint.h>
#include <string.h>

namespace wavecomp {

template <class T, int kRows, int kChannels>
struct WindowRing {
  static_assert(kRows > 0 && (kRows & (kRows - 1)) == 0, "ring rows must be a power of two");

  T data[kRows * kChannels];
  uint32_t pos;  // row of the newest column

  void reset() {
    memset(data, 0, sizeof data);
    pos = 0;
  }
  // Make room for a new column and return it for the producer to fill.
  T* push() {
    pos = (pos - 1u) & (kRows - 1u);
    return data + pos * kChannels;
  }
  const T* column(uint32_t lag) const { return data + ((pos + lag) & (kRows - 1u)) * kChannels; }

  // The K taps of a layer with dilation D (tap k has lag (K-1-k)*D) into window[K*kChannels].
  template <int K, int D>
  void gather(T* window) const {
    for (int k = 0; k < K; ++k) {
      memcpy(window + k * kChannels, column((uint32_t)((K - 1 - k) * D)), sizeof(T) * kChannels);
    }
  }
};

}  // namespace wavecomp

#endif  // WAVECOMP_WINDOW_H
