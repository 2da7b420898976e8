"""LiteRT and ONNX exports against the model itself: every function, any batch, each
quantization's measured error, the command line's refusals, nothing half-written, and the
README's Deploy snippets run as written.

These run in the export environment (``.venv-export``; ``make test`` runs them there): tf2onnx,
onnx and onnxruntime need a newer protobuf than TFX 1.16 pins.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from paths import ROOT

from munit_tf import cli, portable, training
from munit_tf.config import load_config
from munit_tf.portable import exporter

TOLERANCE = 1e-4  # float32 formats: max |difference| from TensorFlow, images in [-1, 1]
RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def run(model, tmp_path_factory):
    """A run folder as training leaves it: config.yaml and a checkpoint."""
    folder = str(tmp_path_factory.mktemp("run"))
    with open(os.path.join(folder, "config.yaml"), "w") as handle:
        handle.write(model.config.to_yaml())
    training.Checkpointer(model, os.path.join(folder, "checkpoints")).save()
    return folder


@pytest.fixture(scope="module")
def exports(model, tmp_path_factory):
    """Each format and quantization, exported once: {(format, quantize): (folder, manifest)}."""
    root = tmp_path_factory.mktemp("exports")
    done = {}
    for format, quantize in (("tflite", "none"), ("tflite", "float16"), ("tflite", "int8")):
        folder = str(root / f"{format}-{quantize}")
        done[format, quantize] = folder, portable.export(model, folder, format, quantize)
    folder = str(root / "onnx")
    done["onnx", "none"] = folder, portable.export(model, folder, "onnx")
    return done


def expected(model, name, inputs):
    """What the model itself computes for function ``name`` (not the exported graph)."""
    gen_a, gen_b = model.inference_generators
    gens = {"a": gen_a, "b": gen_b}
    kind, last = name.rsplit("_", 1)
    if kind in ("translate_with_style", "translate_with_reference"):
        source, target = gens[last[0]], gens[last[2]]
        styles = (
            inputs["styles"]
            if kind == "translate_with_style"
            else target.encode_style(inputs["reference_images"])
        )
        return np.asarray(target.decode(source.encode_content(inputs["images"]), styles))
    generator = gens[last]
    if kind == "encode_style":
        return np.asarray(generator.encode_style(inputs["images"]))
    if kind == "encode_content":
        return np.asarray(generator.encode_content(inputs["images"]))
    return np.asarray(generator.decode(inputs["content"], inputs["styles"]))


def inputs_for(manifest, name, batch):
    values = {}
    for spec in manifest["functions"][name]["inputs"]:
        shape = [batch] + spec["shape"][1:]
        if spec["name"].endswith("images"):
            values[spec["name"]] = RNG.uniform(-1, 1, shape).astype("float32")
        else:
            values[spec["name"]] = RNG.normal(size=shape).astype("float32")
    return values


def test_litert_float32_equals_the_model_for_every_function_and_any_batch(model, exports):
    folder, manifest = exports["tflite", "none"]
    assert manifest["select_tf_ops"] == []
    # the plain interpreter (no Flex delegate) runs it: built-in ops only
    interpreter = exporter.litert_interpreter(os.path.join(folder, exporter.TFLITE_FILE))
    assert (
        set(interpreter.get_signature_list()) == set(manifest["functions"])
        and len(manifest["functions"]) == 12
    )
    for name, described in manifest["functions"].items():
        output = described["output"]["name"]
        for batch in (1, 3):
            values = inputs_for(manifest, name, batch)
            ours = exporter.run_tflite(interpreter, name, output, values)
            if name.startswith("translate_random_"):
                again = exporter.run_tflite(interpreter, name, output, values)
                assert ours.shape == (batch, 32, 32, 3) and np.all(np.abs(ours) <= 1)
                assert np.abs(ours - again).max() > 1e-3  # a fresh style at every call
                continue
            np.testing.assert_allclose(ours, expected(model, name, values), atol=TOLERANCE)
        assert manifest["max_abs_error"][name] is None or manifest["max_abs_error"][name] < 1e-4


def test_quantized_litert_files_are_smaller_and_their_error_is_measured(model, exports):
    sizes, errors = {}, {}
    function = next(
        f for f in portable.portable_functions(model) if f.name == "translate_with_style_a2b"
    )
    probe = exporter.probe_inputs(function)
    for quantize in ("none", "float16", "int8"):
        folder, manifest = exports["tflite", quantize]
        assert manifest["quantization"] == quantize
        sizes[quantize] = os.path.getsize(os.path.join(folder, exporter.TFLITE_FILE))
        errors[quantize] = manifest["max_abs_error"]["translate_with_style_a2b"]
        # the manifest's figure is what the file gives on the probe batch
        interpreter = exporter.litert_interpreter(os.path.join(folder, exporter.TFLITE_FILE))
        ours = exporter.run_tflite(interpreter, function.name, "translations", probe)
        assert (
            abs(np.abs(ours - exporter.run_tensorflow(function, probe)).max() - errors[quantize])
            < 1e-6
        )
    # (at the tiny test size the graph outweighs the weights: the ratios are in RESULTS.md)
    assert sizes["int8"] < sizes["float16"] < sizes["none"]
    assert errors["none"] < errors["float16"] < errors["int8"]


def test_onnx_equals_the_model_for_every_function_and_any_batch(model, exports):
    folder, manifest = exports["onnx", "none"]
    assert sorted(os.listdir(folder)) == sorted(
        [exporter.MANIFEST] + [f"{name}.onnx" for name in manifest["functions"]]
    )
    for name, described in manifest["functions"].items():
        session = exporter.onnx_session(os.path.join(folder, manifest["files"][name]))
        assert [i.name for i in session.get_inputs()] == [i["name"] for i in described["inputs"]]
        assert session.get_inputs()[0].shape[0] == "batch"
        assert [o.name for o in session.get_outputs()] == [described["output"]["name"]]
        for batch in (1, 3):
            values = inputs_for(manifest, name, batch)
            ours = exporter.run_onnx(session, values)
            if name.startswith("translate_random_"):
                assert ours.shape == (batch, 32, 32, 3) and np.all(np.isfinite(ours))
                continue
            np.testing.assert_allclose(ours, expected(model, name, values), atol=TOLERANCE)


def test_the_export_command_writes_and_refuses_in_one_line(run, tmp_path, capsys):
    output = str(tmp_path / "litert")
    assert cli.main(["export", "--checkpoint", run, "--format", "tflite", "--output", output]) == 0
    printed = capsys.readouterr().out
    assert "largest difference from TensorFlow" in printed
    assert json.load(open(os.path.join(output, "manifest.json")))["format"] == "tflite"
    refusals = [
        (["--checkpoint", run, "--format", "tflite", "--output", output], "already exists"),
        (["--checkpoint", str(tmp_path / "nothing"), "--format", "tflite", "--output", "x"], ""),
        (["--checkpoint", str(tmp_path), "--format", "onnx", "--output", "y"], "no checkpoint"),
        (["--checkpoint", run, "--format", "onnx", "--quantize", "int8", "--output", "z"], "int8"),
        (["--checkpoint", run, "--quantize", "float16", "--output", "s/1"], "portable"),
        (["--checkpoint", run, "--format", "tflite", "--functions", "x", "--output", "f"], "known"),
    ]
    for args, words in refusals:
        assert cli.main(["export"] + args) == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and words in error, error
        assert "Traceback" not in error


def test_a_web_export_without_litert_js_names_the_way_to_get_it(run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MUNIT_TF_WEB_MODULES", str(tmp_path / "node_modules"))
    args = ["export", "--checkpoint", run, "--format", "web", "--output", str(tmp_path / "w")]
    assert cli.main(args) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "make web-deps" in error
    assert not os.path.exists(tmp_path / "w")


def test_only_the_functions_asked_for(model, tmp_path):
    only = ("translate_with_style_a2b", "encode_style_b")
    manifest = portable.export(model, str(tmp_path / "two"), "tflite", only=only)
    assert tuple(manifest["functions"]) == only
    interpreter = exporter.litert_interpreter(str(tmp_path / "two" / exporter.TFLITE_FILE))
    assert set(interpreter.get_signature_list()) == set(only)


def test_an_interrupted_export_leaves_nothing(model, tmp_path, monkeypatch):
    def killed(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(exporter, "_tflite_bytes", killed)
    with pytest.raises(KeyboardInterrupt):
        portable.export(model, str(tmp_path / "out"), "tflite")
    assert os.listdir(tmp_path) == []  # no output, no hidden staging folder


def test_a_bfloat16_model_exports_in_float32_with_its_weights(model):
    config = load_config("tiny", ["train.precision=mixed_bfloat16"])
    trained = training.build_model(config)
    for ours, theirs in zip(trained.inference_generators, model.inference_generators):
        ours.set_weights(theirs.get_weights())
    copy = portable.float32_copy(trained)
    assert copy is not trained and copy.gen_a.compute_dtype == "float32"
    x = RNG.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(copy.inference_generators[0].encode_style(x)),
        np.asarray(model.inference_generators[0].encode_style(x)),
        atol=1e-6,
    )
    assert portable.float32_copy(model) is model


def _readme_snippet(name: str) -> str:
    text = open(os.path.join(ROOT, "README.md")).read()
    match = re.search(rf"<!-- deploy:{name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"README has no deploy:{name} snippet"
    return match.group(1)


@pytest.mark.parametrize("name", ["litert", "onnx"])
def test_the_readme_deploy_snippets_run_as_written(name, exports, tmp_path):
    """Run where the README's user stands: the export in munit-NAME/, an input.png beside it."""
    shutil.copytree(
        exports[("tflite" if name == "litert" else "onnx"), "none"][0], tmp_path / f"munit-{name}"
    )
    tf.io.write_file(
        str(tmp_path / "input.png"),
        tf.io.encode_png(RNG.integers(0, 256, (40, 48, 3), dtype=np.uint8)),
    )
    result = subprocess.run(
        [sys.executable, "-c", _readme_snippet(name)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = tf.io.decode_png(tf.io.read_file(str(tmp_path / "translation.png"))).numpy()
    assert out.shape == (32, 32, 3) and out.std() > 0
