"""Serving: the translator's graph functions, their SavedModel and the clients that call them.

``image_input``  untrusted image bytes -> model input (declared size, resize, crop)
``translator``   ``Translator``: both generators and every serving signature
``saved_model``  ``export()``: the atomic SavedModel write
``client``       ``TranslatorClient``: the signatures of a SavedModel, checkpoint or model
"""

from munit_tf.serving.client import TranslatorClient
from munit_tf.serving.saved_model import export
from munit_tf.serving.translator import Translator

__all__ = ["Translator", "TranslatorClient", "export"]
