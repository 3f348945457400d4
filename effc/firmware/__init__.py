"""Bare-metal firmware for Cortex-M: boards, startup code, harness, QEMU plugin."""
