"""Metric maths on cases with known answers, and the ground-truth metrics on right and wrong
translations."""

import numpy as np
import pytest

from munit_tf.data import synthetic
from munit_tf.evaluation import ground_truth, metrics

RNG = np.random.default_rng(0)


def test_fid_of_a_set_with_itself_is_zero_and_gaussians_match_the_closed_form():
    features = RNG.normal(size=(500, 8))
    assert metrics.fid(features, features) == pytest.approx(0.0, abs=1e-6)
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    # diagonal case
    closed = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(
        closed, rel=1e-6
    )
    sample1 = RNG.normal(mu1, np.sqrt(var1), size=(20000, 3))
    sample2 = RNG.normal(mu2, np.sqrt(var2), size=(20000, 3))
    assert metrics.fid(sample1, sample2) == pytest.approx(closed, rel=0.05)


def test_fid_with_fewer_samples_than_dimensions_is_never_negative_and_matches_the_eigenvalues():
    # what the synthetic FID meets: 256 translations, 192 features, many of them always zero
    x = np.maximum(RNG.normal(size=(40, 64)) @ RNG.normal(size=(64, 96)), 0) * (
        RNG.random(96) > 0.4
    )
    y = np.maximum(RNG.normal(size=(40, 64)) @ RNG.normal(size=(64, 96)), 0) * (
        RNG.random(96) > 0.4
    )
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    # tr((S1 S2)^(1/2)) is the sum of the square roots of S1 S2's (real, non-negative) eigenvalues
    roots = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    expected = np.sum((x.mean(0) - y.mean(0)) ** 2) + np.trace(s1) + np.trace(s2) - 2 * roots
    assert metrics.fid(x, y) == pytest.approx(expected, rel=1e-6)
    assert metrics.fid(x, y) > 0
    assert 0 <= metrics.fid(x, x) <= 1e-6 * np.trace(s1)  # sqrtm's product gave -1e-5 here


def test_kid_is_the_unbiased_mmd_and_near_zero_for_one_distribution():
    x, y = RNG.normal(size=(6, 4)), RNG.normal(size=(5, 4))
    k = lambda a, b: (a @ b / 4 + 1) ** 3  # noqa: E731
    brute = (
        sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
        + sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
        - 2 * np.mean([k(a, b) for a in x for b in y])
    )
    assert metrics._polynomial_mmd(x, y) == pytest.approx(brute, rel=1e-9)
    same, _ = metrics.kid(
        RNG.normal(size=(400, 16)), RNG.normal(size=(400, 16)), subset_size=200, subsets=20
    )
    shifted, _ = metrics.kid(
        RNG.normal(size=(400, 16)),
        RNG.normal(1.0, 1.0, size=(400, 16)),
        subset_size=200,
        subsets=20,
    )
    assert abs(same) < 0.05 < shifted


def test_inception_scores_on_extreme_predictions():
    classes = 5
    one_hot = np.eye(classes)[np.arange(100) % classes]
    assert metrics.inception_score(one_hot) == pytest.approx(classes, rel=1e-6)
    assert metrics.inception_score(np.full((100, classes), 1 / classes)) == pytest.approx(1.0)
    # each input's 5 translations fall in 5 different classes
    spread = np.stack([np.eye(classes)] * 10)
    assert metrics.conditional_inception_score(spread) == pytest.approx(classes, rel=1e-6)
    collapsed = np.repeat(one_hot[:10, None], classes, axis=1)  # each input: always the same class
    assert metrics.conditional_inception_score(collapsed) == pytest.approx(1.0)


def _pairs(count=8, size=64, shift=0):
    a, b, masks = [], [], []
    for index in range(count):
        image_a, image_b, mask, _ = synthetic.render_pair(index, size=size)
        a.append(image_a / 255.0)
        b.append(image_b / 255.0)
        masks.append(np.roll(mask, shift, axis=(0, 1)).astype(bool))
    return np.stack(a), np.stack(b), np.stack(masks)


def test_ground_truth_metrics_score_perfect_translations_high_and_shifted_ones_low():
    a, b, masks = _pairs()
    _, _, shifted = _pairs(shift=12)
    assert ground_truth.content_iou(b, masks).min() > 0.9
    assert ground_truth.content_iou(b, shifted).max() < 0.5
    width, tolerance = round(synthetic.outline_width(64)), 2
    right = [
        ground_truth.outline_f_score(
            ground_truth.dark_pixels(x), ground_truth.outline_band(m, width), tolerance
        )
        for x, m in zip(a, masks)
    ]
    wrong = [
        ground_truth.outline_f_score(
            ground_truth.dark_pixels(x), ground_truth.outline_band(m, width), tolerance
        )
        for x, m in zip(a, shifted)
    ]
    assert min(right) > 0.8 and max(wrong) < 0.3


def test_diversity_style_and_colour_metrics():
    _, b, masks = _pairs()
    assert metrics.pairwise_diversity(np.stack([b[0]] * 3), masks[0]) == 0.0
    assert metrics.pairwise_diversity(b[:3], masks[0]) > 0.05
    with pytest.raises(ValueError):
        metrics.pairwise_diversity(b[:1])
    descriptors = ground_truth.style_descriptors(b, masks)
    assert descriptors.shape == (8, 7)
    _, other, other_masks = _pairs(count=8)
    # the same shapes painted flat grey: a different style
    grey = np.where(masks[..., None], 0.5, b)
    same = metrics.fid(descriptors, ground_truth.style_descriptors(other, other_masks))
    different = metrics.fid(descriptors, ground_truth.style_descriptors(grey, masks))
    assert same < 1e-6 < different
    assert ground_truth.color_error(b[0], masks[0], b[0], masks[0]) == 0.0
    assert ground_truth.color_error(b[0], masks[0], grey[0], masks[0]) > 0.01


def test_lpips_style_distance_is_zero_for_identical_features_only():
    features = [RNG.normal(size=(2, 4, 4, 8)), RNG.normal(size=(2, 2, 2, 16))]
    np.testing.assert_allclose(metrics.lpips_style_distance(features, features), 0.0, atol=1e-12)
    other = [f + RNG.normal(size=f.shape) for f in features]
    assert (metrics.lpips_style_distance(features, other) > 0.1).all()
    assert metrics.summarize([1.0, 3.0]) == {"mean": 2.0, "std": 1.0, "n": 2, "over": "seeds"}
