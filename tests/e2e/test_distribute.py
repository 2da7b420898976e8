"""The same training step under the default strategy, MirroredStrategy and
MultiWorkerMirroredStrategy."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import portpicker
import pytest
import tensorflow as tf
from paths import ROOT

from munit_tf.config import load_config
from munit_tf.model import MUNIT


def _fit_one_step(strategy, config, initial_weights, batch):
    with strategy.scope():
        model = MUNIT(config)
        # Plain SGD: unlike Adam, its update is proportional to the gradient, so a wrong loss
        # scaling across replicas would show.
        model.compile(
            gen_optimizer=keras.optimizers.SGD(0.1), dis_optimizer=keras.optimizers.SGD(0.1)
        )
    model.set_weights(initial_weights)
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(), steps_per_epoch=1, epochs=1, verbose=0)
    return [v.numpy() for v in model.weights]


@pytest.fixture(scope="module")
def mirrored_strategy():
    """One strategy for the module: a second MirroredStrategy over the same devices in a
    process starts its collectives' instance keys again, and TensorFlow's collective executor
    then matches them with the first one's (a shape mismatch between unrelated reductions)."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


# Three domains' kernels sum three pairs' gradient paths, in another order on two replicas: a
# few weights' float32 rounding differed by up to 2.5e-5 here (8.4e-6 in another run), the median
# weight's by 7e-7 of its update, all weights' by 6.6e-4 of the whole update (instance norms of
# near-constant features at initialisation amplify rounding). A wrong scaling across replicas
# would be off by half of the whole update: the second check.
@pytest.mark.parametrize("domains, atol", [(["a", "b"], 2e-6), (["a", "b", "c"], 1e-4)])
def test_mirrored_step_on_two_replicas_equals_one_replica_on_the_global_batch(
    domains, atol, mirrored_strategy
):
    """Also for three domains: each replica takes its rows of every pair's styles."""
    config = load_config("tiny", ["train.batch_size=4", f"data.domains=[{','.join(domains)}]"])
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32") for _ in domains)
    initial = MUNIT(config).get_weights()
    single = _fit_one_step(tf.distribute.get_strategy(), config, initial, batch)
    assert mirrored_strategy.num_replicas_in_sync == 2
    mirrored = _fit_one_step(mirrored_strategy, config, initial, batch)
    moved = 0
    for start, one, two in zip(initial, single, mirrored):
        np.testing.assert_allclose(two, one, rtol=1e-4, atol=atol)
        moved += not np.allclose(one, start)
    assert moved > len(initial) // 2  # the step really changed the weights
    update = np.concatenate([(one - start).ravel() for start, one in zip(initial, single)])
    difference = np.concatenate([(two - one).ravel() for one, two in zip(single, mirrored)])
    assert np.linalg.norm(difference) < 1e-2 * np.linalg.norm(update)


WORKER = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    from munit_tf.config import load_config
    from munit_tf import training
    from munit_tf.data import dataset
    config = load_config("tiny", ["train.strategy=multi_worker", "train.batch_size=4"])
    strategy = training.make_strategy(config.train.strategy)
    model = training.build_model(config, strategy)
    data = dataset.make_dataset(sys.argv[1], config)
    history = model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)
    result = {"replicas": strategy.num_replicas_in_sync, "step": int(model.step.numpy()),
              "digest": float(sum(np.abs(v.numpy()).sum() for v in model.weights)),
              "loss": float(np.ravel(history.history["loss_gen_total"])[-1])}
    print("RESULT " + json.dumps(result))
""")


def test_two_worker_processes_on_loopback_train_in_lockstep(synthetic_data):
    ports = [portpicker.pick_unused_port() for _ in range(2)]
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    processes = []
    for index in range(2):
        env = {
            **os.environ,
            "PYTHONPATH": ROOT,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, synthetic_data],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        results.append(
            json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
        )
    assert [r["replicas"] for r in results] == [2, 2]
    assert [r["step"] for r in results] == [2, 2]
    assert results[0]["digest"] == results[1]["digest"]  # every worker holds the same weights
    assert np.isfinite(results[0]["loss"])


def _state(model):
    """Every network weight and optimiser variable (the skip counter aside)."""
    weights = [v for v in model.weights if v.path != model.skipped_updates.path]
    return [
        v.numpy() for v in weights + model.gen_optimizer.variables + model.dis_optimizer.variables
    ]


def test_skipping_a_nonfinite_update_on_one_replica_skips_it_on_all_and_leaves_adam_untouched():
    config = load_config("tiny", ["train.batch_size=4", "train.on_nonfinite=skip"])
    rng = np.random.default_rng(1)
    clean = tuple(rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32") for _ in range(2))
    poisoned = (clean[0].copy(), clean[1])
    poisoned[0][3, 0, 0, 0] = np.nan  # the last image: only the second replica sees it
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = MUNIT(config)
        model.compile()
    model.fit(tf.data.Dataset.from_tensors(clean).repeat(), steps_per_epoch=1, epochs=1, verbose=0)
    before = _state(model)
    history = model.fit(
        tf.data.Dataset.from_tensors(poisoned).repeat(), steps_per_epoch=1, epochs=1, verbose=0
    )
    assert np.ravel(history.history["skipped_gen_updates"])[-1] == 1
    assert np.ravel(history.history["skipped_dis_updates"])[-1] == 1
    after = _state(model)
    # weights, moments and step counters all unchanged, on every replica
    for one, two in zip(before, after):
        np.testing.assert_array_equal(one, two)
    model.fit(tf.data.Dataset.from_tensors(clean).repeat(), steps_per_epoch=1, epochs=1, verbose=0)
    assert int(model.step.numpy()) == 2 and model.skipped_updates.numpy().tolist() == [1, 1]
    assert any(not np.array_equal(one, two) for one, two in zip(after, _state(model)))
    for variable in model.weights:  # the replicas still agree after the skip
        values = [v.numpy() for v in strategy.experimental_local_results(variable.value)]
        assert all(np.array_equal(values[0], v) for v in values[1:])
