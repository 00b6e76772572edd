"""AK4619VN codec register sets and clock ratios per sample rate (pure Python, no Amaranth).

The codec is configured once after power-up by one I2C write that starts at register 0x00 and
auto-increments through 0x14, so a configuration is exactly 21 bytes. The rates differ only in
reg 0x03 (System Clock Setting), whose FS[2:0] field tells the codec the MCLK/fs ratio:

- 48 kHz: the set in ``apfelaudio/eurorack-pmod`` ``gateware/drivers/ak4619-cfg.hex`` (also
  ``FACTS.md``); FS = 000: MCLK = 256·fs (8–48 kHz).
- 96 kHz: FS = 001: MCLK = 256·fs, for 64–96 kHz.
- 192 kHz: FS = 100: MCLK = **128**·fs, for 176.4–192 kHz. ``apfelaudio/tiliqua`` also writes
  0x04 to reg 0x03 for its 192 kHz build.

The FS table (value, ratio, rate range) is from the mainline Linux AK4619 driver
(``sound/soc/codecs/ak4619.c``, ``ak4619_dai_hw_params``), which encodes the datasheet's
System Clock Setting table; BICK stays 128·fs (TDM128) at every rate. So MCLK is the 256·fs
clock at 48/96 kHz and half of it at 192 kHz: with FS = 100 a 256·fs MCLK would not match the
ratio the codec was told.
"""

from __future__ import annotations

AK4619_I2C_ADDR = 0x10
"""7-bit I2C address (CAD pin low on the eurorack-pmod)."""

AK4619_WRITE_BYTE = AK4619_I2C_ADDR << 1
"""First byte on the wire for a write (R/W bit = 0): 0x20."""

FIRST_REGISTER = 0x00
N_REGISTERS = 0x15  # regs 0x00..0x14

# 48 kHz set, register 0x00 first. Reg 0x00 = 0x37 releases RSTN and powers up both ADCs and DACs
# in the same write; reg 0x14 = 0x0A leaves soft mute off (one-shot init, no later writes).
_REGS_48K: tuple[int, ...] = (
    0x37,  # 0x00 Power Management
    0xAE,  # 0x01 Audio I/F Format 1 (TDM)
    0x1C,  # 0x02 Audio I/F Format 2
    0x00,  # 0x03 System Clock Setting (256·fs, normal speed)
    0x22,  # 0x04 MIC AMP Gain
    0x22,  # 0x05 MIC AMP Gain
    0x30,  # 0x06 ADC1 Lch Digital Volume
    0x30,  # 0x07 ADC1 Rch Digital Volume
    0x30,  # 0x08 ADC2 Lch Digital Volume
    0x30,  # 0x09 ADC2 Rch Digital Volume
    0x22,  # 0x0A ADC Digital Filter Setting
    0x55,  # 0x0B ADC Analog Input Setting
    0x00,  # 0x0C Reserved
    0x06,  # 0x0D ADC Mute & HPF Control
    0x18,  # 0x0E DAC1 Lch Digital Volume
    0x18,  # 0x0F DAC1 Rch Digital Volume
    0x18,  # 0x10 DAC2 Lch Digital Volume
    0x18,  # 0x11 DAC2 Rch Digital Volume
    0x04,  # 0x12 DAC Input Select Setting
    0x05,  # 0x13 DAC De-Emphasis Setting
    0x0A,  # 0x14 DAC Mute & Filter Setting
)

# Per-rate differences from the 48 kHz set: {register: value}.
_RATE_CHANGES: dict[int, dict[int, int]] = {
    48_000: {},
    96_000: {0x03: 0x01},  # System Clock Setting: FS = 001, MCLK = 256 fs (64-96 kHz)
    192_000: {0x03: 0x04},  # System Clock Setting: FS = 100, MCLK = 128 fs (176.4-192 kHz)
}

# MCLK / fs that the FS field above promises the codec, per rate
_MCLK_PER_FS: dict[int, int] = {48_000: 256, 96_000: 256, 192_000: 128}

SUPPORTED_RATES: tuple[int, ...] = tuple(sorted(_RATE_CHANGES))


def codec_registers(sample_rate_hz: int) -> list[int]:
    """Values for regs 0x00..0x14 at ``sample_rate_hz``; ValueError for unconfirmed rates."""
    changes = _RATE_CHANGES.get(sample_rate_hz)
    if changes is None:
        rates = ", ".join(f"{r} Hz" for r in SUPPORTED_RATES)
        raise ValueError(
            f"AK4619 sample rate {sample_rate_hz!r} Hz is not supported; supported: {rates}"
        )
    regs = list(_REGS_48K)
    for reg, value in changes.items():
        regs[reg] = value
    assert len(regs) == N_REGISTERS
    return regs


def mclk_per_fs(sample_rate_hz: int) -> int:
    """MCLK / fs at ``sample_rate_hz`` (256, or 128 at 192 kHz); ValueError for other rates."""
    codec_registers(sample_rate_hz)  # same error for an unsupported rate
    return _MCLK_PER_FS[sample_rate_hz]


def init_transaction(sample_rate_hz: int) -> list[int]:
    """Every byte of the single init write after START: address byte, start register, data."""
    return [AK4619_WRITE_BYTE, FIRST_REGISTER, *codec_registers(sample_rate_hz)]
