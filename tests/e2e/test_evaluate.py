"""munit-tf evaluate end to end: every metric family on a tiny trained model, and the report in a
browser."""

import json
import os
import re
import shutil
import subprocess
import tempfile

import keras
import numpy as np
import pytest
from cli_args import argv

from munit_tf import cli


@pytest.fixture(scope="module")
def run(exported_run):
    return exported_run[0]


def _classifier(path, classes=3):
    inputs = keras.Input((None, None, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x)).save(path)
    return path


def _evaluate(run, data, output, **options) -> int:
    """``munit-tf evaluate`` on a few inputs, without the ImageNet networks unless asked."""
    quick = dict(num_inputs=4, num_styles=2, seeds=0, inception_weights="none", vgg_weights="none")
    return cli.main(argv("evaluate", model=run, data=data, output=output, **{**quick, **options}))


def test_evaluate_reports_every_metric_family(run, synthetic_data, tmp_path, capsys):
    output = str(tmp_path / "eval")
    classifier = _classifier(str(tmp_path / "classifier.keras"))
    options = dict(num_inputs=6, num_styles=3, seeds=(0, 1), references=3)
    weights = dict(inception_weights="random", vgg_weights="random", classifier_b=classifier)
    assert _evaluate(run, synthetic_data, output, **options, **weights) == 0
    console = capsys.readouterr().out
    # progress shown
    assert "evaluating 2 directions: 12 inputs x 3 styles x 2 seeds" in console
    assert "24/24" in console
    result = json.load(open(os.path.join(output, "metrics.json")))
    a2b, b2a, guided = (
        result["metrics"]["a2b"],
        result["metrics"]["b2a"],
        result["metrics"]["guided_a2b"],
    )
    synthetic = {"synthetic_fid", "synthetic_kid", "synthetic_is", "synthetic_cis"}
    assert (
        set(a2b)
        == {
            "content_iou",
            "style_distance",
            "diversity",
            "fid",
            "kid",
            "lpips_diversity",
            "is",
            "cis",
            "texture_spread",
        }
        | synthetic
    )
    assert set(b2a) == {"outline_f_score", "diversity", "fid", "kid", "lpips_diversity"} | synthetic
    assert set(guided) == {
        "reference_color_error",
        "random_style_color_error",
        "content_iou",
        "texture_accuracy",
    }
    assert all(v["n"] == 2 and np.isfinite(v["mean"]) for v in a2b.values())
    assert 0 <= a2b["content_iou"]["mean"] <= 1 and a2b["is"]["mean"] >= 1
    protocol = result["protocol"]
    assert (
        protocol["styles_per_input"] == 3
        and protocol["seeds"] == [0, 1]
        and protocol["image_size"] == 32
    )
    assert (
        "bilinear to 299x299" in protocol["fid_kid_features"]
        and "random" in protocol["fid_kid_features"]
    )
    assert result["skipped"] == {}
    # every ground-truth metric with its range: trivial translators below, the paired truth above
    bounds = result["bounds"]
    assert set(bounds["a2b"]) == {
        "content_iou",
        "style_distance",
        "diversity",
        "texture_spread",
    } | (synthetic)
    assert set(bounds["b2a"]) == {"outline_f_score", "diversity"} | synthetic
    assert set(bounds["guided_a2b"]) == {"reference_color_error", "texture_accuracy"}
    iou = bounds["a2b"]["content_iou"]
    assert iou["floor"]["input"] < iou["ceiling"]["paired_truth"]["mean"]
    assert iou["ceiling"]["paired_truth"]["n"] == 2
    # and on the console, each beside the model's value
    assert "a2b/content_iou: " in console and "paired_truth]" in console and "(2 seeds)" in console


def test_missing_prerequisites_are_skipped_with_a_reason_not_estimated(
    run, synthetic_data, tmp_path
):
    output = str(tmp_path / "eval")
    missing = str(tmp_path / "missing.h5")
    assert _evaluate(run, synthetic_data, output, inception_weights=missing) == 0
    result = json.load(open(os.path.join(output, "metrics.json")))
    assert (
        "InceptionV3 weights" in result["skipped"]["fid_kid"]
        and result["skipped"]["lpips_diversity"]
    )
    assert "fid" not in result["metrics"]["a2b"] and "content_iou" in result["metrics"]["a2b"]
    assert _evaluate(run, synthetic_data, output) == 2  # it holds an evaluation
    assert _evaluate(run, str(tmp_path / "nothing"), str(tmp_path / "e2")) == 2


def test_report_renders_in_headless_chromium_with_every_image(run, synthetic_data, tmp_path):
    output = str(tmp_path / "eval")
    assert _evaluate(run, synthetic_data, output) == 0
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is installed by `make test` (Debian package chromium)"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--dump-dom",
            "file://" + os.path.join(output, "report.html"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # grids and interpolation strips for both directions, and the example-guided matrix
    assert "<title>munit-tf report: 5/5 images loaded</title>" in result.stdout
    assert "content_iou" in result.stdout and "Example-guided translation" in result.stdout
    # one evaluation seed: no "± 0.0000", and each metric's floor and ceiling in the table
    assert "(1 seed)" in result.stdout and not re.search(r"± [0-9.]+ \(1 seed", result.stdout)
    assert "ceiling: paired ground truth" in result.stdout and "mean_colour_fill" in result.stdout
