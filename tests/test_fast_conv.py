"""The exact, faster convolution forms against the reference's pad-then-VALID-conv: values,
gradients, the memory behaviour of their gradients, and the forms the mode chooses."""

import numpy as np
import pytest
import tensorflow as tf

from munit_tf import fast_conv, layers

RNG = np.random.default_rng(0)


def _upsample_pad_conv(x, kernel, bias):
    """The reference's order of operations, in NumPy: nearest x2, reflection pad 2, 5x5 VALID
    conv."""
    up = x.repeat(2, axis=1).repeat(2, axis=2)
    padded = np.pad(up, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    batch, height, width, _ = up.shape
    out = np.zeros((batch, height, width, kernel.shape[-1]), "float64")
    for dy in range(5):
        for dx in range(5):
            out += np.einsum(
                "bhwi,io->bhwo", padded[:, dy : dy + height, dx : dx + width], kernel[dy, dx]
            )
    return out + bias


def test_sub_pixel_upsample_conv_equals_upsample_pad_conv_including_borders_and_gradients():
    for height, width in ((2, 2), (2, 5), (3, 4), (7, 6)):
        x = RNG.normal(size=(2, height, width, 3)).astype("float32")
        kernel = RNG.normal(size=(5, 5, 3, 4)).astype("float32")
        bias = RNG.normal(size=(4,)).astype("float32")
        expected = _upsample_pad_conv(x.astype("float64"), kernel.astype("float64"), bias)
        np.testing.assert_allclose(
            np.asarray(fast_conv.upsample_conv5(x, kernel, bias)), expected, atol=1e-4
        )

        def direct(x, kernel):
            up = tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
            return (
                tf.nn.conv2d(
                    tf.pad(up, [[0, 0], [2, 2], [2, 2], [0, 0]], "REFLECT"), kernel, 1, "VALID"
                )
                + bias
            )

        weights = tf.constant(RNG.normal(size=expected.shape).astype("float32"))
        x_t, kernel_t = tf.constant(x), tf.constant(kernel)
        grads = []
        for function in (direct, lambda x, kernel: fast_conv.upsample_conv5(x, kernel, bias)):
            with tf.GradientTape() as tape:
                tape.watch([x_t, kernel_t])
                loss = tf.reduce_sum(function(x_t, kernel_t) * weights)
            grads.append(tape.gradient(loss, [x_t, kernel_t]))
        for ours, reference in zip(grads[1], grads[0]):
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-4, atol=1e-3)


def test_the_portable_upsampling_is_the_nearest_x2_exactly_with_static_sizes():
    x = RNG.normal(size=(3, 5, 7, 4)).astype("float32")
    up = fast_conv.upsample_nearest_static(tf.constant(x))
    np.testing.assert_array_equal(np.asarray(up), x.repeat(2, axis=1).repeat(2, axis=2))
    traced = tf.function(fast_conv.upsample_nearest_static).get_concrete_function(
        tf.TensorSpec([None, 5, 7, 4], tf.float32)
    )
    assert traced.output_shapes.as_list() == [None, 10, 14, 4]  # a repeat leaves them unknown
    kernel = RNG.normal(size=(5, 5, 4, 2)).astype("float32")
    bias = RNG.normal(size=(2,)).astype("float32")
    with fast_conv.form("portable"):
        ours = fast_conv.conv2d(x, kernel, bias, 2, "reflect", upsample=True)
    expected = _upsample_pad_conv(x.astype("float64"), kernel.astype("float64"), bias)
    np.testing.assert_allclose(np.asarray(ours), expected, atol=1e-4)


def test_upsample_conv_block_keeps_the_conv_block_weights_and_falls_back_for_other_kernels():
    x = RNG.normal(size=(1, 4, 4, 6)).astype("float32")
    fast = layers.UpsampleConvBlock(3, 5, 1, 2, "ln", "relu", name="up")
    out = np.asarray(fast(x))
    assert out.shape == (1, 8, 8, 3) and fast_conv.is_sub_pixel(
        fast.kernel_size, fast.padding, fast.strides, fast.pad_type
    )
    assert sorted(w.path for w in fast.weights) == [
        "up/conv/bias",
        "up/conv/kernel",
        "up/norm/beta",
        "up/norm/gamma",
    ]
    plain = layers.ConvBlock(3, 5, 1, 2, "ln", "relu")
    plain(x.repeat(2, axis=1).repeat(2, axis=2))
    plain.set_weights(fast.get_weights())
    np.testing.assert_allclose(
        out, np.asarray(plain(x.repeat(2, axis=1).repeat(2, axis=2))), atol=1e-4
    )
    other = layers.UpsampleConvBlock(3, 3, 1, 1, "none", "relu")
    assert not fast_conv.is_sub_pixel(3, 1, 1, "reflect") and other(x).shape == (1, 8, 8, 3)
    with fast_conv.form("reference"):  # the reference's order of operations: the same result
        np.testing.assert_allclose(out, np.asarray(fast(x)), atol=1e-4)


