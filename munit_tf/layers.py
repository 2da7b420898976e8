"""MUNIT's building blocks as Keras 3 layers.

Each block matches the reference's ``networks.py`` numerically: explicit padding then a VALID
convolution (``Conv2dBlock``), residual blocks without an activation after the addition, AdaIN
with per-sample statistics and externally supplied [beta, gamma], and MUNIT's own LayerNorm
(unbiased std, eps added to the std, per-channel gamma drawn from U(0, 1)), which is *not*
``keras.layers.LayerNormalization``. Instance norm is Keras 3's ``GroupNormalization(groups=-1)``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

EPSILON = 1e-5  # PyTorch's default for InstanceNorm2d, batch_norm and MUNIT's LayerNorm

# Some convolutions run in an equivalent, faster form (``upsample_conv5``, ``conv_in_blocks``,
# ``one_image_as_two``): the same weights and result, the arithmetic in another order or split.
# Benchmarks set this to False to count the reference's FLOPs.
FAST_FORMS = True
# Convolutions to fewer channels are too small to gain from ``one_image_as_two``; its extra
# branch only makes their SavedModels slower to write.
SPLIT_MIN_CHANNELS = 64


def initializer(name: str) -> keras.initializers.Initializer:
    """The reference's ``weights_init``: kaiming-normal (fan-in, untruncated) or N(0, 0.02)."""
    if name == "kaiming":
        return keras.initializers.VarianceScaling(2.0, mode="fan_in", distribution="untruncated_normal")
    if name == "gaussian":
        return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)
    raise ValueError(f"unknown initializer {name!r}")


def activation_layer(name: str) -> keras.layers.Layer | None:
    if name == "relu":
        return keras.layers.ReLU()
    if name == "lrelu":
        return keras.layers.LeakyReLU(negative_slope=0.2)
    if name == "tanh":
        return keras.layers.Activation("tanh")
    if name == "none":
        return None
    raise ValueError(f"unknown activation {name!r}")


def pad2d(x, amount: int, pad_type: str):
    if amount == 0:
        return x
    widths = [[0, 0], [amount, amount], [amount, amount], [0, 0]]
    return ops.pad(x, widths, mode="reflect" if pad_type == "reflect" else "constant")


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
        self.gamma = self.add_weight(shape=(channels,), initializer=keras.initializers.RandomUniform(0.0, 1.0),
                                     name="gamma")
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

    ``norm`` is "none", "in", "ln" or "adain"; with "adain" the caller passes ``adain=(beta, gamma)``.
    """

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, padding: int = 0, norm: str = "none",
                 activation: str = "relu", pad_type: str = "reflect", init: str = "kaiming", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides, self.padding = filters, kernel_size, strides, padding
        self.norm_type, self.activation_type, self.pad_type, self.init = norm, activation, pad_type, init
        self.conv = keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="valid",
                                        kernel_initializer=initializer(init), bias_initializer="zeros", name="conv")
        self.norm = {"none": None, "in": instance_norm(), "ln": MunitLayerNorm(name="norm"),
                     "adain": AdaptiveInstanceNorm(name="norm")}[norm]
        self.activation = activation_layer(activation)

    def build(self, input_shape):
        """The conv's weights are made here: ``convolve`` reads them without calling the layer."""
        self.conv.build((input_shape[0], None, None, input_shape[-1]))
        self.built = True

    @property
    def in_blocks(self) -> bool:
        """A stride-1 conv to a few channels (the decoder's 7x7 conv to RGB) runs as ``conv_in_blocks``."""
        return FAST_FORMS and self.strides == 1 and self.kernel_size % 2 == 1 and self.filters <= 4

    def convolve(self, x):
        kernel, bias = ops.cast(self.conv.kernel, x.dtype), ops.cast(self.conv.bias, x.dtype)
        if self.in_blocks:
            return conv_in_blocks(x, kernel, self.padding, self.pad_type) + bias
        return prepared_conv(x, kernel, bias, lambda x: pad2d(x, self.padding, self.pad_type), self.strides)

    def call(self, x, adain=None):
        x = self.convolve(x)
        if self.norm_type == "adain":
            x = self.norm(x, *adain)
        elif self.norm is not None:
            x = self.norm(x)
        return self.activation(x) if self.activation is not None else x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "norm": self.norm_type,
                "activation": self.activation_type, "pad_type": self.pad_type, "init": self.init}


