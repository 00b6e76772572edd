"""The one place TensorFlow, tf-keras and QKeras are imported (lazily).

``import wavecomp`` must stay TensorFlow-free so the CLI's ``inspect`` is instant; every
frontend module that needs Keras calls ``import_tf()`` inside its functions. QKeras 0.9.0 needs
Keras 2 (the ``tf_keras`` package), which TensorFlow only uses for ``tf.keras`` when
``TF_USE_LEGACY_KERAS=1`` is set *before* TensorFlow is first imported.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import sys
from collections.abc import Iterator
from types import SimpleNamespace

from wavecomp.errors import WavecompError

__all__ = ["FrontendError", "import_tf"]

TF_THREADS = 2
"""Intra-op threads for every TensorFlow run. Fixed rather than "all cores" because TensorFlow
splits reductions per thread, so the thread count changes float rounding: with a fixed count a
seeded training run gives the same model file on any machine of the same CPU kind."""

INSTALL_HINT = (
    "install the training extras with ./bootstrap.sh (or `pip install 'wavecomp[train]'`, "
    "which pins tensorflow, tf-keras, qkeras and pyparsing)"
)


class FrontendError(WavecompError, ValueError):
    """A model the frontend cannot build, load or import; the message names the layer and fix."""


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) on a CPU machine.

    Those lines are written by absl before TF_CPP_MIN_LOG_LEVEL is read, so no setting stops
    them. Python-level errors are unaffected: they are raised after the descriptor is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def import_tf() -> SimpleNamespace:
    """Import TensorFlow, tf-keras and QKeras once; returns ``SimpleNamespace(tf, keras, qkeras)``.

    ``keras`` is ``tf_keras`` (Keras 2) because that is what QKeras builds on; the wrong Keras
    gives confusing errors deep inside QKeras, so this checks and says what to do instead.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN kernels pick their code path by CPU at run time (rounding differs); Eigen's do not.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    xla_flags = os.environ.get("XLA_FLAGS", "")
    if platform.machine().lower() in ("x86_64", "amd64") and "xla_cpu_max_isa" not in xla_flags:
        # XLA compiles for the host CPU; capping it at AVX2 keeps AVX-512 machines on the same
        # vector code, and so the same rounding, as the machines the shipped model came from.
        os.environ["XLA_FLAGS"] = f"{xla_flags} --xla_cpu_max_isa=AVX2".strip()
    tf_was_loaded = "tensorflow" in sys.modules
    try:
        with _native_stderr_silenced():
            import tensorflow as tf
            import tf_keras

            tf.config.list_physical_devices()  # the CUDA probe happens here, once
            if not tf_was_loaded:
                # CPU only, fixed threads: the tiny nets gain nothing from a GPU, and GPU
                # kernels would round differently from the machines the shipped model came from
                tf.config.set_visible_devices([], "GPU")
                tf.config.threading.set_intra_op_parallelism_threads(TF_THREADS)
                tf.config.threading.set_inter_op_parallelism_threads(1)
    except ImportError as err:
        raise FrontendError(
            f"TensorFlow/tf-keras are not installed ({err}); {INSTALL_HINT}"
        ) from None
    keras_version = str(getattr(tf.keras, "__version__", ""))
    if keras_version.startswith("3"):
        when = "it was loaded before wavecomp" if tf_was_loaded else "TF_USE_LEGACY_KERAS is off"
        raise FrontendError(
            f"TensorFlow's tf.keras is Keras {keras_version} ({when}); QKeras needs Keras 2. "
            "Set the environment variable TF_USE_LEGACY_KERAS=1 before anything imports "
            "tensorflow (e.g. `export TF_USE_LEGACY_KERAS=1`)"
        )
    try:
        import qkeras
    except ImportError as err:
        if getattr(err, "name", None) == "pyparsing" or "pyparsing" in str(err):
            raise FrontendError(
                "QKeras is installed but cannot import pyparsing (QKeras 0.9.0's metadata names "
                "'pyparser' instead of 'pyparsing', so pip does not pull it in): run "
                f"`pip install pyparsing`, or {INSTALL_HINT}"
            ) from None
        raise FrontendError(f"QKeras is not importable ({err}); {INSTALL_HINT}") from None
    tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with TensorFlow
        pass
    return SimpleNamespace(tf=tf, keras=tf_keras, qkeras=qkeras)
