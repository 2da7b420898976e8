"""Untrusted image bytes -> the model's input, in the graph: the size a header declares (read
before anything is decoded) and the resize + crop that training applied.

The serving signatures and the ``translate`` command prepare images through here alike.
"""

from __future__ import annotations

import tensorflow as tf

from munit_tf.data import dataset as data_lib
from munit_tf.data import images
from munit_tf.pixels import from_uint8_tensor

DEFAULT_MAX_PIXELS = images.DEFAULT_MAX_PIXELS


def graph_assert(condition, message: str):
    """A check that fails the call with InvalidArgument and ``message``."""
    return tf.debugging.Assert(condition, [message])


def _header_bytes(image_bytes, offset: int, count: int):
    return tf.cast(
        tf.io.decode_raw(tf.strings.substr(image_bytes, offset, count), tf.uint8), tf.int64
    )


def _little_endian(image_bytes, offset: int, count: int):
    values = _header_bytes(image_bytes, offset, count)
    return tf.add_n([values[i] * 256**i for i in range(count)])


def declared_pixels(image_bytes):
    """Width x height declared by a PNG, JPEG, GIF or BMP header, read without decoding: every
    format ``tf.io.decode_image`` accepts, so nothing is decoded before its size is checked
    (0 for anything else, which the decoder then rejects)."""
    length = tf.strings.length(image_bytes)

    def png():
        size = _header_bytes(image_bytes, 16, 8)
        width = size[0] * 2**24 + size[1] * 2**16 + size[2] * 2**8 + size[3]
        height = size[4] * 2**24 + size[5] * 2**16 + size[6] * 2**8 + size[7]
        return width * height

    def jpeg():
        shape = tf.cast(tf.image.extract_jpeg_shape(image_bytes), tf.int64)
        return shape[0] * shape[1]

    def gif():  # the logical screen, which every frame is decoded into
        return _little_endian(image_bytes, 6, 2) * _little_endian(image_bytes, 8, 2)

    def bmp():  # signed 32-bit width and height (negative height: top-down rows)
        def signed(value):
            return tf.where(value >= 2**31, 2**32 - value, value)

        return signed(_little_endian(image_bytes, 18, 4)) * signed(
            _little_endian(image_bytes, 22, 4)
        )

    starts = lambda prefix, minimum: tf.logical_and(  # noqa: E731
        tf.equal(tf.strings.substr(image_bytes, 0, len(prefix)), prefix), length >= minimum
    )
    return tf.case(
        [
            (starts(b"\x89PNG", 24), png),
            (starts(b"\xff\xd8", 2), jpeg),
            (starts(b"GIF8", 10), gif),
            (starts(b"BM", 26), bmp),
        ],
        default=lambda: tf.constant(0, tf.int64),
    )


MAX_SIDE = 65535  # the largest side PNG and JPEG encoders take in one piece


def load_image(image_bytes, channels: int, new_size: int, multiple: int):
    """Encoded bytes -> float image in [-1, 1] as training saw it: the shorter side resized to
    ``new_size``, then centre-cropped so both sides are multiples of ``multiple``.

    An image so elongated that its longer side would exceed ``MAX_SIDE`` after that resize is an
    InvalidArgument, checked before resizing (a 1 x 30000 strip would become 256 x 7.7 million)."""
    image = data_lib.decode(image_bytes, channels)
    shape = tf.cast(tf.shape(image)[:2], tf.int64)
    check = graph_assert(
        tf.reduce_max(shape) * new_size <= MAX_SIDE * tf.reduce_min(shape),
        f"image is too elongated: resizing its shorter side to {new_size} would make the longer "
        f"side exceed {MAX_SIDE} pixels",
    )
    with tf.control_dependencies([check]):
        image = data_lib.resize_shorter_side(tf.identity(image), new_size)
    size = tf.shape(image)[:2]
    crop = size // multiple * multiple
    image = tf.image.crop_to_bounding_box(
        image, (size[0] - crop[0]) // 2, (size[1] - crop[1]) // 2, crop[0], crop[1]
    )
    return from_uint8_tensor(image)
