"""A generated wavecomp core as an Amaranth 0.5 stream component; needs Amaranth and nothing else.

Why on its own: ``wavecomp emit-amaranth`` copies this file, unchanged, into the package it
writes, so a Tiliqua tree (its own Python and Amaranth pins) can use a core without installing
wavecomp; ``wavecomp.amaranth.NetworkCore`` builds on the same class inside wavecomp.

Tiliqua (apfaudio's Amaranth successor of eurorack-pmod) plugs a DSP core in as a
``wiring.Component`` with an ``i`` and an ``o`` stream of 4-lane frames, paced by valid/ready
rather than by a strobe. ``StreamCore`` adapts the generated eurorack-pmod core
(``wavecomp_core``: clk, rst, strobe, sample_in0..3, sample_out0..3, jack) to that form without
changing one line of the generated SystemVerilog: each accepted input frame becomes one strobe,
the result is taken once the schedule's cycles have passed, and it waits in a small output
queue until ``o`` takes it.

Frames and scaling
    A frame is ``data.ArrayLayout(sample_shape, 4)``: lane j is jack j, 16 raw bits. Those are
    the bits of Tiliqua's ``ArrayLayout(ASQ, 4)`` (ASQ = ``fixed.SQ(1, 15)``: raw 32768 is 1.0,
    8.192 V, 4 counts per mV after calibration), which are the eurorack-pmod codec's
    ``sample_in`` counts. The lanes reach ``wavecomp_core`` unchanged, and it maps them as the
    model's I/O spec says: the network input on jack j is ``lane_j >>> input_shift`` in Q4.12
    (with the usual shift 2, Q4.12 1.0 = 16,384 counts = 4.096 V = ASQ 0.5); output lane j is
    ``saturate(y <<< output_shift)`` of the network output on jack j, and 0 on a jack that has
    none. Network inputs on no jack are held at their defaults.

Frame mapping (latency)
    One output frame per input frame, in order, none dropped or repeated. With
    L = ``latency``, output frame n is the network's output for input frame n - L (from zero
    history at reset), and output frames 0 .. L-1 are all zeros: the response to the reset
    state. Feed L more frames to flush the answers to the last L.

Pacing (in the core's clock domain)
    The input is accepted only when the core is idle and the output queue has room, so the
    output can never overflow. The accepted frame is registered and strobed one clock later
    (strobe edge S). The network's outputs are final ``cycles_used`` - 1 clocks after S (the
    schedule's last busy clock) and are queued one clock after that, for a clock of margin.
    The next frame is accepted no earlier than ``cycles_per_sample`` - 1 clocks after S, so
    strobes are at least ``cycles_per_sample`` apart and, at full rate, exactly that. The
    network must therefore fit ``cycles_per_sample - HANDSHAKE_CLOCKS`` clocks: one to turn
    the accepted frame into a strobe, one of margin, one to queue the result before the next
    frame may be accepted (which is what lets a full queue refuse it in time).

Clock domains
    ``domain="sync"`` (default): the core runs in ``sync``, the streams' domain; Tiliqua's
    ``sync`` is 60 MHz, 1,250 clocks per 48 kHz sample. Any other name runs the core (and its
    pacing) in that domain, which the design must define, with ``cycles_per_sample`` counted in
    its clocks; the frames cross both ways through ``AsyncFIFO``s, and both domains should be
    reset together.

One core per design: the SV module and memory-image names are fixed.
"""

# No `from __future__ import annotations`: wiring.Component reads port annotations as objects.
from amaranth.hdl import Cat, ClockSignal, Const, Instance, Module, ResetSignal, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import AsyncFIFO, SyncFIFO
from amaranth.lib.wiring import In, Out

LANES = 4
SAMPLE_BITS = 16
HANDSHAKE_CLOCKS = 3
"""Clocks of each sample period the pacing keeps for itself (strobe, margin, queue write)."""
QUEUE_DEPTH = 4
"""Output frames (and, across domains, input frames) buffered; a power of 2 for AsyncFIFO."""
CORE_MODULE = "wavecomp_core"
"""The generated SystemVerilog top (the eurorack-pmod core interface)."""


def frame_layout(sample_shape: object = signed(SAMPLE_BITS)) -> data.ArrayLayout:
    """One sample of the 4 jacks (lane j is jack j), in ``sample_shape`` (16 bits)."""
    return data.ArrayLayout(sample_shape, LANES)


