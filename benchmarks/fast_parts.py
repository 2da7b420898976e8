"""What each part of the fast convolution form gains on this CPU, one layer at a time.

    PYTHONPATH=. .venv/bin/python benchmarks/fast_parts.py > benchmarks/fast_parts_avx2.json

A whole training step drifts by +-5% from one process to the next on these machines, more than
some parts gain; one layer's forward and backward pass, timed with the part and without it
(``fast_conv.without``) in alternating rounds in one process, does not. Each part is timed on
the edges2shoes layer it serves, at batch 2 (the stacked calls of a training step):
``sub_pixel`` on both upsampling blocks, ``in_blocks`` on the last conv to RGB, ``keep_input`` on
a residual block's 3x3 conv (a memory saving: its cost in time is what is measured).
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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from munit_tf import cpu, fast_conv, layers  # noqa: E402


def cases(size: int) -> dict:
    """{part: [(name, layer, input shape)]} at the edges2shoes networks' sizes for ``size``."""
    quarter, half = size // 4, size // 2
    return {
        "sub_pixel": [
            (
                "upsample 256->128",
                layers.UpsampleConvBlock(128, 5, 1, 2, "ln", "relu"),
                (quarter, 256),
            ),
            ("upsample 128->64", layers.UpsampleConvBlock(64, 5, 1, 2, "ln", "relu"), (half, 128)),
        ],
        "in_blocks": [("7x7 conv 64->3", layers.ConvBlock(3, 7, 1, 3, "none", "tanh"), (size, 64))],
        "keep_input": [
            ("3x3 conv 256->256", layers.ConvBlock(256, 3, 1, 1, "in", "relu"), (quarter, 256))
        ],
    }


def step_of(layer, x):
    """A traced forward and backward pass of ``layer`` (traced in the current form)."""

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(tf.square(layer(x)))
        grads = tape.gradient(loss, [x] + layer.trainable_variables)
        return tf.add_n([tf.reduce_sum(g) for g in grads])

    step(x).numpy()
    return step


def timed(step, x, repeats: int) -> float:
    step(x).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = step(x)
    out.numpy()
    return (time.perf_counter() - start) / repeats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = {"cpu": cpu.describe(), "onednn_isa": cpu.onednn_isa(), "size": args.size}
    result["parts"] = {}
    for part, layer_cases in cases(args.size).items():
        rows = []
        for name, layer, (side, channels) in layer_cases:
            x = tf.random.normal([args.batch, side, side, channels])
            layer(x)
            with_part = step_of(layer, x)
            with fast_conv.without(part):
                plain = step_of(layer, x)
            seconds = {"with": [], "without": []}
            for _ in range(args.rounds):  # alternating, so drift falls on both
                seconds["with"].append(timed(with_part, x, args.repeats))
                seconds["without"].append(timed(plain, x, args.repeats))
            medians = {key: statistics.median(values) for key, values in seconds.items()}
            rows.append(
                {
                    "layer": name,
                    "input": [args.batch, side, side, channels],
                    "seconds_with": round(medians["with"], 5),
                    "seconds_without": round(medians["without"], 5),
                    "speedup": round(medians["without"] / medians["with"], 3),
                    "rounds": seconds,
                }
            )
            print(part, name, rows[-1]["speedup"], file=sys.stderr)
        result["parts"][part] = rows
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
