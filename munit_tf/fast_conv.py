"""The reference's convolutions in exact, faster forms: same weights, same results, less time or
memory on a CPU. ``layers.py`` calls only ``conv2d``; what it computes is always the reference's
``pad -> (nearest x2 upsampling) -> VALID conv + bias``, and ``form`` chooses how:

``"fast"`` (the default: training and in-memory translation)
    the decoder's upsample + 5x5 conv as one sub-pixel 3x3 conv with border corrections
    (``upsample_conv5``), stride-1 convs to at most 4 channels on 2x2 pixel blocks
    (``conv_in_blocks``), and every other conv with a gradient that keeps its unpadded input
    only (``conv_keeping_input``).
``"serving"`` (the exported signatures, set by ``serving.Translator`` while it traces them)
    as fast, and a single image runs through each conv to 64 or more channels as its two halves
    (``one_image_as_two``) where TensorFlow runs oneDNN's kernels (``cpu_left_out``).
``"reference"``
    the reference's order of operations with autodiff gradients; benchmarks count its FLOPs.
``"portable"`` (the LiteRT and ONNX exports, ``munit_tf.portable``)
    the reference's order, with the nearest x2 upsampling as concatenations and reshapes of
    static sizes: ops that every runtime has built in (a repeat leaves the height unknown, and
    LiteRT then runs the next conv as a TensorFlow op).

The form is a mode of the calling thread, set with ``with fast_conv.form("serving"):`` around
tracing, so the layers keep the reference's signatures. Measurements: ``benchmarks/PROFILE.md``.
"""

from __future__ import annotations

import contextlib
import functools
import threading

import tensorflow as tf
from keras import ops

from munit_tf import cpu

FORMS = ("fast", "serving", "reference", "portable")
# The fast forms' parts, each of which can be left out (``without``): the sub-pixel upsampling
# conv, the 2x2-block conv to a few channels, the gradient that keeps the unpadded input, and
# (serving only) the single image run as two halves. Which ones a CPU runs: ``cpu_left_out``.
PARTS = ("sub_pixel", "in_blocks", "keep_input", "split")
SPLIT_MIN_CHANNELS = 64  # smaller convs gain nothing from the split; its branch only slows saving
_state = threading.local()


@contextlib.contextmanager
def form(name: str):
    """Trace the convolutions inside in form ``name`` (one of ``FORMS``)."""
    if name not in FORMS:
        raise ValueError(f"form must be one of {FORMS}; got {name!r}")
    previous = current_form()
    _state.form = name
    try:
        yield
    finally:
        _state.form = previous


def current_form() -> str:
    return getattr(_state, "form", "fast")


@contextlib.contextmanager
def without(*parts: str):
    """Trace the convolutions inside with exactly ``parts`` left out (each computes the same
    thing its plain way; none: every part, whatever this CPU's choice): how a benchmark measures
    what each part gains on a CPU."""
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"parts must be among {PARTS}; got {sorted(unknown)}")
    previous = getattr(_state, "without", None)
    _state.without = frozenset(parts)
    try:
        yield
    finally:
        _state.without = previous


def left_out() -> frozenset:
    """The parts left out where the calling thread traces now: ``without``'s, else this CPU's
    (``cpu_left_out``)."""
    chosen = getattr(_state, "without", None)
    return cpu_left_out() if chosen is None else chosen


@functools.cache
def cpu_left_out() -> frozenset:
    """The parts measured to lose where TensorFlow runs on this CPU (``benchmarks/CPUS.md``).
    The split of one image into halves helps oneDNN's convolutions, which share their work over
    the batch (1.07-1.2x on AVX-512 EPYCs, whose TensorFlow runs oneDNN by default), and costs
    1-5% under TensorFlow's own Eigen kernels (an AVX2-only EPYC, where oneDNN is off by
    default): left out where TensorFlow runs no oneDNN kernels. Every other part gains on every
    CPU measured (sub-pixel 3.4x, 2x2 blocks 1.6x per layer on AVX2; PROFILE.md on AVX-512)."""
    return frozenset() if cpu.tensorflow_uses_onednn() else frozenset({"split"})


def uses(part: str) -> bool:
    return part not in left_out()


def pad2d(x, amount: int, pad_type: str):
    if amount == 0:
        return x
    widths = [[0, 0], [amount, amount], [amount, amount], [0, 0]]
    return ops.pad(x, widths, mode="reflect" if pad_type == "reflect" else "constant")


def upsample_nearest(x):
    return ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)


def upsample_nearest_static(x):
    """``upsample_nearest`` for an input of known height and width: each pixel doubled along the
    width (its channels repeated, then read as two pixels), then each row doubled likewise."""
    _, height, width, channels = x.shape
    wide = ops.reshape(ops.concatenate([x, x], axis=-1), (-1, height, 2 * width, channels))
    return ops.reshape(ops.concatenate([wide, wide], axis=2), (-1, 2 * height, 2 * width, channels))