# Nearest x2 upsampling, reflection pad 2, 5x5 conv (the decoder's upsampling block) in sub-pixel
# form: every output pixel of phase (row parity, column parity) sees a 3x3 low-resolution window,
# and the 5 taps along each axis fall onto its 3 pixels as these rows say. One 3x3 conv with
# 4x the output channels, then depth_to_space, computes the same thing with 36/100 of the FLOPs.
_PHASE_TAPS = ((
    (1, 1, 0, 0, 0), (0, 0, 1, 1, 0), (0, 0, 0, 0, 1)),  # even output rows/columns
    ((1, 0, 0, 0, 0), (0, 1, 1, 0, 0), (0, 0, 0, 1, 1)))  # odd


def upsample_conv5(x, kernel, bias):
    """``conv5x5_valid(reflect_pad(upsample_nearest_x2(x), 2)) + bias``, exactly, at 36% of the FLOPs.

    The sub-pixel form computes the conv over the upsampled image of ``x`` padded symmetrically
    by one pixel. That differs from the reflection-padded upsampled image in one tap of the
    outermost output rows and columns only (first row, tap 0: x[1] is read as x[0]; last row,
    tap 4: x[n-2] as x[n-1]; the same for columns), so a 1x5 (5x1) conv of the difference of
    the first two (last two) rows (columns) of ``x`` corrects each border exactly.
    """
    channels = kernel.shape[-1]
    taps = ops.convert_to_tensor(_PHASE_TAPS, kernel.dtype)  # (parity, 3, 5)
    phases = ops.einsum("yak,xbl,klio->abiyxo", taps, taps, kernel)
    phases = ops.reshape(phases, (3, 3, kernel.shape[2], 4 * channels))
    inner = prepared_conv(x, phases, prepare=lambda x: ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric"))
    inner = tf.nn.depth_to_space(inner, 2)  # channel block (row parity, column parity) -> pixel

    def rows(difference, taps):  # true (reflecting) horizontal layout, one output row
        up = ops.pad(ops.repeat(difference, 2, axis=2), [[0, 0], [0, 0], [2, 2], [0, 0]], mode="reflect")
        return ops.conv(up, taps, padding="valid")

    def columns(difference, taps):  # the sub-pixel form's vertical layout, one output column
        up = ops.repeat(ops.pad(difference, [[0, 0], [1, 1], [0, 0], [0, 0]], mode="symmetric"), 2, axis=1)
        return ops.conv(up, taps, padding="valid")

    height, width = tf.shape(inner)[1], tf.shape(inner)[2]
    top = rows(x[:, 1:2] - x[:, :1], kernel[:1])
    bottom = rows(x[:, -2:-1] - x[:, -1:], kernel[4:])
    left = columns(x[:, :, 1:2] - x[:, :, :1], kernel[:, :1])
    right = columns(x[:, :, -2:-1] - x[:, :, -1:], kernel[:, 4:])
    zeros_rows = tf.zeros(tf.stack([tf.shape(x)[0], height - 2, width, channels]), inner.dtype)
    zeros_columns = tf.zeros(tf.stack([tf.shape(x)[0], height, width - 2, channels]), inner.dtype)
    correction = (ops.concatenate([top, zeros_rows, bottom], axis=1)
                  + ops.concatenate([left, zeros_columns, right], axis=2))
    return inner + correction + bias


def prepared_conv(x, kernel, bias=None, prepare=None, strides: int = 1):
    """``conv2d(prepare(x), kernel, strides, VALID) + bias`` in the form for where it runs: traced
    with an unknown batch (a serving signature), a stride-1 conv may run one image as two halves
    (``one_image_as_two``); otherwise ``conv_keeping_input``, whose gradient keeps ``x`` only."""
    if strides == 1 and x.shape[0] is None:
        def conv(x):
            out = ops.conv(x, kernel)
            return out if bias is None else tf.nn.bias_add(out, bias)

        return one_image_as_two(prepare(x) if prepare else x, conv, conv, kernel.shape[0], kernel.shape[-1])
    return conv_keeping_input(x, kernel, bias, prepare, strides)


def conv_keeping_input(x, kernel, bias=None, prepare=None, strides: int = 1):
    """``conv2d(prepare(x), kernel, strides, VALID) + bias`` whose backward pass keeps ``x``, not
    ``prepare(x)``.

    ``prepare`` (reflection padding, space_to_depth) copies a feature map, and autodiff would
    keep that copy for the kernel's gradient beside ``x``, which the activation before it keeps
    anyway. The gradient here makes the copy again instead, a memory-bound pass that costs far
    less than the convolution. At 256² a training step's tensors peak 0.4 GB lower (1.76 ->
    1.37 GB), and the process at 3.6 GB instead of 3.9 GB.
    """
    prepare = prepare or (lambda x: x)
    window = [1, strides, strides, 1]
    with_bias = bias is not None

    @tf.custom_gradient
    def conv(x, kernel, *bias):
        out = tf.nn.conv2d(prepare(x), kernel, window, "VALID")
        if with_bias:
            out = tf.nn.bias_add(out, bias[0])

        def gradient(d_out):
            # Not before it is needed: without the dependency the executor would make the copy
            # as soon as x exists, during the forward pass, and hold it until here.
            with tf.GradientTape() as tape, tf.control_dependencies([d_out]):
                tape.watch(x)
                prepared = prepare(x)
            d_prepared = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(prepared), filter=kernel,
                                                        out_backprop=d_out, strides=window, padding="VALID")
            d_kernel = tf.raw_ops.Conv2DBackpropFilter(input=prepared, filter_sizes=tf.shape(kernel),
                                                       out_backprop=d_out, strides=window, padding="VALID")
            d_bias = (tf.raw_ops.BiasAddGrad(out_backprop=d_out),) if with_bias else ()
            return (tape.gradient(prepared, x, output_gradients=d_prepared), d_kernel) + d_bias

        return out, gradient

    return conv(x, kernel, *([bias] if with_bias else []))


