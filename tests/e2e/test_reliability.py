"""Faults injected for real: training, data preparation, export and push killed with SIGKILL
(including in the middle of a checkpoint or file write), then run again. Results are summarised
in RELIABILITY.md."""

import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from cli_args import argv
from paths import ROOT

from munit_tf import training
from munit_tf.config import load_config

STEPS = 6
OVERRIDES = ["train.snapshot_save_iter=1", "train.image_save_iter=0", "train.keep_checkpoints=2"]


def _state(model):
    return [
        v.numpy()
        for v in model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables
    ]


@pytest.fixture(scope="module")
def uninterrupted(synthetic_data, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("uninterrupted"))
    training.train(
        load_config("tiny", [f"train.max_iter={STEPS}"] + OVERRIDES),
        synthetic_data,
        output,
        verbose=0,
    )
    return _state(training.load_model(output))


def _train_command(data, output):
    munit_tf = os.path.join(os.path.dirname(sys.executable), "munit-tf")
    options = dict(config="tiny", data=data, output=output, steps=STEPS, set=list(OVERRIDES))
    return [munit_tf, *argv("train", **options)]


def _kill(process, output, during_write: bool, delay: float) -> str:
    """SIGKILL the trainer: while TF writes a checkpoint's temporary files, or after ``delay``
    seconds of training. Returns what was hit."""
    checkpoints = os.path.join(output, "checkpoints")
    deadline = time.time() + 120
    started = None
    while time.time() < deadline and process.poll() is None:
        names = os.listdir(checkpoints) if os.path.isdir(checkpoints) else []
        if during_write and any("temp" in name for name in names):
            process.send_signal(signal.SIGKILL)
            return "during a checkpoint write"
        if not during_write and any(name.endswith(".index") for name in names):
            started = started or time.time()
            if time.time() - started >= delay:
                process.send_signal(signal.SIGKILL)
                return f"{delay:.2f} s after the first checkpoint"
        time.sleep(0.002)
    pytest.fail("the trainer finished before it could be killed")


