"""Kubeflow Pipelines: compile to a KFP v2 pipeline YAML, and submit it with the kfp client.

    python -m pipeline.kubeflow_runner --output build/munit_pipeline.yaml \\
        --pipeline-root gs://bucket/root --image REGISTRY/munit-tf-pipeline:TAG \\
        --data gs://bucket/prepared --serving-dir gs://bucket/serving

(the same flags as ``munit-tf pipeline compile``, which it runs)

The TFX CLI's kubeflow engine is broken in TFX 1.16 (it imports the removed KFP v1 runner), so
compile here and submit with ``munit-tf pipeline submit`` (kfp ``Client``) or the ``kfp`` CLI.
"""

from __future__ import annotations

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
                accelerator = ResourceSpec.AcceleratorConfig(
                    type="nvidia.com/gpu", count=config.trainer_gpus
                )
            component.with_platform_config(
                ResourceSpec(
                    cpu_limit=config.trainer_cpu,
                    memory_limit=config.trainer_memory_gb,
                    accelerator=accelerator,
                )
            )
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            default_image=config.image, use_pipeline_spec_2_1=True
        ),
        output_dir=os.path.dirname(os.path.abspath(output)),
        output_filename=os.path.basename(output),
    )
    runner.run(pipeline)
    return output


def submit(
    package: str,
    endpoint: str,
    pipeline_root: str,
    experiment: str = "munit",
    run_name: str | None = None,
    namespace: str | None = None,
):
    """Upload and start a run on a KFP 2.x endpoint; returns the kfp RunPipelineResult."""
    import kfp

    client = kfp.Client(host=endpoint, namespace=namespace)
    return client.create_run_from_pipeline_package(
        package,
        arguments={},
        run_name=run_name,
        experiment_name=experiment,
        pipeline_root=pipeline_root,
    )


def main(argv=None) -> int:
    """The same command and flags as ``munit-tf pipeline compile``."""
    from munit_tf import cli

    return cli.main(["pipeline", "compile", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
