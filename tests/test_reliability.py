"""Faults injected for real: training processes killed with SIGKILL, including in the middle of a
checkpoint write, then resumed. Results are summarised in RELIABILITY.md."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from munit_tf import training
from munit_tf.config import load_config

STEPS = 6
OVERRIDES = ["train.snapshot_save_iter=1", "train.image_save_iter=0", "train.keep_checkpoints=2"]


def _state(model):
    return [v.numpy() for v in model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables]


@pytest.fixture(scope="module")
def uninterrupted(synthetic_data, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("uninterrupted"))
    training.train(load_config("tiny", [f"train.max_iter={STEPS}"] + OVERRIDES), synthetic_data, output, verbose=0)
    return _state(training.load_model(output))


def _train_command(data, output):
    command = [os.path.join(os.path.dirname(sys.executable), "munit-tf"), "train", "--config", "tiny", "--data", data,
               "--output", output, "--steps", str(STEPS)]
    for override in OVERRIDES:
        command += ["--set", override]
    return command


def _kill(process, output, during_write: bool, delay: float) -> str:
    """SIGKILL the trainer: while TF writes a checkpoint's temporary files, or after ``delay`` seconds
    of training. Returns what was hit."""
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
def test_sigkill_then_resume_reaches_the_uninterrupted_state(trial, uninterrupted, synthetic_data, tmp_path):
    output = str(tmp_path / "run")
    process = subprocess.Popen(_train_command(synthetic_data, output), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    hit = _kill(process, output, during_write=trial < 2, delay=random.Random(trial).uniform(0.0, 1.5))
    assert process.wait(timeout=60) == -signal.SIGKILL, hit
    latest = tf.train.latest_checkpoint(os.path.join(output, "checkpoints"))
    if latest:  # whatever the kill hit, the checkpoint that the state file lists is complete
        training.load_model(latest)
    resumed = subprocess.run(_train_command(synthetic_data, output) + ["--resume"], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"trained to step {STEPS}" in resumed.stdout
    for expected, got in zip(uninterrupted, _state(training.load_model(output))):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=hit)
