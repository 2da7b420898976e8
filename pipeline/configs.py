"""Every knob of the pipeline, in one place. Model hyperparameters stay in munit_tf's config
(a preset or YAML file named by ``munit_config``); this holds where things live, how long to
train, how the evaluator gates, and what the Kubeflow pods get.

The local runner reads overrides from the environment (the TFX CLI runs it without arguments):
``MUNIT_PIPELINE_HOME`` (pipeline root, metadata and serving folder under it), ``MUNIT_DATA_ROOT``,
``MUNIT_CONFIG``, ``MUNIT_TRAIN_STEPS``, ``MUNIT_PIPELINE_NAME``, ``MUNIT_PREPARE_SOURCE`` (prepare
inside the pipeline).
"""

from __future__ import annotations

import dataclasses
import os

DEFAULT_THRESHOLDS = {
    # Ground truth on the synthetic data (munit_tf/evaluation/ground_truth.py); higher is better.
    # The first two are benchmarks/quality.json's "gate_thresholds": the demo's preset and steps
    # trained with seeds 0, 1, 2, mean - 3 std over them, rounded down to 0.05 (a test checks).
    "a2b/content_iou": {"min": 0.4},
    "b2a/outline_f_score": {"min": 0.45},
    "b2a/diversity": {"min": 0.01},  # a b2a that ignores the style code fails
}


@dataclasses.dataclass
class PipelineConfig:
    pipeline_name: str = "munit"
    home: str = "tfx_home"  # local: pipeline_root, metadata and serving folders go under it
    data_root: str = (
        "data/synthetic"  # prepared by `munit-tf prepare` ({train,test}/{a,b}-*.tfrecord.gz)
    )
    # Or prepare inside the pipeline (PrepareExamples instead of ImportExampleGen): a folder with
    # trainA/ trainB/ testA/ testB/, "synthetic" or "tfds:NAME".
    prepare_source: str | None = None
    prepare_min_size: int = 256
    prepare_synthetic_count: int = 1000
    # prepare_source "synthetic": its domains a, b (and c), as many as the munit config's
    # data.domains names (0: from it)
    prepare_synthetic_domains: int = 0
    munit_config: str = "synthetic"  # preset or YAML file of munit_tf.config
    munit_overrides: list = dataclasses.field(default_factory=list)  # ["train.batch_size=4", ...]
    train_steps: int | None = None  # None: the munit config's own train.max_iter
    strategy: str = "default"  # tf.distribute strategy of the Trainer: default or mirrored
    thresholds: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    max_regression: float = (
        0.02  # the new model may trail the pushed one by at most this per gated metric
    )
    eval_inputs: int = 32
    eval_styles: int = 4
    eval_seeds: list = dataclasses.field(default_factory=lambda: [0])
    inception_weights: str = (
        "none"  # FID/KID in the evaluator: "imagenet" needs a download, or a file
    )
    beam_pipeline_args: list = dataclasses.field(
        default_factory=lambda: ["--direct_running_mode=in_memory"]
    )
    enable_cache: bool = True
    # Kubeflow Pipelines
    pipeline_root: str | None = (
        None  # default: HOME/pipeline_root locally; gs://... or minio://... on KFP
    )
    serving_dir: str | None = None  # default: HOME/serving/NAME
    image: str = "munit-tf-pipeline:latest"  # built from the Dockerfile (see BUILD.md)
    trainer_cpu: float = 4.0
    trainer_memory_gb: float = 16.0
    trainer_gpus: int = 0

    def __post_init__(self):
        # one source of truth: the preset's schedule, and its domains for the synthetic data
        if self.train_steps is None:
            self.train_steps = self._munit("or give the training steps: --steps").train.max_iter
        if self.prepare_source == "synthetic" and not self.prepare_synthetic_domains:
            from munit_tf.data.prepare import synthetic_domain_count

            domains = self._munit("or give prepare_synthetic_domains").data.domains
            self.prepare_synthetic_domains = synthetic_domain_count(domains)
        self.pipeline_root = self.pipeline_root or os.path.join(
            self.home, "pipeline_root", self.pipeline_name
        )
        self.serving_dir = self.serving_dir or os.path.join(
            self.home, "serving", self.pipeline_name
        )

    def _munit(self, otherwise: str):
        """The munit config this pipeline trains, or a one-line error saying ``otherwise``."""
        from munit_tf.config import load_config
        from munit_tf.errors import UserError

        try:
            return load_config(self.munit_config, self.munit_overrides)
        except UserError as error:  # e.g. a YAML file that exists only in the image
            raise UserError(f"{error} ({otherwise})") from None

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.home, "metadata", self.pipeline_name, "metadata.db")


def from_environment(**overrides) -> PipelineConfig:
    """The local configuration: defaults, then MUNIT_* environment variables, then ``overrides``."""
    env = {
        "home": os.environ.get("MUNIT_PIPELINE_HOME"),
        "data_root": os.environ.get("MUNIT_DATA_ROOT"),
        "munit_config": os.environ.get("MUNIT_CONFIG"),
        "pipeline_name": os.environ.get("MUNIT_PIPELINE_NAME"),
        "prepare_source": os.environ.get("MUNIT_PREPARE_SOURCE"),
    }
    if os.environ.get("MUNIT_TRAIN_STEPS"):
        env["train_steps"] = int(os.environ["MUNIT_TRAIN_STEPS"])
    if os.environ.get("MUNIT_OVERRIDES"):
        env["munit_overrides"] = os.environ["MUNIT_OVERRIDES"].split(",")
    values = {k: v for k, v in env.items() if v is not None}
    values.update(overrides)
    return PipelineConfig(**values)
