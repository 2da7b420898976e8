"""The portable exports measured: file sizes, the error each quantization adds, the synthetic
benchmark's ground-truth metrics through each runtime, and latency per image against the
SavedModel (batch 1, ``translate_with_style_a2b``) at 64² (a synthetic run) and 256² (the
edges2shoes preset; its weights do not change the time).

    PYTHONPATH=. .venv-export/bin/python benchmarks/portable.py --run runs/curves/imag-nog \\
        > benchmarks/portable.json

Runs in the export environment (``make export-env``). Time it alone on the machine: the CPU and
its instruction sets are recorded beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from munit_tf import cpu, portable, serving, training  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.evaluation import protocol  # noqa: E402
from munit_tf.portable import exporter  # noqa: E402
from munit_tf.portable.client import PortableClient  # noqa: E402
from munit_tf.serving.client import TranslatorClient  # noqa: E402

VARIANTS = (("tflite", "none"), ("tflite", "float16"), ("tflite", "int8"), ("onnx", "none"))
FUNCTION = "translate_with_style_a2b"
QUALITY = ("a2b/content_iou", "b2a/outline_f_score", "a2b/diversity")
QUALITY += ("guided_a2b/texture_accuracy", "guided_a2b/reference_color_error")


def export_all(model, root: str, only=None) -> dict:
    """{variant label: (folder, manifest, size in bytes)} and the SavedModel under "savedmodel";
    ``only``: the portable functions to export (all twelve of a 256² model peak at 14 GB)."""
    done = {}
    for format, quantize in VARIANTS:
        folder = os.path.join(root, f"{format}-{quantize}")
        manifest = portable.export(model, folder, format, quantize, only=only)
        size = sum(
            os.path.getsize(os.path.join(folder, f)) for f in set(manifest["files"].values())
        )
        done[f"{format} {quantize}"] = folder, manifest, size
    saved = os.path.join(root, "savedmodel", "1")
    serving.export(model, saved)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(saved) for f in files)
    done["savedmodel"] = saved, None, size
    return done


def latency(call, inputs: dict, repeats: int) -> dict:
    """Median and 95th percentile seconds of ``call(**inputs)`` after two warm-up calls."""
    for _ in range(2):
        call(**inputs)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call(**inputs)
        seconds.append(time.perf_counter() - started)
    return {"p50": float(np.median(seconds)), "p95": float(np.percentile(seconds, 95))}


def runners(exports: dict) -> dict:
    """{label: call(images=, styles=)} of ``FUNCTION`` in each runtime, threads = the cores."""
    threads = os.cpu_count()
    calls = {}
    for label, (folder, manifest, _) in exports.items():
        if label == "savedmodel":
            signature = tf.saved_model.load(folder).signatures[FUNCTION]
            calls[label] = lambda s=signature, **x: s(
                images=tf.constant(x["images"]), styles=tf.constant(x["styles"])
            )["images"].numpy()
        elif manifest["format"] == "tflite":
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(
                os.path.join(folder, exporter.TFLITE_FILE), num_threads=threads
            )
            calls[label] = interpreter.get_signature_runner(FUNCTION)
        else:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            session = onnxruntime.InferenceSession(
                os.path.join(folder, manifest["files"][FUNCTION]),
                options,
                providers=["CPUExecutionProvider"],
            )
            calls[label] = lambda s=session, **x: s.run(None, x)[0]
    return calls


def measure_latency(model, repeats: int) -> dict:
    """``FUNCTION`` at batch 1 in each runtime; only it is exported (its latency is its own)."""
    config = model.config
    size, style_dim = config.data.crop_size, config.gen.style_dim
    rng = np.random.default_rng(0)
    inputs = {
        "images": rng.uniform(-1, 1, (1, size, size, 3)).astype("float32"),
        "styles": rng.normal(size=(1, style_dim)).astype("float32"),
    }
    with tempfile.TemporaryDirectory() as root:
        exports = export_all(model, root, only=(FUNCTION,))
        result = {}
        for label, call in runners(exports).items():
            result[label] = {
                "seconds": latency(call, inputs, repeats),
                "bytes": exports[label][2],
            }
            print(label, size, result[label], file=sys.stderr)
    return result


def measure_quality(model, data: str, seeds) -> dict:
    """Ground-truth metrics (32 test inputs, 8 styles, ``seeds``) through each runtime."""
    with tempfile.TemporaryDirectory() as root:
        exports = export_all(model, root)
        clients = {"keras (SavedModel's graphs)": TranslatorClient(model, lazy=True)}
        clients.update(
            {label: PortableClient(e[0]) for label, e in exports.items() if label != "savedmodel"}
        )
        domains = {d: protocol.load_domain(clients["tflite none"], data, d, 32) for d in "ab"}
        judge = protocol.synthetic_judge(domains, log=lambda *_: None)
        result = {}
        for label, client in clients.items():
            scores = protocol.ground_truth_scores(client, domains, 8, seeds, 16, judge)
            manifest = exports[label][1] if label in exports else None
            worst = None
            if manifest:
                worst = max(e for e in manifest["max_abs_error"].values() if e is not None)
            result[label] = {
                "bytes": exports[label][2] if label in exports else None,
                "max_abs_error_vs_tensorflow": worst,
                "metrics": {name: scores[name] for name in QUALITY if name in scores},
            }
            print(label, json.dumps(result[label]), file=sys.stderr)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default="runs/curves/imag-nog", help="a synthetic run folder")
    parser.add_argument("--data", default="runs/curves/data-64")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip", choices=("latency", "quality"), action="append", default=[])
    parser.add_argument("--sizes", default="64,256", help="latency at these sizes")
    args = parser.parse_args(argv)
    trained = training.load_model(args.run)
    result = {"cpu": cpu.describe(), "onednn": cpu.onednn_isa(), "run": args.run}
    result["step"] = int(trained.step.numpy())
    if "quality" not in args.skip:
        result["quality"] = measure_quality(trained, args.data, [0, 1, 2])
    if "latency" not in args.skip:
        result["latency"] = {}
        for size in args.sizes.split(","):  # 64: the synthetic run; 256: edges2shoes' networks
            model = trained if size == "64" else training.build_model(load_config("edges2shoes"))
            repeats = args.repeats if size == "64" else max(5, args.repeats // 5)
            result["latency"][size] = measure_latency(model, repeats)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
