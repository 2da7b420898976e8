"""The translator as a TF SavedModel for TF Serving: every signature, for every direction.

The SavedModel holds only the generators and these graph functions, so loading it needs
TensorFlow and nothing of munit_tf. Signatures (``D`` is a direction: ``a2b`` or ``b2a`` for two
domains, every ``<source>2<target>`` of ``data.domains`` for more, e.g. ``summer2winter``; ``X``
is a domain: ``a``, ``b``, ...). One signature per direction, so a TF Serving client names the
direction in the signature and sends nothing else new:

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

import itertools

import tensorflow as tf

from munit_tf import fast_conv
from munit_tf.model import MUNIT, direction_domains
from munit_tf.pixels import from_uint8_tensor, to_uint8_tensor
from munit_tf.serving.image_input import (
    DEFAULT_MAX_PIXELS,
    declared_pixels,
    graph_assert,
    load_image,
)


class Translator(tf.Module):
    """Both generators plus the serving functions; ``tf.saved_model.save`` writes it as is."""

    def __init__(self, model: MUNIT, max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__(name="munit_translator")
        config = model.config
        self.domains = tuple(config.data.domains)
        # the averaged generators when the model keeps them (train.ema_beta); gen_a, gen_b, ...
        for domain, generator in zip(self.domains, model.inference_generators):
            setattr(self, f"gen_{domain}", generator)
        self.directions = tuple(
            f"{s}2{t}" for s, t in itertools.permutations(self.domains, 2)
        )  # a2b, b2a for two domains
        self.style_dim = config.gen.style_dim
        self.new_size = config.data.new_size
        self.multiple = 2**config.gen.n_downsample
        self.channels = {domain: config.channels(domain) for domain in self.domains}
        self.max_pixels = max_pixels
        # Saved with the model so that clients (the translate command) can prepare inputs alike.
        self.image_size = tf.Variable(self.new_size, trainable=False, name="image_size")
        self.size_multiple = tf.Variable(self.multiple, trainable=False, name="size_multiple")
        self.style_dimension = tf.Variable(self.style_dim, trainable=False, name="style_dimension")
        self.domain_names = tf.Variable(list(self.domains), trainable=False, name="domain_names")
        self.functions = self._make_functions()

    # --- building blocks ------------------------------------------------------------------
    def _generators(self, direction):
        source, target = direction_domains(direction, self.domains)
        return getattr(self, f"gen_{source}"), getattr(self, f"gen_{target}")

    def _check_size(self, images):
        shape = tf.shape(images)
        with tf.control_dependencies(
            [
                graph_assert(
                    tf.logical_and(
                        tf.equal(shape[1] % self.multiple, 0), tf.equal(shape[2] % self.multiple, 0)
                    ),
                    f"image height and width must be divisible by {self.multiple}",
                )
            ]
        ):
            return tf.identity(images)

    def _per_image(self, values, count, name):
        """A per-image input of 1 or N rows broadcast to N rows; anything else is an
        InvalidArgument."""
        size = tf.shape(values)[0]
        with tf.control_dependencies(
            [
                graph_assert(
                    tf.logical_or(tf.equal(size, 1), tf.equal(size, count)),
                    f"{name} must hold 1 value or one per image",
                )
            ]
        ):
            return tf.broadcast_to(values, tf.concat([[count], tf.shape(values)[1:]], axis=0))

    def _random_styles(self, seed, count):
        return tf.random.stateless_normal(
            [count, self.style_dim], tf.stack([seed, tf.constant(7, tf.int64)])
        )

    def _translate_codes(self, direction, images, styles):
        source, target = self._generators(direction)
        return target.decode(source.encode_content(images), styles)

    def _decode_image(self, image_bytes, channels):
        pixels = declared_pixels(image_bytes)
        check = graph_assert(
            pixels <= self.max_pixels, f"image is larger than {self.max_pixels} pixels"
        )
        with tf.control_dependencies([check]):
            image_bytes = tf.identity(image_bytes)
        return load_image(image_bytes, channels, self.new_size, self.multiple)

    @staticmethod
    def _to_png(images):
        return tf.map_fn(tf.io.encode_png, to_uint8_tensor(images), fn_output_signature=tf.string)

    # --- signatures -----------------------------------------------------------------------
    def _make_functions(self) -> dict:
        functions = {}
        for direction in self.directions:
            source_domain, target_domain = direction_domains(direction, self.domains)
            c_in, c_out = self.channels[source_domain], self.channels[target_domain]
            functions[f"translate_bytes_{direction}"] = self._bytes_function(direction, c_in)
            functions[f"translate_{direction}"] = self._float_function(direction, c_in)
            functions[f"translate_uint8_{direction}"] = self._uint8_function(direction, c_in)
            functions[f"translate_with_style_{direction}"] = self._style_function(direction, c_in)
            functions[f"translate_with_reference_{direction}"] = self._reference_function(
                direction, c_in, c_out
            )
        for domain in self.domains:
            functions[f"encode_style_{domain}"], functions[f"encode_content_{domain}"] = (
                self._encoder_functions(getattr(self, f"gen_{domain}"), self.channels[domain])
            )
        return functions

    def _bytes_function(self, direction, channels):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string, name="image_bytes"),
                tf.TensorSpec([None], tf.int32, name="num_styles"),
                tf.TensorSpec([None], tf.int64, name="seed"),
            ]
        )
        def translate_bytes(image_bytes, num_styles, seed):
            count = tf.shape(image_bytes)[0]
            styles_per_image = self._per_image(num_styles, count, "num_styles")
            seeds = self._per_image(seed, count, "seed")
            k = styles_per_image[0]
            checks = [
                graph_assert(
                    tf.reduce_all(tf.equal(styles_per_image, k)),
                    "num_styles must be the same for every image",
                ),
                graph_assert(
                    tf.logical_and(k >= 1, k <= 64), "num_styles must be between 1 and 64"
                ),
            ]
            with tf.control_dependencies(checks):
                k = tf.identity(k)

            def one(index):
                image = self._decode_image(image_bytes[index], channels)[None]
                content = self._generators(direction)[0].encode_content(image)
                contents = tf.repeat(content, k, axis=0)
                outputs = self._generators(direction)[1].decode(
                    contents, self._random_styles(seeds[index], k)
                )
                return self._to_png(outputs)

            encoded = tf.map_fn(
                one, tf.range(count), fn_output_signature=tf.TensorSpec([None], tf.string)
            )
            return {"output_bytes": encoded}

        return translate_bytes

    def _float_function(self, direction, channels):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
                tf.TensorSpec([None], tf.int64, name="seed"),
            ]
        )
        def translate(images, seed):
            images = self._check_size(images)
            count = tf.shape(images)[0]
            seeds = self._per_image(seed, count, "seed")
            styles = tf.map_fn(
                lambda s: self._random_styles(s, 1)[0],
                seeds,
                fn_output_signature=tf.TensorSpec([self.style_dim], tf.float32),
            )
            return {"images": self._translate_codes(direction, images, styles)}

        return translate

    def _uint8_function(self, direction, channels):
        float_function = self._float_function(direction, channels)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, channels], tf.uint8, name="images"),
                tf.TensorSpec([None], tf.int64, name="seed"),
            ]
        )
        def translate_uint8(images, seed):
            out = float_function(from_uint8_tensor(images), seed)["images"]
            return {"images": to_uint8_tensor(out)}

        return translate_uint8

    def _style_function(self, direction, channels):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
                tf.TensorSpec([None, self.style_dim], tf.float32, name="styles"),
            ]
        )
        def translate_with_style(images, styles):
            images = self._check_size(images)
            count = tf.shape(images)[0]
            styles = self._per_image(styles, count, "styles")
            return {"images": self._translate_codes(direction, images, styles)}

        return translate_with_style

    def _reference_function(self, direction, channels, reference_channels):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, channels], tf.float32, name="images"),
                tf.TensorSpec(
                    [None, None, None, reference_channels], tf.float32, name="reference_images"
                ),
            ]
        )
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

    def signatures(self, default_direction: str | None = None, progress=None) -> dict:
        """Every signature traced, its convolutions in ``fast_conv``'s serving form; ``progress``
        (a ``keras.utils.Progbar``) advances after each. ``serving_default`` is
        ``default_direction``'s bytes signature (default: the first domain to the second)."""
        default_direction = default_direction or self.directions[0]
        direction_domains(default_direction, self.domains)  # an unknown one: a one-line error
        signatures = {}
        with fast_conv.form("serving"):
            for name, fn in self.functions.items():
                signatures[name] = fn.get_concrete_function()
                if progress is not None:
                    progress.add(1)
        signatures["serving_default"] = signatures[f"translate_bytes_{default_direction}"]
        return signatures
