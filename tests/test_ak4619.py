"""AK4619Serial against a behavioural AK4619 TDM128 (I2S-compatible, BCKP=1) codec model.

Why a model and not a loopback: the model follows the datasheet's edge rules on its own
(samples LRCK/SDIN1 on BICK falling, drives SDOUT1 after BICK rising, frame sync from LRCK
falling with a one-BICK delay to slot 0 MSB), so a driver with the wrong phase, slot order or
latch point fails here even if it is self-consistent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from amaranth.sim import Simulator, SimulatorContext
from lanes import from_bits, to_bits

from wavecomp.fpga.ak4619 import AK4619Serial

FRAMES = 24
# documented in AK4619Serial's docstring, per clock multiple M (clk = M x 256 fs):
# (strobe cycle, first LRCK-low cycle, first LRCK-high cycle)
FRAME_EVENTS = {1: (225, 255, 127), 2: (450, 510, 254), 4: (900, 1020, 508)}


def random_sample(rng: random.Random) -> int:
    """Mostly random, often the range ends (the cases a slicing bug would get wrong)."""
    return rng.choice([-32768, 32767, -1, 0, 1, rng.randint(-32768, 32767)])


@dataclass
class CodecModel:
    """AK4619 serial port: slot s bit b is BICK period 32 s + b after the LRCK-fall sync."""

    rng: random.Random
    frame: int = -1  # codec frame index; -1 until the first LRCK fall is seen
    k: int = 0  # bit period within the frame
    last_lrck: int = 0
    adc: list[list[int]] = field(default_factory=list)  # ADC samples sent per codec frame
    tx_bits: list[int] = field(default_factory=list)
    rx_bits: list[int] = field(default_factory=list)
    received: list[list[int]] = field(default_factory=list)  # DAC samples got per frame

    def falling(self, lrck: int, sdin1: int) -> None:
        """BICK fell: sample SDIN1 and LRCK (values from before the edge)."""
        if self.frame >= 0 and self.k < 128:
            self.rx_bits.append(sdin1)
            self.k += 1
        if self.last_lrck == 1 and lrck == 0:  # frame sync; slot 0 MSB one BICK later
            if self.frame >= 0:
                assert len(self.rx_bits) == 128, f"codec frame {self.frame}: short frame"
                self.received.append(self.decode(self.rx_bits))
            self.frame += 1
            self.k = 0
            self.rx_bits = []
            samples = [random_sample(self.rng) for _ in range(4)]
            self.adc.append(samples)
            self.tx_bits = []
            for s in samples:
                # 24-bit ADC word (DODL=00): random low 8 bits the driver must drop, then "L".
                self.tx_bits += to_bits(s, 16) + to_bits(self.rng.getrandbits(8), 8) + [0] * 8
        self.last_lrck = lrck

    def rising(self) -> int:
        """BICK rose: the bit the codec now drives on SDOUT1."""
        if self.frame < 0 or self.k >= 128:
            return 0
        return self.tx_bits[self.k]

    @staticmethod
    def decode(bits: list[int]) -> list[int]:
        """Four DAC samples from a 128-bit frame; the 16 padding bits must be zero."""
        out = []
        for s in range(4):
            slot = bits[32 * s : 32 * s + 32]
            assert slot[16:] == [0] * 16, f"slot {s} padding not zero: {slot[16:]}"
            out.append(from_bits(slot[:16]))
        return out


@pytest.mark.parametrize("mult", sorted(FRAME_EVENTS))
def test_ak4619_serial_against_codec_model(mult: int) -> None:
    dut = AK4619Serial(clock_multiple=mult)
    cycles = 256 * mult
    strobe_cycle, lrck_fall_cycle, lrck_rise_cycle = FRAME_EVENTS[mult]
    rng = random.Random(4619)
    codec = CodecModel(random.Random(1234))
    outs = [dut.sample_out0, dut.sample_out1, dut.sample_out2, dut.sample_out3]
    ins = [dut.sample_in0, dut.sample_in1, dut.sample_in2, dut.sample_in3]
    trace: list[tuple[int, int, int, int]] = []  # (bick, lrck, strobe, sdin1) per cycle
    strobes: list[int] = []
    latched: dict[int, list[int]] = {}  # codec frame at latch time -> sample_out values
    checked_adc = 0

    async def bench(ctx: SimulatorContext) -> None:
        nonlocal checked_adc
        held_in = [ctx.get(s) for s in ins]
        for cycle in range(FRAMES * cycles):
            # sample_out changes every cycle so only the latch cycle's value can reach the line
            current = [random_sample(rng) for _ in range(4)]
            for sig, v in zip(outs, current, strict=True):
                ctx.set(sig, v)
            now = (ctx.get(dut.bick), ctx.get(dut.lrck), ctx.get(dut.strobe), ctx.get(dut.sdin1))
            trace.append(now)
            sample_in = [ctx.get(s) for s in ins]
            if now[2]:
                strobes.append(cycle)
                if codec.frame >= 0:  # ADC frame being sent now must already be complete
                    assert sample_in == codec.adc[codec.frame], (
                        f"cycle {cycle}: sample_in {sample_in} != "
                        f"ADC frame {codec.frame} {codec.adc[codec.frame]}"
                    )
                    checked_adc += 1
                latched[codec.frame] = list(current)
            else:
                assert sample_in == held_in, f"cycle {cycle}: sample_in changed without strobe"
            held_in = sample_in
            await ctx.tick()
            bick = ctx.get(dut.bick)
            if now[0] == 0 and bick == 1:
                ctx.set(dut.sdout1, codec.rising())
            elif now[0] == 1 and bick == 0:
                codec.falling(lrck=now[1], sdin1=now[3])
                # Sampling at the next rising edge (when the codec changes SDOUT1) is a race in
                # hardware: model the data as unknown in the half period before it.
                ctx.set(dut.sdout1, rng.getrandbits(1))

    sim = Simulator(dut)
    sim.add_clock(1 / (12.288e6 * mult))
    sim.add_testbench(bench)
    sim.run()

    # (c) clocks: BICK = clk / 2M (low first), LRCK has period 256 M and 50 % duty, aligned to
    # BICK rising edges, falling one BICK before the codec frame sync edge.
    bicks = [t[0] for t in trace]
    assert all(bicks[i] == (i // mult) % 2 for i in range(len(bicks))), "BICK is not clk/2M"
    lrcks = [t[1] for t in trace]
    falls = [i for i in range(1, len(lrcks)) if lrcks[i - 1] == 1 and lrcks[i] == 0]
    rises = [i for i in range(1, len(lrcks)) if lrcks[i - 1] == 0 and lrcks[i] == 1]
    assert falls == [lrck_fall_cycle + cycles * f for f in range(FRAMES)]
    assert rises == [lrck_rise_cycle + cycles * f for f in range(FRAMES)]
    assert all(bicks[i] == 1 and bicks[i - 1] == 0 for i in falls + rises), (
        "LRCK must change with BICK rising"
    )
    assert strobes == [strobe_cycle + cycles * f for f in range(FRAMES)], strobes
    assert (dut.strobe_cycle, dut.lrck_fall_cycle, dut.lrck_rise_cycle) == FRAME_EVENTS[mult]

    # (a) every complete codec frame's ADC samples came out on sample_in at its strobe
    assert codec.frame == FRAMES - 1  # the last frame sync came at the very last edge
    assert checked_adc == FRAMES - 1
    # (b) samples latched on strobe in codec frame f are serialised in codec frame f + 1
    assert len(codec.received) == FRAMES - 1
    for f, got in enumerate(codec.received):
        assert got == latched[f - 1], f"DAC frame {f}: got {got}, want {latched[f - 1]}"
    adc_sent = {v for frame in codec.adc[:-1] for v in frame}
    dac_sent = {v for frame in codec.received for v in frame}
    assert {-32768, 32767} <= adc_sent and {-32768, 32767} <= dac_sent, "range ends not covered"


# Amaranth registers an Elaboratable in __new__, before __init__ can refuse the argument
@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_ak4619_serial_rejects_odd_clock_multiple() -> None:
    with pytest.raises(ValueError, match="clock_multiple 3"):
        AK4619Serial(clock_multiple=3)
