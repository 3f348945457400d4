/*
 * startup.c - effc's Cortex-M startup: vector table, reset and fault handlers.
 *
 * Reset: enable the FPU (when the build has one), copy .data from flash, zero
 * .bss, paint the unused stack with 0xA5A5A5A5 (for the high-water mark),
 * guard the stack's lowest EFFC_STACK_GUARD bytes (Armv8-M: MSPLIM; Armv7-M:
 * an MPU region without access), call main() and exit through semihosting
 * with its return value. A fault (a stack overflow included) exits with
 * EFFC_EXIT_HARDFAULT after printing the fault registers and the faulting PC.
 */
#include <stdint.h>

#include "effc_semihost.h"

extern uint32_t __stack_limit, __stack_top;
extern uint32_t __data_start, __data_end, __data_load;
extern uint32_t __bss_start, __bss_end;

int main(void);
void Reset_Handler(void);
void HardFault_Handler(void);
void effc_default_handler(void);
void effc_reset_c(void);
void effc_hardfault_c(const uint32_t *frame);

typedef void (*effc_vector)(void);

/* Cortex-M system exceptions; no peripheral interrupt is used. */
__attribute__((section(".isr_vector"), used)) const effc_vector effc_vectors[16] = {
    (effc_vector)(uintptr_t)&__stack_top, /* initial MSP */
    Reset_Handler,
    effc_default_handler, /* NMI */
    HardFault_Handler,
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    HardFault_Handler, /* SecureFault (Armv8-M) */
    0,
    0,
    0,
    effc_default_handler, /* SVCall */
    effc_default_handler, /* DebugMonitor */
    0,
    effc_default_handler, /* PendSV */
    effc_default_handler, /* SysTick */
};

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
        /* CPACR: full access to CP10/CP11 (FPU, and MVE on Cortex-M55). */
        "ldr    r0, =0xE000ED88\n\t"
        "ldr    r1, [r0]\n\t"
        "orr    r1, r1, #(0xF << 20)\n\t"
        "str    r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
#endif
        "ldr    r0, =__stack_top\n\t"
        "msr    msp, r0\n\t"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__)
        "ldr    r0, =__stack_limit\n\t"
        "msr    msplim, r0\n\t"
#endif
        "b      effc_reset_c\n\t"
        ".ltorg\n\t");
}

#define EFFC_STACK_GUARD 32u

#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
#define EFFC_MPU_GUARD 1
/* MPU region 0: the lowest 32 bytes of the stack; region 1: up to 16 MiB
 * right below it (QEMU ignores accesses to unmapped memory, so a large frame
 * jumping past the small guard must still fault). No access, never executed. */
static void effc_stack_guard(void)
{
    volatile uint32_t *const mpu = (volatile uint32_t *)0xE000ED90u; /* MPU_TYPE */
    const uint32_t limit = (uint32_t)(uintptr_t)&__stack_limit;
    uint32_t k = 24;
    if (((mpu[0] >> 8) & 0xFFu) < 2) {
        return; /* no MPU */
    }
    while (k > 5 && (limit & ((1u << k) - 1u)) != 0) {
        k--;
    }
    mpu[2] = 0;                                /* RNR */
    mpu[3] = limit;                            /* RBAR (32-byte aligned) */
    mpu[4] = (1u << 28) | (4u << 1) | 1u;      /* RASR: XN, AP=0, 2^5 bytes, on */
    mpu[2] = 1;
    mpu[3] = limit - (1u << k);
    mpu[4] = (1u << 28) | ((k - 1u) << 1) | 1u; /* 2^k bytes below the stack */
    mpu[1] = (1u << 2) | 1u;                   /* CTRL: PRIVDEFENA, ENABLE */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}
#endif

__attribute__((noreturn, used)) void effc_reset_c(void)
{
    const uint32_t *src = &__data_load;
    uint32_t *dst;
    uint32_t *sp;
    for (dst = &__data_start; dst < &__data_end; dst++) {
        *dst = *src++;
    }
    for (dst = &__bss_start; dst < &__bss_end; dst++) {
        *dst = 0;
    }
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = &__stack_limit; dst < sp - 16; dst++) {
        *(volatile uint32_t *)dst = EFFC_STACK_PAINT;
    }
#ifdef EFFC_MPU_GUARD
    effc_stack_guard();
#endif
    effc_exit(main());
}

/* Bytes of stack ever used: the painted words still intact are unused. */
uint32_t effc_stack_high_water(void)
{
    const uint32_t *p = &__stack_limit + EFFC_STACK_GUARD / 4u;
    while (p < &__stack_top && *(volatile const uint32_t *)p == EFFC_STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

/* Usable stack bytes (without the guard). */
uint32_t effc_stack_size(void)
{
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_limit) - EFFC_STACK_GUARD;
}

void effc_default_handler(void)
{
    effc_puts("EFFC error: unexpected exception\n");
    effc_exit(EFFC_EXIT_HARDFAULT);
}

/* The faulting code may have overflowed the stack: continue on a fresh one. */
__attribute__((naked, noreturn)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "tst    lr, #4\n\t"
        "ite    eq\n\t"
        "mrseq  r0, msp\n\t"
        "mrsne  r0, psp\n\t"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__)
        "movs   r1, #0\n\t"
        "msr    msplim, r1\n\t"
#endif
#if defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_7M__)
        "ldr    r1, =0xE000ED94\n\t" /* MPU_CTRL = 0: lift the stack guard */
        "movs   r2, #0\n\t"
        "str    r2, [r1]\n\t"
        "dsb\n\t"
        "isb\n\t"
#endif
        "ldr    r1, =__stack_top\n\t"
        "mov    sp, r1\n\t"
        "b      effc_hardfault_c\n\t"
        ".ltorg\n\t");
}

__attribute__((noreturn, used)) void effc_hardfault_c(const uint32_t *frame)
{
    const uint32_t cfsr = *(volatile const uint32_t *)0xE000ED28u;
    const uint32_t hfsr = *(volatile const uint32_t *)0xE000ED2Cu;
    const uint32_t lo = (uint32_t)(uintptr_t)&__stack_limit;
    const uint32_t hi = (uint32_t)(uintptr_t)&__stack_top;
    const uint32_t f = (uint32_t)(uintptr_t)frame;
    effc_puts("EFFC hardfault cfsr=");
    effc_put_hex(cfsr);
    effc_puts(" hfsr=");
    effc_put_hex(hfsr);
    effc_puts(" sp=");
    effc_put_hex(f);
    if (f >= lo + EFFC_STACK_GUARD && f + 32u <= hi) {
        effc_puts(" pc=");
        effc_put_hex(frame[6]);
    }
    /* frame below the guard, STKOF (MSPLIM), MSTKERR or BSTKERR */
    if (f < lo + EFFC_STACK_GUARD || (cfsr & ((1u << 20) | (1u << 12) | (1u << 4))) != 0) {
        effc_puts(" (stack overflow)");
    }
    effc_puts("\n");
    effc_exit(EFFC_EXIT_HARDFAULT);
}
