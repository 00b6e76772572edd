"""Render audio through a backend, the way the board would hear and play it.

WAV channel j feeds physical input jack j; a 16-bit WAV sample *is* a codec sample, which
enters the network shifted right by ``io.input_shift``. Outputs are shifted back left
(saturating) and written as 16-bit PCM, so a render is exactly what the DAC would play.

Targets: ``reference`` runs the bit-exact numpy reference; ``rtl`` schedules the network for
the FPGA core, generates it and simulates it clock by clock with Verilator
(``wavecomp.rtl.render``); ``cmsis`` emits the MCU's q12 C++ engine and runs a host build of
it (``wavecomp.mcu.host``). All share the input mapping and the WAV writing below, so for a
correct backend the files are byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from wavecomp import fixed, reference, targets
from wavecomp.errors import WavecompError
from wavecomp.ir import Network
from wavecomp.output_dir import write_file, writing_folder

if TYPE_CHECKING:  # the RTL flow (jinja2, Verilator) loads only for --target rtl
    from wavecomp.rtl.render import Progress

TARGETS = ("reference", "rtl", "cmsis")
RTL_CYCLES_PER_SAMPLE = targets.EUROPMOD_CYCLES_PER_SAMPLE
"""Default strobe period of ``--target rtl``: the eurorack-pmod core's clk_256fs."""
RTL_MULTIPLIERS = targets.ECP5_PARTS["85F"].mult18
"""Multiplier budget of ``--target rtl`` (the largest ECP5; the scheduler uses the fewest)."""


class SimError(WavecompError, ValueError):
    """A render that cannot run as asked; the message names the file/option and the fix."""


@dataclass(frozen=True)
class RenderResult:
    out_wav: Path
    samples: int
    sample_rate: int
    sources: dict[str, str]
    """Per network input: where its signal came from."""
    clipped: list[int]
    """Per output channel: samples that hit the codec's ±full scale."""
    details: tuple[str, ...] = ()
    """Target-specific lines for the report (e.g. the RTL schedule)."""

    def describe(self) -> str:
        feeds = ", ".join(f"{k} <- {v}" for k, v in self.sources.items())
        clip = ", ".join(str(c) for c in self.clipped)
        return "\n".join(
            [
                f"wrote {self.out_wav}: {len(self.clipped)} channel(s), {self.samples} samples "
                f"({self.samples / self.sample_rate:.2f} s at {self.sample_rate} Hz)",
                f"inputs: {feeds}",
                f"clipped samples per output: {clip}",
                *self.details,
            ]
        )


def read_wav_as_codec(path: Path) -> tuple[np.ndarray, int]:
    """A WAV as int16 codec samples (frames, channels) plus its rate; errors name the file."""
    if not Path(path).is_file():
        raise SimError(f"{path}: no such WAV file")
    try:
        samples, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise SimError(f"{path}: cannot read as audio ({err}); give a WAV file") from None
    if samples.shape[0] == 0:
        raise SimError(f"{path}: the file has no samples")
    return fixed.wav_to_board(samples), int(rate)


def network_inputs(
    net: Network, codec: np.ndarray, controls: dict[str, float]
) -> tuple[np.ndarray, dict[str, str]]:
    """Codec samples (T, jacks) + held controls -> Q4.12 network inputs (T, C_in)."""
    names = [ch.name for ch in net.io.inputs]
    for name, value in controls.items():
        if name not in names:
            raise SimError(
                f"--cv {name}=...: the model has no input called {name!r} "
                f"(its inputs are: {', '.join(names)})"
            )
        if not fixed.VALUE_MIN <= value <= fixed.VALUE_MAX:
            raise SimError(
                f"--cv {name}={value}: outside the Q4.12 range [{fixed.VALUE_MIN}, "
                f"{fixed.VALUE_MAX}] (values are in model units)"
            )
    steps, jacks = codec.shape
    x = np.empty((steps, net.in_channels), dtype=np.int16)
    sources = {}
    for i, ch in enumerate(net.io.inputs):
        if ch.name in controls:
            x[:, i] = fixed.to_q12(controls[ch.name])
            sources[ch.name] = f"--cv {controls[ch.name]:g}"
        elif ch.jack is not None and ch.jack < jacks:
            x[:, i] = fixed.board_to_q12(codec[:, ch.jack], net.io.input_shift)
            sources[ch.name] = f"WAV channel {ch.jack}"
        else:
            x[:, i] = fixed.to_q12(ch.default)
            sources[ch.name] = f"default {ch.default:g}"
    return x, sources


