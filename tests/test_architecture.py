"""effc's layers: no import cycle, and every import points down (docs/architecture.md).

Every module under effc/ is parsed with ``ast``; every import counts, at module
level, inside functions and under ``if TYPE_CHECKING``. The table below is the
one in docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each module's layer: the entry of its longest dotted prefix ("effc" alone is the
#: package facade; any other module must be listed here, by itself or its package).
LAYER_OF = {
    "effc.errors": "base", "effc.version": "base", "effc.arrays": "base",
    "effc.outdir": "base", "effc.names": "base", "effc.quant": "base",
    "effc.progress": "base",
    "effc.boards": "boards",
    "effc.toolchain": "toolchain",
    "effc.ir": "ir",
    "effc.ops": "ops", "effc.summary": "ops", "effc.ir_io": "ops",
    "effc.reference": "reference",
    "effc.passes": "passes",
    "effc.frontend": "frontend", "effc.onnx_export": "frontend",
    "effc.codegen": "codegen",
    "effc.artifact": "artifact",
    "effc.engines": "engines",
    "effc": "driver", "effc.api": "driver", "effc.compiler": "driver",
    "effc.verify": "driver", "effc.report": "driver", "effc.demo": "driver",
    "effc.report_html": "driver", "effc.validate": "driver", "effc.opsupport": "driver",
    "effc.sweep": "driver",
    "effc.cli": "cli",
}

_CORE = {"base", "ir", "ops", "reference", "passes", "frontend"}
#: The layers each layer may import (besides its own modules).
MAY_IMPORT = {
    "base": set(),
    "ir": {"base"},
    "ops": {"base", "ir"},
    "reference": {"base", "ir", "ops"},
    "passes": {"base", "ir", "ops", "reference"},
    "frontend": {"base", "ir", "ops", "reference", "passes"},
    "boards": {"base"},
    "toolchain": {"base", "boards"},
    "codegen": {"base", "ir", "ops", "passes", "boards", "toolchain"},
    "artifact": {"base", "ir", "ops", "boards"},
    "engines": {"base", "ir", "ops", "reference", "boards", "toolchain", "artifact"},
    "driver": _CORE | {"boards", "toolchain", "codegen", "artifact", "engines"},
    "cli": _CORE | {"boards", "toolchain", "codegen", "artifact", "engines", "driver"},
}

#: Registries of peers: outside each, only the registry itself is imported, and no peer
#: (an engine module; a target's subpackage) imports another.
REGISTRIES = ("effc.engines", "effc.codegen")


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((root / "effc").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the effc modules it imports (anywhere in its file)."""
    mods = modules(root)

    def resolve(name: str) -> str:
        while name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                # ``from pkg import mod`` imports the module; ``from mod import name`` the module
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                         for a in node.names]
            else:
                continue
            targets |= {resolve(n) for n in names if n.split(".")[0] == "effc"}
        graph[module] = targets - {module}
    return graph


#: Packages the diagram describes as a whole ("one file per op"): naming the folder is enough.
DESCRIBED_WHOLE = ("effc.ops", "effc.passes", "effc.reference", "effc.frontend", "effc.quant",
                   "effc.cli", "effc.sweep", "effc.boards")


def unnamed_modules(root: Path) -> list[str]:
    """The modules docs/architecture.md's layer diagram does not name: every module's
    folder must appear there (``c/``), and its file (``dispatch.py``, or a pattern such
    as ``layers*.py``) unless its package is described whole."""
    text = (root / "docs" / "architecture.md").read_text()
    diagram = text.split("## The layers", 1)[1].split("```")[1]
    files = set(re.findall(r"[\w*]+\.py", diagram))
    folders = set(re.findall(r"(\w+)/", diagram))
    missing = []
    for module, path in modules(root).items():
        folder = path.parent.relative_to(root)
        if str(folder) != "effc" and folder.name not in folders:
            missing.append(module)
        elif not any(module == p or module.startswith(p + ".") for p in DESCRIBED_WHOLE) \
                and not any(fnmatch(path.name, f) for f in files):
            missing.append(module)
    return missing


