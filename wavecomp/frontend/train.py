"""``wavecomp train``: fit a QKeras model, lower it to the IR, and write a report.

The run is seeded end to end (data, initial weights, TF op determinism), so the same
configuration gives the same model file. The report's quality figures are measured on the
*integer* reference, i.e. on what the hardware will output, not on QKeras' float pass.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from wavecomp.frontend import data, evaluate, train_report
from wavecomp.frontend.compare import compare_float_to_reference
from wavecomp.frontend.importer import import_keras_model
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.frontend.qkeras_model import build_qkeras_model, save_model
from wavecomp.frontend.spec import PRESETS, ModelSpec, format_layers, parse_layers
from wavecomp.frontend.wavenet_model import build_wavenet_model
from wavecomp.frontend.wavenet_spec import WaveNetSpec, format_wavenet, parse_wavenet
from wavecomp.ir import IOSpec, Network
from wavecomp.output_dir import check_folder, writing_folder

WRITER = "wavecomp train"
"""Names the writer in ``--out`` messages and in the output folder's marker."""

MIN_SEQ_LEN = 256
"""Shortest default training window. Short windows give more distinct oscillator draws per
sample of compute, which helped more than the receptive-field warm-up they waste."""
STEPS_PER_CALL = 32
"""Batches per compiled call (Keras' steps_per_execution); progress is reported per call."""
ADAM_BETA_2 = 0.99
"""Adam's second-moment decay: measured +0.5 to +1 dB over Keras' 0.999 with batches of 8
(0.95 was no better)."""
FINAL_LR_FRACTION = 0.03
WARMUP_START_FRACTION = 0.1

ProgressFn = Callable[[str, int, int, dict[str, float]], None]
"""progress(stage, done, total, figures): called every STEPS_PER_CALL batches while fitting."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (written into the report and the model)."""

    preset: str = "fpga"
    layers: str | None = None
    """Override the preset's layers with the compact syntax, e.g. "4x1:8,4x4:8,1x1:1"."""
    seed: int = 0
    epochs: int = 160
    examples: int = 8192
    heldout_examples: int = 256
    seq_len: int | None = None
    """Training window; default max(MIN_SEQ_LEN, 4 x receptive field)."""
    batch_size: int = 8
    learning_rate: float = 1e-2
    warmup_fraction: float = 0.05
    """Share of the steps spent warming the learning rate up (0: start at the peak)."""
    corner_fraction: float = 0.5
    """Share of synthetic windows at the embedding's corners; the rest crossfade along edges."""
    sample_rate: int = 48_000
    min_freq: float = 55.0
    max_freq: float = 880.0
    input_wav: str | None = None
    target_wav: str | None = None
    controls: dict[str, float | str] = field(default_factory=dict)
    """Extra input channels for recordings: a constant (model units) or a CV WAV path."""
    arch: str = "chain"
    """``chain`` (the preset/``layers`` conv stack) or ``wavenet`` (``wavenet_spec``)."""
    wavenet: str | None = None
    """The WaveNet's sizes, e.g. "channels=8,dilations=1-2-4-8,repeats=2" (arch wavenet)."""

    @property
    def uses_recordings(self) -> bool:
        return self.input_wav is not None


@dataclass
class TrainResult:
    net: Network
    out_dir: Path
    report: dict[str, Any]


ARCHES = ("chain", "wavenet")


def resolve_spec(config: TrainConfig) -> ModelSpec | WaveNetSpec:
    """The preset, with its layers replaced when ``config.layers`` is given (or the WaveNet)."""
    if config.arch not in ARCHES:
        raise FrontendError(f"unknown arch {config.arch!r}: use one of {', '.join(ARCHES)}")
    if config.arch == "wavenet":
        return _wavenet_spec(config)
    if config.wavenet is not None:
        raise FrontendError("--wavenet sizes a WaveNet: add --arch wavenet (or drop --wavenet)")
    if config.preset not in PRESETS:
        raise FrontendError(
            f"unknown preset {config.preset!r}: use one of {', '.join(sorted(PRESETS))}"
        )
    spec = PRESETS[config.preset]
    if config.layers:
        layers = parse_layers(config.layers)
        n_out = layers[-1].filters
        io = spec.io
        if n_out != len(io.outputs):
            io = replace(io, outputs=IOSpec.default(1, n_out).outputs)
        spec = replace(spec, name=f"{spec.name}-custom", layers=layers, io=io)
        spec.validate()
    io = replace(spec.io, sample_rate=config.sample_rate)
    return replace(spec, io=io)


