"""Phone photos: every path shows a JPEG the way a viewer does, turned by its EXIF orientation."""

import io
import os
import struct

import numpy as np
import pytest
import tensorflow as tf
from cli_args import argv
from PIL import Image, ImageOps

from munit_tf import cli
from munit_tf.data import exif, images
from munit_tf.data.dataset import decode


def _picture(height=40, width=24):
    """An asymmetric picture: a gradient plus a bright block in the top-left corner."""
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([y * 255 // height, x * 255 // width, np.full_like(x, 90)], axis=-1)
    pixels[:8, :8] = 255
    return pixels.astype(np.uint8)


def _exif_block(orientation, big_endian=False, tags_before=2):
    """A hand-made EXIF APP1 payload: ``tags_before`` other SHORT tags, then the orientation tag."""
    order = ">" if big_endian else "<"
    entries = [(0x8000 + i, 3, 1, 7) for i in range(tags_before)] + [(0x0112, 3, 1, orientation)]
    ifd = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(order + "HHI", tag, kind, count) + struct.pack(order + "HH", value, 0)
    ifd += struct.pack(order + "I", 0)
    return b"Exif\0\0" + (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8) + ifd


def _jpeg(pixels, orientation=None, **block):
    buffer = io.BytesIO()
    extra = {"exif": _exif_block(orientation, **block)} if orientation is not None else {}
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=100, subsampling=0, **extra)
    return buffer.getvalue()


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_decode_turns_each_orientation_as_pil_exif_transpose(orientation, big_endian):
    data = _jpeg(_picture(), orientation, big_endian=big_endian)
    assert int(exif.orientation(tf.constant(data))) == orientation
    expected = np.asarray(
        ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"), np.float32
    )
    ours = decode(tf.constant(data)).numpy()
    assert ours.shape == expected.shape
    # two JPEG decoders, same pixels up to their IDCT (a wrong turn: > 40)
    assert np.abs(ours - expected).mean() < 1.5


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\xff\xd8\xff\xe1\x00\x08Exif\x00\x00",
        b"\xff\xd8\xff\xe1\xff\xffExif\x00\x00II*\x00",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        os.urandom(300),
        b"\xff\xd8" + os.urandom(5000),
    ],
)
def test_malformed_or_missing_exif_means_as_stored(data):
    assert int(exif.orientation(tf.constant(data))) == 1


@pytest.mark.parametrize("value", [0, 9, 300])
def test_an_out_of_range_orientation_means_as_stored(value):
    assert int(exif.orientation(tf.constant(_jpeg(_picture(), value)))) == 1


def test_an_orientation_tag_past_many_others_is_found():
    assert int(exif.orientation(tf.constant(_jpeg(_picture(), 6, tags_before=40)))) == 6


def test_prepare_stores_the_photo_upright():
    data = _jpeg(_picture(), 6)  # stored 40 x 24, shown 24 x 40 rotated clockwise
    checked = images.check_image(data)
    assert isinstance(checked, images.Checked) and checked.converted
    stored = Image.open(io.BytesIO(checked.data))
    assert (checked.width, checked.height) == stored.size == (40, 24)
    expected = np.asarray(
        ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"), np.int16
    )
    np.testing.assert_array_equal(np.asarray(stored, np.int16), expected)
    assert int(exif.orientation(tf.constant(checked.data))) == 1  # not turned a second time
    upright = images.check_image(_jpeg(_picture(), 1))
    assert not upright.converted  # orientation 1 keeps the file byte for byte


def test_serving_and_translate_see_the_photo_upright(exported_run, tmp_path):
    _, saved = exported_run
    portrait = _picture(64, 32)
    # what a phone held upright stores, tag 6
    stored = np.ascontiguousarray(np.rot90(portrait, k=1))
    data = _jpeg(stored, 6)
    module = tf.saved_model.load(saved)
    out = module.signatures["serving_default"](
        image_bytes=tf.constant([data]),
        num_styles=tf.constant([1]),
        seed=tf.constant([0], tf.int64),
    )["output_bytes"].numpy()
    shown = Image.open(io.BytesIO(out[0, 0]))
    assert shown.height > shown.width  # the 32 x 64 portrait, not the stored landscape
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(data)
    assert (
        cli.main(
            argv(
                "translate",
                model=saved,
                input=str(folder),
                output=str(tmp_path / "out"),
                num_styles=1,
            )
        )
        == 0
    )
    written = [
        os.path.join(d, n)
        for d, _, names in os.walk(tmp_path / "out")
        for n in names
        if n.endswith(".png")
    ]
    assert written and all(Image.open(path).height > Image.open(path).width for path in written)


def test_the_beam_job_stores_phone_photos_upright(tmp_path):
    root = tmp_path / "photos"
    for folder in ("trainA", "trainB", "testA", "testB"):
        (root / folder).mkdir(parents=True)
        (root / folder / "photo.jpg").write_bytes(_jpeg(_picture(40 + len(folder), 24), 6))
    assert (
        cli.main(
            argv("prepare", source=str(root), output=str(tmp_path / "out"), min_size=16, shards=1)
        )
        == 0
    )
    records = list(
        tf.data.TFRecordDataset(
            tf.io.gfile.glob(str(tmp_path / "out" / "train" / "a-*")), compression_type="GZIP"
        )
    )
    from munit_tf.data import schema

    parsed = schema.parse_example(records[0])
    # stored 24 wide, 46 high; shown turned
    assert (int(parsed["width"]), int(parsed["height"])) == (
        46,
        24,
    )
    assert decode(parsed["image"]).shape == (24, 46, 3)
