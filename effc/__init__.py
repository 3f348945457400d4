"""effc: an embedded inference compiler (ONNX -> int8 C for Cortex-M, HLS and RTL)."""

from effc.api import (
    CompiledModel,
    CompileOptions,
    compile,
    compile_model,
    inspect_model,
    load,
    run,
)
from effc.version import __version__ as __version__

__all__ = ["CompileOptions", "CompiledModel", "compile", "compile_model", "inspect_model",
           "load", "run"]
