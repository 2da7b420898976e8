"""The translation functions that leave TensorFlow: fixed image size, any batch, weights frozen.

LiteRT, ONNX and the browser runtimes get graphs of constants and built-in ops only. Each
function is traced in ``fast_conv``'s ``"portable"`` form (the reference's order of operations,
static sizes) and its variables are folded into constants. Names (``D`` is ``a2b`` or ``b2a``,
``X`` is ``a`` or ``b``; images float32 in [-1, 1], ``[N, S, S, C]`` with ``S`` the config's
``data.crop_size``):

``translate_random_D``: ``images`` -> ``translations``, a style drawn from N(0, I) inside the graph
    for each image (no seed: a fresh draw at every call).
``translate_with_style_D``: ``images`` + ``styles`` [N, style_dim]: the style
    codes come from the caller (random ones drawn by it, reproducibly, or a reference's code)
    -> ``translations``.
``translate_with_reference_D``: ``images`` + ``reference_images`` [N, S, S, C'] of the target
    domain -> ``translations`` (example-guided).
``encode_style_X`` -> ``styles``; ``encode_content_X`` -> ``content`` [N, S/4, S/4, 4 dim];
``decode_X``: ``content`` + ``styles`` -> ``images`` (one content code, many styles: a
    slider that walks the style code decodes only).
"""

from __future__ import annotations

import dataclasses
import inspect

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from munit_tf import fast_conv
from munit_tf.model import DIRECTIONS, MUNIT, generators

OUT = "translations"  # not "images": an ONNX graph's inputs and outputs share one namespace


@dataclasses.dataclass
class PortableFunction:
    """One exported function: its graph frozen (a ``tf.function`` of constants with its input
    signature, returning ``{output: tensor}``: what LiteRT converts), the same traced with its
    variables (``source``: tf2onnx freezes it itself, and trips on a call into a frozen graph),
    its inputs' specs and its output's name."""

    name: str
    function: tf.types.experimental.PolymorphicFunction
    source: tf.types.experimental.PolymorphicFunction
    inputs: list[tf.TensorSpec]
    output: str

    def describe(self) -> dict:
        """Names, shapes (None for any batch) and dtypes, for the export's manifest."""
        return {
            "inputs": [
                {"name": spec.name, "shape": spec.shape.as_list(), "dtype": spec.dtype.name}
                for spec in self.inputs
            ],
            "output": {
                "name": self.output,
                "shape": self.function.get_concrete_function()
                .structured_outputs[self.output]
                .shape.as_list(),
            },
        }


def _frozen(name, python_function, inputs, output) -> PortableFunction:
    """``python_function`` traced on ``inputs`` and frozen, behind a function that names its
    output (the frozen graph returns a flat list)."""

    def source(*args):
        return {output: python_function(*args)}

    # parameters named as the inputs: the graph's placeholders take these names, tf2onnx the specs'
    source.__signature__ = inspect.Signature(
        [inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for spec in inputs]
    )
    source = tf.function(source, input_signature=inputs, autograph=False)
    with fast_conv.form("portable"):
        graph = source.get_concrete_function()
    frozen = convert_variables_to_constants_v2(graph)

    def named(*args):
        return {output: frozen(*args)[0]}  # a frozen graph returns a flat list

    wrapped = tf.function(named, input_signature=inputs, autograph=False)
    wrapped.get_concrete_function()  # traced once, here
    return PortableFunction(name, wrapped, source, list(inputs), output)


FUNCTION_NAMES = tuple(
    f"{kind}_{direction}"
    for direction in DIRECTIONS
    for kind in ("translate_random", "translate_with_style", "translate_with_reference")
) + tuple(
    f"{kind}_{domain}" for domain in "ab" for kind in ("encode_style", "encode_content", "decode")
)


def portable_functions(
    model: MUNIT, batch: int | None = None, only: tuple[str, ...] | None = None
) -> list[PortableFunction]:
    """Every function above (or those named in ``only``) for ``model``'s inference generators
    (the averaged ones when it keeps them), which must compute in float32 (see
    ``float32_copy``); any batch, or ``batch`` images (LiteRT.js takes only the shapes a model
    declares). Each function freezes its own copy of the weights it uses, so fewer functions
    take less memory to export (the LiteRT file keeps one copy of each weight whatever)."""
    config = model.config
    size, style_dim = config.data.crop_size, config.gen.style_dim
    channels = {"a": config.data.input_dim_a, "b": config.data.input_dim_b}
    pair = model.inference_generators

    def images(domain, name="images"):
        return tf.TensorSpec([batch, size, size, channels[domain]], tf.float32, name=name)

    styles = tf.TensorSpec([batch, style_dim], tf.float32, name="styles")
    specs = []  # (name, python function, input specs, output name)
    for direction in DIRECTIONS:
        source, target = generators(pair, direction)
        source_domain, target_domain = direction[0], direction[2]

        def random_style(x, source=source, target=target):
            codes = tf.random.normal([tf.shape(x)[0], style_dim])
            return target.decode(source.encode_content(x), codes)

        def with_style(x, codes, source=source, target=target):
            return target.decode(source.encode_content(x), codes)

        def with_reference(x, reference, source=source, target=target):
            return target.decode(source.encode_content(x), target.encode_style(reference))

        reference_spec = images(target_domain, "reference_images")
        specs += [
            (f"translate_random_{direction}", random_style, [images(source_domain)], OUT),
            (f"translate_with_style_{direction}", with_style, [images(source_domain), styles], OUT),
            (
                f"translate_with_reference_{direction}",
                with_reference,
                [images(source_domain), reference_spec],
                OUT,
            ),
        ]
    for domain, generator in zip("ab", pair):
        down = size // 2**config.gen.n_downsample
        content_spec = tf.TensorSpec(
            [batch, down, down, generator.enc_content.output_dim], tf.float32, name="content"
        )
        specs += [
            (f"encode_style_{domain}", generator.encode_style, [images(domain)], "styles"),
            (f"encode_content_{domain}", generator.encode_content, [images(domain)], "content"),
            (f"decode_{domain}", generator.decode, [content_spec, styles], "images"),
        ]
    assert tuple(spec[0] for spec in specs) == FUNCTION_NAMES
    return [_frozen(*spec) for spec in specs if only is None or spec[0] in only]


def float32_copy(model: MUNIT) -> MUNIT:
    """``model`` itself if it computes in float32; else a float32 model of the same config with
    its inference generators' weights (a run trained in ``mixed_bfloat16`` exports in float32:
    the portable runtimes' kernels are float32, and LiteRT quantizes from there)."""
    from munit_tf import precision, training

    if precision.resolve(model.config.train.precision) == "float32":
        return model
    config = dataclasses.replace(
        model.config, train=dataclasses.replace(model.config.train, precision="float32")
    )
    copy = training.build_model(config)
    for ours, theirs in zip(copy.inference_generators, model.inference_generators):
        ours.set_weights(theirs.get_weights())
    return copy
