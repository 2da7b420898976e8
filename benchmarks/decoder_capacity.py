"""Can the MUNIT decoder draw the synthetic textures at all? A supervised check of capacity.

    PYTHONPATH=. .venv/bin/python benchmarks/decoder_capacity.py --steps 3000 --every 500 \\
        > benchmarks/decoder_capacity.json

Trains the parts that example-guided A->B translation uses (A's content encoder, B's style
encoder and B's decoder, at a preset's sizes) on *paired* renderings: the content of an outline
and the style of the same shape's B image must give that B image (L1). No GAN, no cycle: if even
this cannot make guided translations that the texture classifier recognises, the architecture
(an AdaIN decoder that draws every pattern from per-channel scales and shifts) is the limit, not
the unsupervised recipe. Scored every K steps with the same guided protocol as the curves
(test sources x test references, so content and style come from different images).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from munit_tf import cpu, training  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.data import prepare, synthetic  # noqa: E402
from munit_tf.evaluation import protocol  # noqa: E402
from munit_tf.serving.client import TranslatorClient  # noqa: E402

PAIR_SEED = 2_000  # training pairs rendered from their own seed, never the test split's


def pairs(count: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = [], []
    for index in range(count):
        image_a, image_b, _, _ = synthetic.render_pair(index, PAIR_SEED, size, split="train")
        a.append(image_a)
        b.append(image_b)
    return tuple(np.stack(x).astype(np.float32) / 127.5 - 1.0 for x in (a, b))


def guided_scores(client, judge, domains: dict, references: int) -> dict:
    """Texture accuracy of test sources in test references' styles (one client and judge for
    the whole run: the client's functions read the model's variables as they train)."""
    n = references
    matrix = protocol.reference_matrix(
        client, domains["a"]["images"][:n], domains["b"]["images"][:n]
    )
    accuracy = judge.texture_accuracy(matrix, domains["b"]["styles"][:n])
    return {"guided_a2b/texture_accuracy": float(np.mean(accuracy))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="synthetic")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--pairs", type=int, default=8000)
    parser.add_argument("--references", type=int, default=16)
    parser.add_argument("--data", default="runs/curves/data-64", help="prepared synthetic data")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    size = config.data.new_size
    prepare.ensure_synthetic(args.data, size, 2000)
    keras.utils.set_random_seed(0)
    model = training.build_model(config)
    client = TranslatorClient(model, lazy=True)
    domains = {d: protocol.load_domain(client, args.data, d, args.references) for d in "ab"}
    judge = protocol.SyntheticJudge(domains, log=lambda *_: None)
    x_a, x_b = pairs(args.pairs, size)
    variables = (
        model.gen_a.enc_content.trainable_variables
        + model.gen_b.enc_style.trainable_variables
        + model.gen_b.dec.trainable_variables
        + model.gen_b.mlp.trainable_variables
    )
    optimizer = keras.optimizers.Adam(args.lr, beta_1=0.5, beta_2=0.999)

    @tf.function
    def step(a, b):
        with tf.GradientTape() as tape:
            content = model.gen_a.encode_content(a)
            style = model.gen_b.encode_style(b)
            loss = tf.reduce_mean(tf.abs(model.gen_b.decode(content, style) - b))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    rng = np.random.default_rng(0)
    points, seconds = [], 0.0
    for index in range(args.steps + 1):
        if index % args.every == 0:
            scores = guided_scores(client, judge, domains, args.references)
            points.append({"step": index, "train_seconds": round(seconds, 1), **scores})
            print(json.dumps(points[-1]), file=sys.stderr)
        if index == args.steps:
            break
        chosen = rng.integers(0, len(x_a), args.batch)
        started = time.time()
        loss = float(step(x_a[chosen], x_b[chosen]))
        seconds += time.time() - started
    result = {
        "config": args.config,
        "machine": cpu.describe(),
        "batch": args.batch,
        "lr": args.lr,
        "final_l1": loss,
        "references": args.references,
        "points": points,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
