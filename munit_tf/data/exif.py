"""EXIF orientation of JPEG bytes, read and applied in the graph, so that the serving signatures,
``translate`` and training see a phone photo the way an image viewer shows it.

A camera stores the sensor's pixels as they were read out and records in the EXIF tag 0x0112
how to turn them upright; ``tf.io.decode_image`` ignores that tag. The parser reads the bytes as
untrusted input: every read is clamped to the first ``HEAD`` bytes (zero-padded), the segment
walk and the directory scan are bounded, and anything malformed means orientation 1 (as is).
Files that go through ``prepare`` are turned upright there already (PIL's ``exif_transpose``).
"""

from __future__ import annotations

import tensorflow as tf

HEAD = 1 << 17  # the EXIF segment (at most 64 KiB) comes first, or after a small JFIF one
MAX_SEGMENTS = 32  # JPEG segments walked before giving up
MAX_ENTRIES = 64  # directory entries looked at for the orientation tag
ORIENTATION_TAG = 0x0112
_PAD = 16


def _reader(image_bytes):
    """``byte(positions)``: the uint8 values at ``positions`` of the head, 0 past its end."""
    head = tf.strings.substr(image_bytes, 0, tf.minimum(tf.strings.length(image_bytes), HEAD))
    data = tf.io.decode_raw(tf.strings.join([head, b"\0" * _PAD]), tf.uint8)
    last = tf.cast(tf.size(data), tf.int64) - 1

    def byte(positions):
        return tf.cast(
            tf.gather(data, tf.clip_by_value(tf.cast(positions, tf.int64), 0, last)), tf.int64
        )

    return byte


def _exif_start(byte):
    """Position of the TIFF header inside the APP1 ``Exif\\0\\0`` segment, or -1."""
    exif = tf.constant([0x45, 0x78, 0x69, 0x66, 0, 0], tf.int64)

    def walk(count, position, found):
        marker = byte(position + 1)
        signature = byte(position + 4 + tf.range(6, dtype=tf.int64))
        is_exif = tf.logical_and(tf.equal(marker, 0xE1), tf.reduce_all(tf.equal(signature, exif)))
        length = byte(position + 2) * 256 + byte(position + 3)
        # start of scan / end / malformed
        valid = tf.logical_and(
            tf.equal(byte(position), 0xFF),
            tf.logical_not(tf.reduce_any(tf.equal(marker, [0xDA, 0xD9, 0x00]))),
        )
        found = tf.where(tf.logical_and(valid, is_exif), position + 10, tf.where(valid, found, -2))
        # 0xFF fill bytes before a marker
        step = tf.where(tf.equal(marker, 0xFF), tf.constant(1, tf.int64), 2 + length)
        return count + 1, position + step, found

    def searching(count, position, found):
        return tf.logical_and(count < MAX_SEGMENTS, tf.equal(found, -1))

    _, _, found = tf.while_loop(
        searching, walk, (tf.constant(0), tf.constant(2, tf.int64), tf.constant(-1, tf.int64))
    )
    return tf.maximum(found, -1)


@tf.function(input_signature=[tf.TensorSpec([], tf.string)], autograph=False)
def orientation(image_bytes):
    """The EXIF orientation (1-8) of JPEG bytes; 1 for other formats, no tag, or a malformed one.

    A graph function: called eagerly (``translate``, ``evaluate``) it runs as one graph, not as
    the while loop's Python iterations."""

    def from_jpeg():
        byte = _reader(image_bytes)
        tiff = _exif_start(byte)
        # "II"; "MM" big
        little = tf.logical_and(tf.equal(byte(tiff), 0x49), tf.equal(byte(tiff + 1), 0x49))

        def u16(positions):
            first, second = byte(positions), byte(positions + 1)
            return tf.where(little, second * 256 + first, first * 256 + second)

        def u32(position):
            high, low = u16(position), u16(position + 2)
            return tf.where(little, low * 65536 + high, high * 65536 + low)

        valid_tiff = tf.logical_and(
            tiff >= 0,
            tf.logical_and(
                tf.logical_or(
                    little,
                    tf.logical_and(tf.equal(byte(tiff), 0x4D), tf.equal(byte(tiff + 1), 0x4D)),
                ),
                tf.equal(u16(tiff + 2), 42),
            ),
        )
        directory = tiff + u32(tiff + 4)
        entries = directory + 2 + 12 * tf.range(MAX_ENTRIES, dtype=tf.int64)
        # type SHORT
        is_orientation = tf.logical_and(
            tf.range(MAX_ENTRIES, dtype=tf.int64) < u16(directory),
            tf.logical_and(tf.equal(u16(entries), ORIENTATION_TAG), tf.equal(u16(entries + 2), 3)),
        )
        values = tf.boolean_mask(u16(entries + 8), is_orientation)
        value = tf.cond(
            tf.logical_and(valid_tiff, tf.size(values) > 0),
            lambda: values[0],
            lambda: tf.constant(1, tf.int64),
        )
        return tf.cast(tf.where(tf.logical_and(value >= 1, value <= 8), value, 1), tf.int32)

    is_jpeg = tf.equal(tf.strings.substr(image_bytes, 0, 2), b"\xff\xd8")
    return tf.cond(is_jpeg, from_jpeg, lambda: tf.constant(1, tf.int32))


def upright(image, orientation_value):
    """``image`` (H, W, C) turned as EXIF orientation ``orientation_value`` says a viewer shows it
    (the same eight cases as PIL's ``ImageOps.exif_transpose``)."""
    transposed = lambda x: tf.transpose(x, [1, 0, 2])  # noqa: E731
    branches = [
        lambda: image,  # 1: as stored
        lambda: tf.reverse(image, [1]),  # 2: mirrored left-right
        lambda: tf.reverse(image, [0, 1]),  # 3: rotated 180°
        lambda: tf.reverse(image, [0]),  # 4: mirrored top-bottom
        lambda: transposed(image),  # 5: transposed
        lambda: tf.reverse(transposed(image), [1]),  # 6: rotated 90° clockwise
        lambda: tf.reverse(transposed(image), [0, 1]),  # 7: transversed
        lambda: tf.reverse(transposed(image), [0]),  # 8: rotated 90° counter-clockwise
    ]
    return tf.switch_case(tf.cast(orientation_value, tf.int32) - 1, branches)
