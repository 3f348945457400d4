"""How ONNX MatMul and Gemm import, in every form.

* A constant 2-D right operand makes a ``Dense`` (weights ``[out, in]``), with
  Gemm's ``transB`` and ``alpha`` applied to the weights and a bias ``C`` of shape
  ``[N]``, ``[1, N]`` or a scalar (times ``beta``) as its bias.
* Anything else is an IR ``MatMul`` of two values (either may be constant):
  batched operands broadcast, a 1-D operand is promoted to a matrix and the
  result reshaped back, as numpy does.
* Gemm's ``transA`` transposes A first; a ``C`` of another shape (``[M, N]``,
  ``[M, 1]``) or a computed one is added after the product (times ``beta``).
"""

from __future__ import annotations

import numpy as np

from effc.ir import QuantParams


def import_matmul(ctx, onnx_node) -> None:
    a, b = onnx_node.input[0], onnx_node.input[1]
    y = onnx_node.output[0]
    weight = ctx.const(b)
    if weight is not None and weight.ndim == 2 and ctx.const(a) is None:
        _dense(ctx, a, b, weight.astype(np.float32), y, transposed=True, alpha=1.0)
        return
    _matmul(ctx, a, b, y)


def import_gemm(ctx, onnx_node) -> None:
    attrs = ctx.attrs(onnx_node)
    a, b = onnx_node.input[0], onnx_node.input[1]
    c = onnx_node.input[2] if len(onnx_node.input) > 2 else ""
    y = onnx_node.output[0]
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans_b = bool(attrs.get("transB", 0))
    if attrs.get("transA", 0):
        a = _transposed(ctx, a)
    weight = ctx.const(b)
    columns = ctx.shape(b)[0 if trans_b else 1]
    c_value = ctx.const(c) if c else None
    row_bias = c_value is not None and (c_value.size == 1 or (
        c_value.shape[-1] == columns and (c_value.ndim == 1 or c_value.shape[0] == 1)))
    if weight is not None and ctx.const(a) is None:
        bias = None
        if row_bias:
            row = c_value.astype(np.float32).reshape(-1) * np.float32(beta)
            bias = ctx.constant(c + "_bias", np.broadcast_to(row, (columns,)).copy())
        target = y if not c or row_bias else ctx.fresh(f"{y}_product")
        _dense(ctx, a, b, weight.astype(np.float32), target, transposed=not trans_b,
               alpha=alpha, bias=bias)
        if c and not row_bias:
            _add_c(ctx, target, c, beta, y)
        return
    if trans_b:
        b = _transposed(ctx, b)
    target = ctx.fresh(f"{y}_product") if c else y
    if alpha != 1.0:
        product = ctx.fresh(f"{y}_mm")
        _matmul(ctx, a, b, product)
        ctx.add_node("Mul", [product, ctx.constant(f"{y}_alpha", np.float32(alpha))], [target],
                     name=ctx.graph.unique_name(f"{ctx.node_name}_alpha"))
    else:
        _matmul(ctx, a, b, target)
    if c:
        _add_c(ctx, target, c, beta, y)


def _add_c(ctx, product: str, c: str, beta: float, y: str) -> None:
    """y = product + beta * C (C constant or computed)."""
    value = ctx.const(c)
    if value is not None:
        c = ctx.constant(f"{c}_beta", (value.astype(np.float32) * np.float32(beta)))
    elif beta != 1.0:
        scaled = ctx.fresh(f"{c}_beta")
        ctx.add_node("Mul", [c, ctx.constant(f"{c}_beta_k", np.float32(beta))], [scaled],
                     name=ctx.graph.unique_name(f"{ctx.node_name}_beta"))
        c = scaled
    ctx.add_node("Add", [product, c], [y], name=ctx.graph.unique_name(f"{ctx.node_name}_c"))


def _transposed(ctx, name: str) -> str:
    value = ctx.const(name)
    if value is not None:
        return ctx.constant(f"{name}_T", np.ascontiguousarray(value.T))
    return ctx.transpose(name, [1, 0])


def _dense(ctx, a: str, b: str, weight: np.ndarray, y: str, *, transposed: bool,
           alpha: float, bias: str | None = None) -> None:
    """Dense(a, alpha * (B.T if transposed else B)); a 1-D ``a`` is a one-row batch."""
    w = (weight.T if transposed else weight) * np.float32(alpha)
    inputs = [a, ctx.constant(b + "_dense", np.ascontiguousarray(w, np.float32),
                              quant=_weight_hint(ctx, b, transposed, alpha))]
    if bias is not None:
        inputs.append(bias)
    shape = ctx.shape(a)
    if shape[-1] != w.shape[1]:
        raise ctx.error(f"input {list(shape)} does not match weight {list(weight.shape)}",
                        "fix the model's shapes")
    if len(shape) == 1:
        inputs[0] = ctx.reshape(a, [1, shape[0]])
        row = ctx.fresh(f"{y}_row")
        ctx.add_node("Dense", inputs, [row], {}, name=ctx.node.name or None)
        ctx.reshape(row, [w.shape[0]], dst=y)
        return
    ctx.add_node("Dense", inputs, [y], {}, name=ctx.node.name or None)


def _matmul(ctx, a: str, b: str, y: str) -> None:
    """The IR MatMul of two values; ONNX's 1-D operands become matrices and back."""
    sa, sb = ctx.shape(a), ctx.shape(b)
    if len(sa) == 1:
        a = ctx.reshape(a, [1, sa[0]])
    if len(sb) == 1:
        b = ctx.reshape(b, [sb[0], 1])
    if len(sa) > 1 and len(sb) > 1:
        ctx.add_node("MatMul", [a, b], [y], {}, name=ctx.node.name or None)
        return
    full = ctx.fresh(f"{y}_matrix")
    node = ctx.add_node("MatMul", [a, b], [full], {}, name=ctx.node.name or None)
    shape = list(ctx.graph.tensors[node.outputs[0]].shape)
    if len(sa) == 1:
        shape.pop(-2)
    if len(sb) == 1:
        shape.pop(-1)
    ctx.reshape(full, shape, dst=y)


def _weight_hint(ctx, name: str, transposed: bool, alpha: float) -> QuantParams | None:
    """A DequantizeLinear hint of the ONNX weight, for the [out, in] Dense weight
    (alpha * B, or its transpose): per-output-channel scales move to axis 0."""
    tensor = ctx.graph.tensors.get(name)
    quant = tensor.quant if tensor is not None else None
    if quant is None:
        return None
    axis = quant.axis
    if axis is not None:
        if axis != (1 if transposed else 0):
            raise ctx.error("weights quantized per input feature",
                            "quantize MatMul/Gemm weights per output channel")
        axis = 0
    return QuantParams(quant.scale * np.float32(abs(alpha)), quant.zero_point, axis)
