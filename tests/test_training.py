"""Full-state checkpoints: resume continues exactly, and a run folder is never clobbered by
accident."""

import numpy as np
import pytest
import tensorflow as tf

from munit_tf import training
from munit_tf.config import load_config


def _state(model):
    """Every network weight, both optimisers' slots and step counters."""
    return [
        v.numpy()
        for v in model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables
    ]


@pytest.mark.slow  # a minute or more: whole training runs
def test_resume_reaches_the_same_state_as_an_uninterrupted_run(synthetic_data, tmp_path):
    config = load_config(
        "tiny", ["train.max_iter=4", "train.snapshot_save_iter=2", "train.image_save_iter=0"]
    )
    straight = training.train(config, synthetic_data, str(tmp_path / "straight"), verbose=0)
    assert straight["step"] == 4
    first = load_config(config, ["train.max_iter=2"])
    assert training.train(first, synthetic_data, str(tmp_path / "resumed"), verbose=0)["step"] == 2
    resumed = training.train(
        config, synthetic_data, str(tmp_path / "resumed"), resume=True, verbose=0
    )
    assert resumed["step"] == 4 and resumed["checkpoint"].endswith("ckpt-4")
    a = _state(training.load_model(str(tmp_path / "straight")))
    b = _state(training.load_model(str(tmp_path / "resumed")))
    assert len(a) == len(b) > 100
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_the_same_step_from_the_same_state_gives_the_same_weights_every_time(synthetic_data):
    """Bit-reproducible steps are what make resume exact. TensorFlow's executor re-plans a function
    after about a hundred runs; that once changed the order of a three-way gradient sum, so the
    step runs 130 times here."""
    from munit_tf.data.dataset import make_dataset

    config = load_config("tiny", [])
    model = training.build_model(config)
    batch = next(iter(make_dataset(synthetic_data, config)))
    variables = model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables
    initial = [v.numpy() for v in variables]
    step = tf.function(model.train_step)
    first = None
    for run in range(130):
        for variable, value in zip(variables, initial):
            variable.assign(value)
        step(batch)
        state = [v.numpy() for v in variables]
        first = first or state
        different = [v.path for v, a, b in zip(variables, first, state) if not np.array_equal(a, b)]
        assert not different, f"run {run} differs from run 0 in {different[:4]}"


def test_checkpoint_restores_every_network_optimizer_and_the_step(synthetic_data, tmp_path):
    config = load_config("tiny", ["train.max_iter=2", "train.image_save_iter=0"])
    training.train(config, synthetic_data, str(tmp_path), verbose=0)
    restored = training.load_model(str(tmp_path))
    assert int(restored.step) == 2 and int(restored.dis_optimizer.iterations) == 2
    fresh = training.build_model(config)
    for saved, initial in zip(_state(restored), _state(fresh)):
        assert saved.shape == initial.shape
    moments = [v for v in restored.gen_optimizer.variables if "momentum" in v.path]
    assert moments and all(np.abs(v.numpy()).sum() > 0 for v in moments)
    assert sorted(tf.io.gfile.listdir(str(tmp_path / "images")))[0].startswith(
        "gen_a2b_train_0000000"
    )


@pytest.mark.slow  # a minute or more: whole training runs
def test_a_finished_run_is_not_overwritten_without_asking(synthetic_data, tmp_path):
    config = load_config("tiny", ["train.max_iter=1", "train.image_save_iter=0"])
    training.train(config, synthetic_data, str(tmp_path), verbose=0)
    with pytest.raises(training.OutputExistsError, match="--resume"):
        training.train(config, synthetic_data, str(tmp_path), verbose=0)
    (tmp_path / "keep.txt").write_text("user data beside the run")
    assert (
        training.train(config, synthetic_data, str(tmp_path), overwrite=True, verbose=0)["step"]
        == 1
    )
    assert (tmp_path / "keep.txt").exists()


@pytest.mark.slow  # a minute or more: whole training runs
def test_a_nan_loss_stops_training_naming_the_term_and_keeps_the_last_good_checkpoint(
    synthetic_data, tmp_path, monkeypatch
):
    from munit_tf.data import dataset as data_lib

    config = load_config(
        "tiny", ["train.max_iter=2", "train.snapshot_save_iter=1", "train.image_save_iter=0"]
    )
    training.train(config, synthetic_data, str(tmp_path), verbose=0)
    good = _state(training.load_model(str(tmp_path)))
    real = data_lib.make_dataset

    def poisoned(*args, **kwargs):  # the next batches carry a NaN pixel in domain A
        return real(*args, **kwargs).map(
            lambda a, b: (tf.tensor_scatter_nd_update(a, [[0, 0, 0, 0]], [np.nan]), b)
        )

    monkeypatch.setattr(data_lib, "make_dataset", poisoned)
    with pytest.raises(training.TrainingDiverged, match=r"loss_.*became NaN at step 3.*ckpt-2"):
        training.train(
            load_config(config, ["train.max_iter=4"]),
            synthetic_data,
            str(tmp_path),
            resume=True,
            verbose=0,
        )
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-2")
    restored = training.load_model(str(tmp_path))
    for before, after in zip(good, _state(restored)):
        np.testing.assert_array_equal(before, after)
    assert all(np.isfinite(v).all() for v in _state(restored))


@pytest.mark.slow  # a minute or more: whole training runs
def test_skip_mode_leaves_nonfinite_updates_out_counts_them_and_stops_past_the_limit(
    synthetic_data, tmp_path, monkeypatch, capsys
):
    from munit_tf.data import dataset as data_lib

    real = data_lib.make_dataset

    def every_other_poisoned(*args, **kwargs):  # batches 1, 3, 5, ... carry a NaN pixel in domain A
        def poison(i, batch):
            bad = tf.where(i % 2 == 1, np.float32(np.nan), np.float32(0.0))
            return tf.tensor_scatter_nd_add(batch[0], [[0, 0, 0, 0]], [bad]), batch[1]

        return real(*args, **kwargs).enumerate().map(poison)

    monkeypatch.setattr(data_lib, "make_dataset", every_other_poisoned)
    config = load_config(
        "tiny",
        [
            "train.max_iter=3",
            "train.snapshot_save_iter=1",
            "train.image_save_iter=0",
            "train.on_nonfinite=skip",
        ],
    )
    result = training.train(config, synthetic_data, str(tmp_path / "run"), verbose=0)
    assert result["step"] == 3 and result["skipped_updates"] == {"generator": 2, "discriminator": 2}
    assert capsys.readouterr().out.count("update skipped") == 2
    restored = training.load_model(str(tmp_path / "run"))
    assert int(restored.step.numpy()) == 3 and restored.skipped_updates.numpy().tolist() == [2, 2]
    assert all(np.isfinite(v).all() for v in _state(restored))
    with pytest.raises(training.TrainingDiverged, match="more than train.max_skipped_updates = 1"):
        training.train(
            load_config(config, ["train.max_skipped_updates=1"]),
            synthetic_data,
            str(tmp_path / "again"),
            verbose=0,
        )
