"""The translator as a TF SavedModel for TF Serving: every signature, for both directions.

The SavedModel holds only the two generators and these graph functions, so loading it needs
TensorFlow and nothing of munit_tf. Signatures (``D`` is ``a2b`` or ``b2a``; ``X`` is ``a`` or ``b``):

``translate_bytes_D`` (and ``serving_default`` = the default direction's)
    ``image_bytes`` string [N] (encoded JPEG/PNG/GIF/BMP; ``{"b64": ...}`` in REST),
    ``num_styles`` int32 [1 or N], ``seed`` int64 [1 or N]
    -> ``output_bytes`` string [N, K]: K PNG translations of each image. Each image is resized the
    way training did (shorter side to ``data.new_size``, then centre-cropped to a multiple of 4)
    and its K styles come from its seed alone, so the same seed gives the same bytes.
``translate_D``: ``images`` float32 [N, H, W, C] in [-1, 1], H and W divisible by 4, ``seed`` int64
    [1 or N] -> ``images`` [N, H, W, C], one random style each.
``translate_uint8_D``: the same with ``images`` uint8 in [0, 255] -> uint8.
``translate_with_style_D``: ``images`` + ``styles`` float32 [N or 1, style_dim] -> ``images``.
``translate_with_reference_D``: ``images`` + ``reference_images`` float32 [N or 1, H', W', C] of
    the target domain (example-guided) -> ``images``.
``encode_style_X`` -> ``styles`` [N, style_dim]; ``encode_content_X`` -> ``content`` [N, h, w, 256].

A malformed image, a declared size over ``max_pixels``, a size not divisible by 4 or mismatched
batch sizes fail the request with ``InvalidArgument`` and a readable message.
"""

from __future__ import annotations

import os
import shutil
import time

import keras
import tensorflow as tf

from munit_tf import atomic, fast_conv
from munit_tf.data import dataset as data_lib
from munit_tf.data import images
from munit_tf.errors import InvalidInput, OutputExists
from munit_tf.model import DIRECTIONS, MUNIT, generators
from munit_tf.pixels import from_uint8_tensor, to_uint8_tensor

DEFAULT_MAX_PIXELS = images.DEFAULT_MAX_PIXELS


def _assert(condition, message: str):
    return tf.debugging.Assert(condition, [message])


def _header_bytes(image_bytes, offset: int, count: int):
    return tf.cast(tf.io.decode_raw(tf.strings.substr(image_bytes, offset, count), tf.uint8), tf.int64)


def _little_endian(image_bytes, offset: int, count: int):
    values = _header_bytes(image_bytes, offset, count)
    return tf.add_n([values[i] * 256 ** i for i in range(count)])


def declared_pixels(image_bytes):
    """Width x height declared by a PNG, JPEG, GIF or BMP header, read without decoding: every
    format ``tf.io.decode_image`` accepts, so nothing is decoded before its size is checked
    (0 for anything else, which the decoder then rejects)."""
    length = tf.strings.length(image_bytes)

    def png():
        size = _header_bytes(image_bytes, 16, 8)
        width = size[0] * 2 ** 24 + size[1] * 2 ** 16 + size[2] * 2 ** 8 + size[3]
        height = size[4] * 2 ** 24 + size[5] * 2 ** 16 + size[6] * 2 ** 8 + size[7]
        return width * height

    def jpeg():
        shape = tf.cast(tf.image.extract_jpeg_shape(image_bytes), tf.int64)
        return shape[0] * shape[1]

    def gif():  # the logical screen, which every frame is decoded into
        return _little_endian(image_bytes, 6, 2) * _little_endian(image_bytes, 8, 2)

    def bmp():  # signed 32-bit width and height (negative height: top-down rows)
        def signed(value):
            return tf.where(value >= 2 ** 31, 2 ** 32 - value, value)
        return signed(_little_endian(image_bytes, 18, 4)) * signed(_little_endian(image_bytes, 22, 4))

    starts = lambda prefix, minimum: tf.logical_and(  # noqa: E731
        tf.equal(tf.strings.substr(image_bytes, 0, len(prefix)), prefix), length >= minimum)
    return tf.case([(starts(b"\x89PNG", 24), png), (starts(b"\xff\xd8", 2), jpeg), (starts(b"GIF8", 10), gif),
                    (starts(b"BM", 26), bmp)], default=lambda: tf.constant(0, tf.int64))


MAX_SIDE = 65535  # the largest side PNG and JPEG encoders take in one piece


