/*
 * effc_soc.c - clock tree and console UART of the real boards (board_harness.c).
 *
 * One SoC is compiled in, chosen by the board file's hardware.soc:
 *   EFFC_SOC_STM32L4R5  NUCLEO-L4R5ZI: HSI16 -> PLL 120 MHz (range 1 boost, 5 wait
 *                       states), LPUART1 on PG7 (AF8), the ST-LINK virtual COM port
 *   EFFC_SOC_STM32F746  STM32F746G-DISCO: HSI 16 MHz -> PLL 216 MHz (over-drive,
 *                       7 wait states, ART and I-cache), USART1 on PA9 (AF7)
 * Register addresses and bits from RM0432 (STM32L4+) and RM0385 (STM32F7).
 */
#include <stdint.h>

#include "effc_board.h"

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

static void effc_wait_set(uint32_t addr, uint32_t mask)
{
    while ((REG(addr) & mask) != mask) {
    }
}

#if defined(EFFC_SOC_STM32L4R5)

#define RCC 0x40021000u
#define PWR 0x40007000u
#define FLASH_ACR 0x40022000u
#define GPIOG 0x48001800u
#define LPUART1 0x40008000u

uint32_t effc_soc_init(uint32_t baud)
{
    REG(RCC + 0x58) |= 1u << 28;                    /* APB1ENR1.PWREN */
    (void)REG(RCC + 0x58);
    REG(PWR + 0x80) &= ~(1u << 8);                  /* CR5.R1MODE = 0: range 1 boost */
    REG(FLASH_ACR) = (REG(FLASH_ACR) & ~0xFu) | 5u | (1u << 8) | (1u << 9) | (1u << 10);
    while ((REG(FLASH_ACR) & 0xFu) != 5u) {         /* 5 wait states, prefetch, caches */
    }
    REG(RCC + 0x00) |= 1u << 8;                     /* CR.HSION */
    effc_wait_set(RCC + 0x00, 1u << 10);            /* HSIRDY */
    /* PLLCFGR: source HSI16 (2), M = 1, N = 15 (VCO 240 MHz), R = 2, PLLREN. */
    REG(RCC + 0x0C) = 2u | (0u << 4) | (15u << 8) | (0u << 25) | (1u << 24);
    REG(RCC + 0x00) |= 1u << 24;                    /* CR.PLLON */
    effc_wait_set(RCC + 0x00, 1u << 25);            /* PLLRDY */
    /* Above 80 MHz: switch with AHB / 2, then go to / 1 (RM0432 6.2.9). */
    REG(RCC + 0x08) = (REG(RCC + 0x08) & ~0xF3u) | (8u << 4) | 3u;
    while ((REG(RCC + 0x08) & 0xCu) != 0xCu) {     /* SWS = PLL */
    }
    for (volatile uint32_t i = 0; i < 200u; i++) { /* > 1 us at 60 MHz */
    }
    REG(RCC + 0x08) &= ~0xF0u;                      /* HPRE = / 1: 120 MHz */

    REG(PWR + 0x04) |= 1u << 9;                     /* CR2.IOSV: port G is powered */
    REG(RCC + 0x4C) |= 1u << 6;                     /* AHB2ENR.GPIOGEN */
    REG(RCC + 0x5C) |= 1u << 0;                     /* APB1ENR2.LPUART1EN */
    (void)REG(RCC + 0x5C);
    REG(GPIOG + 0x00) = (REG(GPIOG + 0x00) & ~(3u << 14)) | (2u << 14); /* PG7 AF */
    REG(GPIOG + 0x20) = (REG(GPIOG + 0x20) & ~(0xFu << 28)) | (8u << 28); /* AF8 */
    REG(LPUART1 + 0x0C) = (uint32_t)((256ull * EFFC_CLOCK_HZ + baud / 2u) / baud); /* BRR */
    REG(LPUART1 + 0x00) = (1u << 3) | 1u;           /* CR1: TE, UE */
    return EFFC_CLOCK_HZ;
}

