"""Loss terms on known inputs, the coupled weight decay, the perceptual network and StepLR."""

import numpy as np
import pytest
import tensorflow as tf

from munit_tf import losses
from munit_tf.optimizers import StepLR


def test_recon_loss_is_mean_absolute_error():
    a = np.array([[1.0, -2.0], [0.5, 0.0]], "float32")
    b = np.array([[0.0, 0.0], [0.0, 1.0]], "float32")
    assert float(losses.recon_loss(a, b)) == pytest.approx((1 + 2 + 0.5 + 1) / 4)


def test_lsgan_losses_sum_over_scales_without_a_half():
    real = [np.ones((1, 4, 4, 1), "float32"), np.ones((1, 2, 2, 1), "float32")]
    fake = [np.zeros((1, 4, 4, 1), "float32"), np.zeros((1, 2, 2, 1), "float32")]
    assert float(losses.dis_loss(real, fake)) == 0.0
    assert float(losses.dis_loss(fake, real)) == pytest.approx(4.0)  # (1 + 1) per scale
    assert float(losses.gen_adv_loss(fake)) == pytest.approx(2.0)
    half = [np.full((1, 2, 2, 1), 0.5, "float32")]
    assert float(losses.dis_loss(half, half)) == pytest.approx(0.5)


def test_nsgan_losses_are_binary_cross_entropy_on_logits():
    real, fake = [np.array([[2.0]], "float32")], [np.array([[-1.0]], "float32")]
    bce = lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p))  # noqa: E731
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert float(losses.dis_loss(real, fake, "nsgan")) == pytest.approx(
        bce(sigmoid(-1.0), 0) + bce(sigmoid(2.0), 1), rel=1e-5
    )
    assert float(losses.gen_adv_loss(fake, "nsgan")) == pytest.approx(
        bce(sigmoid(-1.0), 1), rel=1e-5
    )


def test_l2_penalty_gradient_is_coupled_weight_decay():
    variables = [
        tf.Variable(np.array([1.0, -2.0], "float32")),
        tf.Variable(np.array([[3.0]], "float32")),
    ]
    with tf.GradientTape() as tape:
        penalty = losses.l2_penalty(variables, 1e-4)
    gradients = tape.gradient(penalty, variables)
    for variable, gradient in zip(variables, gradients):
        np.testing.assert_allclose(gradient.numpy(), 1e-4 * variable.numpy(), rtol=1e-6)
    assert losses.l2_penalty(variables, 0.0) == 0.0


def test_vgg_features_stop_at_relu5_3_without_pool4():
    features = losses.build_vgg_features("random")
    names = [layer.name for layer in features.layers]
    assert "block4_pool" not in names and "block3_pool" in names and names[-1] == "block5_conv3"
    assert features(np.zeros((1, 64, 64, 3), "float32")).shape == (1, 8, 8, 512)


def test_perceptual_loss_is_zero_for_identical_images_and_positive_otherwise():
    loss = losses.PerceptualLoss("random")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    y = rng.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    assert float(loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(x, y)) > 0.01
    assert loss.trainable_weights == []


def test_unavailable_vgg_weights_give_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="loss.vgg_weights"):
        losses.build_vgg_features(str(tmp_path / "missing.h5"))


def test_step_lr_halves_at_the_reference_iteration():
    schedule = StepLR(1e-4, 100, 0.5)
    # The reference steps the scheduler before each update: iteration 99 already runs at lr/2.
    assert float(schedule(0)) == pytest.approx(1e-4)
    assert float(schedule(98)) == pytest.approx(1e-4)
    assert float(schedule(99)) == pytest.approx(5e-5)
    assert float(schedule(199)) == pytest.approx(2.5e-5)
