"""Ground-truth metrics of the synthetic dataset, whose masks and styles are known. Images are
float arrays in [0, 1], (..., H, W, 3).

What is scored depends on the domain a translation is drawn in (its target): domain a (outlines)
has ``outline_f_score``, domain b (textured silhouettes) ``content_iou`` and ``style_distance``,
domain c (dotted outlines, ``--synthetic-domains 3``) ``outline_f_score`` (of every drawn pixel,
not only the dark ones: c's dots have any colour) and ``style_distance``; every direction has
``diversity``. Whatever the source domain, its mask is the content to keep.

- ``content_iou`` (into b): IoU(source silhouette mask, foreground of the translation), where the
  foreground is every pixel farther than ``FOREGROUND_THRESHOLD`` (max over channels) from the
  plain background colour, leaving out the 1-pixel band along the silhouette's edge (anti-aliased,
  so ambiguous). 1 when the shape survives exactly.
- ``outline_f_score`` (into a or c): the translation's drawn pixels (a: luminance < 0.5; c: the
  foreground) against the true
  outline (the boundary band of the source mask): precision = share of predicted pixels within
  ``tolerance`` pixels of the true outline, recall = share of the true outline within
  ``tolerance`` pixels of a predicted one, F = 2PR / (P + R).
- ``style_descriptors``: per-image foreground mean and standard deviation of R, G, B and mean
  gradient magnitude; their Frechet distance between translations and real images is the
  ``style_distance`` (real b images over their masks, real c images over their dots).
- ``color_error``: Euclidean distance between the mean foreground colours of two images (RGB in
  [0, 1]); with a reference image, how closely example-guided translation follows it.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from munit_tf.data.synthetic import BACKGROUND, outline_width
from munit_tf.evaluation.metrics import (
    conditional_inception_score,
    fid,
    frechet_distance,
    inception_score,
    kid,
    pairwise_diversity,
)

FOREGROUND_THRESHOLD = 0.15


def foreground(
    images: np.ndarray, background=BACKGROUND, threshold: float = FOREGROUND_THRESHOLD
) -> np.ndarray:
    """Boolean (..., H, W): pixels far from the plain background."""
    return (
        np.abs(np.asarray(images, np.float32) - np.asarray(background, np.float32)).max(-1)
        > threshold
    )


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def content_iou(translations: np.ndarray, masks: np.ndarray, boundary: int = 1) -> np.ndarray:
    """Per image: IoU of the translation's foreground with the source mask, leaving out the pixels
    within ``boundary`` of the silhouette's edge (anti-aliasing makes them ambiguous)."""
    scores = []
    for found, mask in zip(foreground(translations), masks):
        keep = ~outline_band(mask, boundary) if boundary else np.ones_like(mask, bool)
        scores.append(iou(found & keep, np.asarray(mask, bool) & keep))
    return np.array(scores)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return np.asarray(mask, bool)
    return ndimage.binary_dilation(mask, structure=np.ones((2 * radius + 1, 2 * radius + 1), bool))