def _wavenet_spec(config: TrainConfig) -> WaveNetSpec:
    if config.layers:
        raise FrontendError("--layers sizes a conv chain; a WaveNet takes --wavenet instead")
    spec = parse_wavenet(config.wavenet) if config.wavenet is not None else WaveNetSpec()
    if not config.uses_recordings and (spec.in_channels < 3 or spec.out_channels not in (1, 4)):
        raise FrontendError(
            f"the built-in waveshaper data has 3 inputs (triangle, e0, e1) and 1 or 4 outputs, "
            f"but the WaveNet has {spec.in_channels} in and {spec.out_channels} out: train it on "
            "your recordings (--input-wav/--target-wav) or size it for the waveshaper, e.g. "
            '--wavenet "inputs=3,outputs=1,..."'
        )
    return replace(spec, sample_rate=config.sample_rate)


def _config_record(config: TrainConfig) -> dict[str, Any]:
    """The config as the report and the model file record it. A chain run leaves out the
    WaveNet fields, so chain model files stay byte-identical to those written before them."""
    record = asdict(config)
    if config.arch == "chain":
        del record["arch"], record["wavenet"]
    return record


def check_out_dir(out_dir: str | Path) -> None:
    """Refuse an ``--out`` that wavecomp may not replace, in a second rather than after training."""
    check_folder(Path(out_dir), writer=WRITER, option="--out")


def _datasets(config: TrainConfig, spec: ModelSpec | WaveNetSpec, seq_len: int):
    if config.uses_recordings:
        if config.target_wav is None:
            raise FrontendError("--input-wav needs --target-wav (the recording to imitate)")
        train_set, heldout = data.load_recordings(
            config.input_wav, config.target_wav, seq_len=seq_len, controls=config.controls
        )
        if train_set.x.shape[2] != spec.in_channels or train_set.y.shape[2] != spec.out_channels:
            raise FrontendError(
                f"the recordings give {train_set.x.shape[2]} input and {train_set.y.shape[2]} "
                f"output channels, but model {spec.name!r} has {spec.in_channels} in and "
                f"{spec.out_channels} out: add --control channels or pick --layers/--preset "
                "(or --wavenet inputs=/outputs=) to match"
            )
        return train_set, heldout, None
    wave_config = data.WaveshaperConfig(
        sample_rate=config.sample_rate,
        min_freq=config.min_freq,
        max_freq=config.max_freq,
        n_inputs=spec.in_channels,
        n_outputs=spec.out_channels,
    )
    train_set = data.waveshaper_dataset(
        config.examples,
        seq_len,
        seed=config.seed,
        corner_fraction=config.corner_fraction,
        config=wave_config,
    )
    heldout = data.waveshaper_dataset(
        config.heldout_examples, seq_len, seed=config.seed, split="heldout", config=wave_config
    )
    return train_set, heldout, wave_config


