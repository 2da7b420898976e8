"""The exported SavedModel: every signature, loaded where munit_tf cannot be imported, fed as TF
Serving feeds it (REST JSON with b64), and its errors for malformed input."""

import base64
import io
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from cli_args import argv
from PIL import Image

from munit_tf import cli, serving, training


def _png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


RNG = np.random.default_rng(0)
IMAGE = _png(RNG.integers(0, 255, (40, 52, 3)))


@pytest.fixture(scope="module")
def run_and_export(exported_run):
    return exported_run


@pytest.fixture(scope="module")
def loaded(run_and_export):
    return tf.saved_model.load(run_and_export[1])


def _inputs():
    """One input set for every signature (tiny preset: 3 channels, style_dim 4)."""
    images = RNG.uniform(-1, 1, (2, 32, 36, 3)).astype("float32")
    return {
        "translate_bytes": {
            "image_bytes": np.array([IMAGE, IMAGE]),
            "num_styles": np.array([3], np.int32),
            "seed": np.array([5, 6], np.int64),
        },
        "translate": {"images": images, "seed": np.array([1, 2], np.int64)},
        "translate_uint8": {
            "images": np.round((images + 1) * 127.5).astype(np.uint8),
            "seed": np.array([1], np.int64),
        },
        "translate_with_style": {
            "images": images,
            "styles": RNG.normal(size=(2, 4)).astype("float32"),
        },
        "translate_with_reference": {
            "images": images,
            "reference_images": RNG.uniform(-1, 1, (1, 40, 40, 3)).astype("float32"),
        },
        "encode_style": {"images": images},
        "encode_content": {"images": images},
    }


INPUTS = _inputs()


def _calls():
    for name, inputs in INPUTS.items():
        if name.startswith("encode"):
            for domain in "ab":
                yield f"{name}_{domain}", inputs
        else:
            for direction in ("a2b", "b2a"):
                yield f"{name}_{direction}", inputs


FRESH_PROCESS = textwrap.dedent("""
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "munit_tf":
                raise ImportError("munit_tf must not be needed to serve")
    sys.meta_path.insert(0, Block())
    import numpy as np, tensorflow as tf
    model = tf.saved_model.load(sys.argv[1])
    inputs = np.load(sys.argv[2], allow_pickle=False)
    names = sorted({key.split("/")[0] for key in inputs.files})
    out = {}
    for name in names:
        args = {key.split("/")[1]: tf.constant(inputs[key])
                for key in inputs.files if key.split("/")[0] == name}
        for key, value in model.signatures[name](**args).items():
            value = value.numpy()
            out[f"{name}/{key}"] = value.astype(bytes) if value.dtype == object else value
    np.savez(sys.argv[3], **out)
    assert "munit_tf" not in sys.modules
    print("signatures", len(model.signatures))
""")


