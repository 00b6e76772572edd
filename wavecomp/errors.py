"""The one base class of every error wavecomp raises on purpose.

Why: bad input and failed tools must reach the user as one readable line that names the
problem and the fix, never as a traceback. Every module's own error type derives from
``WavecompError``, so the CLI (and any caller of the API) catches a single type, while
``except SomeModuleError`` still works for callers that care which stage failed.
"""

from __future__ import annotations


class WavecompError(Exception):
    """A problem wavecomp detected; the message names what is wrong and what to do."""


class IRError(WavecompError, ValueError):
    """A network that breaks an IR rule; the message names the node or channel and the fix."""


class GraphNotSupportedError(IRError):
    """A backend that compiles plain conv chains only was given a graph network."""