def is_sub_pixel(kernel_size: int, padding: int, strides: int, pad_type: str) -> bool:
    """Whether an upsampling conv has the reference decoder's shape that ``upsample_conv5``
    takes."""
    return (kernel_size, padding, strides, pad_type) == (5, 2, 1, "reflect")


def is_in_blocks(kernel_size: int, strides: int, filters: int) -> bool:
    """Whether a conv is a stride-1, odd-sized conv to a few channels (the decoder's to RGB)."""
    return strides == 1 and kernel_size % 2 == 1 and filters <= 4


def conv2d(x, kernel, bias, padding: int, pad_type: str, strides: int = 1, upsample: bool = False):
    """``conv2d_valid(pad2d(upsample_nearest(x) if upsample else x), kernel, strides) + bias``,
    computed in the current ``form``."""
    size, filters = kernel.shape[0], kernel.shape[-1]
    mode = current_form()
    if mode in ("reference", "portable"):
        if upsample:
            x = (upsample_nearest if mode == "reference" else upsample_nearest_static)(x)
        return tf.nn.bias_add(ops.conv(pad2d(x, padding, pad_type), kernel, strides=strides), bias)
    split = mode == "serving" and uses("split")
    if upsample:
        if is_sub_pixel(size, padding, strides, pad_type) and uses("sub_pixel"):
            return upsample_conv5(x, kernel, bias, split=split)
        x = upsample_nearest(x)
    if is_in_blocks(size, strides, filters) and uses("in_blocks"):
        return conv_in_blocks(x, kernel, padding, pad_type) + bias
    return _conv(x, kernel, bias, lambda x: pad2d(x, padding, pad_type), strides, split=split)


def _conv(x, kernel, bias=None, prepare=None, strides: int = 1, split: bool = False):
    """``conv2d(prepare(x), kernel, strides, VALID) + bias``: in serving, a stride-1 conv may run a
    single image as two halves; otherwise with the gradient that keeps ``x`` only (or autodiff's,
    where ``keep_input`` is left out)."""
    if not uses("keep_input") and not (split and strides == 1):
        out = tf.nn.conv2d(prepare(x) if prepare else x, kernel, strides, "VALID")
        return out if bias is None else tf.nn.bias_add(out, bias)
    if split and strides == 1:

        def conv(x):
            out = ops.conv(x, kernel)
            return out if bias is None else tf.nn.bias_add(out, bias)

        return one_image_as_two(
            prepare(x) if prepare else x, conv, conv, kernel.shape[0], kernel.shape[-1]
        )
    return conv_keeping_input(x, kernel, bias, prepare, strides)


# Nearest x2 upsampling, reflection pad 2, 5x5 conv (the decoder's upsampling block) in sub-pixel
# form: every output pixel of phase (row parity, column parity) sees a 3x3 low-resolution window,
# and the 5 taps along each axis fall onto its 3 pixels as these rows say. One 3x3 conv with
# 4x the output channels, then depth_to_space, computes the same thing with 36/100 of the FLOPs.
# odd
_PHASE_TAPS = (
    ((1, 1, 0, 0, 0), (0, 0, 1, 1, 0), (0, 0, 0, 0, 1)),  # even output rows/columns
    ((1, 0, 0, 0, 0), (0, 1, 1, 0, 0), (0, 0, 0, 1, 1)),
)


def upsample_conv5(x, kernel, bias, split: bool = False):
    """``conv5x5_valid(reflect_pad(upsample_nearest_x2(x), 2)) + bias``, exactly, at 36% of the
    FLOPs.

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
    inner = _conv(
        x,
        phases,
        prepare=lambda x: ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric"),
        split=split,
    )
    inner = tf.nn.depth_to_space(inner, 2)  # channel block (row parity, column parity) -> pixel

    def rows(difference, taps):  # true (reflecting) horizontal layout, one output row
        up = ops.pad(
            ops.repeat(difference, 2, axis=2), [[0, 0], [0, 0], [2, 2], [0, 0]], mode="reflect"
        )
        return ops.conv(up, taps, padding="valid")

    def columns(difference, taps):  # the sub-pixel form's vertical layout, one output column
        up = ops.repeat(
            ops.pad(difference, [[0, 0], [1, 1], [0, 0], [0, 0]], mode="symmetric"), 2, axis=1
        )
        return ops.conv(up, taps, padding="valid")

    height, width = tf.shape(inner)[1], tf.shape(inner)[2]
    top = rows(x[:, 1:2] - x[:, :1], kernel[:1])
    bottom = rows(x[:, -2:-1] - x[:, -1:], kernel[4:])
    left = columns(x[:, :, 1:2] - x[:, :, :1], kernel[:, :1])
    right = columns(x[:, :, -2:-1] - x[:, :, -1:], kernel[:, 4:])
    zeros_rows = tf.zeros(tf.stack([tf.shape(x)[0], height - 2, width, channels]), inner.dtype)
    zeros_columns = tf.zeros(tf.stack([tf.shape(x)[0], height, width - 2, channels]), inner.dtype)
    correction = ops.concatenate([top, zeros_rows, bottom], axis=1) + ops.concatenate(
        [left, zeros_columns, right], axis=2
    )
    return inner + correction + bias


def conv_keeping_input(x, kernel, bias=None, prepare=None, strides: int = 1):
    """``conv2d(prepare(x), kernel, strides, VALID) + bias`` whose backward pass keeps ``x``, not
    ``prepare(x)``.

    ``prepare`` (reflection padding, space_to_depth) copies a feature map, and autodiff would
    keep that copy for the kernel's gradient beside ``x``, which the activation before it keeps
    anyway. The gradient here makes the copy again instead, a memory-bound pass that costs far
    less than the convolution and lowers a training step's peak memory.
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
            d_prepared = tf.raw_ops.Conv2DBackpropInput(
                input_sizes=tf.shape(prepared),
                filter=kernel,
                out_backprop=d_out,
                strides=window,
                padding="VALID",
            )
            d_kernel = tf.raw_ops.Conv2DBackpropFilter(
                input=prepared,
                filter_sizes=tf.shape(kernel),
                out_backprop=d_out,
                strides=window,
                padding="VALID",
            )
            d_bias = (tf.raw_ops.BiasAddGrad(out_backprop=d_out),) if with_bias else ()
            return (tape.gradient(prepared, x, output_gradients=d_prepared), d_kernel) + d_bias

        return out, gradient

    return conv(x, kernel, *([bias] if with_bias else []))


