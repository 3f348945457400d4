"""Writing an image to a real board: pyocd's Python API (or openocd when the board file
names a config; iceprog for iCE40 bitstreams). Every failure is one line; looking for a
probe never hangs (it gives up after ``PROBE_TIMEOUT`` seconds)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from effc.boards import Board, McuBoard
from effc.errors import EffcError

PROBE_TIMEOUT = 6.0  # seconds: the search for a probe; with the start-up, within 10 s even under load


class FlashError(EffcError):
    """Flashing failed or cannot start (the CLI exits with 2)."""


@dataclass(frozen=True)
class FlashPlan:
    """What would be written where, with which tool."""

    board: Board
    image: Path
    address: int
    size: int
    tool: str  # pyocd, openocd or iceprog
    target: str  # pyocd's target type, the openocd config, or the iCE40 part
    limit: int  # the region's size in bytes

    def describe(self) -> str:
        share = f" ({100 * self.size / self.limit:.1f}% of {self.limit:,})" if self.limit else ""
        return (f"{self.image.name} -> {self.board.name} at 0x{self.address:08X}, "
                f"{self.size:,} bytes{share}, with {self.tool} ({self.target})")


def mcu_plan(board: McuBoard, image: Path) -> FlashPlan:
    """Flash ``image`` (a raw .bin linked for ``board``) at the start of its flash; refused
    in one line when it does not fit."""
    hw = board.hardware
    if hw is None:
        raise FlashError(f"board '{board.name}' has no [hardware] table (soc, pyocd_target), "
                         "so effc cannot flash it; run it under QEMU (effc run OUTDIR --engine "
                         "qemu) or add the table to its board file")
    if not image.is_file():
        raise FlashError(f"image {image} does not exist; compile again with --board "
                         f"{board.name}")
    size = image.stat().st_size
    if size > board.flash.size:
        raise FlashError(f"the image ({size:,} bytes) does not fit {board.name}'s flash "
                         f"({board.flash.size:,} bytes); prune the model or pick a larger "
                         "board")
    tool, target = ("openocd", hw.openocd_config) if hw.openocd_config else \
        ("pyocd", hw.pyocd_target)
    return FlashPlan(board, image, board.flash.origin, size, tool, target, board.flash.size)


def fpga_plan(board: Board, bitstream: Path) -> FlashPlan:
    """Write an iCE40 bitstream (``effc synth``'s board.bin) to the board's SPI flash with
    iceprog; other FPGA families are refused in one line."""
    family = getattr(board, "family", "")
    if not str(family).startswith("ice40"):
        raise FlashError(f"effc flashes iCE40 boards only (iceprog); {board.name} is "
                         f"{family}: load the bitstream with the vendor's tools")
    if not bitstream.is_file():
        raise FlashError(f"no bitstream in {bitstream.parent.parent}: run 'effc synth "
                         f"{bitstream.parent.parent}' first (it writes synth/board.bin)")
    return FlashPlan(board, bitstream, 0, bitstream.stat().st_size, "iceprog",
                     str(getattr(board, "part", "")), 0)


def flash_iceprog(plan: FlashPlan, timeout: float = 120.0) -> str:
    iceprog = shutil.which("iceprog")
    if iceprog is None:
        raise FlashError("'iceprog' was not found on PATH; install fpga-icestorm "
                         "(scripts/setup.sh)")
    try:
        proc = subprocess.run([iceprog, str(plan.image)], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise FlashError(f"iceprog did not finish in {timeout:g} s; check the board's USB "
                         "connection") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        raise FlashError(f"iceprog failed: {(lines or ['(no output)'])[0].strip()}; connect "
                         f"{plan.board.name} by USB")
    return "iceprog"


def _search_probes(unique_id: str | None) -> tuple[list[Any], list[str]]:
    """pyocd's connected probes (matching ``unique_id``) and the probe kinds searched,
    in a worker thread given PROBE_TIMEOUT seconds."""
    try:
        from pyocd.core.helpers import ConnectHelper
        from pyocd.probe.aggregator import PROBE_CLASSES
    except ImportError:
        raise FlashError("pyocd is not installed; install it with pip install 'effc[flash]' "
                         "(or pip install pyocd)") from None
    found: dict[str, Any] = {}

    def search() -> None:
        try:
            found["probes"] = ConnectHelper.get_all_connected_probes(
                blocking=False, unique_id=unique_id, print_wait_message=False)
        except Exception as exc:  # a USB or driver problem: report it, do not hang
            found["error"] = exc

    worker = threading.Thread(target=search, daemon=True)
    worker.start()
    worker.join(PROBE_TIMEOUT)
    kinds = sorted(PROBE_CLASSES) or ["cmsisdap", "stlink", "picoprobe"]
    if worker.is_alive():
        raise FlashError(f"the search for a debug probe did not finish in {PROBE_TIMEOUT:g} s "
                         f"(pyocd, USB: {', '.join(kinds)}); unplug and replug the probe")
    if "error" in found:
        raise FlashError(f"pyocd could not list debug probes: {found['error']}; check the USB "
                         "permissions (udev rules) of the probe")
    return found["probes"], kinds


class ProbeLink:
    """An open pyocd session through one probe: ``program`` writes an image, ``target``
    reaches the core and its memory (reset_and_halt, resume, read32, write32,
    read_memory_block8, get_state, read_core_register). A context manager."""

    def __init__(self, session: Any, unique_id: str) -> None:
        self.session = session
        self.unique_id = unique_id

    @property
    def target(self) -> Any:
        return self.session.target

    def program(self, image: Path, address: int) -> None:
        from pyocd.flash.file_programmer import FileProgrammer

        FileProgrammer(self.session).program(str(image), file_format="bin",
                                             base_address=address)

    def __enter__(self) -> ProbeLink:
        self.session.__enter__()  # opens the session (closes it again if that fails)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.session.__exit__(*exc)


def connect_pyocd(board: Board, target: str, probe: str | None = None,
                  choose: str = "--probe ID") -> ProbeLink:
    """The one attached probe (or the one whose ID contains ``probe``), not yet opened;
    one-line errors when there is none or several (``choose`` says how to pick one)."""
    probes, kinds = _search_probes(probe)
    if not probes:
        which = f"with an ID containing '{probe}' " if probe else ""
        raise FlashError(f"no debug probe {which}found: pyocd searched USB for "
                         f"{', '.join(kinds)} probes; connect {board.name} by USB (its "
                         f"ST-LINK), or give {choose} (pyocd list)")
    if len(probes) > 1 and probe is None:
        ids = ", ".join(p.unique_id for p in probes)
        raise FlashError(f"{len(probes)} debug probes are connected ({ids}); choose one with "
                         f"{choose}")
    from pyocd.core.helpers import ConnectHelper

    chosen = probes[0]
    session = ConnectHelper.session_with_chosen_probe(
        blocking=False, unique_id=chosen.unique_id, target_override=target,
        options={"frequency": 4_000_000})
    if session is None:
        raise FlashError(f"pyocd could not open probe {chosen.unique_id}")
    return ProbeLink(session, str(chosen.unique_id))


def probe_failure(board: Board, target: str, link: ProbeLink, exc: Exception,
                  doing: str) -> FlashError:
    """pyocd's exception as one line, with the pack hint when the target is unknown."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = f"; install the target's pack: pyocd pack install {target}" \
        if "target" in first.lower() else ""
    return FlashError(f"pyocd failed to {doing} {board.name} through {link.unique_id}: "
                      f"{first}{hint}")


def flash_pyocd(plan: FlashPlan, probe: str | None = None) -> str:
    """Program ``plan.image`` through pyocd's Python API, verify, reset; returns the probe."""
    link = connect_pyocd(plan.board, plan.target, probe)
    try:
        with link:
            link.program(plan.image, plan.address)
            link.target.reset()
    except FlashError:
        raise
    except Exception as exc:
        raise probe_failure(plan.board, plan.target, link, exc, "program") from None
    return link.unique_id


def flash_openocd(plan: FlashPlan, timeout: float = 120.0) -> str:
    openocd = shutil.which("openocd")
    if openocd is None:
        raise FlashError(f"'openocd' was not found on PATH; the board file names the openocd "
                         f"config {plan.target} (apt-get install openocd)")
    cmd = [openocd, "-f", plan.target, "-c",
           f"program {plan.image} 0x{plan.address:08X} verify reset exit"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise FlashError(f"openocd did not finish in {timeout:g} s; check the probe and the "
                         "board's power") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if "rror" in ln]
        raise FlashError(f"openocd failed: {(lines or ['(no output)'])[0].strip()}")
    return "openocd"


def flash(plan: FlashPlan, probe: str | None = None) -> str:
    """Write the plan's image; returns what it was written through."""
    if plan.tool == "openocd":
        return flash_openocd(plan)
    if plan.tool == "iceprog":
        return flash_iceprog(plan)
    return flash_pyocd(plan, probe)
