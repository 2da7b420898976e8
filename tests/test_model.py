"""The MUNIT model: the training step's terms, learning, precision options and the inference API."""

import numpy as np
import pytest
import tensorflow as tf

from munit_tf.config import load_config
from munit_tf.data import dataset
from munit_tf.model import MUNIT
from munit_tf.training import build_model

BASE_TERMS = {
    "loss_dis_a",
    "loss_dis_b",
    "loss_dis_total",
    "loss_gen_adv_a",
    "loss_gen_adv_b",
    "loss_gen_recon_x_a",
    "loss_gen_recon_x_b",
    "loss_gen_recon_s_a",
    "loss_gen_recon_s_b",
    "loss_gen_recon_c_a",
    "loss_gen_recon_c_b",
    "loss_gen_total",
}


def _batch(config, seed=0):
    rng = np.random.default_rng(seed)
    size = config.data.crop_size
    return tuple(
        rng.uniform(-1, 1, (config.train.batch_size, size, size, 3)).astype("float32")
        for _ in range(2)
    )


def test_train_step_reports_every_term_and_updates_both_sides(tiny_config):
    model = build_model(tiny_config)
    before_g = [v.numpy().copy() for v in model.generator_variables]
    before_d = [v.numpy().copy() for v in model.discriminator_variables]
    logs = model.train_step(_batch(tiny_config))
    assert set(logs) == BASE_TERMS
    assert all(v.shape == (1,) and np.isfinite(v.numpy()).all() for v in logs.values())
    assert int(model.step) == 1 and int(model.dis_optimizer.iterations) == 1
    assert all(
        not np.array_equal(b, v.numpy()) for b, v in zip(before_g, model.generator_variables)
    )
    assert all(
        not np.array_equal(b, v.numpy()) for b, v in zip(before_d, model.discriminator_variables)
    )
    weights = tiny_config.loss
    expected_total = sum(
        getattr(weights, w) * float(logs[f"loss_gen_{t}_{d}"][0])
        for w, t in (
            ("gan_w", "adv"),
            ("recon_x_w", "recon_x"),
            ("recon_s_w", "recon_s"),
            ("recon_c_w", "recon_c"),
        )
        for d in "ab"
    )
    assert float(logs["loss_gen_total"][0]) == pytest.approx(expected_total, rel=1e-5)


def test_reusing_the_generator_steps_translations_still_updates_both_sides(tiny_config):
    from munit_tf.config import load_config as load

    config = load(tiny_config, ["train.reuse_translations=true"])
    model = build_model(config)
    networks = model.generator_variables + model.discriminator_variables
    before = [v.numpy().copy() for v in networks]
    logs = model.train_step(_batch(config))
    assert set(logs) == BASE_TERMS and all(np.isfinite(v.numpy()).all() for v in logs.values())
    assert int(model.step) == 1 and int(model.dis_optimizer.iterations) == 1
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, networks)]
    assert sum(changed) == len(changed)


def test_optional_cycle_and_perceptual_terms():
    config = load_config(
        "tiny",
        ["loss.recon_x_cyc_w=10", "loss.vgg_w=1", "loss.vgg_weights=random", "dis.gan_type=nsgan"],
    )
    logs = build_model(config).train_step(_batch(config))
    assert {
        "loss_gen_cycrecon_x_a",
        "loss_gen_cycrecon_x_b",
        "loss_gen_vgg_a",
        "loss_gen_vgg_b",
    } <= set(logs)
    assert all(np.isfinite(v.numpy()).all() for v in logs.values())


def test_overfitting_a_few_images_drives_reconstruction_down(synthetic_data):
    config = load_config("tiny", ["optim.lr=1e-3"])
    model = build_model(config)
    x_a, x_b = next(
        iter(dataset.make_dataset(synthetic_data, config, split="test", training=False))
    )

    def reconstruction_error():
        return float(np.mean(np.abs(model.gen_a(x_a) - x_a))) + float(
            np.mean(np.abs(model.gen_b(x_b) - x_b))
        )

    before = reconstruction_error()
    model.fit(
        tf.data.Dataset.from_tensors((x_a, x_b)).repeat(), steps_per_epoch=60, epochs=1, verbose=0
    )
    assert reconstruction_error() < 0.5 * before


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_steps_are_finite_with_float32_weights(precision):
    config = load_config("tiny", [f"train.precision={precision}"])
    model = build_model(config)
    logs = model.train_step(_batch(config))
    assert all(np.isfinite(v.numpy()).all() for v in logs.values())
    assert model.gen_a.enc_content.blocks[0].conv.compute_dtype == precision.split("_")[1]
    assert all(v.dtype == "float32" for v in model.generator_variables)


@pytest.mark.slow  # a minute or more: whole training runs
def test_xla_compiled_fit_runs(synthetic_data):
    config = load_config("tiny", ["train.jit_compile=true"])
    model = build_model(config)
    assert model.jit_compile
    history = model.fit(
        dataset.make_dataset(synthetic_data, config), steps_per_epoch=2, epochs=1, verbose=0
    )
    assert np.isfinite(np.ravel(history.history["loss_gen_total"])).all()


@pytest.fixture(scope="module")
def model():
    return MUNIT(load_config("tiny"))


def test_translate_with_random_codes_and_reference_styles(model):
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype("float32")
    assert model.translate(images, "a2b").shape == (3, 32, 32, 3)
    many = np.asarray(model.translate(images, "b2a", style=4, seed=5))
    assert many.shape == (3, 4, 32, 32, 3)
    np.testing.assert_array_equal(many, np.asarray(model.translate(images, "b2a", style=4, seed=5)))
    assert not np.allclose(many[:, 0], many[:, 1])
    codes = model.sample_styles(1, seed=2)
    out = np.asarray(model.translate(images, "a2b", style=codes))
    content = model.encode(images, "a")[0]
    np.testing.assert_allclose(
        out, np.asarray(model.decode(content, np.repeat(codes, 3, 0), "b")), atol=1e-6
    )
    reference = np.random.default_rng(3).uniform(-1, 1, (1, 48, 48, 3)).astype("float32")
    guided = np.asarray(model.translate(images, "a2b", style=reference))
    expected = model.decode(
        content, np.repeat(np.asarray(model.encode(reference, "b")[1]), 3, 0), "b"
    )
    np.testing.assert_allclose(guided, np.asarray(expected), atol=1e-6)


def test_translate_rejects_bad_arguments(model):
    images = np.zeros((2, 32, 32, 3), "float32")
    with pytest.raises(ValueError, match="direction"):
        model.translate(images, "a2c")
    with pytest.raises(ValueError, match="style must be"):
        model.translate(images, style=np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="3 styles given for 2 images"):
        model.translate(images, style=np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match=">= 1"):
        model.translate(images, style=0)


def test_style_interpolation(model):
    start, end = model.sample_styles(2, seed=0)
    linear = model.interpolate_styles(start, end, 5)
    np.testing.assert_allclose(linear[[0, -1]], [start, end], atol=1e-6)
    np.testing.assert_allclose(linear[2], (start + end) / 2, atol=1e-6)
    unit_start, unit_end = start / np.linalg.norm(start), end / np.linalg.norm(end)
    slerp = model.interpolate_styles(unit_start, unit_end, 7, method="slerp")
    np.testing.assert_allclose(np.linalg.norm(slerp, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError):
        model.interpolate_styles(start, end, 3, method="cubic")


def test_model_config_round_trip(model):
    rebuilt = MUNIT.from_config(model.get_config())
    assert rebuilt.config == model.config
    assert [v.shape for v in rebuilt.weights] == [v.shape for v in model.weights]