def load_image(image_bytes, channels: int, new_size: int, multiple: int):
    """Encoded bytes -> float image in [-1, 1] as training saw it: the shorter side resized to
    ``new_size``, then centre-cropped so both sides are multiples of ``multiple``.

    An image so elongated that its longer side would exceed ``MAX_SIDE`` after that resize is an
    InvalidArgument, checked before resizing (a 1 x 30000 strip would become 256 x 7.7 million)."""
    image = data_lib.decode(image_bytes, channels)
    shape = tf.cast(tf.shape(image)[:2], tf.int64)
    check = _assert(tf.reduce_max(shape) * new_size <= MAX_SIDE * tf.reduce_min(shape),
                    f"image is too elongated: resizing its shorter side to {new_size} would make the longer "
                    f"side exceed {MAX_SIDE} pixels")
    with tf.control_dependencies([check]):
        image = data_lib.resize_shorter_side(tf.identity(image), new_size)
    size = tf.shape(image)[:2]
    crop = size // multiple * multiple
    image = tf.image.crop_to_bounding_box(image, (size[0] - crop[0]) // 2, (size[1] - crop[1]) // 2,
                                          crop[0], crop[1])
    return from_uint8_tensor(image)


class Translator(tf.Module):
    """Both generators plus the serving functions; ``tf.saved_model.save`` writes it as is."""

    def __init__(self, model: MUNIT, max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__(name="munit_translator")
        self.gen_a, self.gen_b = model.gen_a, model.gen_b
        config = model.config
        self.style_dim = config.gen.style_dim
        self.new_size = config.data.new_size
        self.multiple = 2 ** config.gen.n_downsample
        self.channels = {"a": config.data.input_dim_a, "b": config.data.input_dim_b}
        self.max_pixels = max_pixels
        # Saved with the model so that clients (the translate command) can prepare inputs alike.
        self.image_size = tf.Variable(self.new_size, trainable=False, name="image_size")
        self.size_multiple = tf.Variable(self.multiple, trainable=False, name="size_multiple")
        self.style_dimension = tf.Variable(self.style_dim, trainable=False, name="style_dimension")
        self.functions = self._make_functions()

    # --- building blocks ------------------------------------------------------------------
    def _generators(self, direction):
        return generators(self, direction)

    def _check_size(self, images):
        shape = tf.shape(images)
        with tf.control_dependencies([_assert(tf.logical_and(tf.equal(shape[1] % self.multiple, 0),
                                                             tf.equal(shape[2] % self.multiple, 0)),
                                              f"image height and width must be divisible by {self.multiple}")]):
            return tf.identity(images)

    def _per_image(self, values, count, name):
        """A per-image input of 1 or N rows broadcast to N rows; anything else is an InvalidArgument."""
        size = tf.shape(values)[0]
        with tf.control_dependencies([_assert(tf.logical_or(tf.equal(size, 1), tf.equal(size, count)),
                                              f"{name} must hold 1 value or one per image")]):
            return tf.broadcast_to(values, tf.concat([[count], tf.shape(values)[1:]], axis=0))

    def _random_styles(self, seed, count):
        return tf.random.stateless_normal([count, self.style_dim], tf.stack([seed, tf.constant(7, tf.int64)]))

    def _translate_codes(self, direction, images, styles):
        source, target = self._generators(direction)
        return target.decode(source.encode_content(images), styles)

    def _decode_image(self, image_bytes, channels):
        pixels = declared_pixels(image_bytes)
        check = _assert(pixels <= self.max_pixels, f"image is larger than {self.max_pixels} pixels")
        with tf.control_dependencies([check]):
            image_bytes = tf.identity(image_bytes)
        return load_image(image_bytes, channels, self.new_size, self.multiple)

    @staticmethod
    def _to_png(images):
        return tf.map_fn(tf.io.encode_png, to_uint8_tensor(images), fn_output_signature=tf.string)

    # --- signatures -----------------------------------------------------------------------
    def _make_functions(self) -> dict:
        functions = {}
        for direction in DIRECTIONS:
            source_domain, target_domain = direction[0], direction[2]
            c_in, c_out = self.channels[source_domain], self.channels[target_domain]
            functions[f"translate_bytes_{direction}"] = self._bytes_function(direction, c_in)
            functions[f"translate_{direction}"] = self._float_function(direction, c_in)
            functions[f"translate_uint8_{direction}"] = self._uint8_function(direction, c_in)
            functions[f"translate_with_style_{direction}"] = self._style_function(direction, c_in)
            functions[f"translate_with_reference_{direction}"] = self._reference_function(direction, c_in, c_out)
        for domain, generator in (("a", self.gen_a), ("b", self.gen_b)):
            functions[f"encode_style_{domain}"], functions[f"encode_content_{domain}"] = \
                self._encoder_functions(generator, self.channels[domain])
        return functions

    def _bytes_function(self, direction, channels):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes"),
                                      tf.TensorSpec([None], tf.int32, name="num_styles"),
                                      tf.TensorSpec([None], tf.int64, name="seed")])
        def translate_bytes(image_bytes, num_styles, seed):
            count = tf.shape(image_bytes)[0]
            styles_per_image = self._per_image(num_styles, count, "num_styles")
            seeds = self._per_image(seed, count, "seed")
            k = styles_per_image[0]
            checks = [_assert(tf.reduce_all(tf.equal(styles_per_image, k)),
                              "num_styles must be the same for every image"),
                      _assert(tf.logical_and(k >= 1, k <= 64), "num_styles must be between 1 and 64")]
            with tf.control_dependencies(checks):
                k = tf.identity(k)

            def one(index):
                image = self._decode_image(image_bytes[index], channels)[None]
                content = self._generators(direction)[0].encode_content(image)
                contents = tf.repeat(content, k, axis=0)
                outputs = self._generators(direction)[1].decode(contents, self._random_styles(seeds[index], k))
                return self._to_png(outputs)

            encoded = tf.map_fn(one, tf.range(count), fn_output_signature=tf.TensorSpec([None], tf.string))
            return {"output_bytes": encoded}

        return translate_bytes

    def _float_function(self, direction, channels):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
                                      tf.TensorSpec([None], tf.int64, name="seed")])
        def translate(images, seed):
            images = self._check_size(images)
            count = tf.shape(images)[0]
            seeds = self._per_image(seed, count, "seed")
            styles = tf.map_fn(lambda s: self._random_styles(s, 1)[0], seeds,
                               fn_output_signature=tf.TensorSpec([self.style_dim], tf.float32))
            return {"images": self._translate_codes(direction, images, styles)}

        return translate

    def _uint8_function(self, direction, channels):
        float_function = self._float_function(direction, channels)

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.uint8, name="images"),
                                      tf.TensorSpec([None], tf.int64, name="seed")])
        def translate_uint8(images, seed):
            out = float_function(from_uint8_tensor(images), seed)["images"]
            return {"images": to_uint8_tensor(out)}

        return translate_uint8

    def _style_function(self, direction, channels):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
                                      tf.TensorSpec([None, self.style_dim], tf.float32, name="styles")])
        def translate_with_style(images, styles):
            images = self._check_size(images)
            count = tf.shape(images)[0]
            styles = self._per_image(styles, count, "styles")
            return {"images": self._translate_codes(direction, images, styles)}

        return translate_with_style

    def _reference_function(self, direction, channels, reference_channels):
        @tf.function(input_signature=[
            tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
            tf.TensorSpec([None, None, None, reference_channels], tf.float32, name="reference_images")])
        def translate_with_reference(images, reference_images):
            images = self._check_size(images)
            count = tf.shape(images)[0]
            styles = self._generators(direction)[1].encode_style(reference_images)
            styles = self._per_image(styles, count, "reference_images")
            return {"images": self._translate_codes(direction, images, styles)}

        return translate_with_reference

    def _encoder_functions(self, generator, channels):
        spec = tf.TensorSpec([None, None, None, channels], tf.float32, name="images")

        @tf.function(input_signature=[spec])
        def encode_style(images):
            return {"styles": generator.encode_style(images)}

        @tf.function(input_signature=[spec])
        def encode_content(images):
            return {"content": generator.encode_content(self._check_size(images))}

        return encode_style, encode_content

    def signatures(self, default_direction: str = "a2b", progress=None) -> dict:
        """Every signature traced, its convolutions in ``fast_conv``'s serving form; ``progress``
        (a ``keras.utils.Progbar``) advances after each."""
        signatures = {}
        with fast_conv.form("serving"):
            for name, fn in self.functions.items():
                signatures[name] = fn.get_concrete_function()
                if progress is not None:
                    progress.add(1)
        signatures["serving_default"] = signatures[f"translate_bytes_{default_direction}"]
        return signatures


