"""AK4619VN TDM128 serial-port driver (Amaranth), clocked at clk_256fs.

Why this exists: the board tops need the codec's audio serial port in Amaranth, with the same
``strobe`` / ``sample_in`` / ``sample_out`` contract as the eurorack-pmod core interface, and
without logic-generated clocks (BICK and LRCK are plain register outputs).

Codec configuration this module assumes (the 48 kHz register set in ``FACTS.md``):
reg 0x01 = 0xAE -> TDM=1, DCF=010 (TDM128, I2S compatible), DSL=11 (32-bit slots), BCKP=1,
SDOPH=0; reg 0x02 = 0x1C -> SLOT=1 (slot-length basis), DIDL=11 (32-bit DAC words), DODL=00
(24-bit ADC words); reg 0x03 = 0x00 -> MCLK = 256 fs, BICK = 128 fs.
With BCKP=1 the AK4619 samples LRCK and SDIN1 on the BICK *falling* edge and changes SDOUT1
after the BICK *rising* edge (datasheet, "Audio Serial Data interface" timing notes *30/*31,
Table 5), so everything that *we* drive also changes together with a rising BICK edge.
"""

# No `from __future__ import annotations`: wiring.Component reads the port annotations as objects.
from amaranth.hdl import Cat, Const, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

SAMPLE_BITS = 16
SLOTS = 4
CYCLES_PER_FRAME = 256  # clk_256fs cycles per sample frame

#: Frame cycle (0..255) during which ``strobe`` is high and new ``sample_in`` values appear.
STROBE_CYCLE = 225
#: Frame cycle at whose end ``sample_out0..3`` are latched (the same cycle ``strobe`` is high).
LATCH_CYCLE = STROBE_CYCLE
#: Frame cycle during which LRCK first reads low (it fell at the clock edge starting it).
LRCK_FALL_CYCLE = 255
#: Frame cycle during which LRCK first reads high.
LRCK_RISE_CYCLE = 127


class AK4619Serial(wiring.Component):
    """TDM128 (I2S-compatible) master for the AK4619 SDIN1/SDOUT1 port, one frame = 256 clocks.

    Frame cycle ``c`` (0..255) is the clock cycle during which the internal counter equals ``c``;
    reset starts cycle 0 of frame 0. "At the end of cycle c" means the rising clk edge that
    ends it.

    * ``bick`` = clk / 2: low in even cycles, high in odd cycles. BICK rises at the start of
      every odd cycle and falls at the start of every even cycle.
    * Slot ``s`` (0..3), bit ``b`` (0 = MSB .. 31) occupies BICK period ``p = 32 s + b``: it is
      driven at the rising BICK edge starting cycle ``2p + 1`` and sampled at the falling edge
      ending that cycle (end of cycle ``2p + 1``). Bits 0..15 carry the sample, MSB first; we
      send zeros in bits 16..31 and ignore the ADC's bits 16..31.
    * ``lrck``: 50 % duty, low in cycles 255, 0..126 and high in cycles 127..254. It changes on
      a rising BICK edge, exactly one BICK period before slot 0 (resp. slot 2) MSB is driven:
      the codec first samples LRCK low at the falling edge ending cycle 255 and, being
      I2S compatible, takes slot 0 MSB at the next falling edge (end of cycle 1).
    * ``sdout1`` is sampled directly (no synchroniser: the codec is clocked by our own BICK, so
      it is synchronous) at the end of odd cycles; it has one clk period (~81 ns at 12.3 MHz)
      to settle after the rising BICK edge, ample for tBSOD1 <= 20 ns with SDOPH=0.
    * ``strobe`` is high for exactly one cycle per frame: **cycle 225**. The last ADC bit used
      (slot 3, bit 15) is sampled at the end of cycle 223; ``sample_in0..3`` all change
      together at the start of cycle 225 and then hold for 256 cycles.
    * ``sample_out0..3`` are **latched at the end of cycle 225**, i.e. in the cycle where
      ``strobe`` is high (a core that updates its outputs "on strobe" hands over its previous
      result, as in the eurorack-pmod core contract).

    Latency: ADC slot data of frame ``n`` appears on ``sample_in`` in the same frame ``n``
    (0 frames; from cycle 225, one clock after the last bit used is sampled). A ``sample_out``
    value latched in frame ``n`` is serialised in frame ``n + 1`` (1 frame): slot ``s`` MSB is
    driven from the start of cycle ``64 s + 1`` of frame ``n + 1``. So a combinational loopback
    (``sample_out = sample_in``) returns ADC frame ``n`` in DAC frame ``n + 1``.
    """

    bick: Out(1)
    lrck: Out(1)
    sdin1: Out(1)
    sdout1: In(1)
    strobe: Out(1)
    sample_in0: Out(signed(SAMPLE_BITS))
    sample_in1: Out(signed(SAMPLE_BITS))
    sample_in2: Out(signed(SAMPLE_BITS))
    sample_in3: Out(signed(SAMPLE_BITS))
    sample_out0: In(signed(SAMPLE_BITS))
    sample_out1: In(signed(SAMPLE_BITS))
    sample_out2: In(signed(SAMPLE_BITS))
    sample_out3: In(signed(SAMPLE_BITS))

    def elaborate(self, platform: object) -> Module:
        """Build the frame counter, the two 64-bit shift registers and the output registers."""
        m = Module()
        n_bits = SAMPLE_BITS * SLOTS

        cycle = Signal(8)  # frame cycle 0..255, wraps
        rx = Signal(n_bits)  # ADC bits, slot 0 MSB ends up in rx[-1]
        tx = Signal(n_bits)  # DAC bits still to send, next bit in tx[-1]
        bit_in_slot = cycle[1:6]
        in_sample = bit_in_slot < SAMPLE_BITS  # bits 0..15 of a slot carry the sample
        odd = cycle[0]

        m.d.sync += [
            cycle.eq(cycle + 1),
            self.bick.eq(~self.bick),  # mirrors cycle[0]; a register so the pin is glitch-free
            # value for the next cycle: low in 255, 0..126 -> (cycle + 2)[7] at this edge
            self.lrck.eq((cycle + 2)[7]),
            self.strobe.eq(cycle == STROBE_CYCLE - 1),
        ]

        with m.If(odd):
            # BICK falls at the end of this cycle: sample the codec's data bit.
            with m.If(in_sample):
                m.d.sync += rx.eq(Cat(self.sdout1, rx[:-1]))
            with m.If(cycle == LATCH_CYCLE):
                # Slot 3 finished shifting out at cycle 222, so tx is free to reload.
                m.d.sync += tx.eq(
                    Cat(self.sample_out3, self.sample_out2, self.sample_out1, self.sample_out0)
                )
        with m.Else():
            # BICK rises at the end of this cycle: present the next bit (zero-pad the slot).
            with m.If(in_sample):
                m.d.sync += [self.sdin1.eq(tx[-1]), tx.eq(Cat(Const(0, 1), tx[:-1]))]
            with m.Else():
                m.d.sync += self.sdin1.eq(0)

        with m.If(cycle == STROBE_CYCLE - 1):
            # rx is complete since the end of cycle 223; publish all four at once.
            outs = (self.sample_in0, self.sample_in1, self.sample_in2, self.sample_in3)
            for slot, out in enumerate(outs):
                hi = n_bits - SAMPLE_BITS * slot
                m.d.sync += out.eq(rx[hi - SAMPLE_BITS : hi])

        return m
