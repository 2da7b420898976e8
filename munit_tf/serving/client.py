"""The serving signatures, called alike whatever holds them: an exported SavedModel folder, a
training checkpoint or run folder, or a MUNIT model in memory (wrapped in the very ``Translator``
that ``export`` saves, so every path runs the same graph functions and gives the same pixels).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from munit_tf import fast_conv
from munit_tf.config import UnknownDomain
from munit_tf.model import MUNIT, direction_domains
from munit_tf.serving.image_input import load_image
from munit_tf.serving.translator import Translator


class TracedOnUse(Mapping):
    """A ``Translator``'s signatures, each traced the first time it is used, in ``fast_conv``'s
    serving form as ``export`` traces it: a command that calls one direction does not wait for
    every direction's functions (five per direction) to be traced."""

    def __init__(self, functions: dict):
        self.functions, self.traced = functions, {}

    def __getitem__(self, name):
        if name not in self.traced:
            with fast_conv.form("serving"):
                self.traced[name] = self.functions[name].get_concrete_function()
        return self.traced[name]

    def __iter__(self):
        return iter(self.functions)

    def __len__(self):
        return len(self.functions)


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
            self.signatures = TracedOnUse(module.functions)
        self.new_size = int(module.image_size.numpy())
        self.multiple = int(module.size_multiple.numpy())
        self.style_dim = int(module.style_dimension.numpy())
        names = getattr(module, "domain_names", None)  # SavedModels before N domains: a and b
        self.domains = tuple(n.decode() for n in names.numpy()) if names is not None else ("a", "b")

    def direction(self, direction: str | None = None, source=None, target=None) -> str:
        """A direction this model translates, ``SOURCE2TARGET``, from a direction or the domains'
        names (default: the first domain to the second); else a one-line error naming them."""
        if direction is None:
            source = source or self.domains[0]
            target = target or next(d for d in self.domains if d != source)
            for name in (source, target):
                if name not in self.domains:
                    raise UnknownDomain(name, self.domains)
            direction = f"{source}2{target}"
        direction_domains(direction, self.domains)
        return direction

    def prepare(self, data: bytes) -> np.ndarray:
        """Encoded bytes -> float image in [-1, 1], as the bytes signature prepares it."""
        return load_image(tf.constant(data), 3, self.new_size, self.multiple).numpy()
