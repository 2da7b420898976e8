"""``create_pipeline``: the components and their wiring, nothing about where they run.

ImportExampleGen (the prepared train/ and test/ TFRecords, splits kept), or PrepareExamples (the
same Beam preparation as a pipeline step) -> StatisticsGen ->
SchemaGen -> ExampleValidator; Trainer (``pipeline.trainer.run_fn``) -> MunitEvaluator (metrics,
report, blessing, comparison with the served model) -> AtomicPusher (TFX's Pusher, publishing each
versioned folder for TF Serving atomically: ``pipeline.pusher``).
"""

from __future__ import annotations

import json

from tfx import v1 as tfx

from pipeline.components import MunitEvaluator, PrepareExamples
from pipeline.configs import PipelineConfig
from pipeline.pusher import AtomicPusher

RUN_FN = "pipeline.trainer.run_fn"


def create_pipeline(
    config: PipelineConfig, metadata_connection_config=None, beam_pipeline_args: list | None = None
) -> tfx.dsl.Pipeline:
    if config.prepare_source:
        example_gen = PrepareExamples(
            source=config.prepare_source,
            min_size=config.prepare_min_size,
            synthetic_count=config.prepare_synthetic_count,
            synthetic_size=config.prepare_min_size,
            synthetic_domains=config.prepare_synthetic_domains or 2,
            beam_args=json.dumps(list(config.beam_pipeline_args)),
        )
    else:
        example_gen = tfx.components.ImportExampleGen(
            input_base=config.data_root,
            input_config=tfx.proto.Input(
                splits=[
                    tfx.proto.Input.Split(name="train", pattern="train/*.tfrecord.gz"),
                    tfx.proto.Input.Split(name="eval", pattern="test/*.tfrecord.gz"),
                ]
            ),
        )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=config.train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=0),
        custom_config={
            "munit_config": config.munit_config,
            "overrides": list(config.munit_overrides),
            "strategy": config.strategy,
        },
    )
    evaluator = MunitEvaluator(
        model=trainer.outputs["model"],
        examples=example_gen.outputs["examples"],
        thresholds=json.dumps(config.thresholds),
        serving_dir=config.serving_dir,
        max_regression=config.max_regression,
        num_inputs=config.eval_inputs,
        num_styles=config.eval_styles,
        seeds=json.dumps(list(config.eval_seeds)),
        inception_weights=config.inception_weights,
    )
    pusher = AtomicPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_dir)
        ),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            trainer,
            evaluator,
            pusher,
        ],
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=config.beam_pipeline_args
        if beam_pipeline_args is None
        else beam_pipeline_args,
    )