def test_conv_in_blocks_equals_a_valid_conv_for_odd_and_even_sizes_with_gradients():
    for size, height, width in ((7, 7, 7), (7, 12, 9), (3, 5, 8), (5, 6, 6)):
        x = tf.constant(RNG.normal(size=(2, height, width, 5)).astype("float32"))
        kernel = tf.constant(RNG.normal(size=(size, size, 5, 3)).astype("float32"))
        weights = tf.constant(
            RNG.normal(size=(2, height - size + 1, width - size + 1, 3)).astype("float32")
        )
        results = []
        for function in (lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"), fast_conv.conv_in_blocks):
            with tf.GradientTape() as tape:
                tape.watch([x, kernel])
                out = function(x, kernel)
                loss = tf.reduce_sum(out * weights)
            results.append([out] + tape.gradient(loss, [x, kernel]))
        for ours, reference in zip(results[1], results[0]):
            assert ours.shape == reference.shape
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-4, atol=1e-4)


def test_a_conv_block_to_few_channels_runs_in_blocks_with_the_same_weights_and_result():
    x = RNG.normal(size=(1, 9, 10, 8)).astype("float32")
    block = layers.ConvBlock(3, 7, 1, 3, "none", "tanh", name="to_image")
    assert fast_conv.is_in_blocks(7, 1, 3) and not fast_conv.is_in_blocks(7, 1, 16)
    block.build(x.shape)
    block.set_weights(
        [RNG.normal(size=w.shape).astype("float32") * 0.1 for w in block.get_weights()]
    )
    fast = np.asarray(block(x))
    assert sorted(w.path for w in block.weights) == ["to_image/conv/bias", "to_image/conv/kernel"]
    with fast_conv.form("reference"):
        np.testing.assert_allclose(fast, np.asarray(block(x)), atol=1e-5)


def test_the_form_is_a_scoped_mode_and_an_unknown_one_is_refused():
    assert fast_conv.current_form() == "fast"
    with fast_conv.form("serving"):
        with fast_conv.form("reference"):
            assert fast_conv.current_form() == "reference"
        assert fast_conv.current_form() == "serving"
    assert fast_conv.current_form() == "fast"
    with pytest.raises(ValueError, match="form must be one of"):
        with fast_conv.form("quick"):
            pass


