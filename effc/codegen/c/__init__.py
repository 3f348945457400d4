"""The C backend (Cortex-M library and firmware)."""
