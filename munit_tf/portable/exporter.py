"""Writing the portable functions as LiteRT (TFLite) or ONNX files, atomically, each checked
against TensorFlow on the way out.

The output is a folder: the model file(s) and ``manifest.json`` (format, quantization, image
size, style dimension, every function's inputs and output, and the largest difference from
TensorFlow measured on a probe batch at export). It is written beside its target and renamed into
place, so an interrupted export leaves nothing half-written (``munit_tf.atomic``).

LiteRT: one ``translator.tflite`` with every function as a signature, built-in ops only, in
float32, float16 weights or dynamic-range int8 weights (``quantize``). ONNX: one file per function
(ONNX has no signatures), float32, opset 17, the batch dimension named ``batch``. Web: the LiteRT
file at batch 1 (LiteRT.js takes only declared shapes), the page (``web/``) and LiteRT.js, to
serve as static files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf

from munit_tf import atomic, fast_conv
from munit_tf.data import synthetic
from munit_tf.errors import InvalidInput, MissingInput, OutputExists
from munit_tf.model import MUNIT
from munit_tf.portable.functions import (
    FUNCTION_NAMES,
    PortableFunction,
    float32_copy,
    portable_functions,
)

QUANTIZATIONS = {
    "tflite": ("none", "float16", "int8"),
    "onnx": ("none",),
    "web": ("none", "float16", "int8"),
}
FORMATS = tuple(QUANTIZATIONS)
ONNX_OPSET = 17
TFLITE_FILE = "translator.tflite"
MANIFEST = "manifest.json"
PROBE_BATCH = 2


class MissingExporter(MissingInput):
    """A converter or runtime of the export environment is not installed here."""


def _require_onnx():
    try:
        import onnxruntime  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError as error:
        raise MissingExporter(
            f"--format onnx needs tf2onnx, onnx and onnxruntime ({error.name} is missing), which "
            "need a newer protobuf than TFX: `make export-env`, then run "
            "`.venv-export/bin/munit-tf export --format onnx ...`"
        ) from None


def litert_interpreter(path_or_content):
    """A LiteRT interpreter (``ai-edge-litert``, else TensorFlow's own) of a file or its bytes."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter
    if isinstance(path_or_content, bytes):
        return Interpreter(model_content=path_or_content)
    return Interpreter(model_path=path_or_content)


def probe_inputs(function: PortableFunction, seed: int = 0) -> dict:
    """A fixed batch for ``function``: images uniform in [-1, 1], codes from N(0, I)."""
    rng = np.random.default_rng(seed)
    values = {}
    for spec in function.inputs:
        shape = [spec.shape[0] or PROBE_BATCH] + spec.shape.as_list()[1:]
        if spec.name in ("images", "reference_images"):
            values[spec.name] = rng.uniform(-1, 1, shape).astype("float32")
        else:
            values[spec.name] = rng.normal(size=shape).astype("float32")
    return values


def run_tensorflow(function: PortableFunction, inputs: dict) -> np.ndarray:
    args = [tf.constant(inputs[spec.name]) for spec in function.inputs]
    return function.function(*args)[function.output].numpy()


# --- LiteRT -------------------------------------------------------------------------------
def _tflite_bytes(functions: list[PortableFunction], quantize: str) -> bytes:
    module = tf.Module()
    signatures = {}
    for function in functions:
        setattr(module, function.name, function.function)
        signatures[function.name] = function.function
    with tempfile.TemporaryDirectory(prefix="munit-tflite-") as folder:
        tf.saved_model.save(module, folder, signatures=signatures)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            folder, signature_keys=[f.name for f in functions]
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic-range int8 weights
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def run_tflite(interpreter, function_name: str, output: str, inputs: dict) -> np.ndarray:
    return interpreter.get_signature_runner(function_name)(**inputs)[output]


# --- ONNX ---------------------------------------------------------------------------------
def _write_onnx(function: PortableFunction, path: str) -> None:
    import tf2onnx

    with fast_conv.form("portable"):  # (traced already: the cached graph is converted)
        proto, _ = tf2onnx.convert.from_function(
            function.source, input_signature=function.inputs, opset=ONNX_OPSET
        )
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
    # tf2onnx names the output after a graph tensor ("Identity:0"): give it the function's name
    old, new = proto.graph.output[0].name, function.output
    for node in proto.graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
        node.input[:] = [new if name == old else name for name in node.input]
    proto.graph.output[0].name = new
    with open(path, "wb") as handle:
        handle.write(proto.SerializeToString())


def onnx_session(path: str):
    import onnxruntime

    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def run_onnx(session, inputs: dict) -> np.ndarray:
    return session.run(None, inputs)[0]


# --- the export ---------------------------------------------------------------------------
def check_request(
    format: str, quantize: str, output: str, overwrite: bool, only: tuple | None = None
) -> None:
    """What can be refused before a model is loaded: an unknown format, a quantization the format
    lacks, an unknown function, a tool this environment does not have, an output that is there
    already."""
    if format not in QUANTIZATIONS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    if quantize not in QUANTIZATIONS[format]:
        raise InvalidInput(
            f"--quantize {quantize} is not available for --format {format} "
            f"(it takes: {', '.join(QUANTIZATIONS[format])})"
        )
    if only is not None:
        if format == "web":
            raise InvalidInput("--functions is for tflite and onnx: the page needs its own set")
        unknown = sorted(set(only) - set(FUNCTION_NAMES))
        if unknown or not only:
            raise InvalidInput(
                f"--functions: unknown {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(FUNCTION_NAMES)}"
            )
    if format == "onnx":
        _require_onnx()
    if format == "web":
        web_runtime()
    if tf.io.gfile.exists(output) and not overwrite:
        raise OutputExists(f"{output} already exists; pass --overwrite to replace it")


def export(
    model: MUNIT,
    output: str,
    format: str = "tflite",
    quantize: str = "none",
    overwrite: bool = False,
    log=None,
    only: tuple[str, ...] | None = None,
) -> dict:
    """Write ``model``'s portable functions (all, or those named in ``only``) to the folder
    ``output``; returns the manifest."""
    check_request(format, quantize, output, overwrite, only)
    if len(model.domains) != 2:
        raise InvalidInput(
            f"portable exports translate two domains (a2b, b2a); this model has "
            f"{len(model.domains)} ({', '.join(model.domains)}): export a SavedModel instead"
        )
    log = log or (lambda *_: None)
    started = time.time()
    # LiteRT.js runs only the shapes a model declares: the page's functions take one image
    functions = portable_functions(
        float32_copy(model), batch=1 if format == "web" else None, only=only
    )
    log(f"traced and froze {len(functions)} functions ({time.time() - started:.0f} s)")
    staging = atomic.staging_dir(output)
    try:
        if format in ("tflite", "web"):
            files, errors = _export_tflite(functions, staging, quantize, log)
        else:
            files, errors = _export_onnx(functions, staging, log)
        if format == "web":
            _write_page(staging)
        config = model.config
        manifest = {
            "format": format,
            "quantization": quantize,
            "config": config.name,
            "image_size": config.data.crop_size,
            "style_dim": config.gen.style_dim,
            "channels": {"a": config.data.input_dim_a, "b": config.data.input_dim_b},
            "pixel_range": [-1.0, 1.0],
            "files": files,
            "functions": {f.name: f.describe() for f in functions},
            # largest |runtime - TensorFlow| on a probe batch of PROBE_BATCH (random-style
            # functions draw their own codes, so only their shapes are compared)
            "max_abs_error": errors,
            "select_tf_ops": [],  # built-in ops only: the converter is told to refuse others
        }
        if format == "web":  # the page's drawing pad: the synthetic data's domain A
            manifest["sketch"] = {
                "background": [round(v * 255) for v in synthetic.BACKGROUND],
                "ink": [round(v * 255) for v in synthetic.OUTLINE_COLOR],
                "line_width": synthetic.outline_width(config.data.crop_size),
            }
        with open(os.path.join(staging, MANIFEST), "w") as handle:
            json.dump(manifest, handle, indent=2)
        atomic.publish(staging, output)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    log(f"exported {format} ({quantize}) to {output} in {time.time() - started:.0f} s")
    return manifest


# --- the browser page ----------------------------------------------------------------------
WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web")
PAGE_FILES = ("index.html", "munit.js")
# LiteRT.js from npm (make web-deps): the module, its helper, and the WebAssembly builds that
# Chromium and Firefox load without cross-origin isolation (plain, and without relaxed SIMD)
RUNTIME_FILES = {
    "litert/litert.js": "@litertjs/core/dist/index.js",
    "litert/wasm-utils.js": "@litertjs/wasm-utils/dist/index.js",
    **{
        f"litert/wasm/{name}.{ext}": f"@litertjs/core/wasm/{name}.{ext}"
        for name in ("litert_wasm_internal", "litert_wasm_compat_internal")
        for ext in ("js", "wasm")
    },
}


def web_runtime() -> dict:
    """{file in the export: its source} for LiteRT.js, which ``make web-deps`` installs with npm
    (``MUNIT_TF_WEB_MODULES`` names another node_modules folder)."""
    modules = os.environ.get("MUNIT_TF_WEB_MODULES") or os.path.join(WEB, "node_modules")
    files = {target: os.path.join(modules, source) for target, source in RUNTIME_FILES.items()}
    missing = [path for path in files.values() if not os.path.isfile(path)]
    if missing:
        raise MissingExporter(
            f"--format web needs LiteRT.js ({missing[0]} is missing): run `make web-deps` "
            f"(npm ci in {WEB})"
        )
    return files


def _write_page(staging: str) -> None:
    for name in PAGE_FILES:
        shutil.copy(os.path.join(WEB, name), os.path.join(staging, name))
    for target, source in web_runtime().items():
        os.makedirs(os.path.dirname(os.path.join(staging, target)), exist_ok=True)
        shutil.copy(source, os.path.join(staging, target))


def _compare(function: PortableFunction, ours: np.ndarray, inputs: dict) -> float | None:
    expected = run_tensorflow(function, inputs)
    if ours.shape != expected.shape or not np.all(np.isfinite(ours)):
        raise RuntimeError(
            f"{function.name}: the exported function gives {ours.shape} "
            f"(finite: {np.all(np.isfinite(ours))}), TensorFlow {expected.shape}"
        )
    if function.name.startswith("translate_random_"):
        return None
    return float(np.max(np.abs(ours - expected)))


def _export_tflite(functions, staging, quantize, log):
    started = time.time()
    content = _tflite_bytes(functions, quantize)
    with open(os.path.join(staging, TFLITE_FILE), "wb") as handle:
        handle.write(content)
    log(f"converted to LiteRT: {len(content) / 1e6:.1f} MB ({time.time() - started:.0f} s)")
    interpreter = litert_interpreter(content)
    errors = {}
    for function in functions:
        inputs = probe_inputs(function)
        ours = run_tflite(interpreter, function.name, function.output, inputs)
        errors[function.name] = _compare(function, ours, inputs)
    return {f.name: TFLITE_FILE for f in functions}, errors


def _export_onnx(functions, staging, log):
    files, errors = {}, {}
    for index, function in enumerate(functions):
        name = f"{function.name}.onnx"
        _write_onnx(function, os.path.join(staging, name))
        inputs = probe_inputs(function)
        ours = run_onnx(onnx_session(os.path.join(staging, name)), inputs)
        files[function.name], errors[function.name] = name, _compare(function, ours, inputs)
        log(f"  [{index + 1}/{len(functions)}] {name}")
    return files, errors
