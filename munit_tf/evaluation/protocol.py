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
import itertools
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
    classifiers: dict = dataclasses.field(default_factory=dict)  # {domain: .keras}, any domain


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


def directions(domains) -> list[tuple[str, str]]:
    """Every ordered pair of domains as (source, target): a2b and b2a for two, six for three."""
    return list(itertools.permutations(domains, 2))


def guided_directions(domains) -> list[tuple[str, str]]:
    """The example-guided matrices: the first domain into each other one (a2b for two)."""
    return [(domains[0], target) for target in domains[1:]]


# the synthetic data's styled domains: example-guided translation into them has ground truth
GUIDED_TARGETS = ("b", "c")


def scores_guided(target: str, domains: dict) -> bool:
    """Whether example-guided translation into ``target`` has ground truth to score: the
    synthetic data's styled domains b and c, with their style vectors."""
    return target in GUIDED_TARGETS and domains[target]["styles"] is not None


class SyntheticJudge:
    """The synthetic data's own classifiers, with the real test images' features: they score
    translations where no ImageNet network is available (``synthetic_classifier.py``)."""

    def __init__(self, domains: dict, log=print):
        known = [d for d in domains if d in synthetic_classifier.HEADS]
        size = int(domains[known[0]]["images"].shape[1])
        self.models = {d: synthetic_classifier.load(d, size, log=log) for d in known}
        self.real = {
            d: synthetic_classifier.predict(self.models[d], domains[d]["images"])["features"]
            for d in known
        }

    def scores(self, target: str, translations: np.ndarray, seed: int) -> dict:
        """synthetic_fid/kid/is/cis (and texture_spread into b) of (N, K) translations into
        ``target`` in [-1, 1]; nothing for a domain without a classifier."""
        if target not in self.models:
            return {}
        predictions = synthetic_classifier.predict(self.models[target], translations)
        return ground_truth.classifier_scores(predictions, self.real[target], seed)

    def texture_accuracy(self, matrix: np.ndarray, reference_styles) -> list[float]:
        """Per pair of a (sources, references) matrix of guided translations into b in [-1, 1]."""
        textures = synthetic_classifier.predict(self.models["b"], matrix)["texture"]
        return ground_truth.texture_accuracy(textures, np.asarray(reference_styles)[:, 0])


def synthetic_judge(domains: dict, skipped: dict | None = None, log=print):
    """The synthetic classifiers when the data has the synthetic ground truth, else None (and
    why, in ``skipped``)."""
    labelled = all(domain["contents"] is not None for domain in domains.values())
    if not labelled or not set(domains) & set(synthetic_classifier.HEADS):
        if skipped is not None:
            skipped["synthetic_features"] = "the data has no synthetic labels (synthetic only)"
        return None
    return SyntheticJudge(domains, log)


def _classifier(path):
    import keras

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def classifier_paths(options: EvalOptions) -> dict:
    """{domain: .keras file} of the IS/CIS classifiers: ``classifiers`` and the a/b shortcuts."""
    paths = {"a": options.classifier_a, "b": options.classifier_b, **options.classifiers}
    return {domain: path for domain, path in paths.items() if path}


