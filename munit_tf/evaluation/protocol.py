"""Evaluating a translator on a prepared test split: metrics.json and a self-contained report.html.

Works from an exported SavedModel or a training run (through the same serving signatures), so the
pipeline's evaluator judges exactly what will be pushed. Protocol: the first ``num_inputs`` test
images of each domain, ``num_styles`` N(0, I) styles per input drawn from each seed in ``seeds``;
every metric is reported as mean and spread over the seeds, next to the protocol itself.
Ground-truth metrics need the synthetic dataset's masks; FID/KID need InceptionV3 weights, the
LPIPS-style diversity VGG16 weights, IS/CIS a domain classifier: a metric whose prerequisite is
missing is listed under "skipped" with the reason, never estimated.
"""

from __future__ import annotations

import dataclasses
import json
import os

import keras
import numpy as np
import tensorflow as tf

from munit_tf import feature_networks, styles
from munit_tf.data import dataset as data_lib
from munit_tf.data import schema
from munit_tf.errors import InvalidInput, OutputExists
from munit_tf.evaluation import bounds, ground_truth, metrics, report, synthetic_classifier
from munit_tf.pixels import to_uint8
from munit_tf.serving.client import TranslatorClient


@dataclasses.dataclass
class EvalOptions:
    num_inputs: int = 32
    num_styles: int = 8
    seeds: tuple = (0, 1, 2)
    references: int = 4  # sources x references in the example-guided matrix
    interpolation_steps: int = 8
    display: int = 8  # inputs shown in the grids
    inception_weights: str = (
        "imagenet"  # or a local file, "none" to skip FID/KID, "random" (plumbing only)
    )
    vgg_weights: str = "imagenet"
    classifier_a: str | None = None  # a .keras model: images in [-1, 1] -> class probabilities
    classifier_b: str | None = None


def _unit(images) -> np.ndarray:
    """[-1, 1] -> [0, 1]."""
    return (np.asarray(images, np.float32) + 1.0) / 2.0


def load_domain(client: TranslatorClient, data, domain: str, limit: int) -> dict:
    """Test images of a domain as the translator prepares them, square-cropped, with the ground
    truth (masks, content and style vectors) where the data has it at the model's image size.

    ``data``: a prepared folder (its test split) or a list of files/patterns with both domains.
    """
    images, masks, ids, contents, styles_ = [], [], [], [], []
    for record in data_lib.records(data, "test", domain).take(limit):
        parsed = schema.parse_example(record)
        image = client.prepare(parsed["image"].numpy())
        side = min(image.shape[:2]) // client.multiple * client.multiple
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        images.append(image[top : top + side, left : left + side])
        ids.append(parsed["id"].numpy().decode())
        mask = parsed["mask"].numpy()
        if mask:
            mask = tf.io.decode_png(mask).numpy()[..., 0] > 127
            if mask.shape == (int(parsed["height"]), int(parsed["width"])) == image.shape[:2]:
                masks.append(mask[top : top + side, left : left + side])
                contents.append(parsed["content"].numpy())
                styles_.append(parsed["style"].numpy())
    if not images:
        raise InvalidInput(f"{data}: no test images of domain {domain}")
    known = len(masks) == len(images)
    return {
        "images": np.stack(images),
        "masks": np.stack(masks) if known else None,
        "contents": np.stack(contents) if known and all(len(c) for c in contents) else None,
        "styles": np.stack(styles_) if known and all(len(v) for v in styles_) else None,
        "ids": ids,
    }


def translate_styles(
    client, direction: str, images: np.ndarray, codes: np.ndarray, progress=None
) -> np.ndarray:
    """(N, H, W, C) images and (N, K, style_dim) codes -> (N, K, H, W, C) in [-1, 1].

    ``progress``: a ``keras.utils.Progbar`` counting inputs, advanced after each one."""
    fn = client.signatures[f"translate_with_style_{direction}"]
    k = codes.shape[1]
    outputs = []
    for image, code in zip(images, codes):
        outputs.append(fn(images=np.repeat(image[None], k, 0), styles=code)["images"].numpy())
        if progress is not None:
            progress.add(1)
    return np.stack(outputs)


