"""Our pipeline components: data preparation as a pipeline step, and the evaluator that gates the
trained SavedModel and blesses it for the Pusher.

TFX's Evaluator (TFMA) cannot judge an image-to-image GAN (it feeds tf.Examples to a labelled
model and has no FID or ground-truth image metrics), so this Python-function component runs
munit_tf's evaluation on the eval split. The comparison with the model currently served is done
here by reading the push destination (no Resolver node: those fail on open-source Kubeflow).

Blessing contract (Pusher's ``model_utils.is_model_blessed``): the ModelBlessing artifact's
``blessed`` custom property is 1, plus ``current_model`` / ``current_model_id`` as TFX's own
Evaluator writes them and a BLESSED or NOT_BLESSED marker file.
"""

# No `from __future__ import annotations`: TFX reads the component's type hints at runtime.
import json
import os

import tensorflow as tf
from tfx import v1 as tfx
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import path_utils

from munit_tf.data import prepare
from munit_tf.evaluation import EvalOptions, evaluate

SPLITS = {"train": "train", "test": "eval"}  # prepared folder -> ExampleGen split name


def latest_served_version(serving_dir: str) -> str | None:
    """The newest numeric version folder holding a complete SavedModel, as TF Serving would pick."""
    if not serving_dir or not tf.io.gfile.isdir(serving_dir):
        return None
    versions = sorted(
        (
            int(name.strip("/"))
            for name in tf.io.gfile.listdir(serving_dir)
            if name.strip("/").isdigit()
        ),
        reverse=True,
    )
    for version in versions:
        path = os.path.join(serving_dir, str(version))
        if tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
            return path
    return None


def _value(metrics: dict, name: str):
    group, metric = name.split("/", 1)
    entry = metrics.get(group, {}).get(metric)
    return None if entry is None else entry["mean"]


def gate(
    metrics: dict, thresholds: dict, baseline: dict | None, max_regression: float
) -> tuple[bool, list]:
    """(blessed, reasons). Every threshold must hold, and no gated metric may fall behind the
    served model's by more than ``max_regression``. A gated metric that was not computed fails."""
    reasons = []
    for name, bounds in thresholds.items():
        value = _value(metrics, name)
        if value is None:
            reasons.append(f"{name} was not computed")
            continue
        if "min" in bounds and value < bounds["min"]:
            reasons.append(f"{name} = {value:.4f} is below the minimum {bounds['min']}")
        if "max" in bounds and value > bounds["max"]:
            reasons.append(f"{name} = {value:.4f} is above the maximum {bounds['max']}")
        old = _value(baseline, name) if baseline else None
        if old is not None:
            higher_is_better = "min" in bounds
            worse = old - value if higher_is_better else value - old
            if worse > max_regression:
                reasons.append(f"{name} = {value:.4f} is worse than the served model's {old:.4f}")
    return not reasons, reasons


@tfx.dsl.components.component
def MunitEvaluator(
    model: tfx.dsl.components.InputArtifact[standard_artifacts.Model],
    examples: tfx.dsl.components.InputArtifact[standard_artifacts.Examples],
    evaluation: tfx.dsl.components.OutputArtifact[standard_artifacts.ModelEvaluation],
    blessing: tfx.dsl.components.OutputArtifact[standard_artifacts.ModelBlessing],
    thresholds: tfx.dsl.components.Parameter[str] = "{}",
    serving_dir: tfx.dsl.components.Parameter[str] = "",
    max_regression: tfx.dsl.components.Parameter[float] = 0.02,
    num_inputs: tfx.dsl.components.Parameter[int] = 32,
    num_styles: tfx.dsl.components.Parameter[int] = 4,
    seeds: tfx.dsl.components.Parameter[str] = "[0]",
    inception_weights: tfx.dsl.components.Parameter[str] = "none",
):
    """metrics.json + report.html into ``evaluation``; a ModelBlessing from the thresholds."""
    saved_model = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))
    eval_files = [os.path.join(artifact_utils.get_split_uri([examples], "eval"), "*")]
    options = EvalOptions(
        num_inputs=num_inputs,
        num_styles=num_styles,
        seeds=tuple(json.loads(seeds)),
        inception_weights=inception_weights,
        vgg_weights="none",
    )
    result = evaluate(saved_model, eval_files, evaluation.uri, options, overwrite=True)
    served = latest_served_version(serving_dir)
    baseline = None
    if served:
        baseline = evaluate(
            served,
            eval_files,
            os.path.join(evaluation.uri, "served_model"),
            options,
            overwrite=True,
        )["metrics"]
    blessed, reasons = gate(result["metrics"], json.loads(thresholds), baseline, max_regression)
    decision = {
        "blessed": blessed,
        "reasons": reasons,
        "served_model": served,
        "thresholds": json.loads(thresholds),
        "max_regression": max_regression,
    }
    with tf.io.gfile.GFile(os.path.join(evaluation.uri, "gate.json"), "w") as handle:
        handle.write(json.dumps(decision, indent=2))
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_int_custom_property("current_model_id", model.id)
    blessing.set_string_custom_property("current_model", model.uri)
    blessing.set_string_custom_property("reasons", "; ".join(reasons) or "all thresholds met")
    # GFile creates a file only when something is written: the marker holds the decision.
    with tf.io.gfile.GFile(
        os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w"
    ) as handle:
        handle.write("; ".join(reasons) or "all thresholds met")


@tfx.dsl.components.component
def PrepareExamples(
    examples: tfx.dsl.components.OutputArtifact[standard_artifacts.Examples],
    source: tfx.dsl.components.Parameter[str],
    min_size: tfx.dsl.components.Parameter[int] = 256,
    resize: tfx.dsl.components.Parameter[int] = 0,
    synthetic_count: tfx.dsl.components.Parameter[int] = 1000,
    synthetic_size: tfx.dsl.components.Parameter[int] = 64,
    synthetic_domains: tfx.dsl.components.Parameter[int] = 2,
    shards: tfx.dsl.components.Parameter[int] = 4,
    beam_args: tfx.dsl.components.Parameter[str] = "[]",
):
    """Data preparation as the pipeline's first step: the ``munit-tf prepare`` Beam job on
    ``source`` (a folder with train<X>/ [test<X>/] per domain, ``synthetic`` (``synthetic_domains``
    of a, b, c) or ``tfds:NAME``), its
    output laid out as ExampleGen's (``Split-train/``, ``Split-eval/``) so every downstream
    component reads it as is; ``rejected.jsonl`` and ``manifest.json`` are kept beside the
    splits."""
    items, _ = prepare.source_items(source, synthetic_count, synthetic_domains=synthetic_domains)
    if source == "synthetic":
        min_size = min(min_size, synthetic_size)
    staging = os.path.join(examples.uri, "prepared")
    prepare.prepare(
        items,
        prepare.PrepareOptions(
            output=staging,
            resize=resize or None,
            shards=shards,
            min_size=min_size,
            synthetic_size=synthetic_size,
            synthetic_domains=synthetic_domains,
        ),
        json.loads(beam_args),
        source=source,
    )
    for folder, split in SPLITS.items():
        tf.io.gfile.rename(
            os.path.join(staging, folder), os.path.join(examples.uri, f"Split-{split}")
        )
    for name in ("manifest.json", "rejected.jsonl"):
        tf.io.gfile.rename(os.path.join(staging, name), os.path.join(examples.uri, name))
    tf.io.gfile.rmtree(staging)
    examples.split_names = artifact_utils.encode_split_names(list(SPLITS.values()))
