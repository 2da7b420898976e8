"""Writing the ``Translator`` as a SavedModel, atomically, with progress shown."""

from __future__ import annotations

import os
import shutil
import time

import keras
import tensorflow as tf

from munit_tf import atomic, fast_conv
from munit_tf.errors import OutputExists
from munit_tf.model import MUNIT
from munit_tf.serving.image_input import DEFAULT_MAX_PIXELS
from munit_tf.serving.translator import Translator


def export(
    model: MUNIT,
    output: str,
    default_direction: str | None = None,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    log=None,
) -> str:
    """Write the SavedModel to ``output`` (e.g. ``serving/munit/1``) atomically; returns the path.

    It is written to a temporary sibling folder and renamed into place, so TF Serving, which
    polls the base folder for numeric versions, never sees a half-written version. With ``log``
    (e.g. ``print``), progress is shown: a bar over the traced signatures, then the save.
    """
    if default_direction is not None:
        model.direction(default_direction)  # an unknown one: a one-line error
    if tf.io.gfile.exists(output):
        if not overwrite:
            raise OutputExists(f"{output} already exists; pass --overwrite to replace it")
    staging = atomic.staging_dir(output)  # also removes what killed exports left behind
    translator = Translator(model, max_pixels)
    started = time.time()
    try:
        progress = None
        if log is not None:
            log(f"tracing {len(translator.functions)} serving signatures")
            progress = keras.utils.Progbar(len(translator.functions), unit_name="signature")
        signatures = translator.signatures(default_direction, progress)
        if log is not None:
            log(f"writing the SavedModel ({time.time() - started:.0f} s so far)")
        # Serving needs no gradients: saving those of the training-time memory forms
        # (fast_conv.conv_keeping_input) would only make every export slower.
        with fast_conv.form("serving"):
            tf.saved_model.save(
                translator,
                staging,
                signatures=signatures,
                options=tf.saved_model.SaveOptions(experimental_custom_gradients=False),
            )
        atomic.publish(staging, output)  # an existing version is renamed aside, never half deleted
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    if log is not None:
        log(f"exported in {time.time() - started:.0f} s")
    return output
