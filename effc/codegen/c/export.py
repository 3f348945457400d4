"""``--export``: the generated library laid out for a build system or an IDE.

OUTDIR/export/<kind>/ holds a copy of the library's sources and
  cmake       CMakeLists.txt (the model + the shared effc_runtime target) and
              toolchain-<board>.cmake (arm-none-eabi-gcc with the core's flags)
  make        Makefile and board.mk (arm-none-eabi-gcc with the core's flags)
  zephyr      <name>/zephyr/module.yml, CMakeLists.txt, Kconfig and src/ (a Zephyr module)
  arduino     <name>/library.properties and src/ (an Arduino library)
  platformio  <name>/library.json and src/ (a PlatformIO library)
"""

from __future__ import annotations

from typing import Any

from effc.boards import McuBoard
from effc.version import __version__

EXPORTS = ("cmake", "make", "zephyr", "arduino", "platformio")


def export_files(kind: str, files: dict[str, bytes], c: dict[str, Any], board: McuBoard,
                 summary: str) -> dict[str, bytes]:
    """The files of one export (paths under OUTDIR/export/<kind>/), from the library's
    ``files`` (name -> bytes, as written to OUTDIR/c)."""
    from effc.codegen.c.emit import _environment

    env = _environment()
    name = c["name"]
    facts = {"name": name, "NAME": name.upper(), "version": __version__, "board": board,
             "summary": summary, "c": c}
    sources = {f: data for f, data in files.items() if f.endswith((".c", ".h"))}

    def render(template: str, **extra: Any) -> bytes:
        return env.get_template(f"export/{template}").render(**facts, **extra).encode()

    if kind == "cmake":
        return sources | {"CMakeLists.txt": files["CMakeLists.txt"],
                          f"toolchain-{board.name}.cmake": render("toolchain.cmake.j2")}
    if kind == "make":
        return sources | {"Makefile": files["Makefile"], "board.mk": render("board.mk.j2")}
    src = {f"{name}/src/{f}": data for f, data in sources.items()}
    if kind == "zephyr":
        c_files = sorted(f for f in sources if f.endswith(".c"))
        return src | {f"{name}/zephyr/module.yml": render("module.yml.j2"),
                      f"{name}/CMakeLists.txt": render("zephyr_CMakeLists.txt.j2",
                                                       sources=c_files),
                      f"{name}/Kconfig": render("Kconfig.j2")}
    if kind == "arduino":  # no build flags in an Arduino library: the definitions go in
        # its own copy of the runtime (effc_mm_internal.h reads them; one model a library)
        header = f"{name}/src/effc_mm_internal.h"
        lines = "".join(f"#define {d.replace('=', ' ', 1)}\n"
                        for d in c.get("library_definitions", []))
        return src | {header: lines.encode() + src[header],
                      f"{name}/library.properties": render("library.properties.j2")}
    assert kind == "platformio", kind
    return src | {f"{name}/library.json": render("library.json.j2")}