@pytest.mark.parametrize("trial", range(5))
def test_sigkill_then_resume_reaches_the_uninterrupted_state(
    trial, uninterrupted, synthetic_data, tmp_path
):
    output = str(tmp_path / "run")
    process = subprocess.Popen(
        _train_command(synthetic_data, output), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    hit = _kill(
        process, output, during_write=trial < 2, delay=random.Random(trial).uniform(0.0, 1.5)
    )
    assert process.wait(timeout=60) == -signal.SIGKILL, hit
    latest = tf.train.latest_checkpoint(os.path.join(output, "checkpoints"))
    if latest:  # whatever the kill hit, the checkpoint that the state file lists is complete
        training.load_model(latest)
    resumed = subprocess.run(
        _train_command(synthetic_data, output) + ["--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"trained to step {STEPS}" in resumed.stdout
    for expected, got in zip(uninterrupted, _state(training.load_model(output))):
        np.testing.assert_array_equal(got, expected, err_msg=hit)


# ------------------------------------------------------------------------------------------
# Data preparation, export and push: killed midway, the target folder is whole or absent,
# and the next run gives the uninterrupted result and removes what the killed one left.
# ------------------------------------------------------------------------------------------
MUNIT_TF = os.path.join(os.path.dirname(sys.executable), "munit-tf")
PREPARE = [
    "prepare",
    "--source",
    "synthetic",
    "--synthetic-count",
    "300",
    "--synthetic-size",
    "32",
    "--min-size",
    "32",
    "--shards",
    "3",
]


def _tree(root):
    """{relative path: bytes} of every file under ``root``, manifest.json without its timing."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            data = open(path, "rb").read()
            if name == "manifest.json":
                manifest = json.loads(data)
                data = json.dumps(
                    {k: v for k, v in manifest.items() if k not in ("seconds", "command")}
                )
            files[os.path.relpath(path, root)] = data
    return files


def _hidden_siblings(target):
    parent, name = os.path.split(target)
    return [entry for entry in os.listdir(parent) if entry.startswith(f".{name}.")]


def _kill_when(process, condition, what):
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if condition():
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=60) == -signal.SIGKILL
            return
        time.sleep(0.001)
    pytest.fail(f"the process ended before {what}")


def _staged(target, pattern="*"):
    parent, name = os.path.split(target)
    return glob.glob(os.path.join(parent, f".{name}.tmp-*", pattern))


@pytest.fixture(scope="module")
def prepared_once(tmp_path_factory):
    output = str(tmp_path_factory.mktemp("prepared") / "data")
    subprocess.run([MUNIT_TF, *PREPARE, "--output", output], check=True, capture_output=True)
    return _tree(output)


@pytest.mark.parametrize(
    "moment", ["staging created", "shards being written", "statistics being written"]
)
def test_prepare_killed_midway_then_rerun_gives_the_uninterrupted_output(
    moment, prepared_once, tmp_path
):
    output = str(tmp_path / "data")
    condition = {
        "staging created": lambda: bool(_staged(output, "")),
        "shards being written": lambda: bool(_staged(output, "train/*.tfrecord.gz*")),
        "statistics being written": lambda: bool(_staged(output, "beam-temp-*")),
    }[moment]
    process = subprocess.Popen(
        [MUNIT_TF, *PREPARE, "--output", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_when(process, condition, moment)
    # nothing published; the staging is left
    assert not os.path.exists(output) and _hidden_siblings(output)
    rerun = subprocess.run([MUNIT_TF, *PREPARE, "--output", output], capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _tree(output) == prepared_once  # byte for byte: no shard of the killed run mixed in
    assert _hidden_siblings(output) == []  # the killed run's staging folder was removed


def _complete_saved_model(path, signatures=15):
    loaded = tf.saved_model.load(path)
    assert len(loaded.signatures) == signatures
    return loaded


@pytest.mark.parametrize("overwrite", [False, True])
def test_export_killed_midway_never_leaves_a_half_written_version(
    overwrite, exported_run, tmp_path
):
    run, saved = exported_run
    target = str(tmp_path / "serving" / "1")
    command = [MUNIT_TF, "export", "--checkpoint", run, "--output", target]
    if overwrite:  # the version to be replaced: the same run, exported by the fixture
        shutil.copytree(saved, target)
        before = _tree(target)
        command.append("--overwrite")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(process, lambda: bool(_staged(target, "variables/*")), "the variables were written")
    assert [name for name in os.listdir(os.path.dirname(target)) if name.isdigit()] == (
        ["1"] if overwrite else []
    )
    if overwrite:
        assert _tree(target) == before  # still the whole previous version
        _complete_saved_model(target)
    rerun = subprocess.run(
        command + (["--overwrite"] if not overwrite else []), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    _complete_saved_model(target)
    assert _hidden_siblings(target) == []


PUSH = """
import sys
from tfx.types import standard_artifacts
from tfx.proto import pusher_pb2
from tfx.utils import proto_utils
from pipeline.pusher import AtomicPusherExecutor

model = standard_artifacts.Model()
blessing = standard_artifacts.ModelBlessing()
pushed = standard_artifacts.PushedModel()
model.uri, blessing.uri, pushed.uri = sys.argv[1], sys.argv[2], sys.argv[3]
blessing.set_int_custom_property("blessed", 1)
filesystem = pusher_pb2.PushDestination.Filesystem(base_directory=sys.argv[4])
destination = pusher_pb2.PushDestination(filesystem=filesystem)
AtomicPusherExecutor().Do({"model": [model], "model_blessing": [blessing]},
                          {"pushed_model": [pushed]},
                          {"push_destination": proto_utils.proto_to_json(destination)})
print("pushed", pushed.get_string_custom_property("pushed_destination"))
"""


def test_push_killed_midway_never_leaves_a_numeric_folder_half_written(exported_run, tmp_path):
    _, saved = exported_run
    model = tmp_path / "model"
    shutil.copytree(saved, model / "Format-Serving")
    with open(model / "Format-Serving" / "assets" / "padding.bin", "wb") as handle:  # a slower copy
        handle.write(os.urandom(64 * 2**20))
    serving = tmp_path / "serving"
    serving.mkdir()
    env = {**os.environ, "PYTHONPATH": ROOT}
    args = [
        sys.executable,
        "-c",
        PUSH,
        str(model),
        str(tmp_path / "blessing"),
        str(tmp_path / "pushed"),
        str(serving),
    ]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(
        process, lambda: bool(glob.glob(str(serving / ".*.tmp-*" / "*"))), "the copy started"
    )
    assert [
        name for name in os.listdir(serving) if name.isdigit()
    ] == []  # TF Serving sees no version
    time.sleep(1.1)  # a new UNIX-timestamp version
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    versions = [name for name in os.listdir(serving) if name.isdigit()]
    # the stale staging folder is gone
    assert len(versions) == 1 and os.listdir(serving) == versions
    assert _tree(serving / versions[0]) == _tree(model / "Format-Serving")
