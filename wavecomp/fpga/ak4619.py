"""AK4619VN TDM128 serial-port driver (Amaranth), clocked at M × 256·fs (M = 1, 2 or 4).

Why this exists: the board tops need the codec's audio serial port in Amaranth, with the same
``strobe`` / ``sample_in`` / ``sample_out`` contract as the eurorack-pmod core interface, and
without logic-generated clocks (BICK and LRCK are plain register outputs). ``M`` > 1 lets the
network core run on a faster clock (more cycles per sample) in the same single clock domain:
BICK is then the clock divided by 2·M instead of 2, and no clock-domain crossing is needed.

Codec configuration this module assumes (the register sets in ``ak4619_regs``):
reg 0x01 = 0xAE -> TDM=1, DCF=010 (TDM128, I2S compatible), DSL=11 (32-bit slots), BCKP=1,
SDOPH=0; reg 0x02 = 0x1C -> SLOT=1 (slot-length basis), DIDL=11 (32-bit DAC words), DODL=00
(24-bit ADC words); BICK = 128·fs at every rate.
With BCKP=1 the AK4619 samples LRCK and SDIN1 on the BICK *falling* edge and changes SDOUT1
after the BICK *rising* edge (datasheet, "Audio Serial Data interface" timing notes *30/*31,
Table 5), so everything that *we* drive also changes together with a rising BICK edge.
"""

# No `from __future__ import annotations`: wiring.Component reads the port annotations as objects.
from amaranth.hdl import Cat, Const, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from wavecomp.targets import CLOCK_MULTIPLES

SAMPLE_BITS = 16
SLOTS = 4


class AK4619Serial(wiring.Component):
    """TDM128 (I2S-compatible) master for the AK4619 SDIN1/SDOUT1 port, one frame = 256·M clocks.

    Frame cycle ``c`` (0 .. 256·M-1) is the clock cycle during which the internal counter
    equals ``c``; reset starts cycle 0 of frame 0. "At the end of cycle c" means the rising clk
    edge that ends it. BICK period ``p`` (0..127) spans cycles ``2M·p .. 2M·p + 2M-1``: BICK is
    low in its first M cycles and high in its last M cycles. For M = 1 (the eurorack-pmod's
    clk_256fs) that is: BICK = clk/2, low in even cycles, high in odd ones.

    * Slot ``s`` (0..3), bit ``b`` (0 = MSB .. 31) occupies BICK period ``p = 32 s + b``: it is
      driven at the rising BICK edge in the middle of the period and sampled at the falling edge
      ending it. Bits 0..15 carry the sample, MSB first; we send zeros in bits 16..31 and ignore
      the ADC's bits 16..31.
    * ``lrck``: 50 % duty; it falls with the rising BICK edge of period 127 (first low cycle
      ``lrck_fall_cycle`` = 256·M - M) and rises with that of period 63 (``lrck_rise_cycle`` =
      128·M - M): exactly one BICK period before slot 0 (resp. slot 2) MSB is driven, as the
      I2S-compatible format wants.
    * ``sdout1`` is sampled directly (no synchroniser: the codec is clocked by our own BICK, so
      it is synchronous) at the falling BICK edge, M clk periods after the rising edge that
      launched it (~81 ns at 12.288 MHz, M = 1; tBSOD1 <= 20 ns with SDOPH=0).
    * ``strobe`` is high for exactly one cycle per frame, ``strobe_cycle`` = 2M·112 + M (225 for
      M = 1). The last ADC bit used (slot 3, bit 15, period 111) is sampled before it;
      ``sample_in0..3`` all change together at the start of the strobe cycle and then hold for
      a frame.
    * ``sample_out0..3`` are **latched at the end of the strobe cycle** (a core that updates its
      outputs "on strobe" hands over its previous result, as in the eurorack-pmod contract).

    Latency: ADC slot data of frame ``n`` appears on ``sample_in`` in the same frame ``n``. A
    ``sample_out`` value latched in frame ``n`` is serialised in frame ``n + 1`` (1 frame). So a
    combinational loopback (``sample_out = sample_in``) returns ADC frame ``n`` in DAC frame
    ``n + 1``.
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

    def __init__(self, clock_multiple: int = 1) -> None:
        if clock_multiple not in CLOCK_MULTIPLES:
            raise ValueError(
                f"clock_multiple {clock_multiple!r}: must be one of {CLOCK_MULTIPLES} "
                "(the clock is that many times 256 fs)"
            )
        self.clock_multiple = clock_multiple
        super().__init__()

    @property
    def cycles_per_frame(self) -> int:
        return 256 * self.clock_multiple

    @property
    def strobe_cycle(self) -> int:
        return 2 * self.clock_multiple * 112 + self.clock_multiple

    @property
    def lrck_fall_cycle(self) -> int:
        return self.cycles_per_frame - self.clock_multiple

    @property
    def lrck_rise_cycle(self) -> int:
        return self.cycles_per_frame // 2 - self.clock_multiple

    def elaborate(self, platform: object) -> Module:
        """Build the frame counter, the two 64-bit shift registers and the output registers."""
        m = Module()
        mult = self.clock_multiple
        n_bits = SAMPLE_BITS * SLOTS
        half_bits = mult.bit_length() - 1  # log2(M): bits of the position within a BICK half
        period_lsb = half_bits + 1  # cycle = period (7 bits) : position in the BICK period

        cycle = Signal(8 + half_bits)  # frame cycle 0 .. 256 M - 1, wraps
        sub = cycle[:period_lsb]  # position in the BICK period, 0 .. 2M - 1
        rx = Signal(n_bits)  # ADC bits, slot 0 MSB ends up in rx[-1]
        tx = Signal(n_bits)  # DAC bits still to send, next bit in tx[-1]
        bit_in_slot = cycle[period_lsb : period_lsb + 5]
        in_sample = bit_in_slot < SAMPLE_BITS  # bits 0..15 of a slot carry the sample
        top = len(cycle) - 1

        m.d.sync += [
            cycle.eq(cycle + 1),
            # registered pins: each gets the value it must have in the *next* cycle
            self.bick.eq((cycle + 1)[half_bits]),
            self.lrck.eq((cycle + 1 + mult)[top]),
            self.strobe.eq(cycle == self.strobe_cycle - 1),
        ]

        with m.If((sub == 2 * mult - 1) & in_sample):
            # BICK falls at the end of this cycle: sample the codec's data bit.
            m.d.sync += rx.eq(Cat(self.sdout1, rx[:-1]))
        with m.If(sub == mult - 1):
            # BICK rises at the end of this cycle: present the next bit (zero-pad the slot).
            with m.If(in_sample):
                m.d.sync += [self.sdin1.eq(tx[-1]), tx.eq(Cat(Const(0, 1), tx[:-1]))]
            with m.Else():
                m.d.sync += self.sdin1.eq(0)
        with m.If(cycle == self.strobe_cycle):
            # Slot 3 finished shifting out in period 111, so tx is free to reload.
            m.d.sync += tx.eq(
                Cat(self.sample_out3, self.sample_out2, self.sample_out1, self.sample_out0)
            )
        with m.If(cycle == self.strobe_cycle - 1):
            # rx is complete since the end of period 111; publish all four at once.
            outs = (self.sample_in0, self.sample_in1, self.sample_in2, self.sample_in3)
            for slot, out in enumerate(outs):
                hi = n_bits - SAMPLE_BITS * slot
                m.d.sync += out.eq(rx[hi - SAMPLE_BITS : hi])

        return m