def test_every_signature_in_a_process_without_munit_tf_matches_the_model(run_and_export, tmp_path):
    run, saved = run_and_export
    flat = {f"{name}/{key}": value for name, inputs in _calls() for key, value in inputs.items()}
    np.savez(tmp_path / "inputs.npz", **flat)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            FRESH_PROCESS,
            saved,
            str(tmp_path / "inputs.npz"),
            str(tmp_path / "outputs.npz"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "signatures 15" in result.stdout
    served = np.load(tmp_path / "outputs.npz")
    translator = serving.Translator(training.load_model(run))
    expected = translator.signatures()
    for name, inputs in _calls():
        for key, value in expected[name](**{k: tf.constant(v) for k, v in inputs.items()}).items():
            got = served[f"{name}/{key}"]
            if value.dtype == tf.string:
                assert got.shape == tuple(value.shape)
                decoded = [tf.io.decode_png(b).numpy() for b in got.ravel()]
                reference = [tf.io.decode_png(b).numpy() for b in value.numpy().ravel()]
                assert all(
                    np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(decoded, reference)
                ), name
            else:
                np.testing.assert_allclose(got, value.numpy(), atol=1e-4, err_msg=name)


def test_seeds_make_outputs_reproducible_and_different(loaded):
    serve = loaded.signatures["serving_default"]

    def call(seed):
        return serve(
            image_bytes=tf.constant([IMAGE]),
            num_styles=tf.constant([2]),
            seed=tf.constant([seed], tf.int64),
        )["output_bytes"].numpy()

    first, again, other = call(3), call(3), call(4)
    assert first.shape == (1, 2) and np.array_equal(first, again)
    assert not np.array_equal(first, other) and first[0, 0] != first[0, 1]
    image = tf.io.decode_png(first[0, 0]).numpy()
    assert image.shape == (32, 40, 3)  # 40x52 resized to shorter side 32 -> 32x42 -> cropped to x4


def test_reference_images_steer_the_style(loaded):
    images = RNG.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    fn = loaded.signatures["translate_with_reference_a2b"]
    one = fn(images=images, reference_images=RNG.uniform(-1, 1, (1, 32, 32, 3)).astype("float32"))[
        "images"
    ]
    two = fn(images=images, reference_images=RNG.uniform(-1, 1, (1, 32, 32, 3)).astype("float32"))[
        "images"
    ]
    assert np.abs(one.numpy() - two.numpy()).max() > 1e-3


def rest_predict(signature, body: str) -> dict:
    """TF Serving's REST decoding (json_tensor.cc): row or columnar format, {"b64": ...} to bytes,
    and outputs whose name ends in _bytes back to {"b64": ...}."""

    def decode(value):
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    request = json.loads(body)
    names = list(signature.structured_input_signature[1])
    if "instances" in request:
        columns = {name: [] for name in names}
        for instance in request["instances"]:
            values = (
                instance
                if isinstance(instance, dict) and not set(instance) == {"b64"}
                else {names[0]: instance}
            )
            for name in names:
                columns[name].append(decode(values[name]))
    else:
        columns = {name: decode(request["inputs"][name]) for name in names}
    specs = signature.structured_input_signature[1]
    outputs = signature(**{name: tf.constant(columns[name], specs[name].dtype) for name in names})

    def encode(name, value):
        if isinstance(value, list):
            return [encode(name, v) for v in value]
        if name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode()}
        return value

    rows = {name: encode(name, value.numpy().tolist()) for name, value in outputs.items()}
    if "instances" in request:
        single = len(rows) == 1
        return {
            "predictions": [
                next(iter(rows.values()))[i] if single else {k: v[i] for k, v in rows.items()}
                for i in range(len(columns[names[0]]))
            ]
        }
    # one output: name omitted
    return {"outputs": next(iter(rows.values())) if len(rows) == 1 else rows}


def test_rest_row_and_columnar_requests_as_tf_serving_feeds_them(loaded):
    b64 = base64.b64encode(IMAGE).decode()
    row = json.dumps(
        {
            "signature_name": "serving_default",
            "instances": [
                {"image_bytes": {"b64": b64}, "num_styles": 2, "seed": 1},
                {"image_bytes": {"b64": b64}, "num_styles": 2, "seed": 2},
            ],
        }
    )
    response = rest_predict(loaded.signatures["serving_default"], row)
    assert len(response["predictions"]) == 2 and len(response["predictions"][0]) == 2
    png = base64.b64decode(response["predictions"][0][0]["b64"])
    assert tf.io.decode_png(png).shape == (32, 40, 3)
    columnar = json.dumps(
        {"inputs": {"image_bytes": [{"b64": b64}], "num_styles": [3], "seed": [1]}}
    )
    response = rest_predict(loaded.signatures["translate_bytes_b2a"], columnar)
    assert len(response["outputs"][0]) == 3