def one_image_as_two(x, conv, plain, size: int, channels: int):
    """``plain(x)``, a stride-1 VALID conv of kernel ``size`` to ``channels``; for a single image,
    ``conv`` on its top and bottom halves (each with the rows the kernel needs) as a batch of two.

    oneDNN splits a convolution's work over the batch: on one 64x64 image it reaches 80% of the
    speed it has on two half-height images. The halves' outputs stack back by a reshape and every
    output pixel is computed as before; single-image translation got about 15% faster. Only a
    batch unknown when traced (the serving signatures) is split, when it turns out to be one
    image: in training, where the batch is known, it gained nothing and kept the halves in
    memory for the backward pass (+0.1 GB at 256²). Convolutions to fewer than
    ``SPLIT_MIN_CHANNELS`` are too small to gain; their extra branch only slows saving.
    """
    if not FAST_FORMS or x.shape[0] is not None or channels < SPLIT_MIN_CHANNELS:
        return plain(x)

    def halves(x):
        height, width, channels = tf.shape(x)[1], tf.shape(x)[2], x.shape[-1]
        out_height = height - size + 1
        half = (out_height + 1) // 2
        x = tf.pad(x, [[0, 0], [0, 2 * half - out_height], [0, 0], [0, 0]])  # an even output height
        tiles = tf.reshape(tf.stack([x[:, :half + size - 1], x[:, half:]], axis=1),
                           [2, half + size - 1, width, channels])
        out = conv(tiles)
        return tf.reshape(out, [1, 2 * half, tf.shape(out)[2], out.shape[-1]])[:, :out_height]

    return tf.cond(tf.equal(tf.shape(x)[0], 1), lambda: halves(x), lambda: plain(x))