def render_wav(
    net: Network,
    in_wav: Path,
    out_wav: Path,
    *,
    controls: dict[str, float] | None = None,
    rounding: fixed.Rounding = fixed.DEFAULT_ROUNDING,
    engine: reference.Engine = "batch",
    target: str = "reference",
    sample_rate: int | None = None,
    cycles_per_sample: int | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Render in_wav through the network (from reset) into a 16-bit out_wav.

    ``sample_rate`` is the rate the board runs at (default: in_wav's): samples pass through
    unchanged and out_wav is written at that rate. ``target="rtl"`` schedules the network with
    ``Budget(cycles_per_sample, RTL_MULTIPLIERS)`` and simulates the generated core
    (``engine`` is then unused); ``progress`` gets its build/run progress (see
    ``wavecomp.rtl.render.Progress``).
    """
    if target not in TARGETS:
        raise SimError(f"--target {target}: not available; use one of {', '.join(TARGETS)}")
    if cycles_per_sample is not None and target != "rtl":
        raise SimError(
            f"--cycles-per-sample {cycles_per_sample}: only --target rtl has a clock; "
            "drop the option or add --target rtl"
        )
    if cycles_per_sample is not None and cycles_per_sample < 1:
        raise SimError(f"--cycles-per-sample {cycles_per_sample}: must be at least 1")
    if sample_rate is not None and sample_rate < 1:
        raise SimError(f"--rate {sample_rate}: must be a positive number of Hz")
    codec, wav_rate = read_wav_as_codec(Path(in_wav))
    rate = sample_rate or wav_rate
    x, sources = network_inputs(net, codec, controls or {})
    details: list[str] = []
    if target == "rtl":
        y, details = _render_rtl(
            net, x, rounding, cycles_per_sample or RTL_CYCLES_PER_SAMPLE, rate, progress
        )
    elif target == "cmsis":
        y, details = _render_cmsis(net, x, rounding)
    else:
        y = reference.run(net, x, rounding=rounding, engine=engine)
    played = fixed.q12_to_board(y, net.io.output_shift)
    write_codec_wav(out_wav, played, rate)
    clipped = [
        int(np.sum(np.abs(played[:, o].astype(np.int32)) >= fixed.RAW_MAX))
        for o in range(played.shape[1])
    ]
    return RenderResult(Path(out_wav), int(x.shape[0]), rate, sources, clipped, tuple(details))


def _render_rtl(
    net: Network,
    x: np.ndarray,
    rounding: fixed.Rounding,
    cycles_per_sample: int,
    rate: int,
    progress: Progress | None,
) -> tuple[np.ndarray, list[str]]:
    """Schedule, generate, build (cached) and simulate the core; outputs aligned with x."""
    from wavecomp import schedule as sched_mod
    from wavecomp.rtl.render import render_rtl

    budget = sched_mod.Budget(cycles_per_sample=cycles_per_sample, multipliers=RTL_MULTIPLIERS)
    sched = sched_mod.schedule(net, budget, rounding=rounding)
    y = render_rtl(net, sched, x, progress=progress)
    details = [
        f"rtl: {sched.g} x {sched.q} MAC array ({sched.multipliers} multipliers), "
        f"{sched.cycles_used}/{cycles_per_sample} cycles/sample, rounding {rounding}",
        f"rtl: core clock {rate * cycles_per_sample / 1e6:.6g} MHz at {rate} Hz; "
        f"{sched.latency_samples}-sample latency removed",
    ]
    return y, details


def _render_cmsis(
    net: Network, x: np.ndarray, rounding: fixed.Rounding
) -> tuple[np.ndarray, list[str]]:
    """The Daisy's q12 engine (fused kernel), built for this machine (cached) and run."""
    from wavecomp.mcu import host

    y = host.run(net, x, numerics="q12", kernel="fused", rounding=rounding)
    return y, [f"cmsis: q12 engine (fused kernel, rounding {rounding}), host build"]


WAV_SOFTWARE_TAG = "wavecomp"
"""Prefix of the software tag (RIFF INFO ISFT) in every WAV wavecomp writes: how a later
render knows an existing OUT_WAV is its own and may be replaced."""


def written_by_wavecomp(path: Path) -> bool:
    """True if ``path`` is a WAV whose software tag says wavecomp wrote it."""
    try:
        with sf.SoundFile(str(path)) as wav:
            return wav.software.startswith(WAV_SOFTWARE_TAG)
    except (sf.LibsndfileError, RuntimeError):
        return False


def write_codec_wav(path: Path, codec: np.ndarray, rate: int) -> Path:
    """int16 codec samples (T, C) -> 16-bit PCM WAV, written all-or-nothing.

    An existing file is replaced only if wavecomp wrote it (its software tag); a user's file
    is refused with an error naming it.
    """
    from wavecomp import __version__

    def write(tmp: Path) -> None:
        with sf.SoundFile(
            str(tmp), "w", rate, codec.shape[1], subtype="PCM_16", format="WAV"
        ) as wav:
            wav.software = f"{WAV_SOFTWARE_TAG} {__version__}"
            wav.write(codec.astype(np.int16))

    write_file(Path(path), write, ours=written_by_wavecomp, writer="wavecomp", what="output WAV")
    return Path(path)


def write_tone(
    path: Path,
    *,
    shape: str = "triangle",
    f0: float = 220.0,
    f1: float | None = None,
    seconds: float = 2.0,
    amplitude: float = 1.0,
    sample_rate: int = 48_000,
) -> Path:
    """A test-signal WAV: constant f0, or an exponential glide f0 -> f1 (phase continuous)."""
    from wavecomp.frontend.data import waveform

    f1 = f0 if f1 is None else f1
    if not (0 < f0 < sample_rate / 2 and 0 < f1 < sample_rate / 2):
        raise SimError(f"frequencies must be in (0, {sample_rate / 2:g}) Hz, got {f0:g}, {f1:g}")
    if seconds <= 0:
        raise SimError(f"--seconds must be positive, got {seconds:g}")
    if not 0 < amplitude <= fixed.VALUE_MAX:
        raise SimError(f"--amplitude must be in (0, {fixed.VALUE_MAX}] model units")
    n = round(seconds * sample_rate)
    freq = f0 * (f1 / f0) ** (np.arange(n) / max(n - 1, 1))
    phase = np.mod(np.cumsum(freq / sample_rate) - freq[0] / sample_rate, 1.0)
    values = amplitude * waveform(shape, phase)
    codec = fixed.q12_to_board(fixed.to_q12(values), fixed.DEFAULT_INPUT_SHIFT)
    return write_codec_wav(path, codec[:, None], sample_rate)


def render_demo(net: Network, out_dir: Path) -> list[str]:
    """Render a triangle sweep at each embedding corner into ``out_dir/renders/`` (WAVs and a
    picture, written all-or-nothing); returns what was written, for the console."""
    from wavecomp.frontend.data import CORNERS

    lines = []
    rate = net.io.sample_rate or 48_000
    target = Path(out_dir) / "renders"
    with writing_folder(target, writer="wavecomp demo", option="--out") as staging:
        tri = write_tone(
            staging / "triangle_sweep.wav", f0=55.0, f1=880.0, seconds=4.0, sample_rate=rate
        )
        lines.append(f"{tri.name} (triangle, 55→880 Hz glide, 4 s)")
        has_embedding = {"e0", "e1"} <= {ch.name for ch in net.io.inputs}
        corners = CORNERS if has_embedding else {"out": None}
        renders = {}
        for name, corner in corners.items():
            controls = {"e0": corner[0], "e1": corner[1]} if corner else {}
            result = render_wav(net, tri, staging / f"render_{name}.wav", controls=controls)
            renders[name] = result.out_wav
            settings = ", ".join(f"{k}={v:g}" for k, v in controls.items())
            lines.append(f"{result.out_wav.name}  ({settings})")
        lines.append(_plot_renders(tri, renders, staging / "renders.png").name)
    return [f"wrote {target}/:", *(f"  {line}" for line in lines)]


def _plot_renders(tri: Path, renders: dict[str, Path], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inp, rate = sf.read(str(tri), always_2d=True)
    start, length = 2 * rate, rate // 100  # 10 ms, two seconds into the glide (~220 Hz)
    fig, axes = plt.subplots(
        len(renders), 1, figsize=(8, 1.8 * len(renders)), dpi=100, sharex=True, squeeze=False
    )
    t_ms = 1000 * np.arange(length) / rate
    for ax, (name, wav) in zip(axes[:, 0], renders.items(), strict=True):
        out, _ = sf.read(str(wav), always_2d=True)
        ax.plot(t_ms, inp[start : start + length, 0], color="0.75", lw=1, label="in")
        ax.plot(t_ms, out[start : start + length, 0], color="C0", lw=1.4, label="out 0")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, ncol=2, loc="upper right")
    axes[-1, 0].set_xlabel("ms")
    fig.suptitle("output 0 of the reference renders, 2 s into the sweep (WAV full scale = ±1)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
