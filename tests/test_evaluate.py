"""munit-tf evaluate end to end: every metric family on a tiny trained model, and the report in a browser."""

import json
import os
import shutil
import subprocess
import tempfile

import keras
import numpy as np
import pytest

from munit_tf import cli


@pytest.fixture(scope="module")
def run(exported_run):
    return exported_run[0]


def _classifier(path, classes=3):
    inputs = keras.Input((None, None, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x)).save(path)
    return path


def test_evaluate_reports_every_metric_family(run, synthetic_data, tmp_path, capsys):
    output = str(tmp_path / "eval")
    classifier = _classifier(str(tmp_path / "classifier.keras"))
    assert cli.main(["evaluate", "--model", run, "--data", synthetic_data, "--output", output, "--num-inputs", "6",
                     "--num-styles", "3", "--seeds", "0", "1", "--references", "3", "--inception-weights", "random",
                     "--vgg-weights", "random", "--classifier-b", classifier]) == 0
    console = capsys.readouterr().out
    assert "evaluating 12 inputs x 3 styles x 2 seeds" in console and "24/24" in console  # progress shown
    result = json.load(open(os.path.join(output, "metrics.json")))
    a2b, b2a, guided = result["metrics"]["a2b"], result["metrics"]["b2a"], result["metrics"]["guided_a2b"]
    assert set(a2b) == {"content_iou", "style_distance", "diversity", "fid", "kid", "lpips_diversity", "is", "cis"}
    assert set(b2a) == {"outline_f_score", "diversity", "fid", "kid", "lpips_diversity"}
    assert set(guided) == {"reference_color_error", "random_style_color_error", "content_iou"}
    assert all(v["n"] == 2 and np.isfinite(v["mean"]) for v in a2b.values())
    assert 0 <= a2b["content_iou"]["mean"] <= 1 and a2b["is"]["mean"] >= 1
    protocol = result["protocol"]
    assert protocol["styles_per_input"] == 3 and protocol["seeds"] == [0, 1] and protocol["image_size"] == 32
    assert "bilinear to 299x299" in protocol["fid_kid_features"] and "random" in protocol["fid_kid_features"]
    assert result["skipped"] == {}


def test_missing_prerequisites_are_skipped_with_a_reason_not_estimated(run, synthetic_data, tmp_path):
    output = str(tmp_path / "eval")
    assert cli.main(["evaluate", "--model", run, "--data", synthetic_data, "--output", output, "--num-inputs", "4",
                     "--num-styles", "2", "--seeds", "0", "--inception-weights", str(tmp_path / "missing.h5"),
                     "--vgg-weights", "none"]) == 0
    result = json.load(open(os.path.join(output, "metrics.json")))
    assert "InceptionV3 weights" in result["skipped"]["fid_kid"] and result["skipped"]["lpips_diversity"]
    assert "fid" not in result["metrics"]["a2b"] and "content_iou" in result["metrics"]["a2b"]
    assert cli.main(["evaluate", "--model", run, "--data", synthetic_data, "--output", output]) == 2
    assert cli.main(["evaluate", "--model", run, "--data", str(tmp_path / "nothing"), "--output",
                     str(tmp_path / "e2")]) == 2


def test_report_renders_in_headless_chromium_with_every_image(run, synthetic_data, tmp_path):
    output = str(tmp_path / "eval")
    assert cli.main(["evaluate", "--model", run, "--data", synthetic_data, "--output", output, "--num-inputs", "4",
                     "--num-styles", "2", "--seeds", "0", "--inception-weights", "none", "--vgg-weights", "none"]) == 0
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is installed by `make test` (Debian package chromium)"
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking", "--disable-component-update",
                             "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}", "--dump-dom",
                             "file://" + os.path.join(output, "report.html")],
                            capture_output=True, text=True, timeout=120)
    # grids and interpolation strips for both directions, and the example-guided matrix
    assert "<title>munit-tf report: 5/5 images loaded</title>" in result.stdout
    assert "content_iou" in result.stdout and "Example-guided translation" in result.stdout
