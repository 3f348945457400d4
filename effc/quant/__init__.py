"""Integer arithmetic of effc, bit-exact with TensorFlow Lite Micro.

* :mod:`effc.quant.fixedpoint` - TFLite/gemmlowp fixed-point primitives.
* :mod:`effc.quant.int8` - prepare-time parameters and int8 reference kernels.
"""

from effc.quant import fixedpoint, int8

__all__ = ["fixedpoint", "int8"]
