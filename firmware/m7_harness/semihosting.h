// Minimal ARM semihosting (BKPT 0xAB on M-profile) for the emulated-M7 harness.
//
// Our own few calls instead of newlib's rdimon: the harness then links no stdio, so the
// ELF's size figures are the engine's, and nothing runs that the instruction counter
// could mistake for inference.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace semihosting {

enum Op : uint32_t {
    kOpen = 0x01,
    kClose = 0x02,
    kWrite0 = 0x04,
    kWrite = 0x05,
    kRead = 0x06,
    kFlen = 0x0C,
    kExit = 0x18,
};

// SYS_OPEN modes (ISO C fopen): 1 = "rb", 5 = "wb".
constexpr uint32_t kModeReadBinary = 1;
constexpr uint32_t kModeWriteBinary = 5;

// SYS_EXIT reasons: QEMU exits with status 0 for ApplicationExit and 1 for anything else.
constexpr uint32_t kApplicationExit = 0x20026;
constexpr uint32_t kRunTimeErrorUnknown = 0x20023;

inline uint32_t call(uint32_t op, const void* arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void* r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

inline size_t length(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

inline void print(const char* message) { call(kWrite0, message); }

// Returns a handle, or -1.
inline int32_t open(const char* path, uint32_t mode) {
    const uint32_t block[3] = {reinterpret_cast<uint32_t>(path), mode, length(path)};
    return static_cast<int32_t>(call(kOpen, block));
}

inline void close(int32_t handle) {
    const uint32_t block[1] = {static_cast<uint32_t>(handle)};
    call(kClose, block);
}

// Returns the number of bytes NOT transferred (0 = all of them), as the semihosting spec does.
inline uint32_t write(int32_t handle, const void* data, uint32_t bytes) {
    const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(data),
                               bytes};
    return call(kWrite, block);
}

inline uint32_t read(int32_t handle, void* data, uint32_t bytes) {
    const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(data),
                               bytes};
    return call(kRead, block);
}

// Returns the file's length in bytes, or -1.
inline int32_t file_length(int32_t handle) {
    const uint32_t block[1] = {static_cast<uint32_t>(handle)};
    return static_cast<int32_t>(call(kFlen, block));
}

[[noreturn]] inline void exit(bool success) {
    const uint32_t reason = success ? kApplicationExit : kRunTimeErrorUnknown;
    // On AArch32, SYS_EXIT takes the reason itself in r1, not a pointer to a block.
    call(kExit, reinterpret_cast<const void*>(reason));
    for (;;) {
    }
}

}  // namespace semihosting
