"""Build, save and load QKeras models whose arithmetic grid is the Q4.12 contract.

``build_qkeras_model`` turns a ``ModelSpec`` into a stack of causal ``QConv1D`` layers with
``fixed.QKERAS_WEIGHT_QUANTIZER`` on weights and biases and ``fixed.QKERAS_RELU_QUANTIZER``
after each relu layer, so what QKeras trains on is exactly what the integer backends run
(up to float rounding inside the sums; see ``error_bound.float_error_bound_lsb``). The quantiser
strings come from ``wavecomp.fixed`` so the grid is defined in one place.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from wavecomp import fixed
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.frontend.spec import ModelSpec, SpecError

__all__ = ["MODEL_SUFFIXES", "build_qkeras_model", "custom_objects", "load_model", "save_model"]

MODEL_SUFFIXES = (".keras", ".h5")
"""File formats ``save_model``/``load_model`` handle (Keras v3 zip and legacy HDF5)."""


def relu_layer_name(conv_name: str) -> str:
    """Name of the QActivation that follows a relu conv layer."""
    return f"{conv_name}_relu"


def build_qkeras_model(spec: ModelSpec, *, seed: int | None = None) -> Any:
    """A QKeras model for ``spec``: input (None, C_in), causal QConv1D stack on the Q4.12 grid.

    The time axis is left open so the same model trains on fixed windows and runs on whole
    signals. With ``seed`` every initialiser is seeded per layer, so two builds are identical
    without touching TensorFlow's global random state.
    """
    try:
        spec.validate()
    except SpecError as err:
        raise FrontendError(str(err)) from None
    ns = import_tf()
    keras, qkeras = ns.keras, ns.qkeras
    inputs = keras.Input(shape=(None, spec.in_channels), name="input")
    h = inputs
    for i, (layer, name) in enumerate(zip(spec.layers, spec.layer_names(), strict=True)):
        kernel_init: Any = "he_normal"
        if seed is not None:
            kernel_init = keras.initializers.HeNormal(seed=_layer_seed(seed, i))
        h = qkeras.QConv1D(
            layer.filters,
            layer.kernel_size,
            dilation_rate=layer.dilation,
            padding="causal",
            kernel_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER,
            bias_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER,
            kernel_initializer=kernel_init,
            bias_initializer="zeros",
            name=name,
        )(h)
        if layer.activation == "relu":
            h = qkeras.QActivation(fixed.QKERAS_RELU_QUANTIZER, name=relu_layer_name(name))(h)
    return keras.Model(inputs, h, name=spec.name)


def _layer_seed(seed: int, index: int) -> int:
    # Distinct, reproducible per-layer seeds (a seeded Keras initialiser repeats its values).
    return (int(seed) * 1_000_003 + 7919 * (index + 1)) % (2**31 - 1)


def custom_objects() -> dict[str, Any]:
    """Keras custom objects for every QKeras layer and quantiser (for loading models)."""
    from qkeras.utils import _add_supported_quantized_objects

    import_tf()
    objects: dict[str, Any] = {}
    _add_supported_quantized_objects(objects)
    return objects


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise FrontendError(
            f"{path.name}: unsupported model file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(MODEL_SUFFIXES)}"
        )


def save_model(model: Any, path: str | Path) -> Path:
    """Save ``model`` as ``.keras`` (Keras zip) or ``.h5`` (HDF5), chosen by the suffix."""
    path = Path(path)
    _check_suffix(path)
    import_tf()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # tf-keras warns that HDF5 is legacy and that QKeras quantisers are not Constraints;
        # both files round-trip exactly (tested), so the warnings are noise for users.
        warnings.simplefilter("ignore", UserWarning)
        if path.suffix.lower() == ".h5":
            model.save(path, save_format="h5", include_optimizer=False)
        else:
            model.save(path)
    return path


def load_model(path: str | Path) -> Any:
    """Load a ``.keras``/``.h5`` model with QKeras' layers registered; errors name the file."""
    path = Path(path)
    _check_suffix(path)
    if not path.is_file():
        raise FrontendError(f"{path}: no such model file")
    ns = import_tf()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # see save_model
            return ns.keras.models.load_model(path, custom_objects=custom_objects(), compile=False)
    except Exception as err:  # Keras raises many types (ValueError, OSError, KeyError, ...)
        raise FrontendError(
            f"{path.name}: cannot load this Keras model ({type(err).__name__}: {err}). "
            "Expected a tf-keras 2 / QKeras model saved with model.save(...) as .keras or .h5"
        ) from None