void effc_uart_putc(char c)
{
    effc_wait_set(LPUART1 + 0x1C, 1u << 7);         /* ISR.TXE */
    REG(LPUART1 + 0x28) = (uint8_t)c;               /* TDR */
}

#elif defined(EFFC_SOC_STM32F746)

#define RCC 0x40023800u
#define PWR 0x40007000u
#define FLASH_ACR 0x40023C00u
#define GPIOA 0x40020000u
#define USART1 0x40011000u
#define PCLK2_HZ (EFFC_CLOCK_HZ / 2u)

uint32_t effc_soc_init(uint32_t baud)
{
    REG(RCC + 0x40) |= 1u << 28;                    /* APB1ENR.PWREN */
    (void)REG(RCC + 0x40);
    REG(PWR + 0x00) |= 3u << 14;                    /* CR1.VOS = scale 1 */
    REG(RCC + 0x00) |= 1u;                          /* CR.HSION */
    effc_wait_set(RCC + 0x00, 1u << 1);             /* HSIRDY */
    /* PLLCFGR: source HSI, M = 8 (2 MHz), N = 216 (432 MHz), P = 2, Q = 9. */
    REG(RCC + 0x04) = 8u | (216u << 6) | (0u << 16) | (0u << 22) | (9u << 24);
    REG(RCC + 0x00) |= 1u << 24;                    /* CR.PLLON */
    REG(PWR + 0x00) |= 1u << 16;                    /* CR1.ODEN: over-drive for 216 MHz */
    effc_wait_set(PWR + 0x04, 1u << 16);            /* CSR1.ODRDY */
    REG(PWR + 0x00) |= 1u << 17;                    /* CR1.ODSWEN */
    effc_wait_set(PWR + 0x04, 1u << 17);            /* CSR1.ODSWRDY */
    effc_wait_set(RCC + 0x00, 1u << 25);            /* PLLRDY */
    REG(FLASH_ACR) = 7u | (1u << 8) | (1u << 9);   /* 7 wait states, prefetch, ART */
    while ((REG(FLASH_ACR) & 0xFu) != 7u) {
    }
    /* APB1 / 4 (54 MHz), APB2 / 2 (108 MHz), system clock = PLL. */
    REG(RCC + 0x08) = (REG(RCC + 0x08) & ~0xFCF3u) | (5u << 10) | (4u << 13) | 2u;
    while ((REG(RCC + 0x08) & 0xCu) != 0x8u) {     /* SWS = PLL */
    }
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    REG(0xE000EF50u) = 0u;                          /* ICIALLU: invalidate the I-cache */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    REG(0xE000ED14u) |= 1u << 17;                   /* CCR.IC: enable it */
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    REG(RCC + 0x30) |= 1u << 0;                     /* AHB1ENR.GPIOAEN */
    REG(RCC + 0x44) |= 1u << 4;                     /* APB2ENR.USART1EN */
    (void)REG(RCC + 0x44);
    REG(GPIOA + 0x00) = (REG(GPIOA + 0x00) & ~(3u << 18)) | (2u << 18); /* PA9 AF */
    REG(GPIOA + 0x24) = (REG(GPIOA + 0x24) & ~(0xFu << 4)) | (7u << 4); /* AF7 */
    REG(USART1 + 0x0C) = (PCLK2_HZ + baud / 2u) / baud; /* BRR, oversampling 16 */
    REG(USART1 + 0x00) = (1u << 3) | 1u;            /* CR1: TE, UE */
    return EFFC_CLOCK_HZ;
}

void effc_uart_putc(char c)
{
    effc_wait_set(USART1 + 0x1C, 1u << 7);          /* ISR.TXE */
    REG(USART1 + 0x28) = (uint8_t)c;                /* TDR */
}

#else
#error "define the board's SoC: EFFC_SOC_STM32L4R5 or EFFC_SOC_STM32F746 (board file hardware.soc)"
#endif
