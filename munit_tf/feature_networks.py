"""The pretrained networks that distribution metrics look through: InceptionV3 and VGG16.

Both load ImageNet weights through Keras applications (a download on first use), or a local
weights file; ``"random"`` builds them with random weights, for testing the plumbing only: such
scores are not FID or LPIPS and are labelled as such in the output.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from munit_tf.errors import UserError

INCEPTION_SIZE = 299
VGG_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


class UnavailableWeights(UserError, RuntimeError):
    """The weights could not be loaded (no download possible, missing or wrong file)."""


def _load(builder, weights: str, what: str, hint: str = "", **kwargs) -> keras.Model:
    try:
        return builder(weights=None if weights == "random" else weights, **kwargs)
    except Exception as error:  # download failure, missing or incompatible file
        raise UnavailableWeights(
            f"{what} weights {weights!r} could not be loaded ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200]}){hint}"
        ) from None


def vgg16(weights: str = "imagenet", hint: str = "") -> keras.Model:
    """Keras' VGG16 without its classifier, for any image size; ``hint`` ends the error message."""
    return _load(
        keras.applications.VGG16,
        weights,
        "VGG16",
        hint,
        include_top=False,
        input_shape=(None, None, 3),
    )


class InceptionFeatures:
    """2048-d pool features of InceptionV3; images in [-1, 1] are resized bilinearly to 299x299."""

    resize = f"bilinear to {INCEPTION_SIZE}x{INCEPTION_SIZE}"

    def __init__(self, weights: str = "imagenet"):
        self.weights = weights
        self.model = _load(
            keras.applications.InceptionV3,
            weights,
            "InceptionV3",
            include_top=False,
            pooling="avg",
            input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
        )

    def __call__(self, images: np.ndarray, batch_size: int = 16) -> np.ndarray:
        out = []
        for start in range(0, len(images), batch_size):
            batch = tf.image.resize(
                np.asarray(images[start : start + batch_size], np.float32),
                [INCEPTION_SIZE, INCEPTION_SIZE],
                method="bilinear",
            )
            out.append(np.asarray(self.model(batch, training=False)))  # InceptionV3 expects [-1, 1]
        return np.concatenate(out)


class VGGFeatures:
    """VGG16 activations at five layers (for LPIPS-style distances); images in [-1, 1]."""

    def __init__(self, weights: str = "imagenet"):
        self.weights = weights
        vgg = vgg16(weights)
        self.model = keras.Model(vgg.input, [vgg.get_layer(name).output for name in VGG_LAYERS])

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        x = keras.applications.vgg16.preprocess_input(
            (np.asarray(images, np.float32) + 1.0) * 127.5
        )
        return [np.asarray(f) for f in self.model(x, training=False)]
