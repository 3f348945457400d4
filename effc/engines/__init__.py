"""Execution engines: reference interpreter, host C (cffi) and QEMU firmware."""
