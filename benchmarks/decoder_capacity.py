"""Can the MUNIT decoder draw the synthetic textures at all? A supervised check of capacity.

    PYTHONPATH=. .venv/bin/python benchmarks/decoder_capacity.py --steps 3000 --every 500 \\
        --images benchmarks/texture_probes/NAME.png > benchmarks/texture_probes/NAME.json

Trains the parts that example-guided A->B translation uses (A's content encoder, B's style
encoder and B's decoder, at a preset's sizes) on *paired* renderings: the content of an outline
and the style of the same shape's B image must give that B image (L1). No GAN, no cycle: if even
this cannot make guided translations that the texture classifier recognises, the decoder (at
the preset's size, within the budget) is the limit, not the unsupervised recipe. Scored every K
steps with the same guided protocol as the curves (test sources x test references, so content
and style come from different images).

Variants that each remove one suspect: ``--loss spectrum`` (an objective blind to the texture's
phase, which plain L1 punishes more for a stripe drawn half a period off than for none),
``--style oracle`` (the true style parameters instead of the style encoder: is it the encoder
or the decoder?), ``--style oracle-concat`` (the true style also tiled over the content code:
is it AdaIN's per-channel conditioning?), ``--set gen.n_downsample=1`` (AdaIN at 32x32, where
the finest stripes are not below the feature map's Nyquist limit as they are at 16x16),
``--lr``.
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
from keras import ops  # noqa: E402

from munit_tf import cpu, pixels, training, visualize  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.data import prepare, synthetic  # noqa: E402
from munit_tf.evaluation import protocol  # noqa: E402
from munit_tf.serving.client import TranslatorClient  # noqa: E402

PAIR_SEED = 2_000  # training pairs rendered from their own seed, never the test split's


def pairs(count: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A images, B images, the B images' style vectors), paired."""
    a, b, styles = [], [], []
    for index in range(count):
        image_a, image_b, _, style = synthetic.render_pair(index, PAIR_SEED, size, split="train")
        a.append(image_a)
        b.append(image_b)
        styles.append(style.vector())
    images = tuple(np.stack(x).astype(np.float32) / 127.5 - 1.0 for x in (a, b))
    return (*images, np.asarray(styles, np.float32))


ORACLE_FEATURES = len(synthetic.TEXTURES) + 6 + 3  # see oracle_features


def oracle_features(style_vectors) -> np.ndarray:
    """The true style as numbers a network reads easily: the texture one-hot, both colours, the
    frequency and the angle's double-angle cosine and sine (a stripe at 0 and pi is the same)."""
    vectors = np.asarray(style_vectors, np.float32)
    angle = vectors[:, 8]
    return np.concatenate(
        [
            np.eye(len(synthetic.TEXTURES), dtype=np.float32)[vectors[:, 0].astype(int)],
            vectors[:, 1:7],
            vectors[:, 7:8] / 4.0,
            np.cos(2 * angle)[:, None],
            np.sin(2 * angle)[:, None],
        ],
        axis=1,
    )


def blurred(images, pool: int = 8):
    """Local means: the colours and the silhouette without the texture's phase."""
    return tf.nn.avg_pool2d(images, pool, pool, "VALID")


def amplitude_spectrum(images):
    """|FFT| of each image channel, orthonormal: a pattern's frequencies and angle, whatever
    its phase (a translated stripe has the same amplitudes)."""
    channels_first = tf.transpose(images, [0, 3, 1, 2])
    size = tf.cast(tf.shape(images)[1] * tf.shape(images)[2], tf.float32)
    return tf.abs(tf.signal.fft2d(tf.complex(channels_first, 0.0))) / tf.sqrt(size)


def probe_loss(kind: str, output, target):
    """``l1``: the pixels, which punish a texture drawn at the wrong phase more than none at all;
    ``spectrum``: the blurred pixels plus the amplitude spectrum, which do not."""
    if kind == "l1":
        return tf.reduce_mean(tf.abs(output - target))
    return tf.reduce_mean(tf.abs(blurred(output) - blurred(target))) + tf.reduce_mean(
        tf.abs(amplitude_spectrum(output) - amplitude_spectrum(target))
    )


class Oracle:
    """The true style, given to B's decoder as its style code (a learned linear map) and, with
    ``concat``, also tiled over the content code and mixed in by a learned 1x1 convolution: a
    conditioning that reaches every position, not only AdaIN's per-channel scales and shifts."""

    def __init__(self, style_dim: int, content_channels: int, concat: bool):
        self.code = keras.layers.Dense(style_dim, name="oracle_style")
        self.code.build((None, ORACLE_FEATURES))
        self.mix = None
        if concat:
            self.mix = keras.layers.Conv2D(content_channels, 1, name="oracle_mix")
            self.mix.build((None, None, None, content_channels + ORACLE_FEATURES))

    @property
    def trainable_weights(self):
        return self.code.trainable_weights + (self.mix.trainable_weights if self.mix else [])

    def decode(self, model, content, features):
        if self.mix is not None:
            tiled = ops.broadcast_to(
                features[:, None, None, :], (*ops.shape(content)[:3], ORACLE_FEATURES)
            )
            content = self.mix(ops.concatenate([content, tiled], axis=-1))
        return model.gen_b.decode(content, self.code(features))


