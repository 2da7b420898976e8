"""Latency (p50/p95 per call and per image) and throughput of the exported translator on CPU.

    python benchmarks/serve.py --config edges2shoes --size 256 --batches 1 8 32

Exports a model of the given preset (random weights: speed does not depend on them), loads the
SavedModel as TF Serving would, and times ``translate_a2b`` (float images) and
``translate_bytes_a2b`` (PNG bytes in and out, one style per image).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from peak import around  # noqa: E402  (benchmarks/peak.py)
from PIL import Image  # noqa: E402

from munit_tf import serving  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.training import build_model  # noqa: E402


def timed(call, repeats: int) -> list[float]:
    call()  # warm-up: tracing and first-run allocations
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="edges2shoes")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--images-per-batch-size", type=int, default=48, help="images timed per batch size"
    )
    args = parser.parse_args()
    config = load_config(args.config, [f"data.new_size={args.size}", f"data.crop_size={args.size}"])
    path = serving.export(build_model(config), os.path.join(tempfile.mkdtemp(), "1"))
    model = tf.saved_model.load(path)
    rng = np.random.default_rng(0)
    results = {
        "config": config.name,
        "size": args.size,
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
    }
    for batch in args.batches:
        repeats = max(3, args.images_per_batch_size // batch)
        images = rng.uniform(-1, 1, (batch, args.size, args.size, 3)).astype("float32")
        pngs = []
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(((image + 1) * 127.5).astype(np.uint8)).save(buffer, format="PNG")
            pngs.append(buffer.getvalue())
        calls = {
            "translate": lambda: model.signatures["translate_a2b"](
                images=tf.constant(images), seed=tf.constant([0], tf.int64)
            )["images"].numpy(),
            "translate_bytes": lambda: model.signatures["translate_bytes_a2b"](
                image_bytes=tf.constant(pngs),
                num_styles=tf.constant([1]),
                seed=tf.constant([0], tf.int64),
            )["output_bytes"].numpy(),
        }
        for name, call in calls.items():
            times, peak = around(lambda: timed(call, repeats))
            results[f"{name}_batch{batch}"] = {
                "p50_seconds": round(float(np.percentile(times, 50)), 3),
                "p95_seconds": round(float(np.percentile(times, 95)), 3),
                "p50_seconds_per_image": round(float(np.percentile(times, 50)) / batch, 3),
                "images_per_second": round(batch / float(np.median(times)), 2),
                "calls": len(times),
                "conv_peak_gflops": round(peak, 1),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