class SyntheticJudge:
    """The synthetic data's own classifiers, with the real test images' features: they score
    translations where no ImageNet network is available (``synthetic_classifier.py``)."""

    def __init__(self, domains: dict, log=print):
        size = int(domains["a"]["images"].shape[1])
        self.models = {d: synthetic_classifier.load(d, size, log=log) for d in "ab"}
        self.real = {
            d: synthetic_classifier.predict(self.models[d], domains[d]["images"])["features"]
            for d in "ab"
        }

    def scores(self, direction: str, translations: np.ndarray, seed: int) -> dict:
        """synthetic_fid/kid/is/cis (and texture_spread) of (N, K) translations in [-1, 1]."""
        target = direction[2]
        predictions = synthetic_classifier.predict(self.models[target], translations)
        return ground_truth.classifier_scores(direction, predictions, self.real[target], seed)

    def texture_accuracy(self, matrix: np.ndarray, reference_styles) -> list[float]:
        """Per pair of a (sources, references) matrix of guided a2b translations in [-1, 1]."""
        textures = synthetic_classifier.predict(self.models["b"], matrix)["texture"]
        return ground_truth.texture_accuracy(textures, np.asarray(reference_styles)[:, 0])


def synthetic_judge(domains: dict, skipped: dict | None = None, log=print):
    """The synthetic classifiers when the data has the synthetic ground truth, else None (and
    why, in ``skipped``)."""
    if domains["a"]["contents"] is None or domains["b"]["styles"] is None:
        if skipped is not None:
            skipped["synthetic_features"] = "the data has no synthetic labels (synthetic only)"
        return None
    return SyntheticJudge(domains, log)


def _classifier(path):
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def evaluate(
    model, data, output: str, options: EvalOptions | None = None, overwrite: bool = False, log=print
) -> dict:
    """``model``: a SavedModel folder, a run folder or checkpoint, or a MUNIT model in memory;
    ``data``: a prepared folder or a list of files/patterns holding both domains."""
    options = options or EvalOptions()
    if options.num_styles < 2:
        raise InvalidInput("num_styles must be >= 2 (diversity compares styles)")
    if os.path.exists(os.path.join(output, "metrics.json")) and not overwrite:
        raise OutputExists(f"{output} already holds an evaluation; pass --overwrite to replace it")
    client = TranslatorClient(model)
    if not {"a", "b"} <= set(client.domains):
        raise InvalidInput(
            f"evaluate scores a2b and b2a; this model's domains are {', '.join(client.domains)}"
        )
    domains = {d: load_domain(client, data, d, options.num_inputs) for d in "ab"}
    directions = {"a2b": (domains["a"], domains["b"]), "b2a": (domains["b"], domains["a"])}
    skipped, per_seed = {}, {direction: {} for direction in directions}
    outputs_seed0 = {}

    def record(direction, name, value):
        per_seed[direction].setdefault(name, []).append(value)

    extractors = {}
    for kind, weights, build in (
        ("fid_kid", options.inception_weights, "InceptionFeatures"),
        ("lpips_diversity", options.vgg_weights, "VGGFeatures"),
    ):
        if weights == "none":
            skipped[kind] = "turned off"
            continue
        try:
            extractors[kind] = getattr(feature_networks, build)(weights)
        except feature_networks.UnavailableWeights as error:
            skipped[kind] = str(error)
    # loaded once
    classifiers = {
        direction: _classifier(path)
        for direction, path in (("a2b", options.classifier_b), ("b2a", options.classifier_a))
        if path
    }
    if not classifiers:
        skipped["is_cis"] = "no domain classifier given (--classifier-a/--classifier-b)"
    if domains["a"]["masks"] is None or domains["b"]["masks"] is None:
        skipped["ground_truth"] = (
            "the data has no silhouette masks at the model's image size (synthetic data only)"
        )
    judge = synthetic_judge(domains, skipped, log)
    real_features = {}
    if "fid_kid" in extractors:
        real_features = {d: extractors["fid_kid"](domains[d]["images"]) for d in "ab"}

    inputs = sum(len(source["images"]) for source, _ in directions.values())
    log(f"evaluating {inputs} inputs x {options.num_styles} styles x {len(options.seeds)} seeds")
    progress = keras.utils.Progbar(inputs * len(options.seeds), unit_name="input")
    for seed in options.seeds:
        rng = np.random.default_rng(seed)
        for direction, (source, target) in directions.items():
            codes = styles.sample(
                (len(source["images"]), options.num_styles, client.style_dim), rng
            )
            outputs = translate_styles(client, direction, source["images"], codes, progress)
            if seed == options.seeds[0]:
                outputs_seed0[direction] = outputs
            unit = _unit(outputs)
            if "ground_truth" not in skipped:
                scores = ground_truth.score_direction(
                    direction, unit, _unit_domain(source), _unit_domain(target)
                )
                for name, value in scores.items():
                    record(direction, name, value)
                if judge is not None:
                    for name, value in judge.scores(direction, outputs, seed).items():
                        record(direction, name, value)
            else:
                diversity = np.mean([metrics.pairwise_diversity(t) for t in unit])
                record(direction, "diversity", float(diversity))
            if "fid_kid" in extractors:
                fake = extractors["fid_kid"](outputs[:, 0])
                record(direction, "fid", metrics.fid(fake, real_features[direction[2]]))
                record(
                    direction, "kid", metrics.kid(fake, real_features[direction[2]], seed=seed)[0]
                )
            if "lpips_diversity" in extractors:
                feats = [extractors["lpips_diversity"](t) for t in outputs]
                record(
                    direction,
                    "lpips_diversity",
                    float(
                        np.mean(
                            [
                                metrics.lpips_style_distance(
                                    [f[i : i + 1] for f in layer], [f[j : j + 1] for f in layer]
                                )
                                for layer in feats
                                for i in range(options.num_styles)
                                for j in range(i + 1, options.num_styles)
                            ]
                        )
                    ),
                )
            if direction in classifiers:
                probabilities = np.asarray(
                    classifiers[direction].predict(
                        outputs.reshape(-1, *outputs.shape[2:]), verbose=0
                    )
                ).reshape(*outputs.shape[:2], -1)
                record(
                    direction,
                    "is",
                    metrics.inception_score(probabilities.reshape(-1, probabilities.shape[-1])),
                )
                record(direction, "cis", metrics.conditional_inception_score(probabilities))

    guided, figures = _example_guided(client, domains, options, outputs_seed0, skipped, judge)
    summary = {
        direction: {name: metrics.summarize(values) for name, values in values_by_name.items()}
        for direction, values_by_name in per_seed.items()
    }
    if guided:
        summary["guided_a2b"] = guided
    has_truth = "ground_truth" not in skipped and domains["a"]["contents"] is not None
    pairs = min(options.references, len(domains["a"]["images"]), len(domains["b"]["images"]))
    result = {
        "model": model if isinstance(model, str) else f"in-memory {type(model).__name__}",
        "data": data,
        "metrics": summary,
        # floors (trivial translators) and ceilings (the paired ground truth) of each metric
        "bounds": (
            metric_bounds(domains, options.num_styles, options.seeds, pairs, judge)
            if has_truth
            else {}
        ),
        "skipped": skipped,
        "protocol": {
            "inputs_per_domain": {d: len(domains[d]["images"]) for d in "ab"},
            "styles_per_input": options.num_styles,
            "seeds": list(options.seeds),
            "image_size": int(domains["a"]["images"].shape[1]),
            "foreground_threshold": ground_truth.FOREGROUND_THRESHOLD,
            "fid_kid_features": (
                f"InceptionV3 pool, weights {options.inception_weights}, "
                f"resize {extractors['fid_kid'].resize}"
                if "fid_kid" in extractors
                else None
            ),
            "lpips_features": (
                f"VGG16, weights {options.vgg_weights}" if "lpips_diversity" in extractors else None
            ),
            "references": options.references,
        },
    }
    figures = _grids(client, domains, options, outputs_seed0) + figures
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "metrics.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    with open(os.path.join(output, "report.html"), "w", encoding="utf-8") as handle:
        handle.write(report.render(result, figures))
    log("\n".join(report.console_lines(result)))
    log(f"metrics: {os.path.join(output, 'metrics.json')}")
    log(f"report:  {os.path.join(output, 'report.html')}")
    return result


