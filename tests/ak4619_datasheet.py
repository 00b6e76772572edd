"""AK4619 facts typed in from FACTS.md and the datasheet, independently of wavecomp.fpga.

The codec tests compare what our driver writes against these, so they must not be derived from
the code under test. The FS[2:0] table (reg 0x03) is the datasheet's System Clock Setting as
the mainline Linux driver encodes it: 256 fs up to 48 kHz, 256 fs for 64-96 kHz, 128 fs for
176.4-192 kHz.
"""

# The 48 kHz register set, regs 0x00..0x14 (upstream eurorack-pmod ak4619-cfg.hex, FACTS.md)
FACTS_48K = bytes.fromhex("37 AE 1C 00 22 22 30 30 30 30 22 55 00 06 18 18 18 18 04 05 0A")
# sample rate -> (FS[2:0] in reg 0x03, MCLK / fs that FS selects)
FS_FIELD = {48_000: (0b000, 256), 96_000: (0b001, 256), 192_000: (0b100, 128)}


def register_set(rate_hz: int) -> list[int]:
    """Regs 0x00..0x14 for ``rate_hz``: the 48 kHz set with the rate's FS field."""
    regs = list(FACTS_48K)
    regs[0x03] = FS_FIELD[rate_hz][0]
    return regs
