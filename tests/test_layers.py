"""The MUNIT-specific layers against NumPy transcriptions of the reference's formulas."""

import numpy as np
import tensorflow as tf

from munit_tf import layers

RNG = np.random.default_rng(0)


def test_adain_matches_instance_statistics_with_beta_then_gamma():
    x = RNG.normal(2.0, 3.0, (2, 5, 6, 4)).astype("float32")
    beta = RNG.normal(size=(2, 4)).astype("float32")
    gamma = RNG.normal(size=(2, 4)).astype("float32")
    out = np.asarray(layers.AdaptiveInstanceNorm()(x, beta, gamma))
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)  # biased, as F.batch_norm in training mode
    expected = (x - mean) / np.sqrt(var + 1e-5) * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_munit_layer_norm_uses_unbiased_std_plus_eps_and_uniform_gamma():
    x = RNG.normal(1.0, 2.0, (3, 4, 5, 6)).astype("float32")
    norm = layers.MunitLayerNorm()
    out = np.asarray(norm(x))
    gamma, beta = np.asarray(norm.gamma), np.asarray(norm.beta)
    assert np.all((gamma >= 0) & (gamma < 1)) and gamma.std() > 0  # U(0, 1), not ones
    assert np.all(beta == 0)
    flat = x.reshape(3, -1)
    mean = flat.mean(1)[:, None, None, None]
    std = flat.std(1, ddof=1)[:, None, None, None]
    expected = (x - mean) / (std + 1e-5) * gamma + beta
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    # Not Keras' LayerNormalization: biased variance under the square root differs measurably.
    biased = (x - mean) / np.sqrt(flat.var(1)[:, None, None, None] + 1e-5) * gamma
    assert np.abs(out - biased).max() > 1e-3


def test_instance_norm_has_no_affine_and_biased_variance():
    x = RNG.normal(3.0, 2.0, (2, 7, 7, 5)).astype("float32")
    norm = layers.instance_norm()
    out = np.asarray(norm(x))
    assert norm.trainable_weights == []
    expected = (x - x.mean((1, 2), keepdims=True)) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_avg_pool_excludes_padding_from_the_count():
    x = RNG.normal(size=(1, 7, 6, 2)).astype("float32")
    out = np.asarray(layers.AvgPoolExcludePad()(x))
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=np.nan)
    rows, cols = (7 + 2 - 3) // 2 + 1, (6 + 2 - 3) // 2 + 1
    expected = np.array(
        [
            [
                np.nanmean(padded[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3], axis=(0, 1))
                for j in range(cols)
            ]
            for i in range(rows)
        ]
    )
    np.testing.assert_allclose(out[0], expected, rtol=1e-5, atol=1e-6)


def test_conv_block_pads_by_reflection_before_a_valid_convolution():
    x = RNG.normal(size=(1, 8, 8, 3)).astype("float32")
    block = layers.ConvBlock(4, 3, 1, 1, norm="none", activation="none")
    out = np.asarray(block(x))
    kernel, bias = (np.asarray(w) for w in block.conv.weights)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    expected = tf.nn.conv2d(padded, kernel, 1, "VALID").numpy() + bias
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_initializers_are_untruncated_kaiming_for_g_and_gaussian_for_d():
    kaiming = layers.ConvBlock(256, 3, init="kaiming")
    kaiming(np.zeros((1, 3, 3, 256), "float32"))
    weights = np.asarray(kaiming.conv.kernel)
    std = np.sqrt(2.0 / (3 * 3 * 256))
    assert abs(weights.std() / std - 1) < 0.02
    assert np.abs(weights).max() > 3 * std  # a truncated normal stops at 2 std
    assert np.all(np.asarray(kaiming.conv.bias) == 0)
    gaussian = layers.ConvBlock(64, 4, init="gaussian")
    gaussian(np.zeros((1, 4, 4, 64), "float32"))
    assert abs(np.asarray(gaussian.conv.kernel).std() - 0.02) < 0.001


def test_residual_block_has_no_activation_after_the_addition():
    block = layers.ResBlock(4, norm="none", activation="relu")
    x = -np.abs(RNG.normal(size=(1, 6, 6, 4))).astype("float32") - 10.0
    out = np.asarray(block(x))
    assert out.min() < 0  # a ReLU after the add would clip these large negatives
