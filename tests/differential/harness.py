"""Run one model through every engine and compare (the differential oracle).

Float: effc's reference against onnxruntime (before and after the compile
passes), the float C library on the host against effc's reference. Both within
``FLOAT_RTOL`` of the largest magnitude of the expected output: float32
accumulation over at most a few hundred products per layer and a handful of
layers stays below 1e-5 relative (onnxruntime, numpy's float64 reference and
the C kernels only differ in summation order and rounding), while every
semantic bug seen so far (padding, window counts, layout) moves outputs by a
sizeable fraction of their range.

Int8 (per-tensor and per-channel weights, calibrated on seeded samples): the
integer reference against the host C library and, when asked, the QEMU
firmware, bit for bit. A target that ``support.SUPPORT`` says cannot run the
model must refuse it with the one-line ``EffcError`` naming a blocking feature.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from hypothesis import assume
from hypothesis.control import currently_in_test_context

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.errors import EffcError
from effc.ir import Graph
from effc.passes.calibrate import MAX_ACTIVATION, ActivationOverflowError
from effc.reference import run_batches
from effc.verify import near_ties
from tests.differential.generator import RandomModel
from tests.differential.sanitize import SanitizedHost
from tests.differential.support import blocking, expected, explains

FLOAT_RTOL = 1e-4
CALIB_SAMPLES = 8
WEIGHT_QUANTS = ("per-tensor", "per-channel")


@dataclass
class Report:
    """What happened to one model on each target: "ran" or "refused"."""

    outcomes: dict[str, str] = field(default_factory=dict)


def float_close(got: np.ndarray, ref: np.ndarray, what: str,
                ties: np.ndarray | None = None) -> None:
    """Within FLOAT_RTOL of the largest reference magnitude, except where ``ties`` marks
    an ArgMax/ArgMin index that broke a near tie the other way (effc.verify.near_ties)."""
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    bound = FLOAT_RTOL * max(1.0, float(np.abs(ref.astype(np.float64)).max(initial=0.0)))
    diffs = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    if ties is not None:
        diffs = np.where(ties, 0.0, diffs)
    diff = float(diffs.max(initial=0.0))
    assert diff <= bound, f"{what}: max |diff| {diff:.3g} > {bound:.3g}"


def bit_identical(got: np.ndarray, ref: np.ndarray, what: str) -> None:
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    differing = int(np.count_nonzero(got != ref))
    assert differing == 0, f"{what}: {differing} of {ref.size} values differ"


def onnxruntime_outputs(model: onnx.ModelProto, feeds: dict[str, np.ndarray],
                        batches: dict[str, int]) -> dict[str, np.ndarray]:
    """Every output of ``model`` on ``feeds`` (``batches[name]`` rows of each input per
    inference), stacked."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return _stacked(session.run, model, feeds, batches)