def train(
    config: TrainConfig, out_dir: str | Path, *, progress: ProgressFn | None = None
) -> TrainResult:
    """Train, lower to the IR, evaluate on the reference and write model + report to out_dir.

    ``out_dir`` is checked first (a folder wavecomp did not write is refused before any
    training) and written through ``output_dir.writing_folder``: all or nothing, so a failed
    run leaves the previous output as it was.
    """
    check_out_dir(out_dir)
    if not 0.0 <= config.warmup_fraction < 1.0:
        raise FrontendError(f"warmup_fraction must be in [0, 1), got {config.warmup_fraction}")
    spec = resolve_spec(config)
    seq_len = config.seq_len or max(MIN_SEQ_LEN, 4 * spec.receptive_field)
    if seq_len <= spec.receptive_field:
        raise FrontendError(
            f"--seq-len {seq_len} must exceed the receptive field ({spec.receptive_field})"
        )
    train_set, heldout, wave_config = _datasets(config, spec, seq_len)

    env = import_tf()
    tf, keras = env.tf, env.keras
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    if isinstance(spec, WaveNetSpec):
        model = build_wavenet_model(spec, seed=config.seed)
    else:
        model = build_qkeras_model(spec, seed=config.seed)

    warm = spec.receptive_field - 1

    def masked_mse(y_true, y_pred):
        # the first receptive-field samples see the zero history, not the signal: skip them
        return tf.reduce_mean(tf.square(y_true[:, warm:] - y_pred[:, warm:]))

    steps = math.ceil(len(train_set) / config.batch_size) * config.epochs
    model.compile(
        optimizer=keras.optimizers.Adam(
            _learning_rate_schedule(keras, config, steps), beta_2=ADAM_BETA_2
        ),
        loss=masked_mse,
        # XLA fuses the quantisers into the convolutions, and running STEPS_PER_CALL batches
        # per call saves Python overhead per tiny batch: together about 3x faster per epoch
        jit_compile=True,
        steps_per_execution=STEPS_PER_CALL,
    )

    history: dict[str, list[float]] = {"loss": [], "heldout_loss": []}
    callbacks = [_progress_callback(keras, progress, config.epochs, history)]
    started = time.monotonic()
    model.fit(
        train_set.x,
        train_set.y,
        batch_size=config.batch_size,
        epochs=config.epochs,
        validation_data=(heldout.x, heldout.y),
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    train_seconds = time.monotonic() - started

    calibration = heldout.x[: min(len(heldout), 8)].reshape(-1, spec.in_channels)
    net, import_report = import_keras_model(
        model, name=spec.name, io=spec.io, calibration=calibration
    )
    if progress:
        progress("evaluate", 0, 1, {})
    heldout_cmp = compare_float_to_reference(
        model, net, heldout.x[: min(len(heldout), 16)].reshape(-1, spec.in_channels)
    )
    quality: dict[str, Any]
    if wave_config is not None:
        corners = evaluate.corner_snr(net, wave_config, seed=config.seed)
        quality = {
            "corner_snr_db": {c.waveform: round(c.snr_db, 2) for c in corners},
            "corner_esr": {c.waveform: float(f"{c.esr:.4g}") for c in corners},
            "mean_corner_snr_db": round(float(np.mean([c.snr_db for c in corners])), 2),
        }
    else:
        quality = {"heldout_snr_db": round(evaluate.dataset_snr(net, heldout), 2)}

    report = {
        "model": spec.name,
        "fingerprint": net.fingerprint(),
        "layers": (
            format_wavenet(spec) if isinstance(spec, WaveNetSpec) else format_layers(spec.layers)
        ),
        "params": net.params,
        "macs_per_sample": net.macs_per_sample,
        "receptive_field": net.receptive_field,
        "config": _config_record(config),
        "seq_len": seq_len,
        "optimizer": {
            "adam_beta_2": ADAM_BETA_2,
            "final_lr_fraction": FINAL_LR_FRACTION,
            "warmup_start_fraction": WARMUP_START_FRACTION,
        },
        "train_seconds": round(train_seconds, 1),
        "final_loss": history["loss"][-1],
        "final_heldout_loss": history["heldout_loss"][-1],
        "history": history,
        "quality": quality,
        "qkeras_vs_reference": {
            "max_abs_lsb": heldout_cmp.max_abs_lsb,
            "snr_db": heldout_cmp.snr_db,
            "error_bound_lsb": import_report.error_bound_lsb,
        },
        "import": import_report.to_dict(),
    }
    net.metadata["training"] = {
        # no wall-clock figures here: the same config must give a byte-identical model file
        k: report[k]
        for k in ("config", "quality", "qkeras_vs_reference")
    }

    with writing_folder(out_dir, writer=WRITER, option="--out") as staging:
        net.save(staging / "model.npz")
        save_model(model, staging / "model.keras")
        train_report.write(staging, net, report, wave_config)
    return TrainResult(net=net, out_dir=Path(out_dir), report=report)


def _learning_rate_schedule(keras: Any, config: TrainConfig, steps: int) -> Any:
    """Linear warm-up to the peak rate, then cosine decay to ``FINAL_LR_FRACTION`` of it.

    The peak rate that trains best (1e-2 at batch 8) is close to where training turns unstable
    (1.5e-2 ends 4 dB worse), so the first steps, taken with fresh Adam statistics, are kept small.
    """
    warmup = int(config.warmup_fraction * steps)
    return keras.optimizers.schedules.CosineDecay(
        config.learning_rate * WARMUP_START_FRACTION if warmup else config.learning_rate,
        steps - warmup,
        alpha=FINAL_LR_FRACTION,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def _progress_callback(
    keras: Any, progress: ProgressFn | None, epochs: int, history: dict[str, list[float]]
) -> Any:
    """A Keras callback that records the loss history and reports progress per batch.

    Defined inside a function because Keras is only importable once ``import_tf`` has run.
    """

    class Callback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if progress:
                total = self.params.get("steps") or 1
                progress(
                    "fit",
                    self._epoch * total + batch + 1,
                    epochs * total,
                    {"loss": float((logs or {}).get("loss", float("nan")))},
                )

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            history["loss"].append(float(logs.get("loss", float("nan"))))
            history["heldout_loss"].append(float(logs.get("val_loss", float("nan"))))

    return Callback()


__all__ = ["TrainConfig", "TrainResult", "check_out_dir", "resolve_spec", "train"]