def guided_matrix(client, model, oracle, domains: dict, n: int) -> np.ndarray:
    """(sources, references, H, W, C): test sources in test references' styles, the style from
    the references' images (the style encoder) or, with an ``Oracle``, their true styles."""
    sources = domains["a"]["images"][:n]
    if oracle is None:
        return protocol.reference_matrix(client, sources, domains["b"]["images"][:n])
    content = model.gen_a.encode_content(sources)
    features = oracle_features(domains["b"]["styles"][:n])
    columns = [oracle.decode(model, content, np.repeat(f[None], n, 0)) for f in features]
    return np.stack([np.asarray(c) for c in columns], axis=1)


def guided_scores(client, model, oracle, judge, domains: dict, references: int) -> dict:
    """Texture accuracy of test sources in test references' styles (one client and judge for
    the whole run: the client's functions read the model's variables as they train)."""
    n = references
    matrix = guided_matrix(client, model, oracle, domains, n)
    accuracy = judge.texture_accuracy(matrix, domains["b"]["styles"][:n])
    return {"guided_a2b/texture_accuracy": float(np.mean(accuracy))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="synthetic")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="field=value config overrides, e.g. gen.n_downsample=1",
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--pairs", type=int, default=8000)
    parser.add_argument("--references", type=int, default=16)
    parser.add_argument("--loss", choices=("l1", "spectrum"), default="l1")
    parser.add_argument(
        "--style",
        choices=("encoder", "oracle", "oracle-concat"),
        default="encoder",
        help="oracle: the decoder gets the true style (a learned linear map of it), no encoder; "
        "oracle-concat: also tiled over the content code",
    )
    parser.add_argument("--images", help="write the last guided grid (sources x references) here")
    parser.add_argument("--data", default="runs/curves/data-64", help="prepared synthetic data")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.overrides)
    size = config.data.new_size
    prepare.ensure_synthetic(args.data, size, 2000, log=lambda line: print(line, file=sys.stderr))
    keras.utils.set_random_seed(0)
    model = training.build_model(config)
    client = TranslatorClient(model, lazy=True)
    domains = {d: protocol.load_domain(client, args.data, d, args.references) for d in "ab"}
    judge = protocol.SyntheticJudge(domains, log=lambda *_: None)
    x_a, x_b, style_vectors = pairs(args.pairs, size)
    true_styles = oracle_features(style_vectors)
    oracle = None
    if args.style != "encoder":
        content_channels = config.gen.dim * 2**config.gen.n_downsample
        oracle = Oracle(config.gen.style_dim, content_channels, args.style == "oracle-concat")
    variables = (
        model.gen_a.enc_content.trainable_variables
        + (
            model.gen_b.enc_style.trainable_variables
            if oracle is None
            else oracle.trainable_weights
        )
        + model.gen_b.dec.trainable_variables
        + model.gen_b.mlp.trainable_variables
    )
    optimizer = keras.optimizers.Adam(args.lr, beta_1=0.5, beta_2=0.999)

    @tf.function
    def step(a, b, true_style):
        with tf.GradientTape() as tape:
            content = model.gen_a.encode_content(a)
            if oracle is None:
                output = model.gen_b.decode(content, model.gen_b.encode_style(b))
            else:
                output = oracle.decode(model, content, true_style)
            loss = probe_loss(args.loss, output, b)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    rng = np.random.default_rng(0)
    points, seconds = [], 0.0
    for index in range(args.steps + 1):
        if index % args.every == 0:
            scores = guided_scores(client, model, oracle, judge, domains, args.references)
            points.append({"step": index, "train_seconds": round(seconds, 1), **scores})
            print(json.dumps(points[-1]), file=sys.stderr)
        if index == args.steps:
            break
        chosen = rng.integers(0, len(x_a), args.batch)
        started = time.time()
        loss = float(step(x_a[chosen], x_b[chosen], true_styles[chosen]))
        seconds += time.time() - started
    if args.images:
        n = min(8, args.references)
        sources, references = domains["a"]["images"][:n], domains["b"]["images"][:n]
        matrix = guided_matrix(client, model, oracle, domains, n)
        grid = protocol.reference_grid(sources, references, matrix)
        visualize.save_png(pixels.to_uint8(grid), args.images)
    result = {
        "config": args.config,
        "overrides": args.overrides,
        "machine": cpu.describe(),
        "batch": args.batch,
        "lr": args.lr,
        "loss": args.loss,
        "style": args.style,
        "final_l1": loss,
        "references": args.references,
        "points": points,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
