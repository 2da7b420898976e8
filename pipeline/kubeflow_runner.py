"""Kubeflow Pipelines: compile to a KFP v2 pipeline YAML, and submit it with the kfp client.

    python -m pipeline.kubeflow_runner --output build/munit_pipeline.yaml --pipeline-root gs://bucket/root \\
        --image REGISTRY/munit-tf-pipeline:TAG --data-root gs://bucket/prepared --serving-dir gs://bucket/serving

The TFX CLI's kubeflow engine is broken in TFX 1.16 (it imports the removed KFP v1 runner), so
compile here and submit with ``munit-tf pipeline submit`` (kfp ``Client``) or the ``kfp`` CLI.
"""

from __future__ import annotations

import argparse
import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kfp.pipeline_spec import pipeline_spec_pb2  # noqa: E402
from tfx import v1 as tfx  # noqa: E402

from pipeline import configs  # noqa: E402
from pipeline.pipeline import create_pipeline  # noqa: E402

ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec


def compile_pipeline(config: configs.PipelineConfig, output: str) -> str:
    """Write the pipeline spec (YAML, schema 2.1, which open-source KFP fills parameters into)."""
    pipeline = create_pipeline(config, metadata_connection_config=None)
    for component in pipeline.components:
        if component.id == "Trainer":
            accelerator = None
            if config.trainer_gpus:
                accelerator = ResourceSpec.AcceleratorConfig(type="nvidia.com/gpu", count=config.trainer_gpus)
            component.with_platform_config(ResourceSpec(cpu_limit=config.trainer_cpu,
                                                        memory_limit=config.trainer_memory_gb,
                                                        accelerator=accelerator))
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=config.image,
                                                                        use_pipeline_spec_2_1=True),
        output_dir=os.path.dirname(os.path.abspath(output)), output_filename=os.path.basename(output))
    runner.run(pipeline)
    return output


def submit(package: str, endpoint: str, pipeline_root: str, experiment: str = "munit", run_name: str | None = None,
           namespace: str | None = None):
    """Upload and start a run on a KFP 2.x endpoint; returns the kfp RunPipelineResult."""
    import kfp

    client = kfp.Client(host=endpoint, namespace=namespace)
    return client.create_run_from_pipeline_package(package, arguments={}, run_name=run_name,
                                                   experiment_name=experiment, pipeline_root=pipeline_root)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Compile the munit-tf pipeline for Kubeflow Pipelines v2.")
    parser.add_argument("--output", default="build/munit_pipeline.yaml")
    parser.add_argument("--pipeline-root", required=True, help="gs://..., s3://... or minio://... artifact root")
    parser.add_argument("--data-root", required=True, help="prepared TFRecords the pods can read")
    parser.add_argument("--serving-dir", required=True, help="the Pusher's destination (TF Serving's model base)")
    parser.add_argument("--image", default=configs.PipelineConfig.image)
    parser.add_argument("--munit-config", default="synthetic")
    parser.add_argument("--train-steps", type=int, default=configs.PipelineConfig.train_steps)
    args = parser.parse_args(argv)
    config = configs.PipelineConfig(pipeline_root=args.pipeline_root, data_root=args.data_root,
                                    serving_dir=args.serving_dir, image=args.image, munit_config=args.munit_config,
                                    train_steps=args.train_steps)
    print(compile_pipeline(config, args.output))


if __name__ == "__main__":
    main()
