"""Metrics for any image translator, on NumPy arrays. Images are float arrays in [0, 1], (..., H, W,
3).

- ``pairwise_diversity``: mean over pairs (i < j) of the translations of one input of
  mean |x_i - x_j| over a region (the source's dilated foreground, where it is known).

Distribution metrics on features (e.g. InceptionV3 pool features):

- FID = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2)).
- KID = unbiased MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets.
- IS = exp(E_x KL(p(y|x) || p(y))); CIS = exp(E_x1 E_x2|x1 KL(p(y|x2) || p(y|x1))), where p(y|x1)
  is the prediction pooled over the translations of one input x1 (the reference's protocol).
- ``lpips_style_distance``: mean over layers of the spatial mean of the squared difference of
  channel-unit-normalised features (LPIPS without its learned per-channel weights).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from munit_tf.errors import InvalidInput


def pairwise_diversity(translations: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean |x_i - x_j| over pairs of translations (K, H, W, 3) of one input, inside ``region``."""
    k = len(translations)
    if k < 2:
        raise InvalidInput("diversity needs at least two translations per input")
    region = np.ones(translations.shape[1:3], bool) if region is None else np.asarray(region, bool)
    if not region.any():
        region = np.ones_like(region)
    distances = [
        np.abs(translations[i] - translations[j])[region].mean()
        for i in range(k)
        for j in range(i + 1, k)
    ]
    return float(np.mean(distances))


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), never negative. The trace of the square
    root comes from the symmetric S1^(1/2) S2 S1^(1/2) (same eigenvalues as S1 S2) through
    ``eigh``: a general ``sqrtm`` of the non-symmetric product goes wrong when the covariances
    are singular (fewer samples than feature dimensions), by hundreds on 192-d features."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = (
        np.atleast_2d(sigma1).astype(np.float64),
        np.atleast_2d(sigma2).astype(np.float64),
    )
    values, vectors = linalg.eigh((sigma1 + sigma1.T) / 2)
    root1 = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    product = root1 @ ((sigma2 + sigma2.T) / 2) @ root1
    trace_covmean = np.sum(np.sqrt(np.clip(linalg.eigvalsh((product + product.T) / 2), 0, None)))
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_covmean
    return float(max(distance, 0.0))


def fid(features1: np.ndarray, features2: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors (rows)."""
    features1, features2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    return frechet_distance(
        features1.mean(0),
        np.cov(features1, rowvar=False),
        features2.mean(0),
        np.cov(features2, rowvar=False),
    )


def _polynomial_mmd(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
    m, n = len(x), len(y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kid(
    features1: np.ndarray,
    features2: np.ndarray,
    subset_size: int = 1000,
    subsets: int = 100,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets."""
    features1, features2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    size = min(subset_size, len(features1), len(features2))
    if size < 2:
        raise InvalidInput("KID needs at least two feature vectors per set")
    rng = np.random.default_rng(seed)
    values = [
        _polynomial_mmd(
            features1[rng.choice(len(features1), size, replace=False)],
            features2[rng.choice(len(features2), size, replace=False)],
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def _kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    p, q = np.clip(p, 1e-12, 1.0), np.clip(q, 1e-12, 1.0)
    return np.sum(p * (np.log(p) - np.log(q)), axis=-1)


def inception_score(probabilities: np.ndarray) -> float:
    """probabilities: (N, classes) -> exp(E_x KL(p(y|x) || p(y)))."""
    probabilities = np.asarray(probabilities, np.float64)
    marginal = probabilities.mean(0, keepdims=True)
    return float(np.exp(_kl_rows(probabilities, marginal).mean()))


def conditional_inception_score(probabilities: np.ndarray) -> float:
    """probabilities: (N inputs, K translations, classes); p(y|x1) pooled over each input's K
    outputs."""
    probabilities = np.asarray(probabilities, np.float64)
    pooled = probabilities.mean(1, keepdims=True)
    return float(np.exp(_kl_rows(probabilities, pooled).mean()))


def lpips_style_distance(features_x: list, features_y: list) -> np.ndarray:
    """Per pair of images: mean over layers of mean_hw |f_x/|f_x| - f_y/|f_y||^2
    (channel-normalised)."""
    total = 0.0
    for fx, fy in zip(features_x, features_y):
        fx = np.asarray(fx, np.float64)
        fy = np.asarray(fy, np.float64)
        fx = fx / (np.linalg.norm(fx, axis=-1, keepdims=True) + 1e-10)
        fy = fy / (np.linalg.norm(fy, axis=-1, keepdims=True) + 1e-10)
        total = total + np.square(fx - fy).sum(-1).mean(axis=(1, 2))
    return total / len(features_x)


def summarize(values, over: str = "seeds") -> dict:
    """{"mean", "std", "n", "over"} of a list of values, one per ``over`` (seeds, pairs)."""
    values = np.asarray(values, np.float64)
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "n": int(values.size),
        "over": over,
    }