def _stacked(run: Callable, model: onnx.ModelProto, feeds: dict[str, np.ndarray],
             batches: dict[str, int]) -> dict[str, np.ndarray]:
    """``run(names, one inference's feeds)`` over every inference in ``feeds``
    (``batches[name]`` rows of each input), each output stacked on axis 0."""
    names = [o.name for o in model.graph.output]
    name, x = next(iter(feeds.items()))
    runs = [run(names, {k: v[i * batches[k]:(i + 1) * batches[k]] for k, v in feeds.items()})
            for i in range(x.shape[0] // batches[name])]
    return {n: np.concatenate([np.asarray(r[j]) for r in runs]) for j, n in enumerate(names)}


def onnxruntime_overflows(model: onnx.ModelProto, feeds: dict[str, np.ndarray],
                          batches: dict[str, int]) -> bool:
    """Does any float value inside ``model`` (onnxruntime, every node output) reach inf,
    NaN or a magnitude beyond MAX_ACTIVATION on ``feeds``? Such a model cannot be
    quantized on that data: effc refuses it (ActivationOverflowError)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    inner = [v for v in inferred.graph.value_info
             if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(inner)
    values = onnxruntime_outputs(probe, feeds, batches).values()
    return any(v.dtype == np.float32 and not (np.abs(v) <= MAX_ACTIVATION).all()
               for v in values)


def onnx_reference_outputs(model: onnx.ModelProto, feeds: dict[str, np.ndarray],
                           batches: dict[str, int]) -> dict[str, np.ndarray]:
    """Every output of ``model`` from onnx's own reference implementation (the spec in
    Python), stacked as ``onnxruntime_outputs``."""
    from onnx.reference import ReferenceEvaluator

    return _stacked(ReferenceEvaluator(model).run, model, feeds, batches)


def all_close(got: dict[str, np.ndarray], ref: dict[str, np.ndarray], what: str,
              exact: bool, scores: tuple[Graph, dict[str, np.ndarray]] | None = None) -> None:
    """Every output by name: bit-identical (int8) or within FLOAT_RTOL (float; with
    ``scores``, a graph and the feeds both ran on, a float ArgMax/ArgMin may pick the
    other of two scores that close)."""
    assert set(got) == set(ref), f"{what}: outputs {sorted(got)} != {sorted(ref)}"
    for name, value in ref.items():
        if exact:
            bit_identical(got[name], value, f"{what}, output {name}")
            continue
        ties = None
        if scores is not None and np.any(got[name] != value):
            ties = near_ties(*scores, name, got[name], value)
        float_close(got[name], value, f"{what}, output {name}", ties)


def winograd_eligible(rm: RandomModel) -> bool:
    """Does the model have a Conv the Winograd pass rewrites (3x3 or 3-tap, stride 1,
    dilation 1, group 1)?"""
    for node in rm.model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if all(k == 3 for k in attrs.get("kernel_shape", [])) and \
                all(s == 1 for s in attrs.get("strides", [])) and \
                all(d == 1 for d in attrs.get("dilations", [])) and attrs.get("group", 1) == 1:
            return True
    return False


def expect_refusal(target: str, rm: RandomModel, action: Callable[[], object]) -> None:
    """``action`` must raise the one-line EffcError naming a blocking feature."""
    reasons = blocking(rm.features, target)
    try:
        action()
    except EffcError as exc:
        message = str(exc)
        assert "\n" not in message, f"{target}: the refusal is not one line: {message!r}"
        assert explains(message, reasons), (
            f"{target} refused the model for another reason than {reasons}: {message}")
        return
    raise AssertionError(f"{target} ran a model with {reasons}, which support.py says it "
                         "refuses: the kernel has landed, enable it in SUPPORT")


def with_host_library(compiled: CompiledModel) -> CompiledModel:
    """The C library of a compiled folder, without firmware (the host engine's input)."""
    from effc.codegen.c.emit import generate_c

    files, facts = generate_c(compiled.graph, compiled.graph.name)
    folder = compiled.folder / facts["c"]["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    compiled.manifest.update(facts)
    return compiled


class Differential:
    """One random model, written to ``folder``, checked on every target."""

    def __init__(self, rm: RandomModel, folder: Path,
                 sanitizer: SanitizedHost | None = None) -> None:
        self.rm = rm
        self.sanitizer = sanitizer
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "model.onnx"
        onnx.checker.check_model(rm.model, full_check=True)
        onnx.save(rm.model, self.path)
        self.batches = {name: shape[0] for name, shape in rm.inputs}
        self.calib = rm.samples(CALIB_SAMPLES)
        fresh = rm.samples(2, offset=1, scale=1.5)  # beyond the calibrated range too
        self.test = {k: np.concatenate([v[:2 * self.batches[k]], fresh[k]])
                     for k, v in self.calib.items()}
        self.report = Report()

    def onnxruntime_finite_outputs(self) -> dict[str, np.ndarray]:
        """onnxruntime's outputs, which must be finite: a random model that overflows
        float32 (an Exp, a window over padding only giving -FLT_MAX) is not drawn again."""
        ort_out = onnxruntime_outputs(self.rm.model, self.test, self.batches)
        finite = all(np.isfinite(v).all() for v in ort_out.values())
        if currently_in_test_context():
            assume(finite)
        assert finite, "onnxruntime's outputs are not finite"
        return ort_out

    def _close_to_onnxruntime(self, got: dict[str, np.ndarray], ort_out: dict[str, np.ndarray],
                              what: str, scores: tuple[Graph, dict[str, np.ndarray]]) -> None:
        """``got`` within FLOAT_RTOL of onnxruntime; where a Resize model differs, onnx's
        own reference implementation decides (onnxruntime departs from ONNX for some
        Resize coordinate modes, e.g. pytorch_half_pixel onto an output length of 1)."""
        try:
            all_close(got, ort_out, f"{what} vs onnxruntime", exact=False, scores=scores)
        except AssertionError:
            if not any(n.op_type == "Resize" for n in self.rm.model.graph.node):
                raise
            spec = onnx_reference_outputs(self.rm.model, self.test, self.batches)
            all_close(got, spec, f"{what} vs onnx.reference (onnxruntime departs from it)",
                      exact=False, scores=scores)

    def check_float(self) -> None:
        """effc's float reference (imported, then compiled) against onnxruntime, and the
        float C library against effc's reference."""
        from effc.frontend.importer import load

        ort_out = self.onnxruntime_finite_outputs()
        imported = load(self.path)
        self._close_to_onnxruntime(run_batches(imported, self.test), ort_out,
                                   "float reference", (imported, self.test))
        compiled = compile_model(self.path, self.folder / "float",
                                 CompileOptions(quantize="none"))
        scores = (compiled.graph, self.test)
        self._close_to_onnxruntime(run_batches(compiled.graph, self.test), ort_out,
                                   "compiled float graph", scores)
        if not expected(self.rm.features, "host_float"):
            expect_refusal("host_float", self.rm, lambda: with_host_library(compiled))
            self.report.outcomes["host_float"] = "refused"
            return
        ref = run_batches(compiled.graph, self.test)
        all_close(with_host_library(compiled).run("host", self.test).values, ref,
                  "float host C vs reference", exact=False, scores=scores)
        if self.sanitizer is not None:
            all_close(self.sanitizer.run(compiled, self.test), ref,
                      "float host C (ASan/UBSan)", exact=False, scores=scores)
        self._self_check(compiled)
        self.report.outcomes["host_float"] = "ran"

    def compile_int8(self, weight_quant: str, board: str | None = None,
                     flash_budget: int | None = None) -> CompiledModel:
        """The model compiled int8, calibrated on ``calib``. A model whose float values
        overflow on those samples (an Exp of a large sum: onnxruntime agrees, every value
        inside the model checked) is refused by effc in one line and not drawn again."""
        tag = f"int8-{weight_quant}-{board}" + (f"-budget{flash_budget}" if flash_budget else "")
        try:
            return compile_model(self.path, self.folder / tag,
                                 CompileOptions(calib=self.calib, weight_quant=weight_quant,
                                                board=board, flash_budget=flash_budget))
        except ActivationOverflowError:
            if currently_in_test_context() and onnxruntime_overflows(
                    self.rm.model, self.calib, self.batches):
                assume(False)  # raises: the model is not drawn again
            raise

    def check_int8(self, weight_quant: str) -> None:
        """The integer reference against the int8 C library on the host, bit for bit."""
        if not expected(self.rm.features, "ref_int8"):
            expect_refusal("ref_int8", self.rm, lambda: self.compile_int8(weight_quant))
            self.report.outcomes[f"ref_int8 {weight_quant}"] = "refused"
            return
        compiled = self.compile_int8(weight_quant)
        ref = run_batches(compiled.graph, self.test)
        assert set(ref) == {o.name for o in self.rm.model.graph.output}
        self.report.outcomes[f"ref_int8 {weight_quant}"] = "ran"
        if not expected(self.rm.features, "host_int8"):
            expect_refusal("host_int8", self.rm, lambda: with_host_library(compiled))
            self.report.outcomes[f"host_int8 {weight_quant}"] = "refused"
            return
        all_close(with_host_library(compiled).run("host", self.test).values, ref,
                  f"int8 {weight_quant}: host C vs integer reference", exact=True)
        if self.sanitizer is not None:
            all_close(self.sanitizer.run(compiled, self.test), ref,
                      f"int8 {weight_quant}: host C (ASan/UBSan) vs integer reference",
                      exact=True)
        self._self_check(compiled)
        self.report.outcomes[f"host_int8 {weight_quant}"] = "ran"

    def check_qemu(self, weight_quant: str, board: str = "mps2-an386",
                   flash_budget: int | None = None,
                   budget_label: str = "budget") -> CompiledModel | None:
        """The firmware for ``board`` under QEMU against the integer reference and the host,
        bit for bit (``effc compile --board`` also runs its self-check on the host). With
        ``flash_budget`` the convolutions the budget widens keep int8 weights (PAIR8) and
        the firmware reads them in the packed WIDE2 loops (-DEFFC_WIDE2_PACKED=1), and a
        budget below the fast form's image takes a form whose setup is compiled for size
        (c.firmware_source_cflags). The compiled model, unless effc refused it."""
        target = f"qemu_int8 {board} {weight_quant}" + (f" {budget_label}" if flash_budget
                                                         else "")
        if not expected(self.rm.features, "qemu_int8"):
            expect_refusal("qemu_int8", self.rm,
                           lambda: self.compile_int8(weight_quant, board, flash_budget))
            self.report.outcomes[target] = "refused"
            return None
        compiled = self.compile_int8(weight_quant, board, flash_budget)
        assert compiled.manifest["verification"]["differing_values"] == 0
        ref = compiled.run("reference", self.test).values
        all_close(compiled.run("qemu", self.test).values, ref,
                  f"{target}: QEMU vs integer reference", exact=True)
        all_close(compiled.run("host", self.test).values, ref,
                  f"{target}: host C vs integer reference", exact=True)
        self.report.outcomes[target] = "ran"
        cflags = compiled.manifest["c"].get("firmware_cflags", [])
        if "-DEFFC_WIDE2_PACKED=1" in cflags:
            self.report.outcomes[f"{target} packed"] = "ran"
        if any(f.startswith("-DEFFC_MM_2X4_FULL_STEP=") for f in cflags):
            # the two-channel loop's stores at one step (kernel_set's full-step defines)
            self.report.outcomes[f"{target} full step"] = "ran"
        if compiled.manifest["c"].get("firmware_source_cflags"):
            self.report.outcomes[f"{target} size-compiled"] = "ran"
        return compiled

    def check_winograd(self, board: str | None = None) -> None:
        """The model with --winograd on (every eligible convolution through the Winograd
        kernels): float within FLOAT_RTOL of onnxruntime, its C library within it of the
        reference; int8 (both weight granularities) the integer reference bit-identical
        with the direct convolutions' (the pass is exact) and the C library with it, on
        the host, under ASan/UBSan and, with a board, under QEMU."""
        ort_out = self.onnxruntime_finite_outputs()
        if board is None and expected(self.rm.features, "host_float"):
            compiled = compile_model(self.path, self.folder / "wino-float",
                                     CompileOptions(quantize="none", winograd="on"))
            assert "Winograd" in {n.op_type for n in compiled.graph.nodes}
            ref = run_batches(compiled.graph, self.test)
            scores = (compiled.graph, self.test)
            all_close(ref, ort_out, "Winograd float graph vs onnxruntime", exact=False,
                      scores=scores)
            all_close(with_host_library(compiled).run("host", self.test).values, ref,
                      "Winograd float host C vs reference", exact=False, scores=scores)
            if self.sanitizer is not None:
                all_close(self.sanitizer.run(compiled, self.test), ref,
                          "Winograd float host C (ASan/UBSan)", exact=False, scores=scores)
            self.report.outcomes["winograd host_float"] = "ran"
        target = "qemu_int8" if board else "host_int8"
        if not expected(self.rm.features, target):
            return
        for weight_quant in WEIGHT_QUANTS:
            options = CompileOptions(calib=self.calib, weight_quant=weight_quant, board=board,
                                     winograd="on")
            compiled = compile_model(self.path, self.folder / f"wino-{weight_quant}-{board}",
                                     options)
            assert "Winograd" in {n.op_type for n in compiled.graph.nodes}
            ref = run_batches(compiled.graph, self.test)
            all_close(ref, run_batches(self.compile_int8(weight_quant).graph, self.test),
                      f"int8 {weight_quant}: Winograd reference vs direct convolution",
                      exact=True)
            if board is None:
                compiled = with_host_library(compiled)
                if self.sanitizer is not None:
                    all_close(self.sanitizer.run(compiled, self.test), ref,
                              f"int8 {weight_quant}: Winograd host C (ASan/UBSan)", exact=True)
            else:
                all_close(compiled.run("qemu", self.test).values, ref,
                          f"int8 {weight_quant}: Winograd QEMU vs integer reference",
                          exact=True)
            all_close(compiled.run("host", self.test).values, ref,
                      f"int8 {weight_quant}: Winograd host C vs integer reference", exact=True)
            self.report.outcomes[f"winograd {target} {weight_quant}"] = "ran"

    def check_hls(self, weight_quant: str) -> None:
        """The HLS project's C simulation against the integer reference, bit for bit
        (the compile for pynq-z2 with the HLS target runs its own self-check too)."""
        if not expected(self.rm.features, "hls_int8"):
            expect_refusal("hls_int8", self.rm, lambda: self.compile_hls(weight_quant))
            self.report.outcomes[f"hls_int8 {weight_quant}"] = "refused"
            return
        compiled = self.compile_hls(weight_quant)
        assert compiled.manifest["verification"]["differing_values"] == 0
        all_close(compiled.run("hls", self.test).values,
                  compiled.run("reference", self.test).values,
                  f"int8 {weight_quant}: HLS C simulation vs integer reference", exact=True)
        self.report.outcomes[f"hls_int8 {weight_quant}"] = "ran"

    def compile_hls(self, weight_quant: str) -> CompiledModel:
        return compile_model(self.path, self.folder / f"hls-{weight_quant}",
                             CompileOptions(calib=self.calib, weight_quant=weight_quant,
                                            board="pynq-z2", target="hls"))

    def check_effc_only(self) -> None:
        """For models onnxruntime refuses: the float and int8 C libraries on the host
        against effc's own reference."""
        compiled = compile_model(self.path, self.folder / "float",
                                 CompileOptions(quantize="none"))
        all_close(with_host_library(compiled).run("host", self.test).values,
                  run_batches(compiled.graph, self.test), "float host C vs reference",
                  exact=False, scores=(compiled.graph, self.test))
        for weight_quant in WEIGHT_QUANTS:
            compiled = with_host_library(self.compile_int8(weight_quant))
            all_close(compiled.run("host", self.test).values,
                      run_batches(compiled.graph, self.test),
                      f"int8 {weight_quant}: host C vs integer reference", exact=True)

    def _self_check(self, compiled: CompiledModel) -> None:
        """The compile-time self-check agrees (it runs on every board compile)."""
        from effc.verify import verify_build

        result = verify_build(compiled, self.calib)
        assert result["differing_values"] == 0 and re.match(r"\d+ calibration", result["inputs"])
