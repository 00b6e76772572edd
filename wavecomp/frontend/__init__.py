"""Frontend: model specs, QKeras model building, and Keras/QKeras import into the Network IR.

Only the light pieces are re-exported here (specs, presets, the error type), so importing
``wavecomp.frontend`` never pulls in TensorFlow. Import ``wavecomp.frontend.qkeras_model`` or
``wavecomp.frontend.importer`` for the TensorFlow-backed parts; they load it lazily.
"""

from wavecomp.frontend.keras_env import FrontendError
from wavecomp.frontend.spec import (
    PRESETS,
    LayerSpec,
    ModelSpec,
    SpecError,
    format_layers,
    parse_layers,
)

__all__ = [
    "PRESETS",
    "FrontendError",
    "LayerSpec",
    "ModelSpec",
    "SpecError",
    "format_layers",
    "parse_layers",
]
