"""wavecomp's cores as Amaranth components, for Amaranth designs such as Tiliqua's DSP tops.

``NetworkCore(net)`` schedules and generates a network and wraps its SystemVerilog core in a
``wiring.Component`` with Tiliqua-style audio streams (``stream_core`` gives the contract);
``emit_amaranth`` writes the same component as a package that needs only Amaranth.
"""

from wavecomp.amaranth.network_core import NetworkCore, NetworkCoreError
from wavecomp.amaranth.stream_core import HANDSHAKE_CLOCKS, StreamCore, frame_layout

__all__ = ["HANDSHAKE_CLOCKS", "NetworkCore", "NetworkCoreError", "StreamCore", "frame_layout"]
