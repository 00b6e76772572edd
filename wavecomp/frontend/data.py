"""Training data in model units: the synthetic waveshaper set and users' own recordings.

Everything returned here is already on the Q4.12 grid (``fixed.quantize_to_grid``) and shaped
``(N, T, C)``, so a trainer can feed it straight to a quantised model, and ``wavecomp sim``/the
board see exactly the numbers the model was trained on. This module depends on numpy and
soundfile only (no TensorFlow) so that data can be generated, inspected and tested anywhere.

The synthetic set follows the "example waveshaper" of the MCU write-up and the "slightly
modified data set" of the FPGA write-up: a triangle goes in, together with a 2-D embedding
(e0, e1) that selects the output waveform at the corners of the unit square; half of the
examples are constant-power crossfades along the square's edges so that a larger model does
not overfit the four corners and output noise in between.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from wavecomp import fixed
from wavecomp.errors import WavecompError

__all__ = [
    "CORNERS",
    "WAVEFORMS",
    "DataError",
    "Dataset",
    "WaveshaperConfig",
    "corner_signal",
    "grid_signal",
    "load_recordings",
    "target_wav_to_model_units",
    "waveform",
    "waveshaper_dataset",
]

WAVEFORMS: tuple[str, ...] = ("sine", "ramp", "square", "zigzag")
"""Output waveforms, in corner-index order ``2 * e0 + e1``."""

CORNERS: dict[str, tuple[float, float]] = {
    "sine": (0.0, 0.0),
    "ramp": (0.0, 1.0),
    "square": (1.0, 0.0),
    "zigzag": (1.0, 1.0),
}
"""Embedding (e0, e1) at which each waveform is the training target."""

# The four edges of the unit square as (a, b) corner indices, `a` at the lower end of the
# varying coordinate, so an edge point is (1 - t) * a + t * b with t = that coordinate.
_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 3), (2, 3))
_SPLITS: tuple[str, ...] = ("train", "heldout")
_MAX_JUMPS = 3
_CHUNK = 256  # examples rendered at once: bounds memory for large sets


class DataError(WavecompError, ValueError):
    """Bad data or data arguments; the message names the file/argument and says what to do."""


@dataclass(frozen=True)
class WaveshaperConfig:
    """Parameters of the synthetic waveshaper set.

    Frequencies are drawn log-uniformly because pitch CV is exponential (1 V/oct): equal time
    per octave is what turning a knob on a real oscillator gives. ``amplitude`` is in model
    units (1.0 is about +-4 V on the eurorack board, where 8 V in is 1.953 in Q4.12).
    ``n_outputs`` is 1 (the target at (e0, e1)) or 4 ("mirrored voices": output k is the
    target at (e0, e1), (1-e0, e1), (e0, 1-e1), (1-e0, 1-e1)), which keeps every output channel
    of a 4-output board busy with a distinct but related sound.
    """

    sample_rate: int = 48_000
    min_freq: float = 55.0
    max_freq: float = 880.0
    amplitude: float = 1.0
    edge_width: float = 0.06
    n_inputs: int = 3
    n_outputs: int = 1

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise DataError(f"sample_rate must be positive, got {self.sample_rate}")
        if not 0 < self.min_freq <= self.max_freq < self.sample_rate / 2:
            raise DataError(
                f"need 0 < min_freq <= max_freq < sample_rate/2 ({self.sample_rate / 2:g} Hz), "
                f"got min_freq={self.min_freq}, max_freq={self.max_freq}"
            )
        # Edge crossfades reach sqrt(2) * amplitude (cos + sin at t = 0.5): keep that in range.
        limit = fixed.VALUE_MAX / math.sqrt(2.0)
        if not 0 < self.amplitude <= limit:
            raise DataError(
                f"amplitude must be in (0, {limit:.3f}] model units so that crossfaded targets "
                f"stay inside Q4.12, got {self.amplitude}"
            )
        if not 0 < self.edge_width < 0.5:
            raise DataError(f"edge_width must be in (0, 0.5), got {self.edge_width}")
        if self.n_inputs < 3:
            raise DataError(f"n_inputs must be >= 3 (triangle, e0, e1), got {self.n_inputs}")
        if self.n_outputs not in (1, 4):
            raise DataError(f"n_outputs must be 1 or 4 (mirrored voices), got {self.n_outputs}")


@dataclass
class Dataset:
    """Windows of network input/target in model units (float32, every value on the Q4.12 grid).

    ``embedding`` is NaN for recordings (they have no embedding); ``label`` is the waveform
    name, ``"a~b@t"`` for an edge crossfade at t, or ``"recording"``.
    """

    x: np.ndarray
    y: np.ndarray
    embedding: np.ndarray
    label: list[str]
    sample_rate: int

    def __len__(self) -> int:
        return int(self.x.shape[0])


# --------------------------------------------------------------------------------------------
# waveforms


def _triangle(phase: np.ndarray) -> np.ndarray:
    return 1.0 - 4.0 * np.abs(phase - 0.5)


def waveform(name: str, phase: np.ndarray, *, edge_width: float = 0.06) -> np.ndarray:
    """One period-1 waveform at ``phase`` (any real; taken mod 1), amplitude 1.

    Every shape is a function of the triangle's value and slope direction alone, and has finite
    edges instead of steps: a causal conv net sees only the recent triangle, and it cannot draw
    an ideal discontinuity (nor can a real analog oscillator).
    """
    p = np.mod(np.asarray(phase, dtype=np.float64), 1.0)
    w = edge_width
    if name == "triangle":
        return _triangle(p)
    if name == "sine":
        return -np.cos(2.0 * np.pi * p)
    if name == "ramp":
        top = 1.0 - w
        return np.where(p < top, -1.0 + 2.0 * p / top, 1.0 - 2.0 * (p - top) / w)
    if name == "square":
        # A triangle a quarter period ahead is 0 at both transitions with slope +-4; scaling it
        # to slope 2/w and clipping gives a trapezoid with w-wide edges centred on p=0 and 0.5.
        return np.clip(_triangle(np.mod(p + 0.25, 1.0)) / (2.0 * w), -1.0, 1.0)
    if name == "zigzag":
        return 0.6 * _triangle(p) + 0.4 * _triangle(np.mod(3.0 * p, 1.0))
    raise DataError(f"unknown waveform {name!r}: use one of triangle, {', '.join(WAVEFORMS)}")


def _all_waves(phase: np.ndarray, edge_width: float) -> np.ndarray:
    """The four target waves stacked in WAVEFORMS order: shape (4, *phase.shape)."""
    return np.stack([waveform(n, phase, edge_width=edge_width) for n in WAVEFORMS])


def _edge_decomposition(e0: np.ndarray, e1: np.ndarray) -> tuple[np.ndarray, ...]:
    """Boundary points of the unit square -> (corner a, corner b, t) with point = lerp(a, b, t).

    Works for corners too (t is then 0 or 1). Points must be exactly on the boundary, which
    holds because every embedding we make is 0, 1, t or 1 - t with t on the Q4.12 grid.
    """
    vertical = (e0 == 0.0) | (e0 == 1.0)  # e0 fixed, e1 varies
    e0i = np.rint(e0).astype(np.int64)
    e1i = np.rint(e1).astype(np.int64)
    a = np.where(vertical, 2 * e0i, e1i)
    b = np.where(vertical, 2 * e0i + 1, 2 + e1i)
    t = np.where(vertical, e1, e0)
    return a, b, t


def _crossfade_weights(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constant-power weights cos(t pi/2), sin(t pi/2), exact at the ends (cos(pi/2) != 0.0)."""
    wa = np.where(t == 1.0, 0.0, np.cos(t * np.pi / 2.0))
    wb = np.where(t == 0.0, 0.0, np.sin(t * np.pi / 2.0))
    return wa, wb


