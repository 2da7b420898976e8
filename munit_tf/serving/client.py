"""The serving signatures, called alike whatever holds them: an exported SavedModel folder, a
training checkpoint or run folder, or a MUNIT model in memory (wrapped in the very ``Translator``
that ``export`` saves, so every path runs the same graph functions and gives the same pixels).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from munit_tf.model import MUNIT
from munit_tf.serving.image_input import load_image
from munit_tf.serving.translator import Translator


class TranslatorClient:
    """The serving signatures of a SavedModel folder, a checkpoint / run folder, or a MUNIT
    model."""

    def __init__(self, model, lazy: bool = False):
        """``lazy`` (a model in memory): trace each function when first called, in the current
        ``fast_conv`` form, not every signature up front: for evaluating during training."""
        if isinstance(model, MUNIT):
            module = Translator(model)
            self.signatures = module.functions if lazy else module.signatures()
        elif tf.io.gfile.exists(os.path.join(model, "saved_model.pb")):
            module = tf.saved_model.load(model)
            self.signatures = module.signatures
        else:
            from munit_tf.training import load_model

            module = Translator(load_model(model))
            self.signatures = module.signatures()
        self.new_size = int(module.image_size.numpy())
        self.multiple = int(module.size_multiple.numpy())
        self.style_dim = int(module.style_dimension.numpy())

    def prepare(self, data: bytes) -> np.ndarray:
        """Encoded bytes -> float image in [-1, 1], as the bytes signature prepares it."""
        return load_image(tf.constant(data), 3, self.new_size, self.multiple).numpy()
