"""The imaginaire recipe's options, each alone: hinge loss, TTUR, constant rate, orthogonal init,
the generators' EMA and spectral normalisation (each under MirroredStrategy too)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from munit_tf import ema, layers, losses, serving, training
from munit_tf.config import ConfigError, load_config
from munit_tf.model import MUNIT
from munit_tf.optimizers import StepLR

RNG = np.random.default_rng(0)
BATCH = tuple(RNG.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))


def _fit(model, steps=1, batch=BATCH):
    data = tf.data.Dataset.from_tensors(batch).repeat()
    return model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0).history


def test_hinge_losses_on_known_outputs():
    real, fake = [np.array([2.0, 0.0])], [np.array([-2.0, 0.5])]
    # D: mean(relu(1 - real)) + mean(relu(1 + fake)) = 0.5 + 0.75
    assert float(losses.dis_loss(real, fake, "hinge")) == pytest.approx(1.25)
    assert float(losses.gen_adv_loss(fake, "hinge")) == pytest.approx(0.75)  # -mean(fake)
    model = training.build_model(load_config("tiny", ["dis.gan_type=hinge"]))
    history = _fit(model)
    assert all(np.isfinite(v).all() for v in history.values())
    # a hinge D loss per scale lies in [0, inf) and starts near 2 (outputs near 0)
    assert 0 < np.ravel(history["loss_dis_a"])[0] < 2 * 2 + 1


def test_ttur_scales_the_discriminators_rate_and_its_schedule():
    model = training.build_model(load_config("tiny", ["optim.dis_lr_ratio=4"]))
    gen, dis = model.gen_optimizer.learning_rate, model.dis_optimizer.learning_rate
    assert float(dis) == pytest.approx(4 * float(gen))
    schedule = training.build_model(load_config("tiny", ["optim.dis_lr_ratio=4"]))
    assert isinstance(schedule.dis_optimizer._learning_rate, StepLR)  # step decay kept
    constant = training.build_model(
        load_config("tiny", ["optim.lr_policy=constant", "optim.dis_lr_ratio=4"])
    )
    _fit(constant, steps=2)
    assert float(constant.dis_optimizer.learning_rate) == pytest.approx(4e-4)
    with pytest.raises(ConfigError, match="optim.dis_lr_ratio"):
        load_config("tiny", ["optim.dis_lr_ratio=0"])


def _kernels(network):
    return [v.numpy() for v in network.trainable_variables if len(v.shape) >= 2]


def test_orthogonal_init_gives_orthonormal_filters_and_leaves_the_other_network_alone():
    keras.utils.set_random_seed(1)
    reference = MUNIT(load_config("tiny"))
    keras.utils.set_random_seed(1)
    model = MUNIT(load_config("tiny", ["dis.init=orthogonal"]))
    for kernel in _kernels(model.dis_a):
        flat = kernel.reshape(-1, kernel.shape[-1])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-4)
    # the generators keep the reference's kaiming draws, bit for bit
    for ours, theirs in zip(_kernels(model.gen_a), _kernels(reference.gen_a)):
        np.testing.assert_array_equal(ours, theirs)
    assert not np.allclose(_kernels(model.dis_a)[0], _kernels(reference.dis_a)[0])


def test_the_ema_follows_its_formula_and_is_what_translates_and_exports(tmp_path):
    beta = 0.5
    config = load_config("tiny", [f"train.ema_beta={beta}", "train.ema_warmup=false"])
    model = training.build_model(config)
    raw = [v.numpy() for v in model.gen_a.weights]
    assert all(np.array_equal(a.numpy(), r) for a, r in zip(model.gen_a_ema.weights, raw))
    _fit(model)
    after = [v.numpy() for v in model.gen_a.weights]
    for average, start, end in zip(model.gen_a_ema.weights, raw, after):
        np.testing.assert_allclose(average.numpy(), beta * start + (1 - beta) * end, atol=1e-6)
    assert not np.allclose(model.gen_a_ema.weights[0].numpy(), after[0])
    # not trained: its weights are nobody's trainable variables
    assert not any(v is w for v in model.generator_variables for w in model.gen_a_ema.weights)
    # the averaged generators translate, and are what the SavedModel holds
    codes = np.zeros((2, 4), np.float32)
    expected = model.gen_b_ema.decode(model.gen_a_ema.encode_content(BATCH[0]), codes)
    np.testing.assert_allclose(model.translate(BATCH[0], "a2b", style=codes), expected, atol=1e-6)
    saved = tf.saved_model.load(serving.export(model, str(tmp_path / "1")))
    served = saved.signatures["translate_with_style_a2b"](images=BATCH[0], styles=codes)["images"]
    np.testing.assert_allclose(served.numpy(), np.asarray(expected), atol=1e-5)


def test_the_ema_warms_up_its_beta_over_the_first_updates():
    assert [float(ema.beta_at(0.999, n)) for n in (0, 1, 90, 100_000)] == pytest.approx(
        [0.1, 2 / 11, 0.91, 0.999]
    )
    assert ema.beta_at(0.999, 1, warmup=False) == 0.999
    # one update of the averages at step 1: beta 2/11 (not 0.999: the average moves)
    model = training.build_model(load_config("tiny", ["train.ema_beta=0.999"]))
    raw = [v.numpy() for v in model.gen_a.weights]
    _fit(model)
    after = [v.numpy() for v in model.gen_a.weights]
    for average, start, end in zip(model.gen_a_ema.weights, raw, after):
        expected = 2 / 11 * start + 9 / 11 * end
        np.testing.assert_allclose(average.numpy(), expected, atol=1e-6)


def test_the_ema_and_the_trained_weights_both_resume_from_a_checkpoint(tmp_path):
    config = load_config("tiny", ["train.ema_beta=0.9"])
    model = training.build_model(config)
    _fit(model, steps=2)
    path = training.Checkpointer(model, str(tmp_path)).save()
    restored = training.build_model(config)
    training.Checkpointer(restored, str(tmp_path)).restore(path)
    for mine, theirs in zip(
        restored.gen_a_ema.weights + restored.gen_a.weights,
        model.gen_a_ema.weights + model.gen_a.weights,
    ):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def _one_device_then_two_replicas(config, read, batch=BATCH) -> list:
    """``read(model)`` after one step from the same weights, on one device then on two replicas
    under MirroredStrategy. SGD: Adam's normalised update of near-zero gradients (biases before
    an instance norm) would magnify the replicas' float rounding."""
    keras.utils.set_random_seed(0)
    initial = MUNIT(config).get_weights()
    results = []
    for strategy in (
        tf.distribute.get_strategy(),
        tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    ):
        with strategy.scope():
            model = MUNIT(config)
            model.compile(
                gen_optimizer=keras.optimizers.SGD(0.1), dis_optimizer=keras.optimizers.SGD(0.1)
            )
        model.set_weights(initial)
        before = read(model)
        _fit(model, batch=batch)
        results.append((before, read(model)))
    return results