def _mirrored_embeddings(embedding: np.ndarray, n_outputs: int) -> list[np.ndarray]:
    e0, e1 = embedding[:, 0], embedding[:, 1]
    voices = [(e0, e1), (1.0 - e0, e1), (e0, 1.0 - e1), (1.0 - e0, 1.0 - e1)]
    return [np.stack(v, axis=1) for v in voices[:n_outputs]]


def _render(
    phase: np.ndarray, embedding: np.ndarray, config: WaveshaperConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Phase (n, T) and boundary embeddings (n, 2) -> gridded float32 x, y."""
    n, seq_len = phase.shape
    amp = config.amplitude
    x = np.zeros((n, seq_len, config.n_inputs), dtype=np.float64)
    x[:, :, 0] = amp * _triangle(phase)
    x[:, :, 1] = embedding[:, 0:1]
    x[:, :, 2] = embedding[:, 1:2]
    waves = _all_waves(phase, config.edge_width)  # (4, n, T)
    rows = np.arange(n)
    y = np.empty((n, seq_len, config.n_outputs), dtype=np.float64)
    for k, emb in enumerate(_mirrored_embeddings(embedding, config.n_outputs)):
        a, b, t = _edge_decomposition(emb[:, 0], emb[:, 1])
        wa, wb = _crossfade_weights(t)
        y[:, :, k] = amp * (wa[:, None] * waves[a, rows] + wb[:, None] * waves[b, rows])
    return (
        fixed.quantize_to_grid(x).astype(np.float32),
        fixed.quantize_to_grid(y).astype(np.float32),
    )


# --------------------------------------------------------------------------------------------
# synthetic data set


def _split_rng(seed: int, split: str) -> np.random.Generator:
    if split not in _SPLITS:
        raise DataError(f"unknown split {split!r}: use one of {', '.join(_SPLITS)}")
    # Child streams of one SeedSequence are independent: "heldout" never repeats "train".
    return np.random.default_rng(
        np.random.SeedSequence(entropy=seed, spawn_key=(_SPLITS.index(split),))
    )


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size) -> np.ndarray:
    return np.exp(rng.uniform(math.log(lo), math.log(hi), size=size))


def _phases(
    freqs: np.ndarray, jump_at: np.ndarray, phase0: np.ndarray, seq_len: int, sample_rate: int
) -> np.ndarray:
    """Phase-continuous oscillator phase (n, T): frequency freqs[:, j] after the j-th jump."""
    t = np.arange(seq_len)
    segment = (t[None, :, None] >= jump_at[:, None, :]).sum(axis=2)  # (n, T)
    inc = np.take_along_axis(freqs, segment, axis=1) / sample_rate
    # Exclusive cumulative sum: sample 0 is at phase0, sample i at phase0 + sum of earlier steps.
    acc = np.cumsum(inc, axis=1) - inc
    return np.mod(phase0[:, None] + acc, 1.0)


def waveshaper_dataset(
    n_examples: int,
    seq_len: int,
    *,
    seed: int,
    split: str = "train",
    corner_fraction: float = 0.5,
    config: WaveshaperConfig = WaveshaperConfig(),  # frozen, so a shared default is safe
) -> Dataset:
    """The synthetic waveshaper set: corner examples plus constant-power crossfades on edges.

    The oscillator frequency jumps 0-3 times per example (log-uniform in
    [min_freq, max_freq], phase continuous), like a recording during which the pitch CV was
    changed, so the model has to follow the triangle rather than memorise one period.
    ``split`` selects an independent random stream ("train" or "heldout") for the same seed;
    the same arguments always give identical arrays, and the draws do not depend on
    ``n_inputs``/``n_outputs`` (the 4-output set's first voice equals the 1-output set).
    Corner and edge examples are balanced over the four corners/edges and shuffled.
    """
    if n_examples < 0 or seq_len < 1:
        raise DataError(f"need n_examples >= 0 and seq_len >= 1, got {n_examples}, {seq_len}")
    if not 0.0 <= corner_fraction <= 1.0:
        raise DataError(f"corner_fraction must be in [0, 1], got {corner_fraction}")
    rng = _split_rng(seed, split)
    n = n_examples
    n_corner = round(corner_fraction * n)

    # All random draws up front (cheap, small arrays) so rendering in chunks changes nothing.
    # kind 0-3: corner WAVEFORMS[kind]; 4-7: edge _EDGES[kind - 4]. Balanced, then shuffled.
    kinds = np.concatenate([np.arange(n_corner) % 4, 4 + np.arange(n - n_corner) % 4])
    kind = rng.permutation(kinds)
    # t on the Q4.12 grid and strictly inside (0, 1): embeddings 0, 1, t, 1 - t are then all
    # exact grid values, so x's embedding channels equal `embedding` and the crossfade weights.
    t_raw = rng.integers(1, fixed.ONE, size=n)
    freqs = _log_uniform(rng, config.min_freq, config.max_freq, (n, _MAX_JUMPS + 1))
    n_jumps = rng.integers(0, _MAX_JUMPS + 1, size=n)
    jump_at = np.sort(rng.integers(1, max(seq_len, 2), size=(n, _MAX_JUMPS)), axis=1)
    # Unused jumps are moved to seq_len (never reached); used ones stay a sorted prefix.
    jump_at = np.where(np.arange(_MAX_JUMPS)[None, :] < n_jumps[:, None], jump_at, seq_len)
    phase0 = rng.uniform(0.0, 1.0, size=n)

    corner_xy = np.array([CORNERS[w] for w in WAVEFORMS])  # (4, 2)
    t = t_raw / fixed.ONE
    embedding = np.empty((n, 2), dtype=np.float64)
    labels: list[str] = []
    for i in range(n):
        if kind[i] < 4:
            embedding[i] = corner_xy[kind[i]]
            labels.append(WAVEFORMS[kind[i]])
        else:
            a, b = _EDGES[kind[i] - 4]
            embedding[i] = (1.0 - t[i]) * corner_xy[a] + t[i] * corner_xy[b]
            labels.append(f"{WAVEFORMS[a]}~{WAVEFORMS[b]}@{t[i]:.2f}")

    x = np.empty((n, seq_len, config.n_inputs), dtype=np.float32)
    y = np.empty((n, seq_len, config.n_outputs), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(start + _CHUNK, n))
        phase = _phases(freqs[sl], jump_at[sl], phase0[sl], seq_len, config.sample_rate)
        x[sl], y[sl] = _render(phase, embedding[sl], config)
    return Dataset(x, y, embedding.astype(np.float32), labels, config.sample_rate)


def _fixed_phase(seq_len: int, freq: float, phase: float, sample_rate: int) -> np.ndarray:
    if not 0 < freq < sample_rate / 2:
        raise DataError(f"freq must be in (0, {sample_rate / 2:g}) Hz, got {freq}")
    return np.mod(phase + np.arange(seq_len) * (freq / sample_rate), 1.0)[None, :]


def corner_signal(
    waveform: str,
    seq_len: int,
    *,
    freq: float,
    config: WaveshaperConfig = WaveshaperConfig(),
    phase: float = 0.0,
) -> Dataset:
    """One fixed-frequency example at a corner (N = 1), for plots and per-corner evaluation."""
    if waveform not in CORNERS:
        raise DataError(f"unknown corner waveform {waveform!r}: use one of {', '.join(WAVEFORMS)}")
    embedding = np.array([CORNERS[waveform]], dtype=np.float64)
    x, y = _render(_fixed_phase(seq_len, freq, phase, config.sample_rate), embedding, config)
    return Dataset(x, y, embedding.astype(np.float32), [waveform], config.sample_rate)


def grid_signal(
    e0: float,
    e1: float,
    seq_len: int,
    *,
    freq: float,
    config: WaveshaperConfig = WaveshaperConfig(),
    phase: float = 0.0,
) -> np.ndarray:
    """Network input (seq_len, n_inputs) at any embedding point, e.g. inside the square.

    There is no target: off the boundary the model's output is whatever it learned to
    interpolate, which is what the embedding-space plot grid is for.
    """
    p = _fixed_phase(seq_len, freq, phase, config.sample_rate)[0]
    x = np.zeros((seq_len, config.n_inputs), dtype=np.float64)
    x[:, 0] = config.amplitude * _triangle(p)
    x[:, 1] = e0
    x[:, 2] = e1
    return fixed.quantize_to_grid(x).astype(np.float32)


# --------------------------------------------------------------------------------------------
# users' recordings


def target_wav_to_model_units(
    samples: np.ndarray, shift: int = fixed.DEFAULT_OUTPUT_SHIFT
) -> np.ndarray:
    """Target WAV samples -> the model output that makes the DAC play them (Q4.12 grid floats).

    Inputs and outputs are scaled differently on the board: an input codec sample ``s`` reaches
    the net as ``s >> 2``, but a net output ``r`` is played as ``r << 2``. So the target is
    ``s / 2**shift`` raw, rounded to the nearest grid point (rounding, not flooring as the input
    shift does, because the nearest playable output is the best the net can do; otherwise
    targets would be biased by 1.5 codec counts on average).
    """
    board = fixed.wav_to_board(samples).astype(np.float64)
    return fixed.quantize_to_grid(board / (fixed.ONE << shift))


def _read_wav(path: Path, role: str) -> tuple[np.ndarray, int]:
    """Read a WAV as float64 (frames, channels); every failure becomes a DataError naming it."""
    if not path.exists():
        raise DataError(f"{role} WAV '{path}' does not exist: check the path")
    if not path.is_file():
        raise DataError(f"{role} WAV '{path}' is not a file: pass the path of a .wav file")
    try:
        samples, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise DataError(
            f"cannot read {role} WAV '{path}' ({exc}): export it as a WAV file "
            f"(16/24-bit PCM or 32-bit float)"
        ) from exc
    if samples.shape[1] == 0:
        raise DataError(f"{role} WAV '{path}' has no channels: re-export it")
    if not np.all(np.isfinite(samples)):
        raise DataError(
            f"{role} WAV '{path}' contains NaN or infinite samples: re-export it as PCM"
        )
    return samples, int(rate)


def _windows(data: np.ndarray, seq_len: int, hop: int) -> np.ndarray:
    """(L, C) -> (n, seq_len, C): windows starting at 0, hop, 2*hop, ... that fit inside."""
    n = 0 if data.shape[0] < seq_len else (data.shape[0] - seq_len) // hop + 1
    idx = np.arange(n)[:, None] * hop + np.arange(seq_len)[None, :]
    return data[idx] if n else np.zeros((0, seq_len, data.shape[1]), dtype=data.dtype)


def _recording_dataset(x: np.ndarray, y: np.ndarray, sample_rate: int) -> Dataset:
    n = x.shape[0]
    return Dataset(
        x.astype(np.float32),
        y.astype(np.float32),
        np.full((n, 2), np.nan, dtype=np.float32),
        ["recording"] * n,
        sample_rate,
    )


def load_recordings(
    input_wav: str | Path,
    target_wav: str | Path,
    *,
    seq_len: int,
    controls: Mapping[str, float | str | Path] | None = None,
    heldout_fraction: float = 0.1,
    hop: int | None = None,
) -> tuple[Dataset, Dataset]:
    """Windowed (train, heldout) data from a user's input/target WAV pair.

    Each input WAV channel becomes an input channel and each target channel an output channel,
    converted exactly as the board (and ``wavecomp sim``) sees them. Each ``controls`` entry,
    in insertion order, appends an input channel: a number is a constant in model units, a
    path a mono CV recording with the input's rate and length. The last ``heldout_fraction``
    of the recording is held out, split in time so no window straddles the boundary (random
    windows would leak nearly identical audio into the held-out set).
    """
    input_path, target_path = Path(input_wav), Path(target_wav)
    if seq_len < 1:
        raise DataError(f"seq_len must be >= 1, got {seq_len}")
    hop = max(1, seq_len // 2) if hop is None else hop
    if hop < 1:
        raise DataError(f"hop must be >= 1, got {hop}")
    if not 0.0 <= heldout_fraction < 1.0:
        raise DataError(f"heldout_fraction must be in [0, 1), got {heldout_fraction}")

    inp, rate = _read_wav(input_path, "input")
    tgt, target_rate = _read_wav(target_path, "target")
    if target_rate != rate:
        raise DataError(
            f"target WAV '{target_path}' is {target_rate} Hz but input WAV '{input_path}' is "
            f"{rate} Hz: resample one of them so both have the same sample rate"
        )
    length = inp.shape[0]
    if tgt.shape[0] != length:
        raise DataError(
            f"input WAV '{input_path}' has {length} samples but target WAV '{target_path}' has "
            f"{tgt.shape[0]}: trim both to the same length (they must be sample-aligned)"
        )

    channels = [fixed.wav_to_model_units(inp)]
    for name, control in (controls or {}).items():
        if isinstance(control, bool) or not isinstance(control, (int, float, str, Path)):
            raise DataError(
                f"control {name!r}: expected a number (constant, model units) or the path of a "
                f"CV WAV, got {control!r}"
            )
        if isinstance(control, (int, float)):
            if not fixed.VALUE_MIN <= control <= fixed.VALUE_MAX:
                raise DataError(
                    f"control {name!r} = {control} is outside the Q4.12 range "
                    f"[{fixed.VALUE_MIN}, {fixed.VALUE_MAX}]: give it in model units"
                )
            channels.append(np.full((length, 1), fixed.quantize_to_grid(float(control))))
            continue
        cv_path = Path(control)
        cv, cv_rate = _read_wav(cv_path, f"CV (control {name!r})")
        if cv.shape[1] != 1:
            raise DataError(
                f"CV WAV '{cv_path}' (control {name!r}) has {cv.shape[1]} channels: a CV "
                f"control must be mono; split the channels into separate files/controls"
            )
        if cv_rate != rate:
            raise DataError(
                f"CV WAV '{cv_path}' (control {name!r}) is {cv_rate} Hz but input WAV "
                f"'{input_path}' is {rate} Hz: resample it to the input's rate"
            )
        if cv.shape[0] != length:
            raise DataError(
                f"CV WAV '{cv_path}' (control {name!r}) has {cv.shape[0]} samples but input "
                f"WAV '{input_path}' has {length}: trim both to the same length"
            )
        channels.append(fixed.wav_to_model_units(cv))
    x = np.concatenate(channels, axis=1)
    y = target_wav_to_model_units(tgt)

    if length < seq_len:
        raise DataError(
            f"input WAV '{input_path}' has {length} samples, shorter than one window "
            f"(seq_len={seq_len}): use a longer recording or a smaller seq_len"
        )
    split = length - round(heldout_fraction * length)
    if split < seq_len:
        raise DataError(
            f"input WAV '{input_path}': the training part ({split} of {length} samples) is "
            f"shorter than one window (seq_len={seq_len}): use a longer recording, a smaller "
            f"seq_len or a smaller heldout_fraction"
        )
    if heldout_fraction > 0 and length - split < seq_len:
        raise DataError(
            f"input WAV '{input_path}': the held-out part ({length - split} of {length} "
            f"samples) is shorter than one window (seq_len={seq_len}): use a longer recording, "
            f"a smaller seq_len, a larger heldout_fraction, or heldout_fraction=0"
        )
    train = _recording_dataset(
        _windows(x[:split], seq_len, hop), _windows(y[:split], seq_len, hop), rate
    )
    heldout = _recording_dataset(
        _windows(x[split:], seq_len, hop), _windows(y[split:], seq_len, hop), rate
    )
    return train, heldout