def reference_matrix(client, sources: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(sources, references, H, W, C): every source A image in every reference B image's style."""
    fn = client.signatures["translate_with_reference_a2b"]
    count = len(sources)
    columns = [
        fn(images=sources, reference_images=np.repeat(r[None], count, 0))["images"].numpy()
        for r in references
    ]
    return np.stack(columns, axis=1)


def reference_grid(sources: np.ndarray, references: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The example-guided figure, (H * (1 + sources), W * (1 + references), C) in [-1, 1]: the
    references along the top, the sources down the left, each cell ``matrix[source, reference]``."""
    blank = np.ones_like(sources[0])
    rows = [np.concatenate([blank, *references], axis=1)]
    rows += [np.concatenate([source, *cells], axis=1) for source, cells in zip(sources, matrix)]
    return np.concatenate(rows, axis=0)


def ground_truth_scores(
    client, domains: dict, num_styles: int, seeds, references: int, judge=None
) -> dict:
    """The ground-truth metrics alone, as ``{"a2b/content_iou": summary, ...}``: what the
    training log and the learning curves record. The same draws as ``evaluate`` for the same
    inputs, styles and seeds, so the numbers agree with its metrics.json."""
    unit = {d: _unit_domain(domains[d]) for d in "ab"}
    per_seed, first = {}, None
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for direction, source, target in (("a2b", "a", "b"), ("b2a", "b", "a")):
            images = domains[source]["images"]
            codes = styles.sample((len(images), num_styles, client.style_dim), rng)
            outputs = _unit(translate_styles(client, direction, images, codes))
            if first is None:
                first = outputs[:, 0]
            scores = ground_truth.score_direction(direction, outputs, unit[source], unit[target])
            if judge is not None:
                scores.update(judge.scores(direction, outputs * 2.0 - 1.0, seed))
            for name, value in scores.items():
                per_seed.setdefault(f"{direction}/{name}", []).append(value)
    summary = {name: metrics.summarize(values) for name, values in per_seed.items()}
    n = min(references, len(domains["a"]["images"]), len(domains["b"]["images"]))
    matrix = reference_matrix(client, domains["a"]["images"][:n], domains["b"]["images"][:n])
    guided = ground_truth.guided_scores(
        _unit(matrix), _first(unit["a"], n), _first(unit["b"], n), first[:n]
    )
    if judge is not None:
        guided["texture_accuracy"] = judge.texture_accuracy(matrix, domains["b"]["styles"][:n])
    summary.update(
        {f"guided_a2b/{name}": metrics.summarize(v, over="pairs") for name, v in guided.items()}
    )
    return summary


def _first(domain: dict, n: int) -> dict:
    """The first ``n`` inputs of a loaded domain (images, masks, contents, styles, ids)."""
    return {key: None if value is None else value[:n] for key, value in domain.items()}


def _unit_domain(domain: dict) -> dict:
    """A loaded domain with its images in [0, 1], as the ground-truth scores take them."""
    return {**domain, "images": _unit(domain["images"])}


def metric_bounds(domains: dict, num_styles: int, seeds, guided_pairs: int, judge=None) -> dict:
    """Floors and ceilings of every ground-truth metric (``bounds.py``), as metrics.json keeps
    them: ``{group: {metric: {"floor": {...}, "ceiling": {...}}}}``."""
    a, b = _unit_domain(domains["a"]), _unit_domain(domains["b"])
    out = {
        "a2b": bounds.direction_bounds("a2b", a, b, num_styles, seeds, judge),
        "b2a": bounds.direction_bounds("b2a", b, a, num_styles, seeds, judge),
    }
    if guided_pairs and b["styles"] is not None:
        out["guided_a2b"] = bounds.guided_bounds(
            _first(a, guided_pairs), _first(b, guided_pairs), judge
        )
    return out


def _example_guided(client, domains, options, outputs_seed0, skipped, judge=None):
    """Sources (A) x references (B): the matrix figure and, with masks, how well colours follow."""
    n = min(options.references, len(domains["a"]["images"]), len(domains["b"]["images"]))
    sources, references = domains["a"]["images"][:n], domains["b"]["images"][:n]
    matrix = reference_matrix(client, sources, references)
    figure = (
        "Example-guided translation (A->B)",
        to_uint8(reference_grid(sources, references, matrix)),
        "top row: reference B images; left column: source A images; each cell: the source's "
        "content with the reference's style",
    )
    guided = {}
    if "ground_truth" not in skipped:
        scores = ground_truth.guided_scores(
            _unit(matrix),
            _unit_domain(_first(domains["a"], n)),
            _unit_domain(_first(domains["b"], n)),
            _unit(outputs_seed0["a2b"][:n, 0]),
        )
        if judge is not None:
            scores["texture_accuracy"] = judge.texture_accuracy(matrix, domains["b"]["styles"][:n])
        guided = {name: metrics.summarize(v, over="pairs") for name, v in scores.items()}
    return guided, [figure]


def _grids(client, domains, options, outputs_seed0):
    figures = []
    for direction, source in (("a2b", domains["a"]), ("b2a", domains["b"])):
        n = min(options.display, len(source["images"]))
        rows = [
            np.concatenate([source["images"][i]] + list(outputs_seed0[direction][i]), axis=1)
            for i in range(n)
        ]
        figures.append(
            (
                f"Translations {direction}",
                to_uint8(np.concatenate(rows, axis=0)),
                f"each row: an input, then {options.num_styles} translations with random styles "
                f"(seed {options.seeds[0]})",
            )
        )
        start, end = styles.sample((2, client.style_dim), options.seeds[0])
        codes = styles.interpolate(start, end, options.interpolation_steps)
        strip_inputs = source["images"][: min(4, n)]
        strips = translate_styles(
            client, direction, strip_inputs, np.repeat(codes[None], len(strip_inputs), 0)
        )
        rows = [
            np.concatenate([image] + list(strip), axis=1)
            for image, strip in zip(strip_inputs, strips)
        ]
        figures.append(
            (
                f"Style interpolation {direction}",
                to_uint8(np.concatenate(rows, axis=0)),
                f"each row: an input, then {options.interpolation_steps} translations along a "
                "straight line between two random styles",
            )
        )
    return figures
