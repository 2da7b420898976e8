"""The synthetic dataset's ground truth, the TFRecord schema and the tf.data reader."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from munit_tf.config import load_config
from munit_tf.data import dataset, schema, synthetic


def test_synthetic_examples_are_deterministic_and_varied():
    first, again = synthetic.example("b", 3, seed=1), synthetic.example("b", 3, seed=1)
    np.testing.assert_array_equal(first["image"], again["image"])
    assert first["style"] == again["style"] and first["id"] == "synthetic-train-b-000003"
    other = synthetic.example("b", 4, seed=1)
    assert not np.array_equal(first["image"], other["image"])
    families = {synthetic.example("a", i)["content"][0] for i in range(60)}
    textures = {synthetic.example("b", i)["style"][0] for i in range(60)}
    assert len(families) == len(synthetic.FAMILIES) and len(textures) == len(synthetic.TEXTURES)


def test_every_texture_shows_on_its_shape_and_solid_alone_is_flat():
    """The texture is laid out on the shape: however small the shape, a textured fill shows
    both colours (version 1 drew it across the image, and a small shape often showed a single
    stripe), and a style's two colours differ."""
    spreads = {name: [] for name in synthetic.TEXTURES}
    for index in range(150):
        example = synthetic.example("b", index, size=64)
        style = example["style"]
        assert np.linalg.norm(np.subtract(style[1:4], style[4:7])) >= synthetic.MIN_COLOR_DISTANCE
        inside = example["mask"].astype(bool)
        for _ in range(1):  # away from the anti-aliased edge
            inside = inside & np.roll(inside, 1, 0) & np.roll(inside, -1, 0)
            inside = inside & np.roll(inside, 1, 1) & np.roll(inside, -1, 1)
        pixels = example["image"][inside].astype(float) / 255
        spread = np.linalg.norm(pixels.max(0) - pixels.min(0))
        spreads[synthetic.TEXTURES[int(style[0])]].append(spread)
    assert max(spreads["solid"]) < 0.02
    for name in ("stripes", "checks", "gradient", "noise"):
        assert min(spreads[name]) > 0.3, name


def test_domain_b_foreground_is_the_mask_and_domain_a_draws_its_outline():
    for index in range(5):
        image_a, image_b, mask, _ = synthetic.render_pair(index, size=64)
        background = np.round(synthetic.BACKGROUND * 255)
        foreground_b = np.abs(image_b.astype(float) - background).max(-1) > 40
        iou = (foreground_b & (mask > 0)).sum() / (foreground_b | (mask > 0)).sum()
        assert iou > 0.9
        dark_a = image_a.max(-1) < 128
        interior = mask.astype(bool)
        for _ in range(3):  # erode: the outline lies on the boundary, not inside the shape
            interior = (
                interior
                & np.roll(interior, 1, 0)
                & np.roll(interior, -1, 0)
                & np.roll(interior, 1, 1)
                & np.roll(interior, -1, 1)
            )
        assert dark_a.sum() > 20 and (dark_a & interior).sum() == 0


def test_tfrecords_round_trip_pixels_and_ground_truth(synthetic_data):
    with open(os.path.join(synthetic_data, "manifest.json")) as handle:
        assert json.load(handle)["synthetic_version"] == synthetic.VERSION
    records = tf.data.TFRecordDataset(
        schema.list_shards(synthetic_data, "train", "b"), compression_type="GZIP"
    )
    parsed = {p["id"].numpy().decode(): p for p in map(schema.parse_example, records)}
    assert len(parsed) == 24
    expected = synthetic.example("b", 0, seed=0, size=32)
    record = parsed[expected["id"]]
    np.testing.assert_array_equal(tf.io.decode_png(record["image"]).numpy(), expected["image"])
    np.testing.assert_array_equal(
        tf.io.decode_png(record["mask"]).numpy()[..., 0] // 255, expected["mask"]
    )
    np.testing.assert_allclose(record["style"].numpy(), expected["style"], rtol=1e-6)
    assert record["domain"].numpy() == b"b" and int(record["height"]) == 32


def test_training_batches_are_scaled_unpaired_and_resumable(synthetic_data, tiny_config):
    batches = [
        tuple(t.numpy() for t in b)
        for b in dataset.make_dataset(synthetic_data, tiny_config).take(4)
    ]
    x_a, x_b = batches[0]
    assert x_a.shape == (2, 32, 32, 3) and x_a.dtype == np.float32
    assert -1.0 <= x_a.min() and x_a.max() <= 1.0 and not np.array_equal(x_a, x_b)
    resumed = next(iter(dataset.make_dataset(synthetic_data, tiny_config, start_step=3)))
    np.testing.assert_array_equal(resumed[0].numpy(), batches[3][0])
    np.testing.assert_array_equal(resumed[1].numpy(), batches[3][1])


def test_evaluation_input_keeps_the_exact_pixels(synthetic_data, tiny_config):
    batches = dataset.make_dataset(synthetic_data, tiny_config, split="test", training=False)
    images_a = np.concatenate([x_a.numpy() for x_a, _ in batches])
    assert len(images_a) == 8  # every test image once, no repeat, no drop
    expected = synthetic.example("a", 0, seed=0, size=32, split="test")["image"] / 127.5 - 1.0
    assert min(np.abs(image - expected).max() for image in images_a) < 1e-6


def test_resize_and_crop_follow_the_config(synthetic_data):
    config = load_config("tiny", ["data.new_size=48", "data.crop_size=32"])
    image = tf.io.encode_png(tf.zeros((40, 80, 3), tf.uint8))
    resized = dataset.resize_shorter_side(dataset.decode(image), 48)
    assert tuple(resized.shape) == (48, 96, 3)
    out = dataset.preprocess(
        image, config.data, 3, training=True, seed=tf.constant([1, 2], tf.int64)
    )
    assert tuple(out.shape) == (32, 32, 3)


def test_missing_data_is_a_readable_error(tmp_path, tiny_config):
    with pytest.raises(FileNotFoundError, match="munit-tf prepare"):
        dataset.make_dataset(str(tmp_path), tiny_config)


def test_a_mixed_domain_file_list_is_split_by_the_domain_feature(
    synthetic_data, tiny_config, tmp_path
):
    """As TFX ExampleGen writes them: both domains in one Split-* folder."""
    mixed = str(tmp_path / "Split-eval" / "data.gz")
    tf.io.gfile.makedirs(os.path.dirname(mixed))
    with tf.io.TFRecordWriter(mixed, options="GZIP") as writer:
        for domain in ("b", "a"):
            for record in tf.data.TFRecordDataset(
                schema.list_shards(synthetic_data, "test", domain), compression_type="GZIP"
            ):
                writer.write(record.numpy())

    folder = list(dataset.make_dataset(synthetic_data, tiny_config, split="test", training=False))
    files = list(
        dataset.make_dataset([str(tmp_path / "Split-eval" / "*")], tiny_config, training=False)
    )
    for k in range(2):  # the same images of each domain (the folder reader interleaves its shards)
        expected = sorted(image.tobytes() for b in folder for image in b[k].numpy())
        assert sorted(image.tobytes() for b in files for image in b[k].numpy()) == expected
        assert len(expected) == 8
    with pytest.raises(FileNotFoundError, match="no TFRecord files"):
        dataset.make_dataset([str(tmp_path / "nothing" / "*")], tiny_config)
