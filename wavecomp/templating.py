"""The one jinja2 set-up for everything wavecomp generates from templates.

Why one: generated SystemVerilog, C++, READMEs and reports must all fail loudly on a missing
variable (``StrictUndefined``), lay out blocks the same way, and format figures the same way;
each stage only says where its templates live and what goes into them.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def figure(value: Any) -> str:
    """A report figure: a float to 2 decimals (an infinite one as ∞), anything else as is."""
    if isinstance(value, float):
        return "∞" if math.isinf(value) else f"{value:.2f}"
    return str(value)


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    import jinja2  # on first use: the CLI starts without it

    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["spec"] = format  # {{ x|spec(".3g") }} is format(x, ".3g")
    env.filters["figure"] = figure
    return env


@functools.cache
def package_templates(package: str, folder: str = ".") -> jinja2.Environment:
    """Templates shipped inside a wavecomp package (``wavecomp.rtl``'s ``templates/``)."""
    import jinja2

    return _environment(jinja2.PackageLoader(package, folder))


@functools.cache
def folder_templates(*folders: Path) -> jinja2.Environment:
    """Templates in shipped folders outside the package code (``firmware/``)."""
    import jinja2

    return _environment(jinja2.FileSystemLoader([str(f) for f in folders]))


def render_document(package: str, template: str, **context: Any) -> str:
    """A Markdown document from ``<package>/<template>``, ending in exactly one newline."""
    text = package_templates(package).get_template(template).render(**context)
    return text.rstrip("\n") + "\n"