def evaluate(
    model, data, output: str, options: EvalOptions | None = None, overwrite: bool = False, log=print
) -> dict:
    """``model``: a SavedModel folder, a run folder or checkpoint, or a MUNIT model in memory;
    ``data``: a prepared folder or a list of files/patterns holding every domain of the model.
    Every direction between the model's domains is scored (a2b and b2a for two)."""
    options = options or EvalOptions()
    if options.num_styles < 2:
        raise InvalidInput("num_styles must be >= 2 (diversity compares styles)")
    if os.path.exists(os.path.join(output, "metrics.json")) and not overwrite:
        raise OutputExists(f"{output} already holds an evaluation; pass --overwrite to replace it")
    client = TranslatorClient(model)
    names = client.domains
    paths = classifier_paths(options)
    unknown = sorted(set(paths) - set(names))
    if unknown:
        raise InvalidInput(
            f"a classifier for domain {unknown[0]}, which this model does not have "
            f"(its domains: {', '.join(names)})"
        )
    domains = {d: load_domain(client, data, d, options.num_inputs) for d in names}
    pairs = {f"{s}2{t}": (domains[s], domains[t], t) for s, t in directions(names)}
    skipped, per_seed = {}, {direction: {} for direction in pairs}
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
    # loaded once, each scoring the directions into its domain
    classifiers = {domain: _classifier(path) for domain, path in paths.items()}
    if not classifiers:
        skipped["is_cis"] = (
            "no domain classifier given (--classifier-a/--classifier-b, --classifier NAME=FILE)"
        )
    if any(domain["masks"] is None for domain in domains.values()):
        skipped["ground_truth"] = (
            "the data has no silhouette masks at the model's image size (synthetic data only)"
        )
    judge = synthetic_judge(domains, skipped, log)
    real_features = {}
    if "fid_kid" in extractors:
        real_features = {d: extractors["fid_kid"](domains[d]["images"]) for d in names}

    inputs = sum(len(source["images"]) for source, _, _ in pairs.values())
    log(
        f"evaluating {len(pairs)} directions: {inputs} inputs x {options.num_styles} styles x "
        f"{len(options.seeds)} seeds"
    )
    progress = keras.utils.Progbar(inputs * len(options.seeds), unit_name="input")
    for seed in options.seeds:
        rng = np.random.default_rng(seed)
        for direction, (source, target, target_name) in pairs.items():
            codes = styles.sample(
                (len(source["images"]), options.num_styles, client.style_dim), rng
            )
            outputs = translate_styles(client, direction, source["images"], codes, progress)
            if seed == options.seeds[0]:
                outputs_seed0[direction] = outputs
            unit = _unit(outputs)
            if "ground_truth" not in skipped:
                scores = ground_truth.score_direction(
                    target_name, unit, _unit_domain(source), _unit_domain(target)
                )
                for name, value in scores.items():
                    record(direction, name, value)
                if judge is not None:
                    for name, value in judge.scores(target_name, outputs, seed).items():
                        record(direction, name, value)
            else:
                diversity = np.mean([metrics.pairwise_diversity(t) for t in unit])
                record(direction, "diversity", float(diversity))
            if "fid_kid" in extractors:
                fake = extractors["fid_kid"](outputs[:, 0])
                record(direction, "fid", metrics.fid(fake, real_features[target_name]))
                record(
                    direction, "kid", metrics.kid(fake, real_features[target_name], seed=seed)[0]
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
            if target_name in classifiers:
                probabilities = np.asarray(
                    classifiers[target_name].predict(
                        outputs.reshape(-1, *outputs.shape[2:]), verbose=0
                    )
                ).reshape(*outputs.shape[:2], -1)
                record(
                    direction,
                    "is",
                    metrics.inception_score(probabilities.reshape(-1, probabilities.shape[-1])),
                )
                record(direction, "cis", metrics.conditional_inception_score(probabilities))

    summary = {
        direction: {name: metrics.summarize(values) for name, values in values_by_name.items()}
        for direction, values_by_name in per_seed.items()
    }
    figures = []
    for source, target in guided_directions(names):
        guided, figure = _example_guided(
            client, domains, source, target, options, outputs_seed0, skipped, judge
        )
        figures.append(figure)
        if guided:
            summary[f"guided_{source}2{target}"] = guided
    has_truth = "ground_truth" not in skipped and all(
        domain["contents"] is not None for domain in domains.values()
    )
    guided_pairs = min(
        options.references,
        len(domains[names[0]]["images"]),
        *(len(domains[t]["images"]) for _, t in guided_directions(names)),
    )
    result = {
        "model": model if isinstance(model, str) else f"in-memory {type(model).__name__}",
        "data": data,
        "metrics": summary,
        # floors (trivial translators) and ceilings (the paired ground truth) of each metric
        "bounds": (
            metric_bounds(domains, options.num_styles, options.seeds, guided_pairs, judge)
            if has_truth
            else {}
        ),
        "skipped": skipped,
        "protocol": {
            "inputs_per_domain": {d: len(domains[d]["images"]) for d in names},
            "styles_per_input": options.num_styles,
            "seeds": list(options.seeds),
            "image_size": int(domains[names[0]]["images"].shape[1]),
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
    if len(names) > 2:
        figures.insert(0, _domain_grid(domains, options, outputs_seed0))
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "metrics.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    with open(os.path.join(output, "report.html"), "w", encoding="utf-8") as handle:
        handle.write(report.render(result, figures))
    log("\n".join(report.console_lines(result)))
    log(f"metrics: {os.path.join(output, 'metrics.json')}")
    log(f"report:  {os.path.join(output, 'report.html')}")
    return result


def reference_matrix(
    client, sources: np.ndarray, references: np.ndarray, direction: str = "a2b"
) -> np.ndarray:
    """(sources, references, H, W, C): every source image in every reference image's style."""
    fn = client.signatures[f"translate_with_reference_{direction}"]
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
    """The ground-truth metrics alone, as ``{"a2b/content_iou": summary, ...}`` for every
    direction between ``domains`` (in their order): what the training log and the learning
    curves record. The same draws as ``evaluate`` for the same inputs, styles and seeds, so the
    numbers agree with its metrics.json."""
    names = list(domains)
    unit = {d: _unit_domain(domains[d]) for d in names}
    per_seed, first = {}, {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for source, target in directions(names):
            direction = f"{source}2{target}"
            images = domains[source]["images"]
            codes = styles.sample((len(images), num_styles, client.style_dim), rng)
            outputs = _unit(translate_styles(client, direction, images, codes))
            first.setdefault(direction, outputs[:, 0])
            scores = ground_truth.score_direction(target, outputs, unit[source], unit[target])
            if judge is not None:
                scores.update(judge.scores(target, outputs * 2.0 - 1.0, seed))
            for name, value in scores.items():
                per_seed.setdefault(f"{direction}/{name}", []).append(value)
    summary = {name: metrics.summarize(values) for name, values in per_seed.items()}
    for source, target in guided_directions(names):
        if not scores_guided(target, domains):
            continue
        direction = f"{source}2{target}"
        n = min(references, len(domains[source]["images"]), len(domains[target]["images"]))
        matrix = reference_matrix(
            client, domains[source]["images"][:n], domains[target]["images"][:n], direction
        )
        guided = guided_truth(matrix, domains, source, target, first[direction][:n], judge)
        summary.update(
            {
                f"guided_{direction}/{name}": metrics.summarize(v, over="pairs")
                for name, v in guided.items()
            }
        )
    return summary


def guided_truth(matrix, domains: dict, source: str, target: str, random_styles, judge=None):
    """Per-pair ground-truth scores of a (sources, references) matrix of guided translations
    from ``source`` into ``target`` (in [-1, 1]); ``random_styles``: each source translated with
    a random style, in [0, 1], the baseline."""
    n = matrix.shape[1]
    scores = ground_truth.guided_scores(
        _unit(matrix),
        _unit_domain(_first(domains[source], n)),
        _unit_domain(_first(domains[target], n)),
        random_styles,
        target,
    )
    if judge is not None and target == "b":
        scores["texture_accuracy"] = judge.texture_accuracy(matrix, domains["b"]["styles"][:n])
    return scores


def _first(domain: dict, n: int) -> dict:
    """The first ``n`` inputs of a loaded domain (images, masks, contents, styles, ids)."""
    return {key: None if value is None else value[:n] for key, value in domain.items()}


def _unit_domain(domain: dict) -> dict:
    """A loaded domain with its images in [0, 1], as the ground-truth scores take them."""
    return {**domain, "images": _unit(domain["images"])}


def metric_bounds(domains: dict, num_styles: int, seeds, guided_pairs: int, judge=None) -> dict:
    """Floors and ceilings of every ground-truth metric (``bounds.py``), as metrics.json keeps
    them: ``{group: {metric: {"floor": {...}, "ceiling": {...}}}}``."""
    names = list(domains)
    unit = {d: _unit_domain(domains[d]) for d in names}
    out = {
        f"{s}2{t}": bounds.direction_bounds(t, unit[s], unit[t], num_styles, seeds, judge)
        for s, t in directions(names)
    }
    for source, target in guided_directions(names):
        if guided_pairs and scores_guided(target, domains):
            out[f"guided_{source}2{target}"] = bounds.guided_bounds(
                _first(unit[source], guided_pairs),
                _first(unit[target], guided_pairs),
                judge,
                target,
            )
    return out


def _example_guided(client, domains, source, target, options, outputs_seed0, skipped, judge=None):
    """Sources x references of one guided direction: the matrix figure and, with ground truth,
    how well colours follow."""
    direction = f"{source}2{target}"
    n = min(options.references, len(domains[source]["images"]), len(domains[target]["images"]))
    sources, references = domains[source]["images"][:n], domains[target]["images"][:n]
    matrix = reference_matrix(client, sources, references, direction)
    figure = (
        f"Example-guided translation ({source.upper()}->{target.upper()})",
        to_uint8(reference_grid(sources, references, matrix)),
        f"top row: reference {target} images; left column: source {source} images; each cell: "
        "the source's content with the reference's style",
    )
    guided = {}
    if "ground_truth" not in skipped and scores_guided(target, domains):
        random_styles = _unit(outputs_seed0[direction][:n, 0])
        scores = guided_truth(matrix, domains, source, target, random_styles, judge)
        guided = {name: metrics.summarize(v, over="pairs") for name, v in scores.items()}
    return guided, figure


def _domain_grid(domains: dict, options, outputs_seed0, per_source: int = 2):
    """Source x target: a few inputs of every domain (rows) drawn in every domain (columns, in
    the order of the domains; an input's own domain shows the input), with the first random
    style of the first seed."""
    names = list(domains)
    rows = []
    for source in names:
        for i in range(min(per_source, len(domains[source]["images"]))):
            cells = [
                domains[source]["images"][i]
                if target == source
                else outputs_seed0[f"{source}2{target}"][i, 0]
                for target in names
            ]
            rows.append(np.concatenate(cells, axis=1))
    return (
        "Every domain into every domain",
        to_uint8(np.concatenate(rows, axis=0)),
        f"columns: {', '.join(names)}; rows: {per_source} test inputs of each domain in that "
        f"order, each drawn in every domain (its own column shows the input itself) with a random "
        f"style (seed {options.seeds[0]})",
    )


def _grids(client, domains, options, outputs_seed0):
    figures = []
    for source_name, target_name in directions(list(domains)):
        direction, source = f"{source_name}2{target_name}", domains[source_name]
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