def test_the_readme_grpc_request_runs_through_the_signature(loaded):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = "munit"
    request.model_spec.signature_name = "translate_bytes_a2b"
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([IMAGE]))
    request.inputs["num_styles"].CopyFrom(tf.make_tensor_proto([4], dtype=tf.int32))
    request.inputs["seed"].CopyFrom(tf.make_tensor_proto([0], dtype=tf.int64))
    signature = loaded.signatures[request.model_spec.signature_name]
    outputs = signature(
        **{name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
    )
    response = predict_pb2.PredictResponse()
    response.outputs["output_bytes"].CopyFrom(tf.make_tensor_proto(outputs["output_bytes"]))
    pngs = tf.make_ndarray(response.outputs["output_bytes"])
    assert pngs.shape == (1, 4) and tf.io.decode_png(pngs[0, 3]).shape == (32, 40, 3)


def test_malformed_requests_are_invalid_argument(loaded):
    serve = loaded.signatures["serving_default"]
    one, seed = tf.constant([1]), tf.constant([0], tf.int64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown image file format"):
        serve(image_bytes=tf.constant([b"not an image"]), num_styles=one, seed=seed)
    with pytest.raises(tf.errors.InvalidArgumentError):
        serve(image_bytes=tf.constant([b""]), num_styles=one, seed=seed)
    huge = bytearray(IMAGE)
    huge[16:24] = struct.pack(">II", 100_000, 100_000)  # IHDR claims 10 gigapixels
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than"):
        serve(image_bytes=tf.constant([bytes(huge)]), num_styles=one, seed=seed)
    with pytest.raises(tf.errors.InvalidArgumentError, match="between 1 and 64"):
        serve(image_bytes=tf.constant([IMAGE]), num_styles=tf.constant([0]), seed=seed)
    with pytest.raises(tf.errors.InvalidArgumentError, match="one per image"):
        serve(
            image_bytes=tf.constant([IMAGE] * 3), num_styles=one, seed=tf.constant([1, 2], tf.int64)
        )
    with pytest.raises(tf.errors.InvalidArgumentError, match="divisible by 4"):
        loaded.signatures["translate_a2b"](images=tf.zeros([1, 30, 32, 3]), seed=seed)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        loaded.signatures["translate_a2b"](images=tf.zeros([1, 32, 32], tf.float32), seed=seed)


def test_export_refuses_to_overwrite_and_needs_a_version_folder(run_and_export, tmp_path, capsys):
    run, saved = run_and_export
    assert cli.main(argv("export", checkpoint=run, output=saved)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(argv("export", checkpoint=run, output=str(tmp_path / "latest"))) == 2
    assert "version number" in capsys.readouterr().err
    assert (
        cli.main(argv("export", checkpoint=str(tmp_path / "none"), output=str(tmp_path / "1"))) == 2
    )
    assert not any(".tmp-" in name for name in os.listdir(os.path.dirname(saved)))


def test_export_shows_its_progress(exported_run):
    run, saved = exported_run
    console = open(
        os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(saved))), "export-console.txt")
    ).read()
    # serving_default is one of them again
    signatures = len(tf.saved_model.load(saved).signatures) - 1
    assert f"tracing {signatures} serving signatures" in console
    assert f"{signatures}/{signatures}" in console and "writing the SavedModel" in console
    assert "exported in" in console and f"exported SavedModel to {saved}" in console


def test_litert_exports_from_this_environment_and_onnx_names_the_one_that_can(
    exported_run, tmp_path, capsys
):
    """TensorFlow converts to LiteRT here too (its own interpreter checks the file); ONNX needs the
    export environment, and the command says so in one line before loading anything."""
    run, saved = exported_run
    output = str(tmp_path / "litert")
    assert cli.main(argv("export", checkpoint=run, output=output, format="tflite")) == 0
    manifest = json.load(open(os.path.join(output, "manifest.json")))
    assert os.path.getsize(os.path.join(output, manifest["files"]["translate_random_a2b"])) > 0
    errors = [e for e in manifest["max_abs_error"].values() if e is not None]
    assert len(errors) == 10 and max(errors) < 1e-4
    assert cli.main(argv("export", checkpoint=run, output=str(tmp_path / "o"), format="onnx")) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "make export-env" in error
    assert not os.path.exists(tmp_path / "o")