def export(model: MUNIT, output: str, default_direction: str = "a2b", overwrite: bool = False,
           max_pixels: int = DEFAULT_MAX_PIXELS, log=None) -> str:
    """Write the SavedModel to ``output`` (e.g. ``serving/munit/1``) atomically; returns the path.

    It is written to a temporary sibling folder and renamed into place, so TF Serving, which
    polls the base folder for numeric versions, never sees a half-written version. With ``log``
    (e.g. ``print``), progress is shown: a bar over the traced signatures, then the save.
    """
    if default_direction not in DIRECTIONS:
        raise InvalidInput(f"default direction must be a2b or b2a; got {default_direction!r}")
    if tf.io.gfile.exists(output):
        if not overwrite:
            raise OutputExists(f"{output} already exists; pass --overwrite to replace it")
    staging = atomic.staging_dir(output)  # also removes what killed exports left behind
    translator = Translator(model, max_pixels)
    started = time.time()
    try:
        progress = None
        if log is not None:
            log(f"tracing {len(translator.functions)} serving signatures")
            progress = keras.utils.Progbar(len(translator.functions), unit_name="signature")
        signatures = translator.signatures(default_direction, progress)
        if log is not None:
            log(f"writing the SavedModel ({time.time() - started:.0f} s so far)")
        # Serving needs no gradients: saving those of the training-time memory forms
        # (fast_conv.conv_keeping_input) would only make every export slower.
        with fast_conv.form("serving"):
            tf.saved_model.save(translator, staging, signatures=signatures,
                                options=tf.saved_model.SaveOptions(experimental_custom_gradients=False))
        atomic.publish(staging, output)  # an existing version is renamed aside, never half deleted
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    if log is not None:
        log(f"exported in {time.time() - started:.0f} s")
    return output
