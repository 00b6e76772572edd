"""The Markdown the FPGA flow writes (build report, drop-in core README) comes from templates.

Why templates: the prose is most of these files and reviewers read it as prose; the Python
side only computes the figures. The ``*.j2`` files sit beside this module (package data).
"""

from __future__ import annotations

from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("wavecomp.fpga", "."),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def render(template: str, **context: Any) -> str:
    """Render ``wavecomp/fpga/<template>`` with ``context``; the text ends with one newline."""
    return _ENV.get_template(template).render(**context).rstrip("\n") + "\n"
