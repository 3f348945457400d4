"""effc: an embedded inference compiler (ONNX -> int8 C for Cortex-M, HLS and RTL)."""

from effc.api import CompiledModel, CompileOptions, compile_model, inspect_model, load, run

__all__ = ["CompileOptions", "CompiledModel", "compile_model", "inspect_model", "load", "run"]
__version__ = "0.1.0"
