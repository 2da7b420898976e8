"""The range of each ground-truth metric, so that a score can be read: what trivial translators
score (the floors) and what the true translations score (the ceiling), under the model's protocol.

Floors: the input itself; into b also the input's silhouette filled with the mean colour of real
b. Ceiling: the paired ground truth, i.e. each input's content drawn by the synthetic renderer in
the target domain (into b and c with random styles from each evaluation seed, so its diversity
is the real domain's own; into a as the one outline a has). Whatever the source domain, its
content vector says what to draw. For example-guided translation the ceiling draws the source's
content in the reference's true style; one floor draws it plainly (b: the filled silhouette, c:
the outline band) in the references' mean colour, the other in the reference's own mean colour:
a translator that gets every colour right and draws no texture or dots, so its texture accuracy
(won on the solid references) is what a model can score without drawing any texture.
"""

from __future__ import annotations

import numpy as np

from munit_tf.data import synthetic
from munit_tf.evaluation import ground_truth, metrics


def mean_colour(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The mean RGB of every masked pixel of ``images`` (N, H, W, 3) in [0, 1]."""
    return np.asarray(images, np.float64)[np.asarray(masks, bool)].mean(0)


def fill(masks: np.ndarray, colour) -> np.ndarray:
    """Silhouettes (N, H, W) filled with ``colour`` on the synthetic background, in [0, 1]."""
    masks = np.asarray(masks, bool)[..., None]
    background = np.asarray(synthetic.BACKGROUND, np.float32)
    return np.where(masks, np.asarray(colour, np.float32), background).astype(np.float32)


def _content(vector) -> synthetic.Content:
    family, *rest = (float(v) for v in vector)
    return synthetic.Content(int(round(family)), *rest)


def _style(vector) -> synthetic.Style:
    texture, r1, g1, b1, r2, g2, b2, frequency, angle = (float(v) for v in vector)
    return synthetic.Style(int(round(texture)), (r1, g1, b1), (r2, g2, b2), frequency, angle)


def _dots(vector) -> synthetic.Dots:
    r, g, b, spacing = (float(v) for v in vector)
    return synthetic.Dots((r, g, b), spacing)


def render(target: str, content: synthetic.Content, style_vector, size: int, rng) -> np.ndarray:
    """``content`` drawn in domain ``target`` with the style of ``style_vector`` (uint8)."""
    if target == "c":
        return synthetic.render_c(content, _dots(style_vector), size)
    return synthetic.render_b(content, _style(style_vector), size, rng)


def true_translations(target: str, contents, size: int, styles: int, seed: int) -> np.ndarray:
    """(N, K, H, W, 3) in [0, 1]: each content drawn in domain ``target``; into b and c with
    ``styles`` styles drawn from ``seed``, into a as its single outline repeated."""
    out = []
    for index, vector in enumerate(contents):
        content = _content(vector)
        rng = np.random.default_rng([seed, 11, index])
        if target == "b":
            images = [
                synthetic.render_b(content, synthetic.sample_style(rng), size, rng)
                for _ in range(styles)
            ]
        elif target == "c":
            images = [
                synthetic.render_c(content, synthetic.sample_dots(rng), size) for _ in range(styles)
            ]
        else:
            images = [synthetic.render_a(content, size)] * styles
        out.append(np.stack(images))
    return np.stack(out).astype(np.float32) / 255.0


def direction_bounds(
    target_domain: str, source: dict, target: dict, styles: int, seeds, judge=None
) -> dict:
    """{metric: {"floor": {name: value}, "ceiling": {"paired_truth": summary over seeds}}} of the
    translations into ``target_domain``.

    ``source`` / ``target``: ``{"images": [0, 1], "masks", "contents"}`` of the test split;
    ``judge`` (``protocol.SyntheticJudge``) adds the metrics of the synthetic classifiers.
    """

    def repeated(images):  # a translator that ignores the style code: K equal outputs
        return np.repeat(np.asarray(images)[:, None], styles, axis=1)

    def score(translations, seed=0):
        scores = ground_truth.score_direction(target_domain, translations, source, target)
        if judge is not None:
            scores.update(judge.scores(target_domain, translations * 2.0 - 1.0, seed))
        return scores

    floors = {"input": score(repeated(source["images"]))}
    if target_domain == "b":
        colour = mean_colour(target["images"], target["masks"])
        floors["mean_colour_fill"] = score(repeated(fill(source["masks"], colour)))
    size = np.asarray(source["images"]).shape[1]
    per_seed = [
        score(true_translations(target_domain, source["contents"], size, styles, seed), seed)
        for seed in seeds
    ]
    bounds = {}
    for name in per_seed[0]:
        bounds[name] = {
            "floor": {which: scores[name] for which, scores in floors.items()},
            "ceiling": {"paired_truth": metrics.summarize([s[name] for s in per_seed])},
        }
    return bounds


def plain(target: str, masks: np.ndarray, colour) -> np.ndarray:
    """Each silhouette of ``masks`` drawn in domain ``target`` without a style's pattern, in one
    colour: b's filled silhouette, c's outline band as wide as its dots."""
    masks = np.asarray(masks, bool)
    if target == "c":
        width = max(1, round(synthetic.outline_width(masks.shape[-1]) * 0.75))
        masks = np.stack([ground_truth.outline_band(m, width) for m in masks])
    return fill(masks, colour)


def reference_colour_fills(sources: dict, references: dict, target: str = "b") -> np.ndarray:
    """(sources, references, H, W, 3) in [0, 1]: each source drawn plainly (``plain``) in each
    reference's own mean colour."""
    pixels = ground_truth.style_pixels(target, references["images"], references["masks"])
    colours = [
        mean_colour(image[None], mask[None]) for image, mask in zip(references["images"], pixels)
    ]
    return np.stack(
        [np.stack([plain(target, mask[None], c)[0] for c in colours]) for mask in sources["masks"]]
    )


def guided_bounds(sources: dict, references: dict, judge=None, target: str = "b") -> dict:
    """Bounds of the ``guided_*`` scores into ``target`` (b or c) over every (source, reference)
    pair: ``reference_color_error`` (and ``texture_accuracy`` into b with a ``judge``), floors
    the sources drawn plainly in the references' mean colour and in each reference's own, ceiling
    the source's content drawn in the reference's true style."""
    n = len(references["images"])
    size = np.asarray(sources["images"]).shape[1]
    pixels = ground_truth.style_pixels(target, references["images"], references["masks"])
    colour = mean_colour(references["images"], pixels)
    filled = plain(target, sources["masks"], colour)
    own_colours = reference_colour_fills(sources, references, target)
    truths = (
        np.stack(
            [
                np.stack(
                    [
                        render(
                            target, _content(content), style, size, np.random.default_rng([i, j])
                        )
                        for j, style in enumerate(references["styles"])
                    ]
                )
                for i, content in enumerate(sources["contents"])
            ]
        ).astype(np.float32)
        / 255.0
    )
    pairs = [(i, j) for i in range(len(sources["contents"])) for j in range(n)]

    def error(image, i, j):  # the drawing's colour where the source's content puts its style
        drawn = ground_truth.style_pixels(target, image[None], sources["masks"][i][None])[0]
        return ground_truth.color_error(image, drawn, references["images"][j], pixels[j])

    out = {
        "reference_color_error": {
            "floor": {
                "mean_colour_fill": float(np.mean([error(filled[i], i, j) for i, j in pairs])),
                "reference_colour_fill": float(
                    np.mean([error(own_colours[i, j], i, j) for i, j in pairs])
                ),
            },
            "ceiling": {
                "paired_truth": float(np.mean([error(truths[i, j], i, j) for i, j in pairs]))
            },
        }
    }
    if judge is not None and target == "b":
        fills = np.repeat(filled[:, None], n, axis=1)
        accuracy = {
            name: float(np.mean(judge.texture_accuracy(images * 2.0 - 1.0, references["styles"])))
            for name, images in (
                ("mean_colour_fill", fills),
                ("reference_colour_fill", own_colours),
                ("paired_truth", truths),
            )
        }
        out["texture_accuracy"] = {
            "floor": {
                "mean_colour_fill": accuracy["mean_colour_fill"],
                "reference_colour_fill": accuracy["reference_colour_fill"],
            },
            "ceiling": {"paired_truth": accuracy["paired_truth"]},
        }
    return out
