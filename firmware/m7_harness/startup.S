/* Reset path for the emulated Cortex-M7 (QEMU mps2-an500).
 *
 * Written in assembly so that no compiler-generated code runs before the FPU is enabled:
 * with -mfloat-abi=hard any C function may touch s/d registers, and on an M-profile core a
 * floating-point instruction with CPACR.CP10/CP11 clear raises a NOCP UsageFault.
 */
    .syntax unified
    .cpu cortex-m7
    .thumb

    .section .isr_vector, "a", %progbits
    .align 2
    .global wc_vector_table
wc_vector_table:
    .word _estack               /* initial SP */
    .word Reset_Handler
    .word wc_fault_handler      /* NMI */
    .word wc_fault_handler      /* HardFault */
    .word wc_fault_handler      /* MemManage */
    .word wc_fault_handler      /* BusFault */
    .word wc_fault_handler      /* UsageFault */
    .word 0, 0, 0, 0            /* reserved */
    .word wc_fault_handler      /* SVCall */
    .word wc_fault_handler      /* DebugMonitor */
    .word 0                     /* reserved */
    .word wc_fault_handler      /* PendSV */
    .word wc_fault_handler      /* SysTick */

    .text
    .thumb_func
    .global Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    /* CPACR (0xE000ED88): full access to CP10 and CP11 (the FPU). */
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    bl wc_runtime_init
    bl main
    b wc_exit                   /* r0 = main's return value */
    .size Reset_Handler, . - Reset_Handler

/* Every fault vector: hand the stacked exception frame to wc_fault_report (main.cpp), which
 * prints the faulting PC over semihosting and exits with failure instead of hanging QEMU. */
    .thumb_func
    .global wc_fault_handler
    .type wc_fault_handler, %function
wc_fault_handler:
    tst lr, #4
    ite eq
    mrseq r0, msp
    mrsne r0, psp
    b wc_fault_report
    .size wc_fault_handler, . - wc_fault_handler