def outline_band(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """The boundary of a silhouette: mask pixels within ``width`` of the outside, and vice versa."""
    mask = np.asarray(mask, bool)
    inner = mask & ~ndimage.binary_erosion(mask, iterations=width, border_value=0)
    outer = ~mask & ndimage.binary_dilation(mask, iterations=width)
    return inner | outer


def dark_pixels(images: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    luminance = np.asarray(images, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return luminance < threshold


def outline_f_score(predicted: np.ndarray, target: np.ndarray, tolerance: int = 1) -> float:
    predicted, target = np.asarray(predicted, bool), np.asarray(target, bool)
    if not predicted.any() or not target.any():
        return 0.0
    precision = (predicted & dilate(target, tolerance)).sum() / predicted.sum()
    recall = (target & dilate(predicted, tolerance)).sum() / target.sum()
    return float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0


def style_descriptors(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(N, 7): foreground mean and std of R, G, B and mean gradient magnitude of the luminance."""
    rows = []
    for image, mask in zip(np.asarray(images, np.float32), np.asarray(masks, bool)):
        if not mask.any():
            mask = np.ones_like(mask)
        pixels = image[mask]
        luminance = image @ np.array([0.299, 0.587, 0.114], np.float32)
        gy, gx = np.gradient(luminance)
        rows.append(
            np.concatenate([pixels.mean(0), pixels.std(0), [np.hypot(gx, gy)[mask].mean()]])
        )
    return np.array(rows, np.float64)


def mean_color(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask, bool)
    return np.asarray(image, np.float64)[mask if mask.any() else np.ones_like(mask)].mean(0)


def color_error(
    image: np.ndarray, mask: np.ndarray, reference: np.ndarray, reference_mask: np.ndarray
) -> float:
    return float(np.linalg.norm(mean_color(image, mask) - mean_color(reference, reference_mask)))


# ------------------------------------------------------------------------------------------
# One direction's scores from arrays: what evaluate, the training log and the curves compute
# ------------------------------------------------------------------------------------------
def _moments(features: np.ndarray):
    return features.mean(0), np.cov(features, rowvar=False)


def style_distance(translations: np.ndarray, target_images: np.ndarray, target_masks) -> float:
    """Frechet distance of style descriptors: translations (their own foreground) vs real target
    images (their masks)."""
    ours = style_descriptors(translations, foreground(translations))
    real = style_descriptors(target_images, target_masks)
    return frechet_distance(*_moments(ours), *_moments(real))


def outline_f_scores(translations: np.ndarray, masks: np.ndarray, drawn=dark_pixels) -> np.ndarray:
    """Per image: the outline F-score of (N, H, W, 3) translations against their masks' outlines,
    with the outline width and tolerance of the image size. ``drawn``: which pixels of an image
    are its strokes (the dark ones for domain a, every foreground pixel for domain c)."""
    size = translations.shape[-2]
    width, tolerance = max(1, round(outline_width(size))), max(1, round(size / 32))
    return np.array(
        [
            outline_f_score(drawn(t), outline_band(m, width), tolerance)
            for t, m in zip(translations, masks)
        ]
    )


# the domains drawn as outlines, and which pixels of an image are its strokes: a's dark lines,
# c's dots (of any colour: every foreground pixel)
STROKES = {"a": dark_pixels, "c": foreground}


def style_pixels(domain: str, images: np.ndarray, masks) -> np.ndarray:
    """Where a real image of ``domain`` shows its style: b's whole silhouette (its mask), c's
    dots (its foreground)."""
    return foreground(images) if domain == "c" else np.asarray(masks, bool)


def diversity(translations: np.ndarray, masks) -> float:
    """Mean pairwise diversity of (N, K, H, W, 3) translations inside each source's dilated mask."""
    return float(
        np.mean([pairwise_diversity(t, dilate(m, 2)) for t, m in zip(translations, masks)])
    )


def score_direction(
    target_domain: str, translations: np.ndarray, source: dict, target: dict
) -> dict:
    """Ground-truth metrics of the translations into ``target_domain`` ("a", "b" or "c" of the
    synthetic data). ``translations``: (N, K, H, W, 3) in [0, 1] of the N sources; ``source`` /
    ``target``: ``{"images": [0, 1] (N, H, W, 3), "masks": (N, H, W)}``.

    Into b: content_iou, style_distance (first style of each input vs real b); into a:
    outline_f_score; into c: outline_f_score of its drawn pixels, style_distance. Every
    direction: diversity, which needs K >= 2 and is left out otherwise.
    """
    flat = translations.reshape(-1, *translations.shape[2:])
    masks = np.repeat(np.asarray(source["masks"]), translations.shape[1], 0)
    if target_domain in STROKES:
        drawn = STROKES[target_domain]
        scores = {"outline_f_score": float(outline_f_scores(flat, masks, drawn).mean())}
    else:
        scores = {"content_iou": float(content_iou(flat, masks).mean())}
    if target_domain in ("b", "c"):
        real = style_pixels(target_domain, target["images"], target["masks"])
        scores["style_distance"] = style_distance(translations[:, 0], target["images"], real)
    if translations.shape[1] >= 2:
        scores["diversity"] = diversity(translations, source["masks"])
    return scores


def guided_scores(
    matrix: np.ndarray, sources: dict, references: dict, random_styles, target_domain: str = "b"
) -> dict:
    """Per-pair lists of example-guided scores into ``target_domain`` (b or c). ``matrix``:
    (n sources, n references, H, W, 3) in [0, 1], cell (i, j) source i in reference j's style;
    ``random_styles``: (n, H, W, 3), each source with a random style, the baseline the reference
    must beat. The content kept: content_iou into b, outline_f_score into an outlined domain."""
    n = matrix.shape[1]
    refs = references["images"]
    ref_masks = style_pixels(target_domain, refs, references["masks"])
    pairs = [(i, j) for i in range(matrix.shape[0]) for j in range(n)]
    cells, masks = matrix.reshape(-1, *matrix.shape[2:]), np.repeat(sources["masks"], n, 0)
    return {
        "reference_color_error": [
            color_error(matrix[i, j], foreground(matrix[i, j]), refs[j], ref_masks[j])
            for i, j in pairs
        ],
        "random_style_color_error": [
            color_error(random_styles[i], foreground(random_styles[i]), refs[j], ref_masks[j])
            for i, j in pairs
        ],
        **(
            {"outline_f_score": list(outline_f_scores(cells, masks, STROKES[target_domain]))}
            if target_domain in STROKES
            else {"content_iou": list(content_iou(cells, masks))}
        ),
    }


def classifier_scores(predictions: dict, real_features, seed: int) -> dict:
    """Metrics through the synthetic data's own classifiers (``synthetic_classifier.py``).

    ``predictions``: the target domain's classifier on (N, K) translations, {"features":
    (N, K, F), head: (N, K, classes)}; ``real_features``: (M, F) of real target images.
    synthetic_fid / synthetic_kid: the first style of each input against real images;
    synthetic_is / synthetic_cis: IS and CIS of the texture head (into b) or the family head
    (into a or c); into b, texture_spread: the share of textures that an input's K styles
    reach, up to K.
    """
    features = predictions["features"][:, 0]
    head = predictions.get("texture", predictions["family"])
    scores = {
        "synthetic_fid": fid(features, real_features),
        "synthetic_kid": kid(features, real_features, seed=seed)[0],
        "synthetic_is": inception_score(head.reshape(-1, head.shape[-1])),
        "synthetic_cis": conditional_inception_score(head),
    }
    if "texture" in predictions:
        reached = [len(set(np.argmax(p, -1))) for p in predictions["texture"]]
        scores["texture_spread"] = float(np.mean(reached) / min(head.shape[1], head.shape[2]))
    return scores


def texture_accuracy(texture_probabilities: np.ndarray, reference_textures) -> list[float]:
    """Per (source, reference) pair: 1 where the guided translation's predicted texture is the
    reference's true one. ``texture_probabilities``: (sources, references, 5)."""
    predicted = np.argmax(texture_probabilities, -1)
    truth = np.asarray(reference_textures).astype(int)[None, :]
    return list((predicted == truth).astype(float).ravel())