class StreamCore(wiring.Component):
    """A generated core as a stream component: 4-lane frames in on ``i``, answers out on ``o``.

    ``sources`` maps bare file names to their text: the SV sources in compile order, then the
    memory images ``$readmemh`` reads by those bare names. ``cycles_used`` is the schedule's
    last busy clock, ``latency`` its latency in samples. ``sample_shape`` is the lanes' shape:
    ``signed(16)``, or Tiliqua's ``ASQ`` so that ``wiring.connect`` joins the streams directly.
    The module docstring gives the scaling, frame mapping, pacing and domain rules.
    """

    def __init__(
        self,
        sources: dict[str, str],
        *,
        cycles_per_sample: int,
        cycles_used: int,
        latency: int,
        domain: str = "sync",
        sample_shape: object = signed(SAMPLE_BITS),
    ) -> None:
        width = data.ArrayLayout(sample_shape, 1).size
        if width != SAMPLE_BITS:
            raise ValueError(
                f"sample_shape is {width} bits wide; the core's lanes are {SAMPLE_BITS} "
                "(on Tiliqua, build with the default TILIQUA_ASQ_WIDTH=16)"
            )
        if cycles_used + HANDSHAKE_CLOCKS > cycles_per_sample:
            raise ValueError(
                f"the network needs {cycles_used} clocks per sample plus {HANDSHAKE_CLOCKS} "
                f"for the handshake, more than cycles_per_sample={cycles_per_sample}"
            )
        self.cycles_per_sample = cycles_per_sample
        self.cycles_used = cycles_used
        self.latency = latency
        self.domain = domain
        self._sources = dict(sources)
        frame = frame_layout(sample_shape)
        super().__init__({"i": In(stream.Signature(frame)), "o": Out(stream.Signature(frame))})

    def sources(self) -> dict[str, str]:
        """Name -> text of every SV source (compile order) and memory image the core reads.

        ``$readmemh`` uses the bare names, so a simulator must run where the images are.
        """
        return dict(self._sources)

    def elaborate(self, platform: object) -> Module:
        """The SV core, its pacing and the queues; the files go to ``platform`` if there is one
        (a plain Amaranth simulation has none, and cannot run an ``Instance`` anyway)."""
        m = Module()
        if platform is not None:
            for name, text in self._sources.items():
                platform.add_file(name, text)
        width = self.i.payload.shape().size
        if self.domain == "sync":
            m.submodules.out_queue = out_queue = SyncFIFO(width=width, depth=QUEUE_DEPTH)
            source = self.i
        else:
            m.submodules.in_queue = in_queue = AsyncFIFO(
                width=width, depth=QUEUE_DEPTH, w_domain="sync", r_domain=self.domain
            )
            m.submodules.out_queue = out_queue = AsyncFIFO(
                width=width, depth=QUEUE_DEPTH, w_domain=self.domain, r_domain="sync"
            )
            m.d.comb += [
                in_queue.w_en.eq(self.i.valid),
                in_queue.w_data.eq(self.i.payload),
                self.i.ready.eq(in_queue.w_rdy),
            ]
            source = in_queue.r_stream
        m.d.comb += [
            self.o.valid.eq(out_queue.r_rdy),
            self.o.payload.eq(out_queue.r_data),
            out_queue.r_en.eq(self.o.ready),
        ]
        self._pace(m, source, out_queue)
        return m

    def _pace(self, m: Module, source: stream.Interface, out_queue: SyncFIFO | AsyncFIFO) -> None:
        """One strobe per frame taken from ``source``; the result into ``out_queue``."""
        sync = m.d[self.domain]
        capture_at = self.cycles_used + 1
        idle_at = self.cycles_per_sample - 1
        elapsed = Signal(range(idle_at + 1), init=idle_at)  # clocks since the strobe clock
        strobe = Signal()
        held = Signal(LANES * SAMPLE_BITS)  # the accepted frame, held for the core
        results = [Signal(signed(SAMPLE_BITS), name=f"sample_out{j}") for j in range(LANES)]
        take = Signal()
        m.d.comb += [
            source.ready.eq((elapsed == idle_at) & out_queue.w_rdy),
            take.eq(source.valid & source.ready),
            out_queue.w_en.eq(elapsed == capture_at),
            out_queue.w_data.eq(Cat(*results)),
        ]
        sync += strobe.eq(take)
        with m.If(take):
            sync += [held.eq(source.payload), elapsed.eq(0)]
        with m.Elif(elapsed != idle_at):
            sync += elapsed.eq(elapsed + 1)

        ports: dict[str, object] = {
            "i_clk": ClockSignal(self.domain),
            "i_rst": ResetSignal(self.domain),
            "i_strobe": strobe,
            "i_jack": Const(0, 8),  # jack detect: wavecomp_core does not use it
        }
        for j in range(LANES):
            ports[f"i_sample_in{j}"] = held[SAMPLE_BITS * j : SAMPLE_BITS * (j + 1)]
            ports[f"o_sample_out{j}"] = results[j]
        m.submodules.core = Instance(CORE_MODULE, **ports)
