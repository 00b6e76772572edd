/*
 * wavecomp's stand-in for CMSIS Core's cmsis_compiler.h (our own code, not Arm's).
 *
 * Why it exists: CMSIS-DSP's arm_math_types.h includes "cmsis_compiler.h" for a handful of
 * compiler macros and the DSP intrinsics (__SMLALD, __SSAT, __CLZ, ...), and wavecomp's fused
 * kernel uses the same intrinsics. CMSIS Core is not in any package registry, so standalone
 * builds (host tests, the bare-metal Cortex-M7 harness) put this folder on the include path
 * instead. A Daisy build must NOT: libDaisy force-includes stm32h7xx.h, which brings the real
 * CMSIS Core, and its intrinsics have the same names and meaning.
 *
 * On Arm with the DSP extension every intrinsic maps to a GCC ACLE builtin from <arm_acle.h>,
 * so the compiler can schedule it and fold shifts into it (SSAT Rd, #16, Rn, ASR #12).
 * Anywhere else (the host) they are portable C with exactly the instruction's semantics:
 * SMLAD wraps modulo 2^32, SMLALD is exact in 64 bits. (CMSIS-DSP's own C fallbacks in
 * dsp/none.h add both SMLALD products in int32 first, which overflows when both lanes are
 * -32768 * -32768 -- precisely the full-scale case the tests exercise. Defining
 * ARM_MATH_DSP below switches those fallbacks off and makes the host run the same CMSIS-DSP
 * code paths as the Cortex-M7.)
 *
 * Only what CMSIS-DSP's headers, the CMSIS-DSP files wavecomp compiles and the wavecomp
 * kernels use is here; add more as needed.
 */
#ifndef WAVECOMP_CMSIS_COMPILER_SHIM_H
#define WAVECOMP_CMSIS_COMPILER_SHIM_H

#include <stdint.h>

#if !defined(__GNUC__)
#error "wavecomp's CMSIS shim supports GCC and Clang only"
#endif

/* ---- compiler macros CMSIS-DSP expects from CMSIS Core ---------------------------------- */
#ifndef __ASM
#define __ASM __asm
#endif
#ifndef __INLINE
#define __INLINE inline
#endif
#ifndef __STATIC_INLINE
#define __STATIC_INLINE static inline
#endif
#ifndef __STATIC_FORCEINLINE
#define __STATIC_FORCEINLINE __attribute__((always_inline)) static inline
#endif
#ifndef __ALIGNED
#define __ALIGNED(x) __attribute__((aligned(x)))
#endif
#ifndef __WEAK
#define __WEAK __attribute__((weak))
#endif
#ifndef __RESTRICT
#define __RESTRICT __restrict
#endif
#ifndef __UNUSED
#define __UNUSED __attribute__((unused))
#endif

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)
/* ---- Arm with the DSP extension (Cortex-M4/M7/M33...): ACLE builtins -------------------- */
#include <arm_acle.h>

#define __SSAT(ARG1, ARG2) __ssat((ARG1), (ARG2))
#define __USAT(ARG1, ARG2) __usat((ARG1), (ARG2))

__STATIC_FORCEINLINE uint32_t __SMLAD(uint32_t op1, uint32_t op2, uint32_t op3)
{
  return (uint32_t)__smlad((int16x2_t)op1, (int16x2_t)op2, (int32_t)op3);
}

__STATIC_FORCEINLINE uint64_t __SMLALD(uint32_t op1, uint32_t op2, uint64_t acc)
{
  return (uint64_t)__smlald((int16x2_t)op1, (int16x2_t)op2, (int64_t)acc);
}

__STATIC_FORCEINLINE uint32_t __SMUAD(uint32_t op1, uint32_t op2)
{
  return (uint32_t)__smuad((int16x2_t)op1, (int16x2_t)op2);
}

/* bottom halfword of ARG1, top halfword of (ARG2 << ARG3); ACLE has no builtin, and GCC
   does not form PKHBT from the C expression, so this one is inline asm */
#define __PKHBT(ARG1, ARG2, ARG3)                                                     \
  __extension__({                                                                     \
    uint32_t __pkh_res;                                                               \
    __ASM("pkhbt %0, %1, %2, lsl %3"                                                  \
          : "=r"(__pkh_res)                                                           \
          : "r"((uint32_t)(ARG1)), "r"((uint32_t)(ARG2)), "I"(ARG3));                 \
    __pkh_res;                                                                        \
  })

#else
/* ---- anywhere else: portable C with the instructions' exact semantics ------------------- */
#ifndef ARM_MATH_DSP
#define ARM_MATH_DSP 1 /* the intrinsics below are exact: let CMSIS-DSP take its DSP paths */
#endif

__STATIC_FORCEINLINE int32_t wavecomp_shim_ssat(int32_t val, uint32_t sat)
{
  const int32_t max = (int32_t)((1U << (sat - 1U)) - 1U);
  const int32_t min = -1 - max;
  return val > max ? max : (val < min ? min : val);
}

__STATIC_FORCEINLINE uint32_t wavecomp_shim_usat(int32_t val, uint32_t sat)
{
  const int32_t max = (int32_t)((1U << sat) - 1U);
  return (uint32_t)(val > max ? max : (val < 0 ? 0 : val));
}

#define __SSAT(ARG1, ARG2) wavecomp_shim_ssat((ARG1), (ARG2))
#define __USAT(ARG1, ARG2) wavecomp_shim_usat((ARG1), (ARG2))

/* the signed 16-bit lanes of a packed pair: bits [15:0] and [31:16] */
__STATIC_FORCEINLINE int32_t wavecomp_shim_lo(uint32_t x) { return (int16_t)(x & 0xFFFFU); }
__STATIC_FORCEINLINE int32_t wavecomp_shim_hi(uint32_t x) { return (int16_t)(x >> 16); }

__STATIC_FORCEINLINE uint32_t __SMUAD(uint32_t op1, uint32_t op2)
{
  /* each product fits in int32; their sum wraps modulo 2^32 like the instruction */
  return (uint32_t)(wavecomp_shim_lo(op1) * wavecomp_shim_lo(op2)) +
         (uint32_t)(wavecomp_shim_hi(op1) * wavecomp_shim_hi(op2));
}

__STATIC_FORCEINLINE uint32_t __SMLAD(uint32_t op1, uint32_t op2, uint32_t op3)
{
  return __SMUAD(op1, op2) + op3;
}

__STATIC_FORCEINLINE uint64_t __SMLALD(uint32_t op1, uint32_t op2, uint64_t acc)
{
  const int64_t sum = (int64_t)wavecomp_shim_lo(op1) * wavecomp_shim_lo(op2) +
                      (int64_t)wavecomp_shim_hi(op1) * wavecomp_shim_hi(op2);
  return acc + (uint64_t)sum;
}

#define __PKHBT(ARG1, ARG2, ARG3) \
  ((((uint32_t)(ARG1)) & 0x0000FFFFUL) | ((((uint32_t)(ARG2)) << (ARG3)) & 0xFFFF0000UL))
#endif

/* ---- intrinsics without a DSP instruction (the same on every target) -------------------- */
__STATIC_FORCEINLINE uint8_t __CLZ(uint32_t value)
{
  return value == 0U ? 32U : (uint8_t)__builtin_clz(value);
}


#endif /* WAVECOMP_CMSIS_COMPILER_SHIM_H */
