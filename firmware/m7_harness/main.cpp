// Bare-metal harness that runs a wavecomp engine on the emulated Cortex-M7 (QEMU mps2-an500).
//
// Reads Q4.12 (or float) input frames from wc_in.bin over semihosting, resets the engine,
// steps it once per frame and writes the output frames to wc_out.bin. Each engine_step call
// is bracketed by wc_step_begin()/wc_step_end(), whose addresses the instruction-counting
// QEMU plugin watches, so the count covers inference only (not file I/O or the reset).
// wavecomp/mcu/m7_run.py drives it; the file names and records below are its contract.
#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "semihosting.h"
#include "wavecomp_engine.h"

namespace {

using wavecomp::kInputs;
using wavecomp::kOutputs;
using wavecomp::sample_t;

constexpr uint32_t kFramesPerBlock = 256;
constexpr uint32_t kInFrameBytes = sizeof(sample_t) * kInputs;
constexpr uint32_t kOutFrameBytes = sizeof(sample_t) * kOutputs;
constexpr uint32_t kStackPaint = 0x57AC57ACu;

sample_t in_block[kFramesPerBlock * kInputs];
sample_t out_block[kFramesPerBlock * kOutputs];

[[noreturn]] void fail(const char* message) {
    semihosting::print("wavecomp m7 harness: ");
    semihosting::print(message);
    semihosting::print("\n");
    semihosting::exit(false);
}

void zero(uint32_t* begin, uint32_t* end) {
    while (begin < end) {
        *begin++ = 0;
    }
}

void hex32(char* out, uint32_t value) {
    for (int i = 7; i >= 0; --i) {
        out[7 - i] = "0123456789abcdef"[(value >> (4 * i)) & 0xF];
    }
}

}  // namespace

extern "C" {

// Linker-script symbols (m7.ld).
extern uint32_t _sidata[], _sdata[], _edata[];
extern uint32_t _sbss[], _ebss[], _sdtcm_bss[], _edtcm_bss[], _ssram1_bss[], _esram1_bss[];
extern uint32_t _sstack[], _estack[];
extern void (*__init_array_start[])(), (*__init_array_end[])();

// What the host needs to know to talk to this ELF; read from the ELF by m7_build.py (objcopy).
struct HarnessInfo {
    uint32_t magic;  // "WCM7"
    uint32_t version;
    uint32_t sample_bytes;
    uint32_t sample_is_float;
    uint32_t inputs;
    uint32_t outputs;
};
__attribute__((section(".wc_info"), used)) extern const HarnessInfo wc_harness_info = {
    0x374D4357u, 1, sizeof(sample_t), std::is_floating_point<sample_t>::value ? 1u : 0u,
    static_cast<uint32_t>(kInputs), static_cast<uint32_t>(kOutputs)};

// Written to wc_stats.bin after the run.
struct RunStats {
    uint32_t magic;  // "WCST"
    uint32_t frames;
    uint32_t stack_bytes;  // high-water mark of the main stack (harness + engine)
};

// Markers: never inlined, cloned or folded together, so each keeps its own address.
__attribute__((noipa, no_icf)) void wc_step_begin() { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa, no_icf)) void wc_step_end() { __asm__ volatile("nop" ::: "memory"); }

void wc_runtime_init() {
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) {
        *dst++ = *src++;
    }
    zero(_sbss, _ebss);
    zero(_sdtcm_bss, _edtcm_bss);
    zero(_ssram1_bss, _esram1_bss);
    for (void (**ctor)() = __init_array_start; ctor < __init_array_end; ++ctor) {
        (*ctor)();
    }
}

[[noreturn]] void wc_exit(int code) { semihosting::exit(code == 0); }

// Entered from the fault vectors with the exception stack frame (r0-r3, r12, lr, pc, xpsr).
[[noreturn]] void wc_fault_report(const uint32_t* frame) {
    char message[] = "CPU fault at pc=0x........ (CFSR=0x........, HFSR=0x........)";
    hex32(message + 18, frame[6]);
    hex32(message + 35, *reinterpret_cast<volatile uint32_t*>(0xE000ED28u));
    hex32(message + 52, *reinterpret_cast<volatile uint32_t*>(0xE000ED2Cu));
    fail(message);
}

}  // extern "C"

int main() {
    // Paint the free stack so its high-water mark can be measured after the run.
    volatile uint32_t here = 0;
    for (uint32_t* p = _sstack; p < reinterpret_cast<uint32_t*>(
                                        reinterpret_cast<uintptr_t>(&here) - 64);) {
        *p++ = kStackPaint;
    }

    const int32_t in = semihosting::open("wc_in.bin", semihosting::kModeReadBinary);
    if (in < 0) {
        fail("cannot open wc_in.bin");
    }
    const int32_t in_bytes = semihosting::file_length(in);
    if (in_bytes < 0 || static_cast<uint32_t>(in_bytes) % kInFrameBytes != 0) {
        fail("wc_in.bin is not a whole number of input frames");
    }
    const uint32_t frames = static_cast<uint32_t>(in_bytes) / kInFrameBytes;
    const int32_t out = semihosting::open("wc_out.bin", semihosting::kModeWriteBinary);
    if (out < 0) {
        fail("cannot create wc_out.bin");
    }

    wavecomp::engine_reset();
    for (uint32_t done = 0; done < frames;) {
        const uint32_t n = frames - done < kFramesPerBlock ? frames - done : kFramesPerBlock;
        if (semihosting::read(in, in_block, n * kInFrameBytes) != 0) {
            fail("short read from wc_in.bin");
        }
        for (uint32_t i = 0; i < n; ++i) {
            wc_step_begin();
            wavecomp::engine_step(&in_block[i * kInputs], &out_block[i * kOutputs]);
            wc_step_end();
        }
        if (semihosting::write(out, out_block, n * kOutFrameBytes) != 0) {
            fail("short write to wc_out.bin");
        }
        done += n;
    }
    semihosting::close(in);
    semihosting::close(out);

    const uint32_t* low = _sstack;
    while (low < _estack && *low == kStackPaint) {
        ++low;
    }
    const RunStats stats = {0x54534357u, frames,
                            static_cast<uint32_t>(reinterpret_cast<uintptr_t>(_estack) -
                                                  reinterpret_cast<uintptr_t>(low))};
    const int32_t stats_file = semihosting::open("wc_stats.bin", semihosting::kModeWriteBinary);
    if (stats_file < 0 || semihosting::write(stats_file, &stats, sizeof stats) != 0) {
        fail("cannot write wc_stats.bin");
    }
    semihosting::close(stats_file);
    return 0;
}
