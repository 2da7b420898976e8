"""An exported LiteRT or ONNX folder behind the interface the evaluation protocol calls
(``TranslatorClient``'s ``signatures``, ``prepare``, ``multiple``, ``style_dim``), so a quantized
translator is scored with the very metrics of the SavedModel it came from."""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from munit_tf.portable import exporter
from munit_tf.serving.image_input import load_image


class PortableClient:
    def __init__(self, folder: str):
        self.manifest = json.load(open(os.path.join(folder, exporter.MANIFEST)))
        self.new_size = self.multiple = self.manifest["image_size"]  # square crops of this side
        self.style_dim = self.manifest["style_dim"]
        if self.manifest["format"] == "tflite":
            interpreter = exporter.litert_interpreter(os.path.join(folder, exporter.TFLITE_FILE))
            runners = {
                name: self._litert(interpreter, name, spec["output"]["name"])
                for name, spec in self.manifest["functions"].items()
            }
        else:
            runners = {
                name: self._onnx(exporter.onnx_session(os.path.join(folder, file)))
                for name, file in self.manifest["files"].items()
            }
        self.signatures = runners

    @staticmethod
    def _litert(interpreter, name, output):
        runner = interpreter.get_signature_runner(name)

        def call(**inputs):
            values = {k: np.asarray(v, np.float32) for k, v in inputs.items()}
            return {"images": tf.constant(runner(**values)[output])}

        return call

    @staticmethod
    def _onnx(session):
        def call(**inputs):
            values = {k: np.asarray(v, np.float32) for k, v in inputs.items()}
            return {"images": tf.constant(session.run(None, values)[0])}

        return call

    def prepare(self, data: bytes) -> np.ndarray:
        """Encoded bytes -> the export's square image in [-1, 1] (shorter side, centre crop)."""
        return load_image(tf.constant(data), 3, self.new_size, self.multiple).numpy()