def test_the_ema_under_mirrored_strategy_equals_one_device():
    """Two images per replica, as tests/e2e/test_distribute.py: with one, the convolutions take
    another kernel path, and the content loss's L1 (whose gradient is the sign of a difference
    that rounding can flip) moved a few weights by up to 4e-4 on an AVX2-only EPYC (with Eigen's
    kernels and with oneDNN's alike), where two per replica agree to 2e-7."""
    config = load_config(
        "tiny", ["train.ema_beta=0.5", "train.ema_warmup=false", "train.batch_size=4"]
    )
    rng = np.random.default_rng(1)  # the same images whatever ran before in this worker
    batch = tuple(rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32") for _ in range(2))

    def read(model):
        return [v.numpy() for v in model.gen_a.weights + model.gen_a_ema.weights]

    results = _one_device_then_two_replicas(config, read, batch)
    for before, after in results:  # once per step, from the replicas' synchronised weights
        half = len(before) // 2
        for start, end, average in zip(before[:half], after[:half], after[half:]):
            np.testing.assert_allclose(average, 0.5 * start + 0.5 * end, atol=1e-6)
    (_, one), (before, two) = results
    for a, b in zip(one, two):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-6)
    assert sum(not np.allclose(a, b) for a, b in zip(two, before)) > len(before) // 2


