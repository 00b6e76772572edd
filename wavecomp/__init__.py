"""wavecomp: compile streaming cached-wavenet audio models to an ECP5 FPGA and a Daisy MCU.

Python API (the CLI is a thin layer over it)::

    import wavecomp
    net = wavecomp.load()              # the default model shipped in the package
    print(net.summary())
    y = wavecomp.reference.run(net, x) # Q4.12 raw int16 in, int16 out, bit-exact spec
"""

from __future__ import annotations

from pathlib import Path

from wavecomp import fixed, reference
from wavecomp.errors import WavecompError
from wavecomp.ir import IRError, Network

__version__ = "0.1.0"
__all__ = [
    "IRError",
    "Network",
    "WavecompError",
    "default_model_path",
    "fixed",
    "load",
    "reference",
]

KERAS_SUFFIXES = (".keras", ".h5")
NAM_SUFFIX = ".nam"


def default_model_path() -> Path:
    """The trained waveshaper that ships inside the package (used when no model is given)."""
    from wavecomp.resources import models_dir

    return models_dir() / "default.npz"


def load(path: str | Path | None = None, *, submodel: int | None = None) -> Network:
    """Load a network: a wavecomp ``.npz``, a QKeras/Keras ``.keras``/``.h5`` or a Neural
    Amp Modeler ``.nam`` capture (both imported).

    With no path, the default model. Keras files go through the QKeras importer, which
    checks every layer and quantiser (and needs TensorFlow installed). A ``.nam`` file is
    quantised to Q4.12 with a scale per tensor (``frontend.nam_import``); ``submodel`` picks
    an entry of a SlimmableContainer (default: the largest).
    """
    if path is None:
        return Network.load(default_model_path())
    path = Path(path)
    if submodel is not None and path.suffix.lower() != NAM_SUFFIX:
        raise IRError(f"{path}: submodel {submodel} applies to .nam SlimmableContainers only")
    if path.suffix.lower() == NAM_SUFFIX:
        from wavecomp.frontend.nam_import import import_nam

        net, _report = import_nam(path, submodel=submodel)
        return net
    if path.suffix.lower() in KERAS_SUFFIXES:
        from wavecomp.frontend.importer import import_keras_model

        net, _report = import_keras_model(path)
        return net
    if path.suffix.lower() != ".npz":
        raise IRError(
            f"{path}: unknown model format {path.suffix!r}; give a wavecomp .npz "
            f"(from `wavecomp train`), a Keras model ({', '.join(KERAS_SUFFIXES)}) or a "
            "Neural Amp Modeler capture (.nam)"
        )
    return Network.load(path)
