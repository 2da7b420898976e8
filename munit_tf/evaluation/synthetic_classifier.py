"""Small networks that know the synthetic data's labels, for distribution and style metrics that
need no ImageNet weights: their features give a synthetic-feature FID and KID, their predictions
IS, CIS and the texture accuracy of example-guided translation. Every such metric is named
``synthetic_*`` so that nobody mistakes it for ImageNet FID.

Domain B's network predicts the texture (5 classes) and the shape family (6), domain A's and
domain C's (dotted outlines) the family. They train from a seed on images rendered on the fly
from their own seed (never the test split's), so the same seed gives the same network. The 64x64
ones (the synthetic preset's size) ship with the package; other sizes are trained on first use
and cached in ``~/.cache/munit-tf`` (``MUNIT_TF_CACHE``). Rebuild the shipped files with
``python -m munit_tf.evaluation.synthetic_classifier --size 64``.
"""

from __future__ import annotations

import argparse
import os

import keras
import numpy as np

from munit_tf import atomic
from munit_tf.data import synthetic

VERSION = 2  # of the architecture, training recipe and data rendering; part of every file name
TRAINING_SEED = 1_000  # the rendering seed of the training images (the data's own seed is 0)
SHIPPED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
HEADS = {"a": ("family",), "b": ("texture", "family"), "c": ("family",)}
CLASSES = {"texture": len(synthetic.TEXTURES), "family": len(synthetic.FAMILIES)}
# (training images, epochs). Rendered images cost nothing, so many images and few epochs: with
# 6,000 images the texture head overfits (0.93 on its training images, 0.75 held out).
BUDGET = {"a": (4000, 10), "b": (16000, 8), "c": (12000, 6)}


def build(domain: str, size: int) -> keras.Model:
    """Images in [-1, 1] -> {"features": (N, 192), one softmax per head of ``domain``}.

    Batch norm, not group norm: normalising each image's features by their own spatial
    statistics hid the faint, large-scale differences (gradient against solid), and the texture
    head stayed at 0.66. Its running statistics use momentum 0.9, not Keras' 0.99, so that they
    have settled even after a few hundred updates. Features are the average and the maximum
    over positions: the shape covers a small part of the image, whose background dilutes an
    average alone."""
    inputs = keras.Input((size, size, 3))
    x = inputs
    for filters in (32, 64, 96):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization(momentum=0.9)(x))
        x = keras.layers.Conv2D(filters, 3, padding="same")(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization(momentum=0.9)(x))
    pooled = [keras.layers.GlobalAveragePooling2D()(x), keras.layers.GlobalMaxPooling2D()(x)]
    features = keras.layers.Concatenate(name="features")(pooled)
    outputs = {"features": features}
    for head in HEADS[domain]:
        outputs[head] = keras.layers.Dense(CLASSES[head], activation="softmax", name=head)(features)
    return keras.Model(inputs, outputs, name=f"synthetic_{domain}")


def rendered(domain: str, count: int, size: int, seed: int = TRAINING_SEED):
    """(images in [-1, 1], {head: labels}) of ``count`` training images rendered from ``seed``."""
    images, labels = [], {head: [] for head in HEADS[domain]}
    for index in range(count):
        example = synthetic.example(domain, index, seed=seed, size=size, split="train")
        images.append(example["image"])
        labels["family"].append(int(example["content"][0]))
        if domain == "b":
            labels["texture"].append(int(example["style"][0]))
    x = np.stack(images).astype(np.float32) / 127.5 - 1.0
    return x, {head: np.array(values) for head, values in labels.items()}


def train(
    domain: str,
    size: int,
    seed: int = 0,
    count: int | None = None,
    epochs: int | None = None,
    verbose: int = 0,
) -> keras.Model:
    """A classifier of ``domain`` trained from ``seed`` (weights and data order) on ``count``
    rendered images for ``epochs`` (by default ``BUDGET[domain]``)."""
    default_count, default_epochs = BUDGET[domain]
    count, epochs = count or default_count, epochs or default_epochs
    keras.utils.set_random_seed(seed)
    model = build(domain, size)
    losses = {head: "sparse_categorical_crossentropy" for head in HEADS[domain]}
    batch = 64
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, epochs * max(1, count // batch))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=losses,
        metrics={head: "accuracy" for head in HEADS[domain]},
    )
    x, y = rendered(domain, count, size)
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=verbose)
    return model


def file_name(domain: str, size: int, seed: int) -> str:
    return f"synthetic_{domain}_{size}px_seed{seed}_v{VERSION}.keras"


def load(domain: str, size: int, seed: int = 0, log=print) -> keras.Model:
    """The classifier of ``domain`` at ``size``: shipped, cached, or trained now and cached."""
    name = file_name(domain, size, seed)
    cache = os.environ.get(
        "MUNIT_TF_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "munit-tf")
    )
    for folder in (SHIPPED, cache):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return keras.saving.load_model(path, compile=False)
    log(
        f"training the synthetic-data classifier for domain {domain} at {size}x{size} "
        f"(once; cached in {cache})"
    )
    model = train(domain, size, seed)
    save(model, os.path.join(cache, name))
    return model


def save(model: keras.Model, path: str) -> str:
    """The network without its optimiser (a third of the size), written to a temporary sibling
    and renamed: a killed process leaves no half file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    staging = atomic.staging_dir(path)
    os.makedirs(staging, exist_ok=True)
    bare = build(model.name.rsplit("_", 1)[-1], model.input_shape[1])
    bare.set_weights(model.get_weights())
    bare.save(os.path.join(staging, os.path.basename(path)))
    os.replace(os.path.join(staging, os.path.basename(path)), path)
    os.rmdir(staging)
    return path


def predict(model: keras.Model, images: np.ndarray) -> dict:
    """{"features", head...} of images in [-1, 1] of any leading shape (..., H, W, 3)."""
    images = np.asarray(images, np.float32)
    flat = images.reshape(-1, *images.shape[-3:])
    outputs = model.predict(flat, batch_size=256, verbose=0)
    return {name: np.asarray(v).reshape(*images.shape[:-3], -1) for name, v in outputs.items()}


def accuracy(model: keras.Model, domain: str, count: int, size: int, seed: int) -> dict:
    """{head: accuracy} on ``count`` images rendered from ``seed`` (a held-out check)."""
    x, y = rendered(domain, count, size, seed)
    predictions = predict(model, x)
    return {head: float(np.mean(np.argmax(predictions[head], -1) == y[head])) for head in y}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the shipped synthetic-data classifiers.")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=SHIPPED)
    args = parser.parse_args(argv)
    for domain in HEADS:
        model = train(domain, args.size, args.seed, verbose=2)
        path = save(model, os.path.join(args.output, file_name(domain, args.size, args.seed)))
        held_out = accuracy(model, domain, 2000, args.size, seed=TRAINING_SEED + 1)
        print(f"{path}: held-out accuracy {held_out}")


if __name__ == "__main__":
    main()
