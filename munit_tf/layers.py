"""MUNIT's building blocks as Keras 3 layers.

Each block matches the reference's ``networks.py`` numerically: explicit padding then a VALID
convolution (``Conv2dBlock``), residual blocks without an activation after the addition, AdaIN
with per-sample statistics and externally supplied [beta, gamma], and MUNIT's own LayerNorm
(unbiased std, eps added to the std, per-channel gamma drawn from U(0, 1)), which is *not*
``keras.layers.LayerNormalization``. Instance norm is Keras 3's ``GroupNormalization(groups=-1)``.
Every convolution goes through ``fast_conv.conv2d``, which computes the reference's
pad-then-VALID-conv exactly, in a faster form unless told otherwise.
"""

from __future__ import annotations

import keras
from keras import ops

from munit_tf import fast_conv
from munit_tf.errors import InvalidInput

EPSILON = 1e-5  # PyTorch's default for InstanceNorm2d, batch_norm and MUNIT's LayerNorm


def initializer(name: str) -> keras.initializers.Initializer:
    """The reference's ``weights_init``: kaiming-normal (fan-in, untruncated) or N(0, 0.02); or
    imaginaire's orthogonal init (gain 1: each output filter a unit vector, all orthogonal)."""
    if name == "kaiming":
        return keras.initializers.VarianceScaling(
            2.0, mode="fan_in", distribution="untruncated_normal"
        )
    if name == "gaussian":
        return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    if name == "orthogonal":
        return keras.initializers.Orthogonal(gain=1.0)
    raise InvalidInput(f"unknown initializer {name!r}")


def reinitialize(network: keras.layers.Layer, name: str) -> None:
    """Draw every kernel (conv and dense) of a built network anew from ``initializer(name)``;
    biases stay zero. For an init other than the one the layers were built with."""
    for variable in network.trainable_variables:
        if len(variable.shape) >= 2:
            variable.assign(initializer(name)(variable.shape, variable.dtype))


# ------------------------------------------------------------------------------------------
# Spectral normalisation (imaginaire's weight_norm_type: spectral), one power iteration a step
# ------------------------------------------------------------------------------------------
def spectral_vector(layer: keras.layers.Layer, outputs: int, name: str):
    """The power iteration's state ``u`` (one per output channel) of a kernel, made in ``layer``'s
    build: not trained, checkpointed, the same on every replica (they hold the same kernel)."""
    return layer.add_weight(
        shape=(outputs,),
        initializer=keras.initializers.RandomNormal(0.0, 1.0),
        trainable=False,
        aggregation="only_first_replica",
        name=name,
    )


def _unit(x):
    return x / (ops.sqrt(ops.sum(ops.square(x))) + 1e-12)


def spectrally_normalized(kernel, u):
    """``kernel / sigma``, sigma the largest singular value of the kernel as a matrix (inputs x
    outputs), estimated from ``u``: v = unit(W^T u), sigma = |W v| (the estimate's vectors are
    constants to the gradient, as in PyTorch's ``spectral_norm``)."""
    w = ops.reshape(kernel, (-1, kernel.shape[-1]))
    u = ops.cast(u, w.dtype)
    v = ops.stop_gradient(_unit(ops.matmul(w, u)))
    sigma = ops.sqrt(ops.sum(ops.square(ops.matmul(v[None], w))))
    return kernel / sigma


def power_iteration(kernel, u) -> None:
    """One step of the power iteration: ``u <- unit(W v)``, v = unit(W^T u)."""
    w = ops.reshape(ops.cast(kernel, "float32"), (-1, kernel.shape[-1]))
    v = _unit(ops.matmul(w, ops.cast(u, "float32")))
    u.assign(_unit(ops.matmul(v[None], w)[0]))


def activation_layer(name: str) -> keras.layers.Layer | None:
    if name == "relu":
        return keras.layers.ReLU()
    if name == "lrelu":
        return keras.layers.LeakyReLU(negative_slope=0.2)
    if name == "tanh":
        return keras.layers.Activation("tanh")
    if name == "none":
        return None
    raise InvalidInput(f"unknown activation {name!r}")


def _float32(x):
    return ops.cast(x, "float32")


