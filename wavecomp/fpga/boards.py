"""Board definitions: FPGA part, oscillator and eurorack-pmod pins, read from ``boards/*.toml``.

The facts live in TOML next to their sources (upstream pinmaps) so that a pin change is a data
edit a reviewer can check against the source line, not a code change. This module only reads and
validates them; the PLL plan (``pll.py``) and the Amaranth tops consume the ``Board``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wavecomp.errors import WavecompError
from wavecomp.resources import boards_dir

# CLI name -> TOML file stem; the first entry is the default board
BOARDS: dict[str, str] = {
    "ecpix5-85f": "ecpix5_85f",
    "colorlight-i5": "colorlight_i5",
    "colorlight-i9": "colorlight_i9",
}
DEFAULT_BOARD = "ecpix5-85f"

# the eurorack-pmod signals every board must place (AK4619 TDM + I2C + power-down)
PMOD_SIGNALS = ("mclk", "pdn", "sda", "scl", "sdin1", "sdout1", "lrck", "bick")

NEXTPNR_DEVICES = (
    "25k",
    "45k",
    "85k",
    "um-25k",
    "um-45k",
    "um-85k",
    "um5g-25k",
    "um5g-45k",
    "um5g-85k",
)


class BoardError(WavecompError, ValueError):
    """A board name is unknown or its TOML file is incomplete; the message says which and how."""


@dataclass(frozen=True)
class Board:
    """One FPGA board carrying the eurorack-pmod: what synthesis, P&R and the PLL need."""

    name: str
    display_name: str
    part: str  # e.g. LFE5UM5G-85F
    family: str  # LFE5U or LFE5UM5G
    nextpnr_device: str  # e.g. "um5g-85k" -> `nextpnr-ecp5 --um5g-85k`
    package: str  # nextpnr package name, e.g. CABGA381
    speed: int
    clock_hz: int
    clock_pin: str
    clock_io_standard: str
    pmod_connector: str
    pmod_io_standard: str
    pmod_pins: dict[str, str]
    amaranth_platform: str | None  # "module.Class" in amaranth-boards, or None (our own platform)
    connection: str
    sources: tuple[str, ...]

    @property
    def clock_mhz(self) -> float:
        return self.clock_hz / 1e6

    @property
    def nextpnr_flags(self) -> list[str]:
        """Device/package/speed flags for ``nextpnr-ecp5``."""
        return [f"--{self.nextpnr_device}", "--package", self.package, "--speed", str(self.speed)]


def _get(table: dict[str, Any], key: str, kind: type, path: Path, where: str = "") -> Any:
    if key not in table:
        raise BoardError(f"{path}: missing key '{where}{key}'; add it (see boards/ecpix5_85f.toml)")
    value = table[key]
    if not isinstance(value, kind):
        raise BoardError(
            f"{path}: '{where}{key}' is {type(value).__name__}, expected {kind.__name__}"
        )
    return value


def board_from_toml(name: str, path: Path) -> Board:
    """Parse and validate one board file (names the file and key on any problem)."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise BoardError(f"board file {path} is missing; restore it from git") from None
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc

    clock = _get(data, "clock", dict, path)
    pmod = _get(data, "pmod", dict, path)
    pins = _get(pmod, "pins", dict, path, "pmod.")
    missing = [s for s in PMOD_SIGNALS if s not in pins]
    if missing:
        raise BoardError(
            f"{path}: [pmod.pins] lacks {', '.join(missing)}; every eurorack-pmod signal "
            f"({', '.join(PMOD_SIGNALS)}) needs a pin site"
        )
    extra = sorted(set(pins) - set(PMOD_SIGNALS))
    if extra:
        raise BoardError(
            f"{path}: [pmod.pins] has unknown signal(s) {', '.join(extra)}; "
            f"known: {', '.join(PMOD_SIGNALS)}"
        )
    device = _get(data, "nextpnr_device", str, path)
    if device not in NEXTPNR_DEVICES:
        raise BoardError(
            f"{path}: nextpnr_device '{device}' is not one of {', '.join(NEXTPNR_DEVICES)}"
        )
    platform = data.get("amaranth_platform")
    if platform is not None and not isinstance(platform, str):
        raise BoardError(f"{path}: amaranth_platform must be a 'module.Class' string or absent")

    return Board(
        name=name,
        display_name=_get(data, "display_name", str, path),
        part=_get(data, "part", str, path),
        family=_get(data, "family", str, path),
        nextpnr_device=device,
        package=_get(data, "package", str, path),
        speed=_get(data, "speed", int, path),
        clock_hz=_get(clock, "frequency_hz", int, path, "clock."),
        clock_pin=_get(clock, "pin", str, path, "clock."),
        clock_io_standard=_get(clock, "io_standard", str, path, "clock."),
        pmod_connector=_get(pmod, "connector", str, path, "pmod."),
        pmod_io_standard=_get(pmod, "io_standard", str, path, "pmod."),
        pmod_pins={s: str(pins[s]) for s in PMOD_SIGNALS},
        amaranth_platform=platform,
        connection=_get(data, "connection", str, path),
        sources=tuple(_get(data, "sources", list, path)),
    )


def load_board(name: str = DEFAULT_BOARD) -> Board:
    """Load a board by its CLI name (``ecpix5-85f``, ``colorlight-i5``, ``colorlight-i9``)."""
    key = name.strip().lower()
    if key not in BOARDS:
        raise BoardError(
            f"unknown board '{name}'; known boards: {', '.join(BOARDS)} "
            f"(add a boards/<name>.toml and list it in wavecomp.fpga.boards.BOARDS for a new one)"
        )
    return board_from_toml(key, boards_dir() / f"{BOARDS[key]}.toml")
