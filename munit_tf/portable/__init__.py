"""The translator off TensorFlow: LiteRT (TFLite) and ONNX files of fixed-size functions."""

from munit_tf.portable.exporter import FORMATS, QUANTIZATIONS, check_request, export
from munit_tf.portable.functions import float32_copy, portable_functions

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "check_request",
    "export",
    "float32_copy",
    "portable_functions",
]