@keras.saving.register_keras_serializable(package="munit_tf")
class AdaptiveInstanceNorm(keras.layers.Layer):
    """AdaIN: instance-normalise ``x`` (biased variance) and apply per-sample ``gamma``, ``beta``.

    The reference gets this from ``F.batch_norm`` on a (1, B*C, H, W) view; the effect is
    ``(x - mean_hw) / sqrt(var_hw + eps) * gamma + beta`` with gamma and beta from the MLP.
    """

    def __init__(self, epsilon: float = EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x, beta, gamma):
        dtype = x.dtype
        x = _float32(x)
        mean, variance = ops.moments(x, axes=[1, 2], keepdims=True)
        # Folded into one scale and shift per (sample, channel): a single multiply-add over the
        # feature map, and a form TF's oneDNN graph rewriter does not mistake for its fused
        # instance norm (that rewrite aborts the process on dynamic shapes).
        scale = _float32(gamma)[:, None, None, :] * ops.rsqrt(variance + self.epsilon)
        shift = _float32(beta)[:, None, None, :] - mean * scale
        return ops.cast(x * scale + shift, dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="munit_tf")
class MunitLayerNorm(keras.layers.Layer):
    """The reference's custom LayerNorm, used in the decoder's upsampling blocks.

    Per sample over (H, W, C): ``(x - mean) / (std + eps)`` with the *unbiased* std, then a
    learned per-channel affine whose gamma starts U(0, 1) and beta 0.
    """

    def __init__(self, epsilon: float = EPSILON, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(
            shape=(channels,), initializer=keras.initializers.RandomUniform(0.0, 1.0), name="gamma"
        )
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, x):
        dtype = x.dtype
        x = _float32(x)
        count = ops.cast(ops.prod(ops.shape(x)[1:]), "float32")
        mean = ops.mean(x, axis=[1, 2, 3], keepdims=True)
        squares = ops.sum(ops.square(x - mean), axis=[1, 2, 3], keepdims=True)
        std = ops.sqrt(squares / (count - 1.0))
        normalized = (x - mean) / (std + self.epsilon)
        return ops.cast(normalized * _float32(self.gamma) + _float32(self.beta), dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def instance_norm() -> keras.layers.Layer:
    """PyTorch ``InstanceNorm2d`` defaults: no affine, eps 1e-5, biased variance."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=EPSILON, center=False, scale=False)


@keras.saving.register_keras_serializable(package="munit_tf")
class ConvBlock(keras.layers.Layer):
    """pad -> Conv2D (VALID, bias) -> norm -> activation: the reference's ``Conv2dBlock``.

    ``norm`` is "none", "in", "ln" or "adain"; with "adain" the caller passes ``adain=(beta,
    gamma)``."""

    upsample = False  # nearest x2 upsampling before the padding (UpsampleConvBlock)

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        strides: int = 1,
        padding: int = 0,
        norm: str = "none",
        activation: str = "relu",
        pad_type: str = "reflect",
        init: str = "kaiming",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = spectral_norm
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.norm_type = norm
        self.activation_type = activation
        self.pad_type = pad_type
        self.init = init
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="valid",
            kernel_initializer=initializer(init),
            bias_initializer="zeros",
            name="conv",
        )
        self.norm = {
            "none": None,
            "in": instance_norm(),
            "ln": MunitLayerNorm(name="norm"),
            "adain": AdaptiveInstanceNorm(name="norm"),
        }[norm]
        self.activation = activation_layer(activation)

    def build(self, input_shape):
        """The conv's weights are made here: ``convolve`` reads them without calling the layer."""
        self.conv.build((input_shape[0], None, None, input_shape[-1]))
        if self.spectral_norm:
            self.sn_u = spectral_vector(self, self.filters, "sn_u")
        self.built = True

    @property
    def kernel(self):
        """The conv's kernel, divided by its spectral norm with ``spectral_norm``."""
        if self.spectral_norm:
            return spectrally_normalized(self.conv.kernel, self.sn_u)
        return self.conv.kernel

    def power_iteration(self):
        if self.spectral_norm:
            power_iteration(self.conv.kernel, self.sn_u)

    def convolve(self, x):
        """The padded VALID convolution (upsampled first in ``UpsampleConvBlock``), in the form
        ``fast_conv`` is tracing (an exact, faster one unless it says "reference")."""
        kernel, bias = ops.cast(self.kernel, x.dtype), ops.cast(self.conv.bias, x.dtype)
        return fast_conv.conv2d(
            x, kernel, bias, self.padding, self.pad_type, self.strides, self.upsample
        )

    def call(self, x, adain=None):
        x = self.convolve(x)
        if self.norm_type == "adain":
            x = self.norm(x, *adain)
        elif self.norm is not None:
            x = self.norm(x)
        return self.activation(x) if self.activation is not None else x

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "norm": self.norm_type,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "init": self.init,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class UpsampleConvBlock(ConvBlock):
    """Nearest x2 upsampling followed by a ConvBlock (the decoder's ``Upsample`` + ``Conv2dBlock``).

    The same weights as the two layers it replaces; ``fast_conv`` runs the reference decoder's
    pair (5x5 kernel, reflection padding 2, stride 1) as one sub-pixel convolution.
    """

    upsample = True


@keras.saving.register_keras_serializable(package="munit_tf")
class ResBlock(keras.layers.Layer):
    """Two 3x3 ConvBlocks (the second without activation) plus the identity; nothing after the
    add."""

    def __init__(
        self,
        filters: int,
        norm: str = "in",
        activation: str = "relu",
        pad_type: str = "reflect",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.norm_type = norm
        self.activation_type = activation
        self.pad_type = pad_type
        self.spectral_norm = spectral_norm
        sn = {"spectral_norm": spectral_norm}
        self.conv1 = ConvBlock(filters, 3, 1, 1, norm, activation, pad_type, name="conv1", **sn)
        self.conv2 = ConvBlock(filters, 3, 1, 1, norm, "none", pad_type, name="conv2", **sn)

    def call(self, x, adain=None):
        """``adain``: ((beta1, gamma1), (beta2, gamma2)) for the two AdaIN layers, else None."""
        first, second = adain if adain is not None else (None, None)
        return x + self.conv2(self.conv1(x, adain=first), adain=second)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "norm": self.norm_type,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class MLP(keras.layers.Layer):
    """Style code -> AdaIN parameters: ``n_blk`` Dense layers, ReLU between, none at the end."""

    def __init__(
        self,
        hidden_dim: int,
        output_dim: int,
        n_blk: int = 3,
        activation: str = "relu",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.spectral_norm = spectral_norm
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.n_blk = n_blk
        self.activation_type = activation
        self.dense = [
            keras.layers.Dense(
                hidden_dim if i < n_blk - 1 else output_dim,
                kernel_initializer=initializer("kaiming"),
                bias_initializer="zeros",
                name=f"fc{i}",
            )
            for i in range(n_blk)
        ]
        self.activations = [activation_layer(activation) for _ in range(n_blk - 1)]

    def build(self, input_shape):
        if not self.spectral_norm:  # the Dense layers build on their first call, as ever
            return super().build(input_shape)
        units = input_shape[-1]
        for dense in self.dense:
            dense.build((None, units))
            units = dense.units
        if self.spectral_norm:
            self.sn_u = [
                spectral_vector(self, d.units, f"sn_u{i}") for i, d in enumerate(self.dense)
            ]
        self.built = True

    def power_iteration(self):
        if self.spectral_norm:
            for dense, u in zip(self.dense, self.sn_u):
                power_iteration(dense.kernel, u)

    def call(self, x):
        for i, dense in enumerate(self.dense):
            if self.spectral_norm:
                kernel = spectrally_normalized(dense.kernel, self.sn_u[i])
                x = ops.matmul(x, ops.cast(kernel, x.dtype)) + ops.cast(dense.bias, x.dtype)
            else:
                x = dense(x)
            if i < self.n_blk - 1 and self.activations[i] is not None:
                x = self.activations[i](x)
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "output_dim": self.output_dim,
            "n_blk": self.n_blk,
            "activation": self.activation_type,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class AvgPoolExcludePad(keras.layers.Layer):
    """3x3 stride-2 average pooling with 1 pixel of padding excluded from the count.

    ``nn.AvgPool2d(3, 2, padding=1, count_include_pad=False)``: TF's SAME pooling pads 0/1 instead
    of 1/1 and would shift the discriminator's image pyramid by a pixel.
    """

    def call(self, x):
        dtype = x.dtype
        x = _float32(x)
        padded = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        ones = ops.pad(ops.ones_like(x[:1, :, :, :1]), [[0, 0], [1, 1], [1, 1], [0, 0]])
        total = ops.average_pool(padded, 3, 2, padding="valid")
        count = ops.average_pool(ones, 3, 2, padding="valid")
        return ops.cast(total / count, dtype)
