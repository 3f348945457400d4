"""effc sweep and effc run on a Ray cluster this module starts (``ray start --head``, two
CPUs) and stops (by its process group): the same records as the local pool, and
sharded QEMU (KWS's 16 vectors) and Verilator runs byte for byte the single-process
runs'."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.ray_cluster import free_port, local_ray_cluster
from effc.cli import main
from effc.errors import EffcError
from tests.c_models import compiled, tflm_vectors
from tests.conftest import EXAMPLES, IN_CI, ROOT
from tests.test_cli_errors import assert_one_line_error, effc
from tests.test_sweep import DIGITS, records, sweep_args

try:
    import ray  # noqa: F401
except ImportError:
    if IN_CI:  # scripts/setup.sh installs the ray extra: CI runs these
        raise
    pytest.skip("the ray extra is not installed (pip install effc[ray])", allow_module_level=True)
pytestmark = [pytest.mark.slow, pytest.mark.qemu]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local head node with two CPUs (bench/ray_cluster.py); its address."""
    with local_ray_cluster(tmp_path_factory.mktemp("ray") / "ray.log") as address:
        yield address


def test_ray_sweep_equals_the_local_one(tmp_path: Path, ray_cluster: str) -> None:
    """2 ratios x 2 criteria, locally and on the cluster (found through RAY_ADDRESS, as
    ``--ray`` alone does): the same records, key for key."""
    grid = tmp_path / "grid.toml"
    grid.write_text("prune = [0.25, 0.5]\nprune-criterion = ['l1', 'activation']\n"
                    "no-verify = true\n")
    assert main(sweep_args(grid, tmp_path / "local", "--workers", "2")) == 0
    env = dict(os.environ, RAY_ADDRESS=ray_cluster)
    result = subprocess.run([sys.executable, "-m", "effc.cli",
                             *sweep_args(grid, tmp_path / "ray", "--ray")],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    local = {r["key"]: r for r in records(tmp_path / "local")}
    ray = {r["key"]: r for r in records(tmp_path / "ray")}
    assert len(local) == 4 and all(r["status"] == "ok" for r in local.values())
    assert ray == local
    assert json.loads((tmp_path / "ray" / "summary.json").read_text())["frontier"] == \
        json.loads((tmp_path / "local" / "summary.json").read_text())["frontier"]


def test_ray_missing_tool_names_tool_and_worker(tmp_path: Path, ray_cluster: str) -> None:
    """The up-front check on every node: a grid needing a program the workers lack."""
    from effc.sweep import ray_runner

    with pytest.raises(EffcError) as caught:
        ray = ray_runner.connect(ray_cluster)
        try:
            ray_runner.check_tools(ray, ["gcc", "effc-no-such-tool"])
        finally:
            ray.shutdown()
    text = str(caught.value)
    assert "lacks effc-no-such-tool" in text and socket.gethostname() in text
    assert "\n" not in text


def test_no_cluster_at_the_address_is_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 8, 8), np.float32))
    folder = tmp_path / "digits"
    assert main(["compile", str(DIGITS), "-o", str(folder)]) == 0
    result = effc("run", str(folder), "--input", str(tmp_path / "x.npy"), "--output",
                  str(tmp_path / "y.npy"), "--ray", f"127.0.0.1:{free_port()}")
    assert_one_line_error(result, "no Ray cluster answers at", "ray start --head")
    assert_one_line_error(effc("run", str(folder), "--input", str(tmp_path / "x.npy"),
                               "--output", str(tmp_path / "y.npy"), "--workers", "2"),
                          "add --ray")


def test_sharded_qemu_run_of_kws_is_byte_identical(tmp_path_factory: pytest.TempPathFactory,
                                                   ray_cluster: str) -> None:
    folder = compiled(tmp_path_factory, "kws_ref_model").folder
    x, _ = tflm_vectors("kws_ref_model")
    tmp = tmp_path_factory.mktemp("kws-shards")
    np.save(tmp / "x.npy", x)
    outs = {}
    for name, extra in (("single", []), ("ray", ["--ray", ray_cluster, "--workers", "3"])):
        result = subprocess.run([sys.executable, "-m", "effc.cli", "run", str(folder),
                                 "--engine", "qemu", "--input", str(tmp / "x.npy"), "--output",
                                 str(tmp / f"{name}.npy"), "--json", *extra],
                                capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert result.returncode == 0, result.stderr
        outs[name] = json.loads(result.stdout)
    assert (tmp / "ray.npy").read_bytes() == (tmp / "single.npy").read_bytes()
    assert np.load(tmp / "single.npy").shape[0] == 16
    del outs["ray"]["output"], outs["single"]["output"]
    assert outs["ray"] == outs["single"]  # instructions, cycles, stack, 16 inferences


def test_sharded_verilator_run_is_byte_identical(tmp_path: Path, ray_cluster: str) -> None:
    """The digits CNN on the RTL accelerator (icebreaker): 6 samples over 2 workers."""
    folder = tmp_path / "digits-rtl"
    data = np.load(EXAMPLES / "digits" / "digits_data.npz")
    np.save(tmp_path / "calib.npy", data["x_calib"][:32])
    np.save(tmp_path / "x.npy", data["x_test"][:6])
    assert main(["compile", str(DIGITS), "-o", str(folder), "--calib",
                 str(tmp_path / "calib.npy"), "--board", "icebreaker", "--no-verify"]) == 0
    outs = {}
    for name, extra in (("single", []), ("ray", ["--ray", ray_cluster, "--workers", "2"])):
        result = subprocess.run([sys.executable, "-m", "effc.cli", "run", str(folder),
                                 "--engine", "verilator", "--input", str(tmp_path / "x.npy"),
                                 "--output", str(tmp_path / f"{name}.npy"), "--json", *extra],
                                capture_output=True, text=True, cwd=ROOT, timeout=900)
        assert result.returncode == 0, result.stderr
        outs[name] = json.loads(result.stdout)
    assert (tmp_path / "ray.npy").read_bytes() == (tmp_path / "single.npy").read_bytes()
    del outs["ray"]["output"], outs["single"]["output"]
    assert outs["ray"] == outs["single"]
    assert len(outs["ray"]["cycles_all_samples"]) == 6