def layer_of(module: str) -> str | None:
    if module == "effc":
        return LAYER_OF["effc"]
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        if ".".join(parts[:end]) in LAYER_OF:
            return LAYER_OF[".".join(parts[:end])]
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def _peer(module: str, registry: str) -> str | None:
    """The peer (engine module, target package) ``module`` belongs to, if any."""
    if not module.startswith(registry + "."):
        return None
    return module[len(registry) + 1:].split(".")[0]


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        layer = layer_of(module)
        for target in sorted(targets):
            other = layer_of(target)
            if other != layer and other not in MAY_IMPORT[layer]:
                found.append(f"{module} ({layer}) imports {target} ({other})")
            for registry in REGISTRIES:
                peer = _peer(target, registry)
                if peer is not None and _peer(module, registry) != peer:
                    found.append(f"{module} imports {target}: reach it through {registry}")
    return found


# -- effc itself ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def effc_graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_every_module_has_a_layer(effc_graph: dict[str, set[str]]) -> None:
    assert [m for m in effc_graph if layer_of(m) is None] == []


def test_the_layer_diagram_names_every_module() -> None:
    assert unnamed_modules(ROOT) == []


def test_no_import_cycle(effc_graph: dict[str, set[str]]) -> None:
    assert find_cycle(effc_graph) is None


def test_imports_point_down(effc_graph: dict[str, set[str]]) -> None:
    assert violations(effc_graph) == []


def test_the_ir_imports_only_errors(effc_graph: dict[str, set[str]]) -> None:
    assert effc_graph["effc.ir"] <= {"effc.errors"}


def test_the_graph_sees_every_kind_of_import(effc_graph: dict[str, set[str]]) -> None:
    """Module level, inside a function, ``from package import module``."""
    assert "effc.ops" in effc_graph["effc.ir_io"]  # module level
    assert "effc.verify" in effc_graph["effc.compiler"]  # inside _self_check
    assert "effc.quant.fixedpoint" in effc_graph["effc.quant.int8"]  # from effc.quant import


# -- the checks catch what they are for ---------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for name, text in {"effc/__init__.py": "", **files}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return import_graph(tmp_path)


def test_a_cycle_through_a_function_and_type_checking_import_is_found(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "effc/ir.py": "def validate():\n    from effc.ops import get_op\n",
        "effc/ops/__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from effc.frontend.context import Ctx\n",
        "effc/frontend/context.py": "from effc.ir import Graph\n",
    })
    assert find_cycle(graph) == ["effc.frontend.context", "effc.ir", "effc.ops",
                                 "effc.frontend.context"]
    assert "effc.ir (ir) imports effc.ops (ops)" in violations(graph)


def test_upward_and_peer_imports_are_violations(tmp_path: Path) -> None:
    graph = _package(tmp_path, {
        "effc/compiler.py": "import effc.engines.host\nfrom effc.codegen import get_target\n",
        "effc/engines/__init__.py": "",
        "effc/engines/host.py": "",
        "effc/engines/qemu.py": "from effc.engines.host import entry_ports\n",
        "effc/codegen/__init__.py": "",
        "effc/codegen/c/__init__.py": "",
        "effc/codegen/c/target.py": "from effc.codegen.c import emit\nfrom effc import api\n",
        "effc/codegen/c/emit.py": "",
        "effc/api.py": "",
    })
    assert find_cycle(graph) is None
    assert violations(graph) == [
        "effc.codegen.c.target (codegen) imports effc.api (driver)",
        "effc.compiler imports effc.engines.host: reach it through effc.engines",
        "effc.engines.qemu imports effc.engines.host: reach it through effc.engines",
    ]


def test_a_module_the_diagram_does_not_name_is_found(tmp_path: Path) -> None:
    _package(tmp_path, {"effc/api.py": "", "effc/extra.py": "", "effc/ops/conv.py": "",
                        "effc/codegen/c/emit.py": "", "effc/codegen/c/new.py": "",
                        "effc/engines/host.py": ""})
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "architecture.md").write_text(
        "## The layers\n\n```\n driver effc/__init__.py, api.py\n ops effc/ops/ one file "
        "per op\n codegen c/ (emit.py)\n```\n")
    assert unnamed_modules(tmp_path) == ["effc.codegen.c.new", "effc.engines.host",
                                         "effc.extra"]
