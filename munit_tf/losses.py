"""MUNIT's loss terms (paper Eq. 1-5, reference ``trainer.py`` / ``MsImageDis``).

All terms are computed in float32 whatever the compute dtype, and are plain means over the
local batch: the model divides by the number of replicas so that summed replica gradients equal
the global-batch gradient.
"""

from __future__ import annotations

import keras
from keras import ops

from munit_tf import feature_networks
from munit_tf.layers import EPSILON


def _f32(x):
    return ops.cast(x, "float32")


def recon_loss(prediction, target):
    """L1, the reference's ``recon_criterion``: mean |prediction - target|."""
    return ops.mean(ops.abs(_f32(prediction) - _f32(target)))


def dis_loss(real_outputs, fake_outputs, gan_type: str = "lsgan"):
    """Discriminator loss summed over scales.

    lsgan (the reference): mean((D(fake) - 0)^2) + mean((D(real) - 1)^2);
    nsgan: BCE(sigmoid(D(fake)), 0) + BCE(sigmoid(D(real)), 1), in logit form;
    hinge (imaginaire's MUNIT): mean(relu(1 + D(fake))) + mean(relu(1 - D(real))).
    """
    total = 0.0
    for real, fake in zip(real_outputs, fake_outputs):
        real, fake = _f32(real), _f32(fake)
        if gan_type == "lsgan":
            total += ops.mean(ops.square(fake)) + ops.mean(ops.square(real - 1.0))
        elif gan_type == "hinge":
            total += ops.mean(ops.relu(1.0 + fake)) + ops.mean(ops.relu(1.0 - real))
        else:
            total += ops.mean(ops.softplus(fake)) + ops.mean(ops.softplus(-real))
    return total


def gen_adv_loss(fake_outputs, gan_type: str = "lsgan"):
    """Generator adversarial loss summed over scales: lsgan mean((D(fake) - 1)^2), nsgan
    mean(softplus(-D(fake))), hinge -mean(D(fake))."""
    total = 0.0
    for fake in fake_outputs:
        fake = _f32(fake)
        if gan_type == "lsgan":
            total += ops.mean(ops.square(fake - 1.0))
        elif gan_type == "hinge":
            total += -ops.mean(fake)
        else:
            total += ops.mean(ops.softplus(-fake))
    return total


def l2_penalty(variables, weight_decay: float):
    """``wd / 2 * sum(theta^2)``: its gradient is PyTorch Adam's coupled weight decay ``wd *
    theta``.

    Adding it to the loss (rather than to the gradients) keeps it correct under loss scaling.
    """
    if not weight_decay:
        return 0.0
    return (
        0.5 * weight_decay * ops.sum(ops.stack([ops.sum(ops.square(_f32(v))) for v in variables]))
    )


_VGG_BGR_MEAN = (103.939, 116.779, 123.680)


@keras.saving.register_keras_serializable(package="munit_tf")
class PerceptualLoss(keras.layers.Layer):
    """Domain-invariant perceptual loss: MSE of instance-normalised VGG16 relu5_3 features.

    As in the reference code (not the paper text): VGG16 up to relu5_3 with pool4 removed,
    Caffe preprocessing of [-1, 1] RGB images, instance norm (no affine) on the features.
    ``weights``: "imagenet" (Keras applications, needs the download), a path to a local VGG16
    weights file, or "random" (tests only: the loss is then not a perceptual loss).
    """

    def __init__(self, weights: str = "imagenet", **kwargs):
        super().__init__(**kwargs)
        self.weights_source = weights
        self.features = build_vgg_features(weights)
        self.features.trainable = False

    def _normalized_features(self, images):
        x = (_f32(images) + 1.0) * 127.5
        x = x[..., ::-1] - ops.convert_to_tensor(_VGG_BGR_MEAN, "float32")
        features = _f32(self.features(x))
        mean, variance = ops.moments(features, axes=[1, 2], keepdims=True)
        return (features - mean) * ops.rsqrt(variance + EPSILON)

    def call(self, images, targets):
        return ops.mean(
            ops.square(self._normalized_features(images) - self._normalized_features(targets))
        )

    def get_config(self):
        return {**super().get_config(), "weights": self.weights_source}


def build_vgg_features(weights: str = "imagenet") -> keras.Model:
    """VGG16 blocks 1-3 with their pools, block 4 convs without pool4, block 5 convs to relu5_3."""
    vgg = feature_networks.vgg16(
        weights,
        hint=" for the perceptual loss. Set loss.vgg_weights to a local VGG16 "
        "notop weights file, or loss.vgg_w to 0.",
    )
    x = inputs = keras.Input((None, None, 3))
    for layer in vgg.layers[1:]:
        if layer.name == "block4_pool":
            continue
        x = layer(x)
        if layer.name == "block5_conv3":
            break
    return keras.Model(inputs, x, name="vgg16_relu5_3")
