"""Test set-up: two logical CPU devices (for MirroredStrategy) and XLA's flags before TensorFlow
starts, and a small prepared synthetic dataset shared by the tests."""

import contextlib
import importlib.util
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The XLA test checks that a jit-compiled fit runs, not its speed (benchmarks/ measures that):
# without LLVM's optimisations it compiles in a tenth of the time.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e")
# tests/portable run in the export environment (.venv-export; `make test` runs them there): its
# converters need a newer protobuf than TFX, so this environment cannot import them.
if importlib.util.find_spec("tf2onnx") is None:
    collect_ignore = ["portable"]


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is ``slow`` (``make test-fast`` leaves it out)."""
    for item in items:
        if str(item.path).startswith(E2E + os.sep):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def synthetic_classifiers(tmp_path_factory):
    """The synthetic data's classifiers at 32x32, trained small (256 images, one epoch) into a
    cache of this session's: real networks, loaded as evaluation loads them, in seconds; every
    evaluation of the tests (the pipeline's too, in its processes) finds them there."""
    from munit_tf.evaluation import synthetic_classifier

    cache = str(tmp_path_factory.mktemp("munit-tf-cache"))
    os.environ["MUNIT_TF_CACHE"] = cache  # subprocesses started by tests inherit it
    for domain in synthetic_classifier.HEADS:
        model = synthetic_classifier.train(domain, 32, count=256, epochs=1)
        name = synthetic_classifier.file_name(domain, 32, 0)
        synthetic_classifier.save(model, os.path.join(cache, name))
    return cache


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory):
    """The synthetic dataset at 32x32 (the tiny preset's size), prepared by the Beam job."""
    from munit_tf.data import prepare

    root = str(tmp_path_factory.mktemp("synthetic") / "data")
    options = prepare.PrepareOptions(output=root, shards=2, min_size=32, synthetic_size=32)
    prepare.prepare(prepare.synthetic_items(24, seed=0), options, log=lambda *_: None)
    return root


@pytest.fixture
def tiny_config():
    from munit_tf.config import load_config

    return load_config("tiny")


@pytest.fixture(scope="session")
def exported_run(tmp_path_factory, synthetic_data):
    """(run folder, SavedModel folder) of a tiny model trained one step and exported with the
    CLI."""
    from munit_tf import cli, training
    from munit_tf.config import load_config

    root = tmp_path_factory.mktemp("exported")
    run = str(root / "run")
    training.train(
        load_config("tiny", ["train.max_iter=1", "train.image_save_iter=0"]),
        synthetic_data,
        run,
        verbose=0,
    )
    saved = str(root / "serving" / "munit" / "1")
    with contextlib.redirect_stdout(io.StringIO()) as console:
        assert cli.main(["export", "--checkpoint", run, "--output", saved]) == 0
    # the progress shown, for test_export
    (root / "export-console.txt").write_text(console.getvalue())
    return run, saved
