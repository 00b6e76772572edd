"""The package's shape rules (issue 9): short modules, and shipped files found one way.

Why as tests: both rules erode one convenient shortcut at a time, and a reviewer cannot see
a 650-line module or a stray ``parents[2]`` in a diff of somewhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wavecomp"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 600


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_at_most_600_lines(module: Path) -> None:
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(PACKAGE)} has {lines} lines: split it"


# resources.py is the one place that knows both layouts (checkout and installed wheel)
@pytest.mark.parametrize(
    "module",
    [m for m in MODULES if m.name != "resources.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_module_reaches_the_checkout_by_relative_path(module: Path) -> None:
    text = module.read_text()
    assert not re.search(r"\bPath\(__file__\)(\.resolve\(\))?\.parents?\b", text), (
        f"{module.relative_to(PACKAGE)} finds files relative to itself: use wavecomp.resources"
    )
