"""Images between the model's range and files: [-1, 1] floats <-> uint8, and PNG bytes.

The model sees images in [-1, 1]; people, PNG files and TF Serving clients see uint8. Every
conversion goes through here, so all of them round and clip alike.
"""

from __future__ import annotations

import io

import numpy as np
import tensorflow as tf
from PIL import Image


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8, rounded and clipped (no min-max stretch, so colours compare)."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(
        np.uint8
    )


def to_uint8_tensor(images):
    """``to_uint8`` in the graph (the serving signatures)."""
    return tf.cast(tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0, 255), tf.uint8)


def from_uint8_tensor(images):
    """uint8 (or [0, 255] floats) -> [-1, 1] float32, in the graph."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 (H, W, C) or (H, W) array as PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