@pytest.mark.parametrize(
    "part, block, marker",
    [
        ("sub_pixel", lambda: layers.UpsampleConvBlock(8, 5, 1, 2, "none", "relu"), "DepthToSpace"),
        ("in_blocks", lambda: layers.ConvBlock(3, 7, 1, 3, "none", "tanh"), "SpaceToDepth"),
        ("keep_input", lambda: layers.ConvBlock(8, 3, 1, 1, "none", "relu"), "IdentityN"),
    ],
)
def test_each_fast_part_can_be_left_out_with_the_same_values_and_gradients(part, block, marker):
    """``without(part)`` traces that part's plain form (a benchmark measures what it gains on a
    CPU): the part's own op leaves the graph, the values and gradients stay."""
    layer = block()
    x = tf.constant(RNG.normal(size=(2, 6, 6, 4)).astype("float32"))
    layer(x)

    def run():
        @tf.function
        def value_and_gradients(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = layer(x)
                loss = tf.reduce_sum(out * tf.cos(out))
            return out, tape.gradient(loss, [x] + layer.trainable_variables)

        concrete = value_and_gradients.get_concrete_function(x)
        return {op.type for op in concrete.graph.get_operations()}, value_and_gradients(x)

    with_part, (out, grads) = run()
    with fast_conv.without(part):
        assert part in fast_conv.left_out() and not fast_conv.uses(part)
        without_part, (plain_out, plain_grads) = run()
    assert fast_conv.uses(part)  # restored on leaving
    assert marker in with_part and marker not in without_part
    np.testing.assert_allclose(out.numpy(), plain_out.numpy(), atol=1e-4)
    for grad, plain in zip(grads, plain_grads):
        np.testing.assert_allclose(grad.numpy(), plain.numpy(), rtol=1e-4, atol=1e-4)


def test_an_unknown_fast_part_is_refused():
    with pytest.raises(ValueError, match="parts must be among"):
        with fast_conv.without("winograd"):
            pass


def test_the_serving_form_splits_single_images_only_where_the_batch_is_unknown():
    """The exported signatures split a single image in halves (exact); in-memory calls do not."""
    block = layers.ConvBlock(64, 3, 1, 1, "none", "none")
    x = tf.constant(RNG.normal(size=(1, 12, 10, 8)).astype("float32"))
    expected = np.asarray(block(x))
    spec = tf.TensorSpec([None, None, None, 8], tf.float32)
    graphs = {}
    for name in ("fast", "serving"):
        with fast_conv.form(name), fast_conv.without():  # every part, whatever this CPU's choice
            concrete = tf.function(lambda x: block(x)).get_concrete_function(spec)
        graphs[name] = {op.type for op in concrete.graph.get_operations()}
        np.testing.assert_allclose(concrete(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert "If" in graphs["serving"] or "StatelessIf" in graphs["serving"]
    assert "If" not in graphs["fast"] and "StatelessIf" not in graphs["fast"]


@pytest.mark.parametrize("onednn", [True, False])
def test_the_split_is_left_out_where_tensorflow_runs_no_onednn_kernels(monkeypatch, onednn):
    """Measured: the split gains with oneDNN's kernels (AVX-512 machines) and loses under Eigen's
    (AVX2 alone); the serving form follows what TensorFlow runs here, ``without`` overrides it."""
    monkeypatch.setattr(fast_conv.cpu, "tensorflow_uses_onednn", lambda: onednn)
    fast_conv.cpu_left_out.cache_clear()
    try:
        assert fast_conv.left_out() == (frozenset() if onednn else {"split"})
        block = layers.ConvBlock(64, 3, 1, 1, "none", "none")
        spec = tf.TensorSpec([None, None, None, 8], tf.float32)
        with fast_conv.form("serving"):
            concrete = tf.function(lambda x: block(x)).get_concrete_function(spec)
        types = {op.type for op in concrete.graph.get_operations()}
        assert bool(types & {"If", "StatelessIf"}) == onednn
        with fast_conv.without("sub_pixel"):  # chosen parts replace the CPU's choice
            assert fast_conv.uses("split")
    finally:
        fast_conv.cpu_left_out.cache_clear()


def test_one_image_as_two_halves_gives_the_plain_conv_for_one_image_of_any_height():
    kernel = tf.constant(RNG.normal(size=(3, 3, 4, 6)).astype("float32"))
    conv = lambda x: tf.nn.conv2d(x, kernel, 1, "VALID")  # noqa: E731
    marked = lambda x: conv(x) + 1000.0  # noqa: E731  (shows when the plain path ran)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 4], tf.float32)])
    def split_with_gradients(x):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            out = fast_conv.one_image_as_two(x, conv, marked, 3, fast_conv.SPLIT_MIN_CHANNELS)
            loss = tf.reduce_sum(out * out)
        return [out] + tape.gradient(loss, [x, kernel])

    for height in (10, 9, 3):
        x = tf.constant(RNG.normal(size=(1, height, 7, 4)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            expected = conv(x)
            loss = tf.reduce_sum(expected * expected)
        for ours, reference in zip(
            split_with_gradients(x), [expected] + tape.gradient(loss, [x, kernel])
        ):
            assert ours.shape == reference.shape
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-4, atol=1e-4)
    x = tf.constant(RNG.normal(size=(3, 8, 7, 4)).astype("float32"))
    np.testing.assert_allclose(split_with_gradients(x)[0].numpy(), marked(x).numpy(), rtol=1e-5)
    # a batch known to be one image is split without a branch; a larger known batch never
    one, three = x[:1], x
    np.testing.assert_allclose(
        fast_conv.one_image_as_two(one, conv, marked, 3, fast_conv.SPLIT_MIN_CHANNELS).numpy(),
        conv(one).numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    assert np.array_equal(
        fast_conv.one_image_as_two(three, conv, marked, 3, fast_conv.SPLIT_MIN_CHANNELS).numpy(),
        marked(three).numpy(),
    )


def test_one_image_as_two_leaves_convolutions_to_few_channels_whole():
    kernel = tf.constant(RNG.normal(size=(3, 3, 4, 6)).astype("float32"))
    conv = lambda x: tf.nn.conv2d(x, kernel, 1, "VALID")  # noqa: E731
    marked = lambda x: conv(x) + 1000.0  # noqa: E731
    split = tf.function(
        lambda x: fast_conv.one_image_as_two(x, conv, marked, 3, fast_conv.SPLIT_MIN_CHANNELS - 1),
        input_signature=[tf.TensorSpec([None, None, None, 4], tf.float32)],
    )
    x = tf.constant(RNG.normal(size=(1, 8, 7, 4)).astype("float32"))
    assert np.array_equal(split(x).numpy(), marked(x).numpy())


def test_conv_keeping_input_has_the_values_and_gradients_of_the_conv_of_the_prepared_input():
    reflect = lambda x: fast_conv.pad2d(x, 1, "reflect")  # noqa: E731
    to_blocks = lambda x: tf.nn.space_to_depth(fast_conv.pad2d(x, 2, "zero"), 2)  # noqa: E731
    for prepare, strides, channels, with_bias in (
        (reflect, 1, 4, True),
        (reflect, 2, 4, False),
        (to_blocks, 1, 16, True),
        (None, 1, 4, True),
    ):
        x = tf.constant(RNG.normal(size=(2, 8, 10, 4)).astype("float32"))
        kernel = tf.constant(RNG.normal(size=(3, 3, channels, 5)).astype("float32"))
        bias = tf.constant(RNG.normal(size=(5,)).astype("float32")) if with_bias else None
        results = []
        for function in (
            lambda x, k, b: (
                tf.nn.conv2d((prepare or tf.identity)(x), k, strides, "VALID")
                + (0.0 if b is None else b)
            ),
            lambda x, k, b: fast_conv.conv_keeping_input(x, k, b, prepare, strides),
        ):
            with tf.GradientTape() as tape:
                watched = [x, kernel] + ([bias] if with_bias else [])
                tape.watch(watched)
                out = function(x, kernel, bias)
                loss = tf.reduce_sum(out * tf.sin(out))
            results.append([out] + tape.gradient(loss, watched))
        for ours, reference in zip(results[1], results[0]):
            assert ours.shape == reference.shape
            np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-5, atol=1e-4)


def test_conv_keeping_input_makes_the_padded_copy_again_only_once_the_gradient_arrives():
    """The forward pass's copy goes to the forward conv alone; the backward pass's own copy waits
    for the incoming gradient, so neither is held from the forward pass to the backward pass."""
    kernel = tf.constant(RNG.normal(size=(3, 3, 4, 5)).astype("float32"))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = fast_conv.conv_keeping_input(
                tf.nn.relu(x), kernel, prepare=lambda x: fast_conv.pad2d(x, 1, "reflect")
            )
            loss = tf.reduce_sum(out * out)
        return tape.gradient(loss, x)

    def after_the_gradient(op, seen=None):  # does op wait, by data or control, for a backward op?
        seen = set() if seen is None else seen
        for parent in [t.op for t in op.inputs] + list(op.control_inputs):
            if parent.name not in seen:
                seen.add(parent.name)
                if parent.name.startswith("gradient_tape/") or after_the_gradient(parent, seen):
                    return True
        return False

    graph = step.get_concrete_function(tf.TensorSpec([1, 6, 6, 4], tf.float32)).graph
    pads = [op for op in graph.get_operations() if op.type == "MirrorPad"]
    forward = [op for op in pads if not after_the_gradient(op)]
    again = [op for op in pads if after_the_gradient(op)]
    assert len(forward) == 1 and len(again) == 1
    assert [consumer.type for consumer in forward[0].outputs[0].consumers()] == ["Conv2D"]
    assert {consumer.type for consumer in again[0].outputs[0].consumers()} == {
        "Conv2DBackpropFilter"
    }
