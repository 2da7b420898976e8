"""Run the pipeline here: LocalDagRunner with SQLite ML Metadata (the embedded default).

python -m pipeline.local_runner                      # configured by MUNIT_* variables
tfx pipeline create --engine=local --pipeline_path=pipeline/local_runner.py
tfx run create --engine=local --pipeline_name=munit
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a file (the TFX CLI): make `pipeline` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tfx import v1 as tfx  # noqa: E402

from pipeline import configs  # noqa: E402
from pipeline.pipeline import create_pipeline  # noqa: E402


def build(config: configs.PipelineConfig):
    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    return create_pipeline(config, metadata_connection_config=metadata)


def run(config: configs.PipelineConfig | None = None) -> None:
    tfx.orchestration.LocalDagRunner().run(build(config or configs.from_environment()))


if __name__ == "__main__":
    run()


def summary(config: configs.PipelineConfig) -> dict:
    """What the latest run produced, read from ML Metadata: the evaluation, the blessing, the
    push."""
    from ml_metadata.metadata_store import metadata_store

    store = metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    )

    def newest(type_name):
        artifacts = store.get_artifacts_by_type(type_name)
        return (
            max(artifacts, key=lambda a: (a.create_time_since_epoch, a.id)) if artifacts else None
        )

    evaluation = newest("ModelEvaluation")
    blessing = newest("ModelBlessing")
    pushed = newest("PushedModel")
    result = {"evaluation": evaluation.uri if evaluation else None}
    if blessing:
        result["blessed"] = bool(blessing.custom_properties["blessed"].int_value)
        result["gate"] = blessing.custom_properties["reasons"].string_value
    if pushed:
        result["pushed"] = bool(pushed.custom_properties["pushed"].int_value)
        if result["pushed"]:
            result["pushed_model"] = pushed.custom_properties["pushed_destination"].string_value
    return result
