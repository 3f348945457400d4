/*
 * effc_semihost.h - Arm semihosting calls (bkpt 0xab; r0 = operation,
 * r1 = argument block) used by the effc firmware.
 */
#ifndef EFFC_SEMIHOST_H
#define EFFC_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#define EFFC_STACK_PAINT 0xA5A5A5A5u

/* Exit codes of the firmware (QEMU's own exit status). */
#define EFFC_EXIT_OK 0
#define EFFC_EXIT_MODEL_ERROR 2  /* model_run returned non-zero */
#define EFFC_EXIT_INPUT_ERROR 3  /* input file missing or of the wrong size */
#define EFFC_EXIT_OUTPUT_ERROR 4 /* output file could not be written */
#define EFFC_EXIT_HARDFAULT 125  /* any fault (HardFault, MemManage, BusFault, ...) */

#define EFFC_SYS_OPEN 0x01
#define EFFC_SYS_CLOSE 0x02
#define EFFC_SYS_WRITE0 0x04
#define EFFC_SYS_WRITE 0x05
#define EFFC_SYS_READ 0x06
#define EFFC_SYS_FLEN 0x0C
#define EFFC_SYS_GET_CMDLINE 0x15
#define EFFC_SYS_EXIT_EXTENDED 0x20
#define EFFC_ADP_APPLICATION_EXIT 0x20026

static inline int32_t effc_semihost(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline void effc_puts(const char *s)
{
    effc_semihost(EFFC_SYS_WRITE0, s);
}

static inline void effc_put_hex(uint32_t v)
{
    char buf[11];
    int i;
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; i++) {
        const uint32_t d = (v >> (28 - 4 * i)) & 0xFu;
        buf[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    buf[10] = 0;
    effc_puts(buf);
}

static inline void effc_put_dec(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && i > 0);
    effc_puts(buf + i);
}

__attribute__((noreturn)) static inline void effc_exit(int code)
{
    const uint32_t block[2] = {EFFC_ADP_APPLICATION_EXIT, (uint32_t)code};
    for (;;) {
        effc_semihost(EFFC_SYS_EXIT_EXTENDED, block);
    }
}

#endif /* EFFC_SEMIHOST_H */