def one_image_as_two(x, conv, plain, size: int, channels: int):
    """``plain(x)``, a stride-1 VALID conv of kernel ``size`` to ``channels``; for a single image,
    ``conv`` on its top and bottom halves (each with the rows the kernel needs) as a batch of two.

    oneDNN splits a convolution's work over the batch, so one image keeps the cores less busy
    than two half-height ones. The halves' outputs stack back by a reshape and every output pixel
    is computed as before. A batch known when traced to be one image is split (the bytes
    signature's content encoder); a batch unknown then is split when it turns out to be one image
    (the signatures' decoders); a larger known batch never. In training it gained nothing and
    kept the halves in memory for the backward pass, so only the serving form uses it.
    Convolutions to fewer than ``SPLIT_MIN_CHANNELS`` are too small to gain; their extra branch
    only slows saving.
    """
    if channels < SPLIT_MIN_CHANNELS or x.shape[0] not in (None, 1):
        return plain(x)

    def halves(x):
        height, width, channels = tf.shape(x)[1], tf.shape(x)[2], x.shape[-1]
        out_height = height - size + 1
        half = (out_height + 1) // 2
        x = tf.pad(x, [[0, 0], [0, 2 * half - out_height], [0, 0], [0, 0]])  # an even output height
        tiles = tf.reshape(
            tf.stack([x[:, : half + size - 1], x[:, half:]], axis=1),
            [2, half + size - 1, width, channels],
        )
        out = conv(tiles)
        return tf.reshape(out, [1, 2 * half, tf.shape(out)[2], out.shape[-1]])[:, :out_height]

    if x.shape[0] == 1:
        return halves(x)
    return tf.cond(tf.equal(tf.shape(x)[0], 1), lambda: halves(x), lambda: plain(x))


def _block_taps(size: int) -> list:
    """taps[m][t][r][u] = 1 where kernel row u reaches input row 2(p + m) + t from output row 2p +
    r."""
    return [
        [[[float(u == 2 * m + t - r) for u in range(size)] for r in range(2)] for t in range(2)]
        for m in range(size // 2 + 1)
    ]


def conv_in_blocks(x, kernel, padding: int = 0, pad_type: str = "reflect"):
    """``conv2d(pad2d(x, padding, pad_type), kernel, stride 1, VALID)`` for an odd kernel, computed
    on 2x2 pixel blocks.

    A k x k conv to a few channels keeps the CPU's vector units mostly idle (3 output channels
    of 16 lanes). On 2x2 blocks of the input (space_to_depth) it becomes a (k//2+1)^2 conv from
    4x the channels to 4x the channels, one per output phase, then depth_to_space: more FLOPs,
    far less time.
    """
    size, _, in_channels, out_channels = kernel.shape
    taps = ops.convert_to_tensor(_block_taps(size), kernel.dtype)  # (m, t, r, u)
    height, width = tf.shape(x)[1] + 2 * padding, tf.shape(x)[2] + 2 * padding

    # padded, whole blocks (the extra row and column are cropped), blocks as channels
    def prepare(
        x,
    ):
        x = pad2d(x, padding, pad_type)
        return tf.nn.space_to_depth(tf.pad(x, [[0, 0], [0, height % 2], [0, width % 2], [0, 0]]), 2)

    blocks = ops.einsum("mtru,nwsv,uvio->mntwirso", taps, taps, kernel)
    blocks = ops.reshape(blocks, (size // 2 + 1, size // 2 + 1, 4 * in_channels, 4 * out_channels))
    out = tf.nn.depth_to_space(_conv(x, blocks, prepare=prepare), 2)
    return out[:, : height - size + 1, : width - size + 1]
