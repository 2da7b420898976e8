"""The TFRecord schema shared by data preparation (writer) and the ``tf.data`` reader.

Layout of a prepared dataset directory::

    DIR/{train,test}/{a,b}-NNNNN-of-MMMMM.tfrecord.gz   GZIP TFRecords of tf.train.Example
                                                        (one file set per domain: a, b, or
                                                        any names, as ``data.domains``)
    DIR/manifest.json                                   counts, sizes, schema version, command

Features of each example (``SCHEMA_VERSION`` 1):

============  ===========  ==========================================================
``image``     bytes        the encoded image (PNG or JPEG), 8-bit RGB
``id``        bytes        stable example id (``synthetic-train-a-000012``, or a path hash)
``domain``    bytes        the domain's name: ``a``, ``b``, or another (``summer``)
``height``    int64        image height in pixels
``width``     int64        image width in pixels
``mask``      bytes        optional: PNG of the ground-truth silhouette (synthetic data)
``content``   float list   optional: ground-truth content parameters (synthetic data)
``style``     float list   optional: ground-truth style parameters (synthetic data, domain b)
============  ===========  ==========================================================
"""

from __future__ import annotations

import os

import tensorflow as tf

from munit_tf.config import DOMAIN_NAME
from munit_tf.errors import InvalidInput, MissingInput

SCHEMA_VERSION = 1
SPLITS = ("train", "test")
DOMAINS = ("a", "b")  # the two domains of MUNIT; data.domains names more

FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "id": tf.io.FixedLenFeature([], tf.string),
    "domain": tf.io.FixedLenFeature([], tf.string),
    "height": tf.io.FixedLenFeature([], tf.int64),
    "width": tf.io.FixedLenFeature([], tf.int64),
    "mask": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "content": tf.io.VarLenFeature(tf.float32),
    "style": tf.io.VarLenFeature(tf.float32),
}


def _bytes(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def _floats(values) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=[float(v) for v in values]))


def encode_example(
    image: bytes,
    example_id: str,
    domain: str,
    height: int,
    width: int,
    mask: bytes = b"",
    content=(),
    style=(),
) -> bytes:
    """A serialized tf.train.Example in this schema, the same bytes for the same values."""
    if not DOMAIN_NAME.fullmatch(domain):
        raise InvalidInput(
            f"domain {domain!r} is not a domain name (a lowercase letter, then letters, digits "
            "or _)"
        )
    feature = {
        "image": _bytes(image),
        "id": _bytes(example_id.encode()),
        "domain": _bytes(domain.encode()),
        "height": _int(height),
        "width": _int(width),
        "mask": _bytes(mask),
        "content": _floats(content),
        "style": _floats(style),
    }
    # deterministic: protobuf map order otherwise varies between processes, and so would the files
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString(
        deterministic=True
    )


def parse_example(serialized) -> dict:
    parsed = tf.io.parse_single_example(serialized, FEATURES)
    for key in ("content", "style"):
        parsed[key] = tf.sparse.to_dense(parsed[key])
    return parsed


def shard_name(split: str, domain: str, index: int, count: int) -> str:
    return f"{split}/{domain}-{index:05d}-of-{count:05d}.tfrecord.gz"


def shard_pattern(root: str, split: str, domain: str) -> str:
    return os.path.join(root, split, f"{domain}-*-of-*.tfrecord.gz")


def list_shards(root: str, split: str, domain: str) -> list[str]:
    """The shard files of one split and domain, sorted; a readable error if there are none."""
    files = sorted(tf.io.gfile.glob(shard_pattern(root, split, domain)))
    if not files:
        raise MissingInput(
            f"no TFRecords for split {split!r}, domain {domain!r} under {root!r} "
            f"(expected {shard_pattern(root, split, domain)}); run `munit-tf prepare` first"
        )
    return files
