"""Ground-truth metrics while training: the log, TensorBoard, resume, agreement with evaluate."""

import glob
import json
import os

import numpy as np
import pytest
from PIL import Image

from munit_tf import training
from munit_tf.config import load_config
from munit_tf.data import prepare
from munit_tf.evaluation import EvalOptions, during_training, evaluate

EVAL = [
    "train.eval_iter=2",
    "train.eval_inputs=4",
    "train.eval_styles=2",
    "train.eval_references=3",
    "train.image_save_iter=0",
]


@pytest.fixture(scope="module")
def logged_run(tmp_path_factory, synthetic_data):
    run = str(tmp_path_factory.mktemp("during") / "run")
    config = load_config("tiny", EVAL + ["train.max_iter=4"])
    training.train(config, synthetic_data, run, verbose=0)
    first = during_training.read_log(os.path.join(run, "logs"))
    config = load_config("tiny", EVAL + ["train.max_iter=6"])
    training.train(config, synthetic_data, run, resume=True, verbose=0)
    return run, first


def test_every_eval_iter_steps_the_metrics_are_logged_and_carried_over_a_resume(logged_run):
    run, first = logged_run
    records = during_training.read_log(os.path.join(run, "logs"))
    assert [r["step"] for r in first] == [0, 2, 4]
    assert [r["step"] for r in records] == [0, 2, 4, 6]  # the resumed run appended
    seconds = [r["train_seconds"] for r in records]
    assert seconds[0] < seconds[1] < seconds[2] < seconds[3]  # the time so far, not per session
    # loading the test split and scoring are not training: nothing has trained at step 0
    assert seconds[0] < 0.5 < records[0]["evaluation_seconds"]
    assert records[:3] == first
    names = set(records[-1]["metrics"])
    assert {
        "a2b/content_iou",
        "a2b/style_distance",
        "a2b/diversity",
        "b2a/outline_f_score",
        "b2a/diversity",
        "guided_a2b/reference_color_error",
    } <= names
    assert all(0 <= r["metrics"]["a2b/content_iou"] <= 1 for r in records)
    assert glob.glob(os.path.join(run, "logs", "ground_truth", "events.out.tfevents.*"))
    # the range of each metric on the same inputs, written once, for reading the curves
    bounds = json.load(open(os.path.join(run, "logs", during_training.BOUNDS_NAME)))
    assert bounds["a2b"]["content_iou"]["ceiling"]["paired_truth"]["mean"] > 0.5


def test_the_logged_scores_are_evaluates_for_the_same_protocol(
    logged_run, synthetic_data, tmp_path
):
    run, _ = logged_run
    last = during_training.read_log(os.path.join(run, "logs"))[-1]["metrics"]
    options = EvalOptions(
        num_inputs=4,
        num_styles=2,
        seeds=(0,),
        references=3,
        inception_weights="none",
        vgg_weights="none",
    )
    result = evaluate(run, synthetic_data, str(tmp_path / "eval"), options, log=lambda *_: None)
    names = ("a2b/content_iou", "b2a/outline_f_score", "a2b/diversity")
    # the guided pairs: the same 3 sources x 3 references (train.eval_references) in both
    for name in names + ("guided_a2b/reference_color_error",):
        group, metric = name.split("/")
        # the log traces the fast convolution form, the evaluation the serving one: equal up to
        # float rounding, which can move a pixel across a threshold
        assert last[name] == pytest.approx(result["metrics"][group][metric]["mean"], abs=0.02)


def test_data_without_ground_truth_is_said_once_and_training_goes_on(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for domain in "AB":
            folder = tmp_path / "images" / f"{split}{domain}"
            folder.mkdir(parents=True)
            for i in range(4):
                pixels = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    data = str(tmp_path / "data")
    options = prepare.PrepareOptions(output=data, shards=1, min_size=32)
    items, source = prepare.source_items(str(tmp_path / "images"))
    prepare.prepare(items, options, source=source, log=lambda *_: None)
    config = load_config("tiny", EVAL + ["train.max_iter=2"])
    result = training.train(config, data, str(tmp_path / "run"), verbose=0)
    assert result["step"] == 2
    assert capsys.readouterr().out.count("test split has no ground truth") == 1
    assert during_training.read_log(str(tmp_path / "run" / "logs")) == []
