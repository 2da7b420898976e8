"""The exported signatures under fuzzed input (hypothesis, derandomised so CI is repeatable):
every malformed request is an error result, the process survives, memory does not grow, and
8 concurrent callers get exactly what one caller gets."""

import concurrent.futures
import io
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from munit_tf.serving.image_input import DEFAULT_MAX_PIXELS

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ONE, SEED = tf.constant([1], tf.int32), tf.constant([3], tf.int64)
ERRORS = (tf.errors.InvalidArgumentError,)


@pytest.fixture(scope="module")
def loaded(exported_run):
    return tf.saved_model.load(exported_run[1])


def _resident_mb() -> float:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS")) / 1024


def _image(fmt: str, width: int, height: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature and a valid (CRC-correct) IHDR declaring ``width`` x ``height``, no
    pixels."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


def _declaring(fmt: str, width: int, height: int, tail: bytes) -> bytes:
    """A real small image of ``fmt`` whose header is rewritten to declare ``width`` x ``height``."""
    data = bytearray(_image(fmt, 8, 8))
    if fmt == "PNG":
        return _png_header(width, height) + tail
    if fmt == "GIF":
        data[6:10] = struct.pack("<HH", width % 65536, height % 65536)
    elif fmt == "BMP":
        data[18:26] = struct.pack("<ii", width, -height)
    elif fmt == "JPEG":  # the SOF0 frame header: precision, height, width
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = struct.pack(">HH", height % 65536, width % 65536)
    return bytes(data) + tail


def _translate_bytes(loaded, images, num_styles=ONE, seed=SEED):
    return loaded.signatures["translate_bytes_a2b"](
        image_bytes=tf.constant(images), num_styles=num_styles, seed=seed
    )["output_bytes"]


def _expect_error_or_valid_png(loaded, images):
    try:
        outputs = _translate_bytes(loaded, images)
    except ERRORS:
        return "error"
    for row in outputs.numpy():  # the rare input that is a real image must give real images
        for png in row:
            assert Image.open(io.BytesIO(png)).format == "PNG"
    return "translated"


prefixes = st.sampled_from(
    [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"RIFF"]
)


@FUZZ
@given(st.lists(st.tuples(prefixes, st.binary(max_size=512)).map(b"".join), min_size=1, max_size=3))
def test_random_bytes_and_empty_strings_are_error_results(loaded, images):
    assert _expect_error_or_valid_png(loaded, images) == "error"


@FUZZ
@given(
    st.sampled_from(["PNG", "GIF", "BMP", "JPEG"]),
    st.integers(1, 2**31 - 1),
    st.integers(1, 2**31 - 1),
    st.binary(max_size=64),
)
@example(
    "JPEG", 1, 31546, b""
)  # decodes, but resized it would be 32 x 1,009,472 (found by this test)
def test_huge_declared_sizes_are_refused_before_decoding(loaded, fmt, width, height, tail):
    before = _resident_mb()
    result = _expect_error_or_valid_png(loaded, [_declaring(fmt, width, height, tail)])
    sixteen_bit = fmt in ("GIF", "JPEG")  # these headers hold 16-bit sizes
    declared = (width % 65536) * (height % 65536) if sixteen_bit else width * height
    # a small rewritten GIF/BMP/JPEG header may still decode
    if fmt == "PNG" or declared > DEFAULT_MAX_PIXELS:
        assert result == "error"
    assert _resident_mb() - before < 512  # nothing the size of the declared image was allocated


@FUZZ
@given(
    st.sampled_from(["float16", "float64", "int32", "uint8", "string", "float32"]),
    st.lists(st.integers(0, 9), min_size=0, max_size=5),
)
def test_wrong_shapes_and_dtypes_are_error_results(loaded, dtype, shape):
    value = tf.zeros(shape, dtype) if dtype != "string" else tf.fill(shape, "x")
    signature = loaded.signatures["translate_a2b"]
    well_formed = dtype == "float32" and len(shape) == 4 and shape[3] == 3
    valid = well_formed and min(shape) > 0 and shape[1] % 4 == 0 and shape[2] % 4 == 0
    try:
        output = signature(images=value, seed=tf.constant([0], tf.int64))["images"]
    except (TypeError, ValueError, tf.errors.InvalidArgumentError):
        assert not valid, f"a valid input {dtype}{shape} was refused"
        return
    # only real requests (or an empty batch) get through
    assert well_formed and output.shape == value.shape


def test_memory_does_not_grow_over_many_malformed_requests(loaded):
    garbage = [
        _png_header(100_000, 100_000),
        b"",
        b"\xff\xd8\xff\xe0" + bytes(100),
        b"GIF89a" + bytes(10),
    ]
    for _ in range(5):  # warm up every code path first
        for image in garbage:
            with pytest.raises(ERRORS):
                _translate_bytes(loaded, [image])
    before = _resident_mb()
    for _ in range(100):
        for image in garbage:
            with pytest.raises(ERRORS):
                _translate_bytes(loaded, [image])
    assert _resident_mb() - before < 64


def test_eight_concurrent_callers_get_the_single_threaded_outputs(loaded):
    requests = [
        ([_image("PNG", 36 + 4 * i, 40, seed=i), _image("JPEG", 44, 32, seed=10 + i)], [i, 100 + i])
        for i in range(4)
    ]
    requests += [([b"not an image"], [0])] * 2

    def call(request):
        images, seeds = request
        try:
            return [
                row.tolist()
                for row in _translate_bytes(
                    loaded, images, seed=tf.constant(seeds, tf.int64)
                ).numpy()
            ]
        except ERRORS as error:
            return f"error: {error.message.splitlines()[0]}"

    single = [call(request) for request in requests]
    assert sum(isinstance(result, str) for result in single) == 2
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(2):
            assert list(pool.map(call, requests * 4)) == single * 4