SN = ["gen.spectral_norm=true", "dis.spectral_norm=true"]


def _normalized_kernels(model):
    """(layer path, kernel / sigma as the forward pass uses it) of every normalised kernel."""
    out = []
    for network in (model.gen_a, model.dis_a):
        for layer in network._flatten_layers(include_self=False):
            if not getattr(layer, "spectral_norm", False):
                continue
            if isinstance(layer, layers.ConvBlock):
                out.append((layer.name, layer.kernel))
            elif isinstance(layer, layers.MLP):
                out += [
                    (d.path, layers.spectrally_normalized(d.kernel, u))
                    for d, u in zip(layer.dense, layer.sn_u)
                ]
    return out


def test_spectral_norm_bounds_every_kernels_largest_singular_value_by_one():
    model = training.build_model(load_config("tiny", SN))
    assert len(model.spectral_vectors) > 20

    def top_singular_values():
        return {
            name: np.linalg.svd(np.asarray(k).reshape(-1, k.shape[-1]), compute_uv=False)[0]
            for name, k in _normalized_kernels(model)
        }

    # |W v| never overestimates sigma: a normalised kernel's norm is >= 1 from the first step
    assert min(top_singular_values().values()) >= 1 - 1e-4
    for _ in range(300):  # and the power iteration brings it down to 1
        model.power_iteration(model.gen_a, model.dis_a)
    for name, value in top_singular_values().items():
        assert 1 - 1e-4 <= value <= 1.01, name
    plain = MUNIT(load_config("tiny"))
    assert plain.spectral_vectors == []  # the reference has none


def test_a_spectrally_normalised_step_trains_iterates_and_resumes(tmp_path):
    config = load_config("tiny", SN)
    model = training.build_model(config)
    before = [v.numpy() for v in model.spectral_vectors]
    history = _fit(model)
    assert all(np.isfinite(v).all() for v in history.values())
    after = [v.numpy() for v in model.spectral_vectors]
    assert all(not np.allclose(a, b) for a, b in zip(after, before))  # one iteration per update
    path = training.Checkpointer(model, str(tmp_path)).save()
    restored = training.build_model(config)
    training.Checkpointer(restored, str(tmp_path)).restore(path)
    for mine, theirs in zip(restored.spectral_vectors, model.spectral_vectors):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    codes = np.zeros((2, 4), np.float32)
    expected = model.translate(BATCH[0], "a2b", style=codes)
    np.testing.assert_array_equal(restored.translate(BATCH[0], "a2b", style=codes), expected)


def test_spectral_norm_under_mirrored_strategy_equals_one_device():
    vectors = lambda model: [v.numpy() for v in model.spectral_vectors]  # noqa: E731
    config = load_config("tiny", SN + ["train.batch_size=2"])
    (_, one), (before, two) = _one_device_then_two_replicas(config, vectors)
    for a, b in zip(one, two):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert all(not np.allclose(a, b) for a, b in zip(two, before))


def test_presets_combine_with_plus_and_the_imaginaire_recipe_sets_only_its_fields():
    combined = load_config("tiny+imaginaire")
    tiny = load_config("tiny")
    assert combined.name == "tiny+imaginaire"
    assert combined.gen.dim == tiny.gen.dim and combined.data == tiny.data  # tiny's own fields
    assert (combined.dis.gan_type, combined.gen.init, combined.dis.init) == (
        "hinge",
        "orthogonal",
        "orthogonal",
    )
    assert combined.gen.spectral_norm and combined.dis.spectral_norm
    assert (combined.optim.dis_lr_ratio, combined.optim.lr_policy) == (4.0, "constant")
    assert combined.optim.weight_decay == 0.0 and combined.train.ema_beta == 0.999
    assert combined.loss.recon_x_w == 1.0 and combined.loss.recon_x_cyc_w == 1.0
    model = training.build_model(combined)
    history = _fit(model)
    assert all(np.isfinite(v).all() for v in history.values())
