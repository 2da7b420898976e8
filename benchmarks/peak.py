"""The machine's convolution peak, measured where it is needed.

These 2-core machines drift by several percent within minutes, so each benchmark measures the
peak just before and just after its own timing and reports the mean beside its result.
"""

from __future__ import annotations

import time

import tensorflow as tf


def conv_peak(dtype: str = "float32", repeats: int = 20) -> float:
    """GFLOP/s of a 3x3, 256->256 convolution on a 64x64 map (batch 4)."""
    x = tf.random.normal([4, 64, 64, 256], dtype=dtype)
    w = tf.random.normal([3, 3, 256, 256], dtype=dtype)
    conv = tf.function(lambda a, b: tf.nn.conv2d(a, b, 1, "SAME"))
    conv(x, w).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = conv(x, w)
    out.numpy()
    seconds = (time.perf_counter() - start) / repeats
    return 2 * 4 * 64 * 64 * 256 * 256 * 9 / seconds / 1e9


def around(measure, dtype: str = "float32"):
    """(measure(), the mean of the peak measured just before and just after it, in GFLOP/s)."""
    before = conv_peak(dtype)
    result = measure()
    return result, (before + conv_peak(dtype)) / 2
