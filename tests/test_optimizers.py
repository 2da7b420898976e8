"""The reference's Adam: PyTorch's update on known gradients, and its own bias-correction step."""

import os

import keras
import numpy as np
import pytest
from paths import FIXTURES

from munit_tf import training
from munit_tf.optimizers import Adam, StepLR, learning_rate

FIXTURE = np.load(os.path.join(FIXTURES, "torch_adam.npz"))
LR, BETA_1, BETA_2, EPS, WEIGHT_DECAY, STEPS, TENSORS = FIXTURE["hyperparameters"]
STEPS, TENSORS = int(STEPS), int(TENSORS)


def _params():
    return [keras.Variable(FIXTURE[f"param_{i}"].copy()) for i in range(TENSORS)]


def _step(optimizer, params, step):
    """One update with the fixture's gradient plus coupled weight decay, as ``losses.l2_penalty``
    contributes it to every gradient the model computes."""
    grads = [
        FIXTURE[f"grad_{step}_{i}"] + np.float32(WEIGHT_DECAY) * p.numpy()
        for i, p in enumerate(params)
    ]
    optimizer.apply_gradients(zip(grads, params))


def _torch_after(step):
    return [FIXTURE[f"after_{step}_{i}"] for i in range(TENSORS)]


def _within_float32_rounding(ours, theirs):
    """A few float32 ulps of each value, or 1e-5 of the learning rate for values near zero (a
    wrong ε placement moves tensor 0 by about 0.1 of the learning rate in the first step)."""
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=4e-7, atol=1e-5 * LR)


def test_adam_takes_torch_optim_adams_steps_within_float32_rounding():
    params = _params()
    optimizer = Adam(float(LR), float(BETA_1), float(BETA_2), float(EPS))
    for step in range(STEPS):
        _step(optimizer, params, step)
        _within_float32_rounding([p.numpy() for p in params], _torch_after(step))
    assert int(optimizer.iterations) == int(optimizer.bias_correction_step) == STEPS


def test_keras_placement_is_keras_adam_and_visibly_not_torchs():
    """Keras' formula, kept as an option, is keras.optimizers.Adam's; where ε decides the update
    (the 1e-9 gradients of tensor 0), its first step is far from PyTorch's."""
    ours, theirs = _params(), _params()
    keras_placement = Adam(
        float(LR), float(BETA_1), float(BETA_2), float(EPS), epsilon_placement="keras"
    )
    reference = keras.optimizers.Adam(float(LR), float(BETA_1), float(BETA_2), float(EPS))
    for step in range(STEPS):
        _step(keras_placement, ours, step)
        _step(reference, theirs, step)
        _within_float32_rounding([p.numpy() for p in ours], [p.numpy() for p in theirs])
    params = _params()
    _step(
        Adam(float(LR), float(BETA_1), float(BETA_2), float(EPS), epsilon_placement="keras"),
        params,
        0,
    )
    keras_update = params[0].numpy() - FIXTURE["param_0"]
    torch_update = _torch_after(0)[0] - FIXTURE["param_0"]
    assert np.linalg.norm(keras_update - torch_update) > 0.5 * np.linalg.norm(torch_update)


def test_the_schedule_reads_the_iteration_and_bias_correction_its_own_step():
    """After an import at iteration 99,999 (fresh moments), the first update is a fresh Adam's at
    the schedule's rate for that iteration; Keras' Adam would bias-correct with t = 100,000."""
    params = _params()
    optimizer = Adam(
        StepLR(2 * float(LR), step_size=100_000, gamma=0.5),
        float(BETA_1),
        float(BETA_2),
        float(EPS),
    )
    optimizer.build(params)
    optimizer.iterations.assign(99_999)  # what import-reference does
    assert float(optimizer.learning_rate) == pytest.approx(float(LR))
    _step(optimizer, params, 0)
    _within_float32_rounding([p.numpy() for p in params], _torch_after(0))
    assert (int(optimizer.iterations), int(optimizer.bias_correction_step)) == (100_000, 1)


def test_a_bad_epsilon_placement_is_refused():
    with pytest.raises(ValueError, match="epsilon_placement"):
        Adam(epsilon_placement="torch")


def test_the_config_chooses_the_placement(tiny_config):
    from munit_tf.config import ConfigError, load_config

    assert training.build_model(tiny_config).gen_optimizer.epsilon_placement == "pytorch"
    keras_model = training.build_model(load_config("tiny", ["optim.epsilon_placement=keras"]))
    assert keras_model.dis_optimizer.epsilon_placement == "keras"
    with pytest.raises(ConfigError, match="optim.epsilon_placement"):
        load_config("tiny", ["optim.epsilon_placement=torch"])


def test_checkpoints_hold_both_counters_and_older_ones_resume(tiny_config, tmp_path):
    """A checkpoint holds each optimiser's iteration and its bias-correction step. One written with
    Keras' Adam (before this optimiser) restores every weight and moment, its bias-correction step
    taken from the iteration, as Keras' Adam had counted it."""
    model = training.build_model(tiny_config)
    model.gen_optimizer.iterations.assign(7)
    model.gen_optimizer.bias_correction_step.assign(3)
    path = training.Checkpointer(model, str(tmp_path / "new")).save()
    restored = training.build_model(tiny_config)
    training.Checkpointer(restored, str(tmp_path / "new")).restore(path)
    assert (int(restored.step), int(restored.gen_optimizer.bias_correction_step)) == (7, 3)

    old = training.build_model(tiny_config)
    rate = learning_rate(tiny_config.optim)
    old.compile(
        gen_optimizer=keras.optimizers.Adam(rate, 0.5, 0.999, 1e-8, name="gen_optimizer"),
        dis_optimizer=keras.optimizers.Adam(rate, 0.5, 0.999, 1e-8, name="dis_optimizer"),
    )
    for optimizer, variables in (
        (old.gen_optimizer, old.generator_variables),
        (old.dis_optimizer, old.discriminator_variables),
    ):
        optimizer.iterations.assign(5)
        optimizer.apply_gradients(
            zip([np.full(v.shape, 0.01, "float32") for v in variables], variables)
        )
    path = training.Checkpointer(old, str(tmp_path / "old")).save()
    resumed = training.build_model(tiny_config)
    assert training.Checkpointer(resumed, str(tmp_path / "old")).restore(path) == 6
    for optimizer in (resumed.gen_optimizer, resumed.dis_optimizer):
        assert int(optimizer.bias_correction_step) == int(optimizer.iterations) == 6
    for a, b in zip(old.weights, resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    old_moments = [v.numpy() for v in old.gen_optimizer.variables if "momentum" in v.path]
    new_moments = [v.numpy() for v in resumed.gen_optimizer.variables if "momentum" in v.path]
    assert len(old_moments) == len(new_moments) > 0
    for a, b in zip(old_moments, new_moments):
        np.testing.assert_array_equal(a, b)
