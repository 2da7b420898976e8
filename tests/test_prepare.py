"""The Beam preparation job on real files of every format, mode and failure, TFDS and synthetic
sources."""

import glob
import hashlib
import io
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from cli_args import argv
from PIL import Image

from munit_tf import cli
from munit_tf.data import dataset, images, prepare, schema

RNG = np.random.default_rng(0)


def _save(path, image, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path, **kwargs)
    return path


def _rgb(size=(40, 36)):
    return Image.fromarray(RNG.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory):
    """ROOT/{trainA,trainB,testA,testB} with good files of many kinds and one of each bad kind."""
    root = str(tmp_path_factory.mktemp("images"))
    good = {
        "trainA/rgb.png": (_rgb(), {}),
        "trainA/nested/deeper/photo.JPG": (_rgb(), {"format": "JPEG", "quality": 95}),
        "trainA/gray.png": (_rgb().convert("L"), {}),
        "trainA/palette.gif": (_rgb().convert("P"), {}),
        "trainA/alpha.png": (_rgb().convert("RGBA"), {}),
        "trainA/bitmap.bmp": (_rgb(), {}),
        "trainA/portable.ppm": (_rgb(), {}),
        "trainA/modern.webp": (_rgb(), {"lossless": True}),
        "trainA/deep.png": (
            Image.fromarray((RNG.integers(0, 65535, (36, 40))).astype(np.uint16)),
            {},
        ),
        "trainA/large.png": (_rgb((64, 48)), {}),
        "trainB/one.png": (_rgb(), {}),
        "trainB/two.jpeg": (_rgb(), {"format": "JPEG"}),
        "trainB/three.png": (_rgb(), {}),
        "testA/t.png": (_rgb(), {}),
        "testB/t.png": (_rgb(), {}),
    }
    for name, (image, kwargs) in good.items():
        _save(os.path.join(root, name), image, **kwargs)
    shutil.copy(os.path.join(root, "trainA/rgb.png"), os.path.join(root, "trainA/rgb_copy.png"))
    open(os.path.join(root, "trainA/empty.jpg"), "wb").close()
    jpeg = io.BytesIO()
    _rgb().save(jpeg, format="JPEG")
    with open(os.path.join(root, "trainA/truncated.jpg"), "wb") as handle:
        handle.write(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    with open(os.path.join(root, "trainA/notes.png"), "w") as handle:
        handle.write("this is not an image")
    _save(os.path.join(root, "trainA/tiny.png"), _rgb((8, 8)))
    _save(os.path.join(root, "trainA/bomb.png"), Image.new("RGB", (1200, 1000)))
    with open(os.path.join(root, "trainA/readme.txt"), "w") as handle:
        handle.write("not an image extension: ignored")
    return root


def _prepare(source, output, *extra):
    return cli.main(
        [
            "prepare",
            "--source",
            source,
            "--output",
            output,
            "--min-size",
            "32",
            "--max-pixels",
            "1000000",
            "--shards",
            "2",
            *extra,
        ]
    )


def _records(root, split, domain):
    out = {}
    for record in tf.data.TFRecordDataset(
        schema.list_shards(root, split, domain), compression_type="GZIP"
    ):
        parsed = schema.parse_example(record)
        out[parsed["id"].numpy().decode()] = parsed
    return out


@pytest.fixture(scope="module")
def prepared(image_tree, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("prepared") / "out")
    assert _prepare(image_tree, output) == 0
    return output


def test_every_good_file_is_written_once_and_every_bad_one_is_reported(image_tree, prepared):
    manifest = json.load(open(os.path.join(prepared, "manifest.json")))
    assert manifest["counts"] == {"train/a": 10, "train/b": 3, "test/a": 1, "test/b": 1}
    rejected = [json.loads(line) for line in open(os.path.join(prepared, "rejected.jsonl"))]
    reasons = {os.path.basename(r["path"]): r["reason"] for r in rejected}
    assert reasons == {
        "empty.jpg": images.EMPTY,
        "truncated.jpg": images.TRUNCATED,
        "notes.png": images.NOT_AN_IMAGE,
        "tiny.png": images.TOO_SMALL,
        "bomb.png": images.TOO_LARGE,
        "rgb_copy.png": images.DUPLICATE,
    }
    assert manifest["counters"]["read"] == 21 == manifest["counters"]["written"] + len(rejected)
    assert manifest["schema_version"] == schema.SCHEMA_VERSION and manifest["shards"] == 2
    assert manifest["image_size"]["train/a"]["max_width"] == 64
    assert sorted(os.listdir(os.path.join(prepared, "train"))) == [
        "a-00000-of-00002.tfrecord.gz",
        "a-00001-of-00002.tfrecord.gz",
        "b-00000-of-00002.tfrecord.gz",
        "b-00001-of-00002.tfrecord.gz",
    ]


def test_pixels_round_trip_as_8_bit_rgb(image_tree, prepared):
    records = _records(prepared, "train", "a")
    for path in glob.glob(os.path.join(image_tree, "trainA", "**", "*.*"), recursive=True):
        data = open(path, "rb").read()
        result = images.check_image(data, 32, 1_000_000)
        if isinstance(result, images.Rejected) or os.path.basename(path) == "rgb_copy.png":
            continue
        record = records[f"a-{hashlib.sha256(data).hexdigest()[:20]}"]
        # the trainer's own decoder
        decoded = dataset.decode(record["image"]).numpy().astype(np.uint8)
        source = Image.open(path)
        assert decoded.shape == (source.height, source.width, 3)
        # kept byte for byte (decoders differ by a few levels, so compare bytes)
        if source.format == "JPEG":
            assert record["image"].numpy() == data
        elif source.mode == "RGB":
            np.testing.assert_array_equal(decoded, np.asarray(source.convert("RGB")))
        elif source.mode == "L":
            np.testing.assert_array_equal(decoded, np.repeat(np.asarray(source)[..., None], 3, -1))
        elif source.mode.startswith("I"):  # 16-bit -> 8-bit by scaling, not by truncation
            expected = np.round(np.asarray(source, np.float64) * 255 / 65535).astype(np.uint8)
            np.testing.assert_array_equal(decoded[..., 0], expected)


def test_output_is_deterministic_and_multi_processing_gives_the_same_files(
    image_tree, prepared, tmp_path
):
    again = str(tmp_path / "again")
    assert (
        _prepare(
            image_tree, again, "--direct_running_mode=multi_processing", "--direct_num_workers=2"
        )
        == 0
    )
    for path in sorted(glob.glob(os.path.join(prepared, "*", "*.tfrecord.gz"))):
        twin = os.path.join(again, os.path.relpath(path, prepared))
        assert open(path, "rb").read() == open(twin, "rb").read(), path
    assert (
        open(os.path.join(prepared, "rejected.jsonl")).read()
        == open(os.path.join(again, "rejected.jsonl")).read()
    )


def test_resize_keeps_the_shorter_side_and_never_upsamples(image_tree, tmp_path):
    output = str(tmp_path / "resized")
    assert _prepare(image_tree, output, "--resize", "40") == 0
    sizes = {(int(r["width"]), int(r["height"])) for r in _records(output, "train", "a").values()}
    assert (53, 40) in sizes and (40, 36) in sizes  # 64x48 shrunk; 40x36 left alone


def test_synthetic_source_keeps_ground_truth_and_feeds_the_trainer(tmp_path, tiny_config):
    output = str(tmp_path / "synthetic")
    assert (
        cli.main(
            argv(
                "prepare", source="synthetic", synthetic_count=12, synthetic_size=32, output=output
            )
        )
        == 0
    )
    records = _records(output, "train", "b")
    assert len(records) == 12
    record = records["synthetic-train-b-000003"]
    assert tf.io.decode_png(record["mask"]).shape == (32, 32, 1) and record["style"].shape == (9,)
    x_a, x_b = next(iter(dataset.make_dataset(output, tiny_config)))
    assert x_a.shape == (2, 32, 32, 3) and x_b.shape == (2, 32, 32, 3)


def test_progress_is_shown_while_the_job_runs(tmp_path):
    items = prepare.synthetic_items(12, seed=0)
    lines = []
    prepare.prepare(
        items,
        prepare.PrepareOptions(
            output=str(tmp_path / "out"), shards=1, min_size=32, synthetic_size=32
        ),
        log=lines.append,
        progress_interval=0.05,
    )
    progress = [line for line in lines if line.startswith("checked")]
    assert len(progress) >= 2 and all("images/s" in line for line in progress)
    assert progress[-1].startswith(f"checked {len(items)} / {len(items)} images (100%)")
    counts = [int(line.split()[1]) for line in progress]
    assert counts == sorted(counts)


def test_tfds_source_through_mock_data(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=5):
        items = prepare.tfds_items("cycle_gan/horse2zebra", parts=1)
        manifest = prepare.prepare(
            items,
            prepare.PrepareOptions(output=str(tmp_path / "tfds"), min_size=1, shards=1),
            log=lambda *_: None,
        )
    assert manifest["counts"] == {"test/a": 5, "test/b": 5, "train/a": 5, "train/b": 5}
    assert {item["tfds_split"] for item in items} == {"trainA", "trainB", "testA", "testB"}


def test_user_mistakes_are_one_line_errors(image_tree, prepared, tmp_path, capsys):
    assert _prepare(str(tmp_path / "nowhere"), str(tmp_path / "o1")) == 2
    assert "no such folder" in capsys.readouterr().err
    empty = tmp_path / "emptyB"
    (empty / "trainA").mkdir(parents=True)
    (empty / "trainB").mkdir()
    _save(str(empty / "trainA" / "x.png"), _rgb())
    assert _prepare(str(empty), str(tmp_path / "o2")) == 2
    assert "no images for train/b" in capsys.readouterr().err
    assert _prepare(image_tree, prepared) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(argv("prepare", output=str(tmp_path / "o3"))) == 2
    assert "--source is required" in capsys.readouterr().err


def test_overwrite_replaces_and_a_failed_run_leaves_nothing(image_tree, tmp_path, monkeypatch):
    output = tmp_path / "data"
    output.mkdir()
    (output / "old.txt").write_text("previous run")
    assert _prepare(image_tree, str(output), "--overwrite") == 0
    assert not (output / "old.txt").exists() and (output / "manifest.json").exists()

    def explode(*args, **kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(prepare, "build_pipeline", explode)
    with pytest.raises(RuntimeError):
        prepare.prepare(
            prepare.folder_items(image_tree),
            prepare.PrepareOptions(output=str(tmp_path / "never")),
            log=lambda *_: None,
        )
    assert sorted(os.listdir(tmp_path)) == ["data"]  # no output, no staging folder left behind


def test_explicit_folders_and_list_files(image_tree, tmp_path):
    listing = tmp_path / "test_a.txt"
    listing.write_text(
        "# one path per line, relative to this file or absolute\n"
        f"{os.path.join(image_tree, 'testA', 't.png')}\n"
    )
    output = str(tmp_path / "explicit")
    assert (
        cli.main(
            argv(
                "prepare",
                train_a=os.path.join(image_tree, "trainB"),
                train_b=os.path.join(image_tree, "trainB"),
                test_a=str(listing),
                test_b=os.path.join(image_tree, "testB"),
                output=output,
                min_size=32,
            )
        )
        == 0
    )
    manifest = json.load(open(os.path.join(output, "manifest.json")))
    assert manifest["counts"] == {"test/a": 1, "test/b": 1, "train/a": 3, "train/b": 3}
    assert (
        cli.main(
            argv("prepare", train_a=os.path.join(image_tree, "trainB"), output=str(tmp_path / "o"))
        )
        == 2
    )


def test_the_tfds_source_through_the_command_line(tmp_path):
    import tensorflow_datasets as tfds

    output = str(tmp_path / "horse2zebra")
    with tfds.testing.mock_data(num_examples=3):
        assert (
            cli.main(
                argv(
                    "prepare",
                    source="tfds:cycle_gan/horse2zebra",
                    output=output,
                    min_size=1,
                    shards=1,
                )
            )
            == 0
        )
    manifest = json.load(open(os.path.join(output, "manifest.json")))
    assert manifest["source"] == "tfds:cycle_gan/horse2zebra"
    assert manifest["counts"] == {"test/a": 3, "test/b": 3, "train/a": 3, "train/b": 3}
