"""``tf.data`` input: prepared TFRecords -> batches of unpaired (x_a, x_b) images in [-1, 1] (one
batch per domain of ``data.domains``: more than two for more domains).

Training mirrors the reference's loader: resize the shorter side to ``new_size`` (bilinear),
random square crop of ``crop_size``, random horizontal flip, scale to [-1, 1]. The two domains are
shuffled independently and zipped, so pairs are random (the data are unpaired). Evaluation uses
a centre crop and no flip.

The stream is a pure function of the seed: shuffles are seeded and each image's crop and flip
come from a stateless seed made of the seed and the image's position in the stream. A resumed run
therefore skips the records it already consumed (cheaply, before decoding) and sees exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from munit_tf.config import DataConfig, MUNITConfig
from munit_tf.data import exif, schema
from munit_tf.errors import MissingInput
from munit_tf.pixels import from_uint8_tensor


def resize_shorter_side(image, size: int):
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.reduce_min(shape)
    new_shape = tf.cast(tf.round(shape * scale), tf.int32)
    new_shape = tf.maximum(new_shape, size)
    return tf.image.resize(image, new_shape, method="bilinear", antialias=True)


def decode(image_bytes, channels: int = 3, exif_orientation: bool = True):
    """Encoded bytes -> float32 (H, W, channels) in [0, 255], upright as its EXIF orientation says.

    Records written by ``prepare`` are upright already; reading them skips the EXIF parse
    (``exif_orientation=False``), which would halve the input pipeline's rate."""
    image = tf.io.decode_image(
        image_bytes, channels=channels, expand_animations=False, dtype=tf.uint8
    )
    if exif_orientation:
        image = exif.upright(image, exif.orientation(image_bytes))
    return tf.cast(image, tf.float32)


def preprocess(image_bytes, config: DataConfig, channels: int, training: bool, seed=None):
    """``seed``: a stateless seed of shape [2] for the random crop and flip (training only)."""
    image = resize_shorter_side(
        decode(image_bytes, channels, exif_orientation=False), config.new_size
    )
    crop = config.crop_size
    if training:
        image = tf.image.stateless_random_crop(image, [crop, crop, channels], seed=seed)
        if config.flip:
            image = tf.image.stateless_random_flip_left_right(image, seed=seed[::-1])
    else:
        height, width = tf.shape(image)[0], tf.shape(image)[1]
        image = tf.image.crop_to_bounding_box(
            image, (height - crop) // 2, (width - crop) // 2, crop, crop
        )
    image.set_shape([crop, crop, channels])
    return from_uint8_tensor(image)


def domain_files(data, split: str, domain: str) -> tuple[list[str], bool]:
    """(files, whether records must be filtered by their ``domain`` feature).

    ``data`` is a prepared folder (``{split}/{domain}-*.tfrecord.gz``: one domain per file), or a
    list of files or glob patterns holding both domains, such as a TFX ExampleGen split
    (``.../Split-train/*``), whose records are then filtered on ``domain``.
    """
    if isinstance(data, str):
        return schema.list_shards(data, split, domain), False
    files = sorted(f for pattern in data for f in tf.io.gfile.glob(pattern))
    if not files:
        raise MissingInput(f"no TFRecord files match {list(data)}")
    return files, True


def records(data, split: str, domain: str) -> tf.data.Dataset:
    """The serialized examples of one domain, in file order."""
    files, mixed = domain_files(data, split, domain)
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"),
        cycle_length=min(4, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if mixed:
        domain_feature = {"domain": schema.FEATURES["domain"]}
        dataset = dataset.filter(
            lambda r: tf.equal(
                tf.io.parse_single_example(r, domain_feature)["domain"], domain.encode()
            )
        )
    return dataset


def domain_dataset(
    data,
    split: str,
    domain: str,
    config: DataConfig,
    training: bool = True,
    seed: int = 0,
    skip: int = 0,
    *,
    channels: int,
) -> tf.data.Dataset:
    """Preprocessed images of one domain, ``channels`` each; repeated and shuffled when
    ``training``, after ``skip`` images."""
    dataset = records(data, split, domain)
    if not training:
        return dataset.map(
            lambda record: preprocess(
                schema.parse_example(record)["image"], config, channels, False
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.shuffle(
        config.shuffle_buffer, seed=seed, reshuffle_each_iteration=True
    ).repeat()
    dataset = dataset.enumerate().skip(skip)

    def _train(index, record):
        image_seed = tf.stack([tf.constant(seed, tf.int64), index])
        return preprocess(schema.parse_example(record)["image"], config, channels, True, image_seed)

    return dataset.map(_train, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def check_domains(data, config: MUNITConfig, split: str = "train") -> list[str]:
    """Refuse, in one line and before any training, a domain of ``data.domains`` that a prepared
    folder has no ``split`` images of (its manifest says; file lists are not counted). Returns
    the folder's other domains, which training leaves out (a stray ``trainA_old/`` prepared as
    domain ``a_old``, say), for the caller to mention."""
    if not isinstance(data, str):
        return []
    path = os.path.join(data, "manifest.json")
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as handle:
        counts = json.load(handle).get("counts", {})
    have = sorted(key.split("/", 1)[1] for key, n in counts.items() if key.startswith(f"{split}/"))
    for domain in config.data.domains:
        if not counts.get(f"{split}/{domain}"):
            raise MissingInput(
                f"{data} has no {split} images of domain {domain!r} (data.domains = "
                f"{', '.join(config.data.domains)}; the data's domains: "
                f"{', '.join(have) or 'none'})"
            )
    return [domain for domain in have if domain not in config.data.domains]


def make_dataset(
    data,
    config: MUNITConfig,
    split: str = "train",
    training: bool = True,
    batch_size: int | None = None,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Batches of (x_a, x_b), one batch per domain of ``data.domains``, ``batch_size`` (default:
    the config's global batch size) each.

    ``data``: a prepared folder or a list of files/patterns (see ``domain_files``).
    ``start_step``: training iterations already done (a resume): their batches are skipped.
    """
    batch_size = batch_size or config.train.batch_size
    seed = config.train.seed
    domains = config.data.domains
    streams = [
        domain_dataset(
            data,
            split,
            domain,
            config.data,
            training,
            seed * len(domains) + k,  # each domain its own shuffle, for every seed
            start_step * batch_size,
            channels=config.channels(domain),
        )
        for k, domain in enumerate(domains)
    ]
    streams = [s.batch(batch_size, drop_remainder=training) for s in streams]
    return tf.data.Dataset.zip(tuple(streams)).prefetch(tf.data.AUTOTUNE)
