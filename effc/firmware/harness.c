/*
 * harness.c - runs a generated model under semihosting (QEMU or a debugger).
 *
 * Command line (semihosting): <program> [input-file [output-file]], default
 * input.bin and output.bin in the host's working directory. The input file
 * holds one or more samples of EFFC_MODEL_INPUT_SIZE bytes; for each, the
 * harness calls EFFC_MODEL_ENTRY between the markers effc_bench_start() and
 * effc_bench_stop() (for instruction counting) and appends
 * EFFC_MODEL_OUTPUT_SIZE bytes to the output file.
 *
 * Report lines (semihosting text, QEMU's stderr):
 *   EFFC sample <i> layers <id>,<id>,...   (when layer markers ran)
 *   EFFC done samples=<n> stack_bytes=<high-water mark>
 * and the exit code is one of EFFC_EXIT_* (effc_semihost.h).
 */
#include <stdint.h>

#include "effc_firmware.h"
#include "effc_model.h"
#include "effc_semihost.h"

#ifndef EFFC_MODEL_ENTRY
#define EFFC_MODEL_ENTRY model_run
#endif
#ifndef EFFC_MAX_LAYER_MARKS
#define EFFC_MAX_LAYER_MARKS 256
#endif

int EFFC_MODEL_ENTRY(const int8_t *in, int8_t *out);
uint32_t effc_stack_high_water(void);
uint32_t effc_stack_size(void);
void effc_bench_start(void);
void effc_bench_stop(void);

static int8_t effc_input[EFFC_MODEL_INPUT_SIZE] __attribute__((aligned(8)));
static int8_t effc_output[EFFC_MODEL_OUTPUT_SIZE] __attribute__((aligned(8)));
static char effc_cmdline[256];
static volatile int32_t effc_layer_ids[EFFC_MAX_LAYER_MARKS];
static volatile uint32_t effc_layer_count;

/* The three markers: the QEMU plugin watches their first instruction. */
__attribute__((noinline, used)) void effc_bench_start(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, used)) void effc_bench_stop(void)
{
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, used)) void effc_layer_marker(int32_t layer)
{
    if (effc_layer_count < EFFC_MAX_LAYER_MARKS) {
        effc_layer_ids[effc_layer_count] = layer;
    }
    effc_layer_count++;
}

static __attribute__((noreturn)) void effc_fail(const char *msg, int code)
{
    effc_puts("EFFC error: ");
    effc_puts(msg);
    effc_puts("\n");
    effc_exit(code);
}

/* Split the semihosting command line in place; returns argc. */
static int effc_args(char **argv, int max)
{
    uint32_t block[2];
    int argc = 0;
    char *p = effc_cmdline;
    block[0] = (uint32_t)(uintptr_t)effc_cmdline;
    block[1] = sizeof effc_cmdline - 1;
    if (effc_semihost(EFFC_SYS_GET_CMDLINE, block) != 0) {
        return 0;
    }
    effc_cmdline[block[1] < sizeof effc_cmdline ? block[1] : sizeof effc_cmdline - 1] = 0;
    while (*p != 0 && argc < max) {
        while (*p == ' ') {
            *p++ = 0;
        }
        if (*p == 0) {
            break;
        }
        argv[argc++] = p;
        while (*p != 0 && *p != ' ') {
            p++;
        }
    }
    return argc;
}

static uint32_t effc_strlen(const char *s)
{
    uint32_t n = 0;
    while (s[n] != 0) {
        n++;
    }
    return n;
}

static int32_t effc_open(const char *path, uint32_t mode)
{
    uint32_t block[3];
    block[0] = (uint32_t)(uintptr_t)path;
    block[1] = mode; /* 1 = "rb", 5 = "wb" */
    block[2] = effc_strlen(path);
    return effc_semihost(EFFC_SYS_OPEN, block);
}

/* Read or write exactly n bytes; 0 on success. */
static int effc_xfer(int32_t op, int32_t fd, void *buf, uint32_t n)
{
    uint32_t block[3];
    block[0] = (uint32_t)fd;
    block[1] = (uint32_t)(uintptr_t)buf;
    block[2] = n;
    return effc_semihost(op, block) != 0;
}

static void effc_report_layers(uint32_t sample)
{
    uint32_t i, n = effc_layer_count;
    if (n == 0) {
        return;
    }
    effc_puts("EFFC sample ");
    effc_put_dec(sample);
    effc_puts(" layers ");
    for (i = 0; i < n && i < EFFC_MAX_LAYER_MARKS; i++) {
        if (i > 0) {
            effc_puts(",");
        }
        if (effc_layer_ids[i] < 0) {
            effc_puts("-");
            effc_put_dec((uint32_t)(-effc_layer_ids[i]));
        } else {
            effc_put_dec((uint32_t)effc_layer_ids[i]);
        }
    }
    effc_puts(n > EFFC_MAX_LAYER_MARKS ? ",...\n" : "\n");
}

int main(void)
{
    char *argv[3];
    const int argc = effc_args(argv, 3);
    const char *in_path = argc > 1 ? argv[1] : "input.bin";
    const char *out_path = argc > 2 ? argv[2] : "output.bin";
    int32_t fin, fout, len;
    uint32_t n, i;
    uint32_t fd_block[1];

    fin = effc_open(in_path, 1);
    if (fin < 0) {
        effc_fail("cannot open the input file", EFFC_EXIT_INPUT_ERROR);
    }
    fd_block[0] = (uint32_t)fin;
    len = effc_semihost(EFFC_SYS_FLEN, fd_block);
    if (len <= 0 || (uint32_t)len % EFFC_MODEL_INPUT_SIZE != 0) {
        effc_fail("input size is not a multiple of EFFC_MODEL_INPUT_SIZE",
                  EFFC_EXIT_INPUT_ERROR);
    }
    n = (uint32_t)len / EFFC_MODEL_INPUT_SIZE;
    fout = effc_open(out_path, 5);
    if (fout < 0) {
        effc_fail("cannot open the output file", EFFC_EXIT_OUTPUT_ERROR);
    }
    for (i = 0; i < n; i++) {
        int rc;
        if (effc_xfer(EFFC_SYS_READ, fin, effc_input, EFFC_MODEL_INPUT_SIZE)) {
            effc_fail("short read of the input file", EFFC_EXIT_INPUT_ERROR);
        }
        effc_layer_count = 0;
        effc_bench_start();
        rc = EFFC_MODEL_ENTRY(effc_input, effc_output);
        effc_bench_stop();
        if (rc != 0) {
            effc_fail("the model returned an error", EFFC_EXIT_MODEL_ERROR);
        }
        if (effc_xfer(EFFC_SYS_WRITE, fout, effc_output, EFFC_MODEL_OUTPUT_SIZE)) {
            effc_fail("cannot write the output file", EFFC_EXIT_OUTPUT_ERROR);
        }
        effc_report_layers(i);
    }
    fd_block[0] = (uint32_t)fin;
    effc_semihost(EFFC_SYS_CLOSE, fd_block);
    fd_block[0] = (uint32_t)fout;
    effc_semihost(EFFC_SYS_CLOSE, fd_block);
    if (effc_stack_high_water() + 64u >= effc_stack_size()) {
        effc_fail("the stack is exhausted (overflow); build with a larger stack_size",
                  EFFC_EXIT_HARDFAULT);
    }
    effc_puts("EFFC done samples=");
    effc_put_dec(n);
    effc_puts(" stack_bytes=");
    effc_put_dec(effc_stack_high_water());
    effc_puts("\n");
    return EFFC_EXIT_OK;
}
