/* effc_board.h - what the real-board harness needs of its SoC (effc_soc.c). */
#ifndef EFFC_BOARD_H
#define EFFC_BOARD_H

#include <stdint.h>

#ifndef EFFC_CLOCK_HZ
#error "EFFC_CLOCK_HZ (the board file's clock_mhz) must be defined"
#endif

/* Sets the clock tree to EFFC_CLOCK_HZ and the console UART to ``baud``; returns the
 * core clock in Hz. */
uint32_t effc_soc_init(uint32_t baud);
/* Sends one character on the console UART (blocking). */
void effc_uart_putc(char c);

#endif /* EFFC_BOARD_H */
