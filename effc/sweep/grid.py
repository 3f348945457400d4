"""The sweep's grid: GRID.toml -> points, each a list of ``effc compile`` arguments.

A grid names ``effc compile`` options by their flag without the dashes (``prune``,
``prune-criterion``, ``calibrator``, ``winograd``, ``board``, ``target``, ``no-verify``;
``_`` may stand for ``-``). A list is swept; a single value holds for every point::

    board = "mps2-an386"
    prune = [0.25, 0.5, 0.625, 0.75]
    prune-criterion = ["l1", "activation"]
    calibrator = ["minmax", "percentile"]

Options that only make sense together (a board and its target) go in ``[[cases]]``
tables: every case is combined with every point of the lists::

    prune = [0.25, 0.5]
    [[cases]]
    board = "mps2-an386"
    [[cases]]
    board = "icebreaker"
    target = "rtl"

Switches (``no-verify``, ``prune-fit-board``) take true/false. A repeatable option
(``prune-layer``) takes a list of values per point: ``[["conv1=0.5", "conv2=0.25"]]``.
The sweep gives the model, ``-o`` and ``--calib`` itself.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from effc.errors import EffcError

#: What ``effc sweep`` gives every point itself (its own command line and folders).
OWNED = {"model": "the sweep's MODEL", "output": "the sweep (a folder per point)",
         "o": "the sweep (a folder per point)", "calib": "--calib of effc sweep",
         "force": "the sweep (a folder per point)", "help": "-"}
DEFAULT_BOARD = "mps2-an386"
SWITCH, REPEAT, VALUE = "switch", "repeat", "value"


@dataclass(frozen=True)
class Point:
    """One compile: its options as the grid names them, and its ``effc compile`` flags."""

    options: tuple[tuple[str, Any], ...]
    args: tuple[str, ...]

    def label(self, keys: list[str]) -> str:
        values = dict(self.options)
        return " ".join(f"{k}={_text(values[k])}" for k in keys if k in values)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _canonical(name: str) -> str:
    return name.strip().lstrip("-").replace("_", "-")


def _args(name: str, kind: str, value: Any, where: str) -> list[str]:
    flag = f"--{name}"
    if kind == SWITCH:
        if not isinstance(value, bool):
            raise EffcError(f"{where}: '{name}' is a switch; write {name} = true or false")
        return [flag] if value else []
    values = value if kind == REPEAT and isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, bool | dict | list):
            raise EffcError(f"{where}: '{name}' takes a number or a string, not {v!r}; write "
                            f"e.g. {name} = [\"a\", \"b\"]")
        out += [flag, str(v)]
    return out


def load_grid(path: str | Path, flags: dict[str, str]) -> tuple[list[Point], list[str]]:
    """The grid's points (the product of its lists, in file order) and the swept option
    names. ``flags``: every ``effc compile`` flag name -> SWITCH, REPEAT or VALUE."""
    path = Path(path)
    if not path.is_file():
        raise EffcError(f"grid file '{path}' does not exist; write a TOML file such as "
                        "'prune = [0.25, 0.5]' (see docs/sweep.md)")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EffcError(f"grid file '{path}' is not valid TOML ({exc}); fix it "
                        "(see docs/sweep.md)") from None
    where = f"grid file '{path}'"
    cases = raw.pop("cases", [{}])
    if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) for c in cases):
        raise EffcError(f"{where}: 'cases' must be [[cases]] tables, each setting options such "
                        "as board = \"icebreaker\"; see docs/sweep.md")
    case_options = [[(_option(k, v, flags, where, single=True), v) for k, v in c.items()]
                    for c in cases]
    axes: list[tuple[str, list[Any]]] = []
    for key, value in raw.items():
        name = _option(key, value, flags, where)
        values = value if isinstance(value, list) else [value]
        if any(n == name for n, _ in axes) or any(n == name for c in case_options for n, _ in c):
            raise EffcError(f"{where}: '{key}' is given twice (at the top and in a case, or "
                            "as two spellings); keep one")
        axes.append((name, values))
    in_cases = {n for c in case_options for n, _ in c}
    if "board" not in in_cases and not any(n == "board" for n, _ in axes):
        axes.insert(0, ("board", [DEFAULT_BOARD]))
    swept = [n for n, values in axes if len(values) > 1]
    if len(cases) > 1:
        swept = [*dict.fromkeys(n for c in case_options for n, _ in c), *swept]
    points = []
    for case in case_options:
        for combo in itertools.product(*(values for _, values in axes)):
            options = (*case, *((n, v) for (n, _), v in zip(axes, combo, strict=True)))
            args = [a for n, v in options for a in _args(n, flags[n], v, "grid")]
            points.append(Point(tuple(options), tuple(args)))
    return points, swept


def _option(key: str, value: Any, flags: dict[str, str], where: str,
            single: bool = False) -> str:
    """The option's name, once its values are checked."""
    name = _canonical(key)
    if name in OWNED:
        raise EffcError(f"{where}: '{key}' is set by {OWNED[name]}, not the grid; remove "
                        "it from the grid")
    if name not in flags:
        raise EffcError(f"{where}: '{key}' is not an 'effc compile' option; see 'effc "
                        "compile --help' for the options a grid can sweep")
    if isinstance(value, dict):
        raise EffcError(f"{where}: '{key}' is a table; give a value or a list of values")
    if single and isinstance(value, list) and flags[name] != REPEAT:
        raise EffcError(f"{where}: '{key}' in a case takes one value; put the list at the "
                        "top of the grid")
    values = [value] if single or not isinstance(value, list) else value
    if not values:
        raise EffcError(f"{where}: '{key}' has no values; give at least one")
    for v in values:
        _args(name, flags[name], v, where)  # refuses a wrong kind of value now
    return name
