"""Does one image gain from running each large convolution as its two halves (batch of two)?

    PYTHONPATH=. .venv/bin/python benchmarks/single_image_split.py --config edges2shoes --size 256

``fast_conv.one_image_as_two`` splits a single image only when its batch is unknown at trace
time (the serving signatures' decoder, whose batch is the request's style count). The bytes
signature's content encoder sees a batch of exactly one, known when traced, so it never splits.
This times the content encoder and the decoder on one image, traced with the batch known (no
split) and unknown (split at run time), alternating the two, and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import tensorflow as tf  # noqa: E402
from peak import around  # noqa: E402  (benchmarks/peak.py)

from munit_tf import cpu, fast_conv  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.training import build_model  # noqa: E402


def _median_seconds(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="edges2shoes")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = load_config(args.config, [f"data.new_size={args.size}", f"data.crop_size={args.size}"])
    gen = build_model(config).gen_a
    size, channels = args.size, config.data.input_dim_a
    image = tf.random.uniform([1, size, size, channels], -1, 1)
    content = gen.encode_content(image)
    style = tf.random.normal([1, config.gen.style_dim])

    def traced(fn, batch):
        specs = [tf.TensorSpec([batch, *t.shape[1:]], t.dtype) for t in fn[1]]
        with fast_conv.form("serving"), fast_conv.without():  # the split, whatever the CPU's
            return tf.function(fn[0], input_signature=specs).get_concrete_function()

    parts = {
        "encode_content": (lambda x: gen.encode_content(x), (image,)),
        "decode": (lambda c, s: gen.decode(c, s), (content, style)),
    }
    results = {"cpu": cpu.describe(), "config": args.config, "size": size, "parts": {}}
    results["tensorflow_uses_onednn"] = cpu.tensorflow_uses_onednn()
    for name, (fn, inputs) in parts.items():
        known, unknown = traced((fn, inputs), 1), traced((fn, inputs), None)
        np_known = known(*inputs)
        np_unknown = unknown(*inputs)
        difference = float(tf.reduce_max(tf.abs(np_known - np_unknown)))
        rounds = {"known_batch_no_split": [], "unknown_batch_split": []}

        def measure(rounds=rounds, known=known, unknown=unknown, inputs=inputs):
            for _ in range(args.rounds):  # alternated, so a slow spell hits both
                rounds["known_batch_no_split"].append(
                    _median_seconds(lambda: known(*inputs).numpy(), args.repeats)
                )
                rounds["unknown_batch_split"].append(
                    _median_seconds(lambda: unknown(*inputs).numpy(), args.repeats)
                )

        _, peak = around(measure)
        no_split = min(rounds["known_batch_no_split"])
        split = min(rounds["unknown_batch_split"])
        results["parts"][name] = {
            "seconds_no_split": round(no_split, 4),
            "seconds_split": round(split, 4),
            "speedup_of_split": round(no_split / split, 3),
            "max_abs_difference": difference,
            "conv_peak_gflops": round(peak, 1),
            "rounds": rounds,
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
