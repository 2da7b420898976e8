"""benchmarks/decoder_capacity.py: the probe's phase-blind loss and its oracle style are what
its findings say they are."""

import math

import numpy as np
from paths import benchmark_module

from munit_tf.data import synthetic

probe = benchmark_module("decoder_capacity")


def _stripes(size=32, period=8, shift=0):
    x = (np.arange(size) + shift) % period < period // 2
    image = np.where(x[None, :, None], 0.8, -0.6) * np.ones((size, size, 3))
    return image[None].astype(np.float32)


def test_the_spectrum_loss_ignores_a_textures_phase_and_l1_does_not():
    stripes, shifted = _stripes(), _stripes(shift=4)  # half a period off: the colours swap
    flat = np.full_like(stripes, stripes.mean())
    # pixel L1 prefers no texture at all to the right texture drawn at the wrong phase
    assert probe.probe_loss("l1", shifted, stripes) > probe.probe_loss("l1", flat, stripes)
    # the amplitude spectrum does not see the shift; the flat image misses the stripes' energy
    spectrum = probe.amplitude_spectrum
    assert np.allclose(spectrum(shifted), spectrum(stripes), atol=1e-4)
    assert probe.probe_loss("spectrum", shifted, stripes) < probe.probe_loss(
        "spectrum", flat, stripes
    )


def test_oracle_features_read_the_true_style_and_a_half_turn_is_the_same_angle():
    style = synthetic.Style(2, (0.1, 0.2, 0.3), (0.9, 0.8, 0.7), 3.0, 0.4)
    turned = synthetic.Style(2, (0.1, 0.2, 0.3), (0.9, 0.8, 0.7), 3.0, 0.4 + math.pi)
    features = probe.oracle_features([style.vector(), turned.vector()])
    assert features.shape == (2, probe.ORACLE_FEATURES)
    assert np.allclose(features[0], features[1], atol=1e-6)
    assert features[0, :5].tolist() == [0, 0, 1, 0, 0]  # the texture, one-hot
    assert np.allclose(features[0, 5:11], [0.1, 0.2, 0.3, 0.9, 0.8, 0.7])
    other = probe.oracle_features(
        [synthetic.Style(2, (0.1,) * 3, (0.9,) * 3, 3.0, 0.4 + 1).vector()]
    )
    assert not np.allclose(other[0, -2:], features[0, -2:])
