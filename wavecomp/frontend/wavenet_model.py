"""Build the QKeras functional model of a ``WaveNetSpec``, every tensor on the Q4.12 grid.

Why each quantiser is where it is: the integer pipeline rounds once per IR node, so the float
model must round at the same places and nowhere else (``graph_importer`` folds the layers
between two roundings into one node):

- every conv's weights and biases: ``fixed.QKERAS_WEIGHT_QUANTIZER`` (Q4.12);
- a layer's activation reads ``conv_K,d(x_i) + bias + mixin_1x1(input)`` unrounded (one node
  with two conv sources) and rounds: ``quantized_relu(15, 3)`` or
  ``quantizers.QKERAS_TANH_QUANTIZER`` (tanh rounded to 2**-12; QKeras' ``quantized_tanh(16,
  ...)`` would round to 2**-15, off the grid). The integer tanh is a pwl table, so tanh nets are
  close to, not bit-exact with, QKeras;
- the rechannel conv, each residual ``x_i + conv1x1(a_i) + bias`` (one node: a conv and an
  identity source) and the skip sum are rounded and saturated by ``quantizers.CANONICAL_GRID``,
  as the integer node's ``clamp(acc >> 12)`` does. A sum of grid values is on the grid; the
  saturation keeps it in [-8, 8) in training too;
- the head: a relu 1x1 conv, then a linear 1x1 conv to the outputs (unrounded in float, like a
  chain's last layer).
"""

from __future__ import annotations

from typing import Any

from wavecomp import fixed
from wavecomp.frontend.keras_env import FrontendError, import_tf
from wavecomp.frontend.quantizers import CANONICAL_WEIGHTS, QKERAS_TANH_QUANTIZER
from wavecomp.frontend.spec import SpecError
from wavecomp.frontend.wavenet_spec import WaveNetSpec

__all__ = ["activation_quantizer", "build_wavenet_model"]


def activation_quantizer(spec: WaveNetSpec) -> str:
    """The QActivation quantiser string of the layers' activation."""
    return fixed.QKERAS_RELU_QUANTIZER if spec.activation == "relu" else QKERAS_TANH_QUANTIZER


def build_wavenet_model(spec: WaveNetSpec, *, seed: int | None = None) -> Any:
    """A functional QKeras model for ``spec``: input (None, C_in) -> (None, C_out).

    Layer names are what the imported nodes are called: ``rechannel``, ``layer{i}`` (the
    activation's input sum), ``res{i}``, ``skip``, ``head`` and ``output``. With ``seed`` every
    initialiser is seeded per layer, so two builds are identical.
    """
    try:
        spec.validate()
    except SpecError as err:
        raise FrontendError(str(err)) from None
    ns = import_tf()
    keras, qkeras = ns.keras, ns.qkeras
    counter = iter(range(1 << 20))

    def conv(filters: int, kernel: int, name: str, *, dilation: int = 1, bias: bool = True):
        init: Any = "glorot_uniform"
        if seed is not None:
            init = keras.initializers.GlorotUniform(seed=_layer_seed(seed, next(counter)))
        return qkeras.QConv1D(
            filters,
            kernel,
            dilation_rate=dilation,
            padding="causal",
            use_bias=bias,
            kernel_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER,
            bias_quantizer=fixed.QKERAS_WEIGHT_QUANTIZER if bias else None,
            kernel_initializer=init,
            bias_initializer="zeros",
            name=name,
        )

    def grid(name: str):
        return qkeras.QActivation(CANONICAL_WEIGHTS, name=name)

    inputs = keras.Input(shape=(None, spec.in_channels), name="input")
    x = grid("rechannel_q")(conv(spec.channels, 1, "rechannel", bias=False)(inputs))
    acts = []
    last = spec.n_layers - 1
    for i, d in enumerate(spec.layer_dilations):
        z = conv(spec.channels, spec.kernel_size, f"layer{i}_conv", dilation=d)(x)
        mixin = conv(spec.channels, 1, f"layer{i}_mixin", bias=False)(inputs)
        pre = keras.layers.Add(name=f"layer{i}")([z, mixin])
        a = qkeras.QActivation(activation_quantizer(spec), name=f"layer{i}_{spec.activation}")(pre)
        acts.append(a)
        if i < last:  # the last residual would feed nothing
            r = conv(spec.channels, 1, f"layer{i}_1x1")(a)
            x = grid(f"res{i}_q")(keras.layers.Add(name=f"res{i}")([x, r]))
    skip = grid("skip_q")(keras.layers.Add(name="skip")(acts)) if len(acts) > 1 else acts[0]
    h = conv(spec.head, 1, "head")(skip)
    h = qkeras.QActivation(fixed.QKERAS_RELU_QUANTIZER, name="head_relu")(h)
    out = conv(spec.out_channels, 1, "output")(h)
    return keras.Model(inputs, out, name=spec.name)


def _layer_seed(seed: int, index: int) -> int:
    # distinct, reproducible per-layer seeds (a seeded Keras initialiser repeats its values)
    return (int(seed) * 1_000_003 + 7919 * (index + 1)) % (2**31 - 1)
