"""report.md and report.html: the per-layer table, the budget, the memory timeline against
the planner, --profile's measured instructions, and the page rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from effc.compiler import CompiledModel, CompileOptions, compile_model
from effc.report_html import FIGURES, memory_timeline
from tests.c_models import model_path, tflm_vectors

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def kws(tmp_path_factory) -> CompiledModel:
    out = tmp_path_factory.mktemp("report") / "kws"
    return compile_model(model_path("kws_ref_model"), out,
                         CompileOptions(board="nucleo-l4r5zi", name="kws"))


def test_memory_timeline_reaches_the_arena_and_the_lower_bound(kws: CompiledModel) -> None:
    memory = kws.manifest["memory"]
    points = memory_timeline(kws.manifest)
    assert len(points) == len(memory["nodes"])
    peak_extent = max(p["extent"] for p in points)
    peak_live = max(p["live_bytes"] for p in points)
    print(f"KWS arena {memory['arena_bytes']} B: the plot's highest byte {peak_extent}, its "
          f"peak live bytes {peak_live}, lower bound {memory['lower_bound_bytes']}")
    assert peak_extent == memory["arena_bytes"] == memory["plan_bytes"]
    assert peak_live == memory["lower_bound_bytes"]
    assert all(p["live_bytes"] <= p["extent"] for p in points)


def test_report_md_has_the_layer_table_budget_and_figures(kws: CompiledModel) -> None:
    report = (kws.folder / "report.md").read_text()
    assert "## Budget" in report
    flash = kws.manifest["fit"]["flash_bytes"]
    assert f"{flash:,} of 2,097,152 bytes" in report  # the NUCLEO-L4R5ZI's 2 MB flash
    assert "| # | layer | op | inputs | output | MACs | weight B | kernel | arena offset |" in report
    rows = [ln for ln in report.splitlines() if ln.startswith("| ") and "conv_s8" in ln]
    assert len(rows) >= 5
    assert "| 1x49x10x1 |" in report  # the first layer's input shape
    assert "yes" in report  # KWS runs some layers in place
    for path in FIGURES.values():
        assert f"]({path})" in report
        assert (kws.folder / path).read_bytes().startswith(PNG)


def test_every_layer_with_code_names_its_kernel_even_a_fused_add(tmp_path) -> None:
    """ResNet-8's residual Adds run inside their convolution's conv_add_s8 call
    (codegen/c/residual.py): inspect, report.md and report.html name that kernel on the
    Add's row too, and the row it is fused into. Only an aliased Reshape has no code."""
    out = compile_model(model_path("pretrainedResnet_quant"), tmp_path / "resnet",
                        CompileOptions(board="mps2-an386", name="resnet"))
    layers = out.manifest["summary"]["layers"]
    data = json.loads(subprocess.run(
        [sys.executable, "-m", "effc.cli", "inspect", str(out.folder), "--json"],
        capture_output=True, text=True, timeout=300, check=True).stdout)
    text = subprocess.run([sys.executable, "-m", "effc.cli", "inspect", str(out.folder)],
                          capture_output=True, text=True, timeout=300, check=True).stdout
    md = (out.folder / "report.md").read_text().split("## Layers of the generated code")[1]
    md_kernels = [ln.split(" | ")[7] for ln in md.splitlines() if re.match(r"\| \d+ \|", ln)]
    html = (out.folder / "report.html").read_text().split('<table id="layers">')[1]
    html_kernels = re.findall(r"<td>[\d,]+</td>\s*<td>([^<]*)</td>\s*<td>[^<]*</td>\s*"
                              r"<td>[^<]*</td>\s*<td>(?:yes)?</td>", html)
    text_rows = [ln for ln in text.splitlines() if re.match(r"│\s*\d+ │", ln)]
    assert len(data["layers"]) == len(md_kernels) == len(html_kernels) == len(text_rows) \
        == len(layers)
    fused = [r for r in data["layers"] if r["fused_into"] is not None]
    print("fused:", [(r["index"], r["op"], r["kernel"]) for r in fused])
    assert [r["op"] for r in fused] == ["Add"] * 3  # ResNet-8's three residual blocks
    for r, md_kernel, html_kernel, line in zip(data["layers"], md_kernels, html_kernels,
                                               text_rows, strict=True):
        if r["op"] == "Reshape":
            continue  # aliased: no code
        assert r["kernel"], f"layer {r['index']} ({r['op']}) has no kernel"
        assert md_kernel == html_kernel == r["kernel"]
        assert f"│ {r['kernel']} " in line
    for r in fused:
        host = data["layers"][r["fused_into"]]
        assert host["op"] == "Conv" and host["kernel"] == "conv_add_s8"
        assert r["kernel"] == f"conv_add_s8 (fused into #{host['index']})"
        assert r["offset"] == host["offset"] and r["instructions"] is None


@pytest.mark.qemu
def test_profile_adds_measured_instructions_to_the_report(tmp_path) -> None:
    out = compile_model(model_path("kws_ref_model"), tmp_path / "kws",
                        CompileOptions(board="mps2-an386", name="kws"))
    before = (out.folder / FIGURES["cost"]).read_bytes()
    x, expected = tflm_vectors("kws_ref_model")
    result = out.run("qemu", x[:1], profile=True)
    assert np.array_equal(result.values[out.graph.outputs[0]], expected[:1])
    reopened = CompiledModel.open(out.folder)
    profile = reopened.manifest["profile"]
    assert profile["instructions"] == result.metrics["instructions"]
    report = (out.folder / "report.md").read_text()
    first = profile["per_layer_instructions"]["0"]
    assert f"| {first:,} |" in report
    assert f"{profile['instructions']:,} per inference" in report
    assert (out.folder / FIGURES["cost"]).read_bytes() != before  # now instructions, not MACs


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed; run scripts/setup.sh")
    return path


CHECK = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images].map(i => i.id + "=" + i.naturalWidth + "x" + i.naturalHeight);
  const rows = document.querySelectorAll("#layers tr").length;
  document.title = "rendered " + rows + " rows; " + imgs.join(" ");
});
</script>
"""


def test_report_html_renders_in_headless_chromium(kws: CompiledModel, tmp_path) -> None:
    chromium = _chromium()
    html = (kws.folder / "report.html").read_text()
    assert "<script" not in html  # the page itself runs nothing
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", CHECK + "</body>"))
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    layers = len(kws.manifest["summary"]["layers"])
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    print("chromium:", title)
    assert title.startswith(f"rendered {layers + 1} rows;")
    assert "memory-timeline=800x320" in title and "layer-cost=800x320" in title
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1400,1800",
                    (kws.folder / "report.html").as_uri()], capture_output=True, timeout=120)
    from matplotlib.image import imread

    pixels = imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (1800, 1400)
    blue = np.all(np.abs(pixels - np.array([0x4C, 0x72, 0xB0]) / 255) < 0.02, axis=-1)
    assert blue.sum() > 2000  # the budget bars and the timeline's bars were drawn
    print(f"screenshot {shot}: {int(blue.sum())} pixels of the bars' blue")
