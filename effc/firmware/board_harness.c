/*
 * board_harness.c - runs a generated model on a real board, without a debugger.
 *
 * The samples are compiled in (effc_board_inputs.h: EFFC_BOARD_SAMPLES inputs of
 * EFFC_MODEL_INPUT_SIZE bytes). After effc_soc_init (clock, console UART) the DWT
 * cycle counter brackets each inference; the console gets, per sample,
 *   EFFC sample <i> status <s> cycles <n> out <hex bytes>
 * then "EFFC done samples=<n> clock_hz=<hz>", and the core sleeps.
 *
 * The same results go to RAM, into effc_board_results, for a host reading them through
 * the debug probe (effc run --engine board, effc/engines/board.py): five words (magic,
 * samples done, samples, output size, clock in Hz), then status[n], cycles[n] and
 * out[n][output size]. The host clears the magic word while the core is halted at reset;
 * the harness writes it last, after every sample.
 */
#include <stdint.h>

#include "effc_board.h"
#include "effc_board_inputs.h"
#include "effc_firmware.h"
#include "effc_model.h"

#ifndef EFFC_MODEL_ENTRY
#define EFFC_MODEL_ENTRY model_run
#endif
#ifndef EFFC_UART_BAUD
#define EFFC_UART_BAUD 115200u
#endif

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0u)

#define EFFC_RESULTS_MAGIC 0xEFFCD0E5u

int EFFC_MODEL_ENTRY(const int8_t *in, int8_t *out);
int main(void);

struct effc_board_results {
    uint32_t magic; /* EFFC_RESULTS_MAGIC once every sample has run */
    uint32_t done;  /* samples finished so far */
    uint32_t samples;
    uint32_t output_size;
    uint32_t clock_hz;
    uint32_t status[EFFC_BOARD_SAMPLES]; /* the entry's return value */
    uint32_t cycles[EFFC_BOARD_SAMPLES]; /* DWT CYCCNT around the entry */
    uint8_t out[EFFC_BOARD_SAMPLES][EFFC_MODEL_OUTPUT_SIZE];
};

volatile struct effc_board_results effc_board_results;

static int8_t effc_output[EFFC_MODEL_OUTPUT_SIZE] __attribute__((aligned(8)));

/* No profiling markers on hardware: the harness's hook does nothing. */
void effc_layer_marker(int32_t layer)
{
    (void)layer;
}

static void effc_print(const char *s)
{
    while (*s != 0) {
        effc_uart_putc(*s++);
    }
}

static void effc_print_u32(uint32_t v)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        effc_uart_putc(buf[--n]);
    }
}

static void effc_print_hex8(uint8_t v)
{
    static const char digits[] = "0123456789abcdef";
    effc_uart_putc(digits[v >> 4]);
    effc_uart_putc(digits[v & 15u]);
}

int main(void)
{
    uint32_t hz = effc_soc_init(EFFC_UART_BAUD);
    DEMCR |= 1u << 24;           /* TRCENA: the DWT is powered */
    DWT_LAR = 0xC5ACCE55u;       /* unlock (Cortex-M7; ignored elsewhere) */
    DWT_CYCCNT = 0u;
    DWT_CTRL |= 1u;              /* CYCCNTENA */
    effc_board_results.samples = EFFC_BOARD_SAMPLES;
    effc_board_results.output_size = EFFC_MODEL_OUTPUT_SIZE;
    effc_board_results.clock_hz = hz;
    effc_print("EFFC board start\r\n");
    for (uint32_t i = 0; i < EFFC_BOARD_SAMPLES; i++) {
        uint32_t start = DWT_CYCCNT;
        int status = EFFC_MODEL_ENTRY(effc_board_inputs[i], effc_output);
        uint32_t cycles = DWT_CYCCNT - start;
        effc_board_results.status[i] = (uint32_t)status;
        effc_board_results.cycles[i] = cycles;
        for (uint32_t k = 0; k < EFFC_MODEL_OUTPUT_SIZE; k++) {
            effc_board_results.out[i][k] = (uint8_t)effc_output[k];
        }
        effc_board_results.done = i + 1u;
        effc_print("EFFC sample ");
        effc_print_u32(i);
        effc_print(" status ");
        effc_print(status == 0 ? "0" : "error");
        effc_print(" cycles ");
        effc_print_u32(cycles);
        effc_print(" out ");
        for (uint32_t k = 0; k < EFFC_MODEL_OUTPUT_SIZE; k++) {
            effc_print_hex8((uint8_t)effc_output[k]);
        }
        effc_print("\r\n");
    }
    effc_print("EFFC done samples=");
    effc_print_u32(EFFC_BOARD_SAMPLES);
    effc_print(" clock_hz=");
    effc_print_u32(hz);
    effc_print("\r\n");
    __asm__ volatile("dmb" ::: "memory");
    effc_board_results.magic = EFFC_RESULTS_MAGIC;
    for (;;) {
        __asm__ volatile("wfi");
    }
}