def _block_taps(size: int) -> list:
    """taps[m][t][r][u] = 1 where kernel row u reaches input row 2(p + m) + t from output row 2p + r."""
    return [[[[float(u == 2 * m + t - r) for u in range(size)] for r in range(2)] for t in range(2)]
            for m in range(size // 2 + 1)]


def conv_in_blocks(x, kernel, padding: int = 0, pad_type: str = "reflect"):
    """``conv2d(pad2d(x, padding, pad_type), kernel, stride 1, VALID)`` for an odd kernel, computed
    on 2x2 pixel blocks.

    A k x k conv to a few channels keeps the CPU's vector units mostly idle (3 output channels
    of 16 lanes). On 2x2 blocks of the input (space_to_depth) it becomes a (k//2+1)^2 conv from
    4x the channels to 4x the channels, one per output phase, then depth_to_space: for the
    decoder's 7x7 conv to RGB, 2.3x faster at 1.3x the FLOPs.
    """
    size, _, in_channels, out_channels = kernel.shape
    taps = ops.convert_to_tensor(_block_taps(size), kernel.dtype)  # (m, t, r, u)
    height, width = tf.shape(x)[1] + 2 * padding, tf.shape(x)[2] + 2 * padding

    def prepare(x):  # padded, whole blocks (the extra row and column are cropped), blocks as channels
        x = pad2d(x, padding, pad_type)
        return tf.nn.space_to_depth(tf.pad(x, [[0, 0], [0, height % 2], [0, width % 2], [0, 0]]), 2)

    blocks = ops.einsum("mtru,nwsv,uvio->mntwirso", taps, taps, kernel)
    blocks = ops.reshape(blocks, (size // 2 + 1, size // 2 + 1, 4 * in_channels, 4 * out_channels))
    out = tf.nn.depth_to_space(conv_keeping_input(x, blocks, prepare=prepare), 2)
    return out[:, :height - size + 1, :width - size + 1]


@keras.saving.register_keras_serializable(package="munit_tf")
class UpsampleConvBlock(ConvBlock):
    """Nearest x2 upsampling followed by a ConvBlock (the decoder's ``Upsample`` + ``Conv2dBlock``).

    The same weights as the two layers it replaces; with the reference's 5x5 kernel, reflection
    padding of 2 and stride 1 the pair runs as one sub-pixel convolution (``upsample_conv5``).
    """

    @property
    def sub_pixel(self) -> bool:
        return FAST_FORMS and (self.kernel_size, self.padding, self.strides, self.pad_type) == (5, 2, 1, "reflect")

    def convolve(self, x):
        if not self.sub_pixel:
            return super().convolve(ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2))
        return upsample_conv5(x, ops.cast(self.conv.kernel, x.dtype), ops.cast(self.conv.bias, x.dtype))


@keras.saving.register_keras_serializable(package="munit_tf")
class ResBlock(keras.layers.Layer):
    """Two 3x3 ConvBlocks (the second without activation) plus the identity; nothing after the add."""

    def __init__(self, filters: int, norm: str = "in", activation: str = "relu", pad_type: str = "reflect",
                 **kwargs):
        super().__init__(**kwargs)
        self.filters, self.norm_type, self.activation_type, self.pad_type = filters, norm, activation, pad_type
        self.conv1 = ConvBlock(filters, 3, 1, 1, norm, activation, pad_type, name="conv1")
        self.conv2 = ConvBlock(filters, 3, 1, 1, norm, "none", pad_type, name="conv2")

    def call(self, x, adain=None):
        """``adain``: ((beta1, gamma1), (beta2, gamma2)) for the two AdaIN layers, else None."""
        first, second = adain if adain is not None else (None, None)
        return x + self.conv2(self.conv1(x, adain=first), adain=second)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "norm": self.norm_type,
                "activation": self.activation_type, "pad_type": self.pad_type}


@keras.saving.register_keras_serializable(package="munit_tf")
class MLP(keras.layers.Layer):
    """Style code -> AdaIN parameters: ``n_blk`` Dense layers, ReLU between, none at the end."""

    def __init__(self, hidden_dim: int, output_dim: int, n_blk: int = 3, activation: str = "relu", **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim, self.output_dim, self.n_blk, self.activation_type = hidden_dim, output_dim, n_blk, activation
        self.dense = [keras.layers.Dense(hidden_dim if i < n_blk - 1 else output_dim,
                                         kernel_initializer=initializer("kaiming"), bias_initializer="zeros",
                                         name=f"fc{i}") for i in range(n_blk)]
        self.activations = [activation_layer(activation) for _ in range(n_blk - 1)]

    def call(self, x):
        for i, dense in enumerate(self.dense):
            x = dense(x)
            if i < self.n_blk - 1 and self.activations[i] is not None:
                x = self.activations[i](x)
        return x

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim, "output_dim": self.output_dim,
                "n_blk": self.n_blk, "activation": self.activation_type}


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
