"""The ground-truth metrics while a model trains, so that a user watches quality rise.

Every ``every`` steps (and at the start of a run) ``GroundTruthLog`` translates the same test
inputs with the same styles and seeds and records the scores of ``protocol.ground_truth_scores``:
one console line, TensorBoard scalars (``logs/ground_truth``) and a line of
``logs/ground_truth.jsonl`` with the step and the training seconds so far, wall and CPU
(evaluation excluded, carried over when a run resumes), from which ``benchmarks/convergence.py``
draws learning curves.
"""

from __future__ import annotations

import json
import os
import time

import keras
import tensorflow as tf

from munit_tf.evaluation import protocol
from munit_tf.serving.client import TranslatorClient

LOG_NAME = "ground_truth.jsonl"
BOUNDS_NAME = "ground_truth_bounds.json"  # each metric's floors and ceiling on these inputs


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def read_log(log_dir: str) -> list[dict]:
    """The records of ``log_dir/ground_truth.jsonl`` (empty if there is none yet)."""
    path = os.path.join(log_dir, LOG_NAME)
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


class GroundTruthLog(keras.callbacks.Callback):
    """Scores the model on ``data``'s test split every ``every`` steps; see the module."""

    def __init__(
        self,
        data,
        log_dir: str,
        every: int,
        inputs: int = 32,
        styles: int = 4,
        seeds=(0,),
        references: int = 4,
        log=print,
    ):
        super().__init__()
        self.data, self.log_dir, self.every = data, log_dir, every
        self.inputs, self.styles, self.seeds = inputs, styles, tuple(seeds)
        self.references, self.log = references, log
        self.domains = None
        self.records = read_log(log_dir)

    @classmethod
    def from_config(cls, config, data, log_dir: str, log=print) -> GroundTruthLog:
        """The log that ``train.eval_iter`` / ``eval_inputs`` / ``eval_styles`` / ``eval_seeds``
        ask for."""
        train = config.train
        return cls(
            data,
            log_dir,
            train.eval_iter,
            train.eval_inputs,
            train.eval_styles,
            range(train.eval_seeds),
            train.eval_references,
            log=log,
        )

    @property
    def train_seconds(self) -> float:
        """Seconds spent training (not evaluating) up to now, over every session of the run."""
        return self._seconds_before + (time.time() - self._started - self._evaluating)

    @property
    def cpu_seconds(self) -> float:
        """The process's CPU seconds (all threads) spent training, over every session: unlike
        wall time, barely moved by other work on the machine."""
        return self._cpu_before + (_cpu() - self._cpu_started - self._cpu_evaluating)

    def on_train_begin(self, logs=None):
        step = int(self.model.step.numpy())
        kept = [record for record in self.records if record["step"] <= step]
        if len(kept) < len(self.records):  # resumed from a checkpoint older than the last record
            self.records = kept
            with open(os.path.join(self.log_dir, LOG_NAME), "w") as handle:
                handle.writelines(json.dumps(record) + "\n" for record in kept)
        self._seconds_before = self.records[-1]["train_seconds"] if self.records else 0.0
        self._cpu_before = self.records[-1].get("cpu_seconds", 0.0) if self.records else 0.0
        self._started, self._evaluating = time.time(), 0.0
        self._cpu_started, self._cpu_evaluating = _cpu(), 0.0
        self.client = TranslatorClient(self.model, lazy=True)
        self.domains = {
            d: protocol.load_domain(self.client, self.data, d, self.inputs)
            for d in self.model.domains
        }
        if any(domain["masks"] is None for domain in self.domains.values()):
            self.log(
                "train.eval_iter: the test split has no ground truth (synthetic data only); "
                "not evaluating during training"
            )
            self.domains = None
            return
        self.judge = protocol.synthetic_judge(self.domains, log=self.log)
        bounds_path = os.path.join(self.log_dir, BOUNDS_NAME)
        labelled = all(domain["contents"] is not None for domain in self.domains.values())
        if not os.path.exists(bounds_path) and labelled:
            bounds = protocol.metric_bounds(
                self.domains, self.styles, self.seeds, self.references, self.judge
            )
            os.makedirs(self.log_dir, exist_ok=True)
            with open(bounds_path, "w") as handle:
                json.dump(bounds, handle, indent=2)
        self.writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "ground_truth"))
        # Loading the test split and computing the bounds is evaluation, not training.
        self._evaluating = time.time() - self._started
        self._cpu_evaluating = _cpu() - self._cpu_started
        done = {record["step"] for record in self.records}
        if step % self.every == 0 and step not in done:  # a fresh run, or killed mid-evaluation
            self.evaluate(step)

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if (
            self.domains is not None
            and step % self.every == 0
            and (not self.records or self.records[-1]["step"] < step)
        ):
            self.evaluate(step)

    def evaluate(self, step: int) -> dict:
        # The training time so far is read before scoring: this evaluation is not training.
        train_seconds, cpu_seconds = self.train_seconds, self.cpu_seconds
        started, cpu_started = time.time(), _cpu()
        scores = protocol.ground_truth_scores(
            self.client, self.domains, self.styles, self.seeds, self.references, self.judge
        )
        record = {
            "step": step,
            "train_seconds": round(train_seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2),
            "evaluation_seconds": round(time.time() - started, 2),
            "metrics": {name: value["mean"] for name, value in scores.items()},
            "std": {name: value["std"] for name, value in scores.items()},
        }
        self._evaluating += time.time() - started
        self._cpu_evaluating += _cpu() - cpu_started
        os.makedirs(self.log_dir, exist_ok=True)
        with open(os.path.join(self.log_dir, LOG_NAME), "a") as handle:
            handle.write(json.dumps(record) + "\n")
        self.records.append(record)
        with self.writer.as_default():
            for name, value in record["metrics"].items():
                tf.summary.scalar(name, value, step=step)
        self.writer.flush()
        self.log(
            f"step {step} ground truth: "
            + ", ".join(
                f"{name} {record['metrics'][name]:.3f}" for name in shown(record["metrics"])
            )
        )
        return record


# What the console line shows of a record: each direction's content metric, then these.
SHOWN = ("content_iou", "outline_f_score")
SHOWN_AFTER = ("diversity", "reference_color_error", "texture_accuracy")


def shown(metrics: dict) -> list[str]:
    """The metrics of one console line: every direction's content metric (a2b/content_iou,
    b2a/outline_f_score, ...), then the first direction's diversity and the guided scores."""
    first = next(iter(metrics)).split("/")[0]
    return [
        name for name in metrics if name.split("/")[1] in SHOWN and not name.startswith("guided_")
    ] + [
        name
        for name in metrics
        if name.split("/")[1] in SHOWN_AFTER
        and (name.startswith(f"{first}/") or name.startswith("guided_"))
    ]
