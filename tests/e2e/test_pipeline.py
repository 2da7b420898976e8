"""The TFX pipeline for real: LocalDagRunner with SQLite ML Metadata, the TFX CLI's local engine,
and the Kubeflow Pipelines v2 compilation."""

import dataclasses
import importlib
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf
import yaml
from cli_args import argv
from google.protobuf import json_format
from ml_metadata.metadata_store import metadata_store
from paths import ROOT
from tfx import v1 as tfx

from munit_tf.config import load_config
from munit_tf.errors import UserError
from pipeline import configs, local_runner
from pipeline.components import gate, latest_served_version
from pipeline.kubeflow_runner import compile_pipeline

COMPONENTS = {
    "ImportExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Trainer",
    "MunitEvaluator",
    "AtomicPusher",
}
COMPLETE, CACHED = 3, 5  # ml_metadata Execution.State


def _store(config):
    return metadata_store.MetadataStore(
        tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    )


def _executions(config):
    """[(component name, state)] in execution order."""
    store = _store(config)
    types = {t.id: t.name.split(".")[-1] for t in store.get_execution_types()}
    return [
        (types[e.type_id], e.last_known_state)
        for e in sorted(store.get_executions(), key=lambda e: e.id)
    ]


def _versions(config):
    return sorted(os.listdir(config.serving_dir)) if os.path.isdir(config.serving_dir) else []


@pytest.fixture(scope="module")
def config(tmp_path_factory, synthetic_data):
    config = configs.PipelineConfig(
        home=str(tmp_path_factory.mktemp("pipeline")),
        data_root=synthetic_data,
        munit_config="tiny",
        train_steps=2,
        eval_inputs=4,
        eval_styles=2,
        thresholds={"a2b/content_iou": {"min": 0.0}},
    )
    local_runner.run(config)
    return config


def test_every_component_runs_and_a_blessed_model_is_pushed(config):
    executions = _executions(config)
    assert {name for name, _ in executions} == COMPONENTS
    assert all(state == COMPLETE for _, state in executions)
    store = _store(config)
    types = {t.name for t in store.get_artifact_types()}
    assert {
        "Examples",
        "ExampleStatistics",
        "Schema",
        "ExampleAnomalies",
        "Model",
        "ModelRun",
        "ModelEvaluation",
        "ModelBlessing",
        "PushedModel",
    } <= types
    examples = store.get_artifacts_by_type("Examples")[0]
    assert json.loads(examples.properties["split_names"].string_value) == ["train", "eval"]
    summary = local_runner.summary(config)
    assert summary["blessed"] and summary["pushed"]
    served = latest_served_version(config.serving_dir)
    assert served and summary["pushed_model"].rstrip("/") == served.rstrip("/")
    model = tf.saved_model.load(served)
    png = tf.io.encode_png(tf.zeros([32, 32, 3], tf.uint8))
    out = model.signatures["serving_default"](
        image_bytes=tf.stack([png]), num_styles=tf.constant([2]), seed=tf.constant([0], tf.int64)
    )["output_bytes"]
    assert out.shape == (1, 2)
    for name in ("metrics.json", "report.html", "gate.json"):
        assert os.path.exists(os.path.join(summary["evaluation"], name))
    blessing = store.get_artifacts_by_type("ModelBlessing")[0].uri
    assert os.listdir(blessing) == ["BLESSED"]
    model_run = store.get_artifacts_by_type("ModelRun")[0].uri
    # TensorBoard logs
    assert tf.io.gfile.glob(os.path.join(model_run, "logs", "events.out.tfevents.*"))


def test_a_second_run_is_served_from_the_cache(config):
    before, versions = len(_executions(config)), _versions(config)
    local_runner.run(config)
    new = _executions(config)[before:]
    assert {name for name, _ in new} == COMPONENTS and all(state == CACHED for _, state in new)
    assert _versions(config) == versions


def test_a_model_below_the_thresholds_is_not_pushed(config):
    versions = _versions(config)
    strict = dataclasses.replace(config, thresholds={"a2b/content_iou": {"min": 1.01}})
    before = len(_executions(config))
    local_runner.run(strict)
    new = dict(_executions(config)[before:])
    assert (
        new["Trainer"] == CACHED
        and new["MunitEvaluator"] == COMPLETE
        and new["AtomicPusher"] == COMPLETE
    )
    summary = local_runner.summary(config)
    assert summary["blessed"] is False and summary["pushed"] is False
    assert "below the minimum 1.01" in summary["gate"]
    newest_blessing = max(
        _store(config).get_artifacts_by_type("ModelBlessing"), key=lambda a: a.id
    ).uri
    assert "below the minimum" in open(os.path.join(newest_blessing, "NOT_BLESSED")).read()
    decision = json.load(open(os.path.join(summary["evaluation"], "gate.json")))
    assert decision["served_model"]  # compared with the model currently served
    assert os.path.exists(os.path.join(summary["evaluation"], "served_model", "metrics.json"))
    assert _versions(config) == versions


def test_the_tfx_cli_local_engine_creates_and_runs_the_pipeline(config, tmp_path):
    env = {
        **os.environ,
        "LOCAL_HOME": str(tmp_path / "tfx_cli"),
        "MUNIT_PIPELINE_HOME": config.home,
        "MUNIT_DATA_ROOT": config.data_root,
        "MUNIT_CONFIG": "tiny",
        "MUNIT_TRAIN_STEPS": "2",
        "PYTHONPATH": ROOT,
    }
    tfx_cli = os.path.join(os.path.dirname(sys.executable), "tfx")
    created = subprocess.run(
        [
            tfx_cli,
            "pipeline",
            "create",
            "--engine=local",
            "--pipeline_path=pipeline/local_runner.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert created.returncode == 0, created.stderr[-2000:]
    args = json.load(open(tmp_path / "tfx_cli" / "munit" / "pipeline_args.json"))
    assert args["pipeline_name"] == "munit" and args["pipeline_root"] == config.pipeline_root
    before = len(_executions(config))
    ran = subprocess.run(
        [tfx_cli, "run", "create", "--engine=local", "--pipeline_name=munit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert {name for name, _ in _executions(config)[before:]} == COMPONENTS


def test_the_kubeflow_v2_compilation(tmp_path):
    config = configs.PipelineConfig(
        pipeline_root="gs://bucket/root",
        data_root="gs://bucket/data",
        serving_dir="gs://bucket/serving",
        image="registry.example/munit:1",
        trainer_cpu=8,
        trainer_memory_gb=32,
        trainer_gpus=1,
    )
    path = compile_pipeline(config, str(tmp_path / "munit.yaml"))
    spec = yaml.safe_load(open(path))
    from kfp.pipeline_spec import pipeline_spec_pb2

    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())  # a valid KFP pipeline spec
    assert spec["schemaVersion"] == "2.1.0"
    executors = spec["deploymentSpec"]["executors"]
    assert {name.replace("_executor", "") for name in executors} == COMPONENTS
    for executor in executors.values():
        container = executor["container"]
        assert container["image"] == "registry.example/munit:1"
        if "--executor_class_path" in container["args"]:
            class_path = container["args"][container["args"].index("--executor_class_path") + 1]
            module, name = class_path.rsplit(".", 1)
            # importable from the package in the image
            assert getattr(importlib.import_module(module), name)
    assert executors["Trainer_executor"]["container"]["resources"]["cpuLimit"] == 8
    assert executors["Trainer_executor"]["container"]["resources"]["accelerator"]["count"] == "1"
    trainer = spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]
    assert trainer["run_fn"]["runtimeValue"]["constant"] == "pipeline.trainer.run_fn"
    # the synthetic preset's own schedule, not a second copy of it
    steps = load_config("synthetic").train.max_iter
    assert json.loads(trainer["train_args"]["runtimeValue"]["constant"]) == {"num_steps": steps}
    evaluator = spec["root"]["dag"]["tasks"]["MunitEvaluator"]["inputs"]["parameters"]
    assert evaluator["serving_dir"]["runtimeValue"]["constant"] == "gs://bucket/serving"
    assert "resolverSpec" not in json.dumps(spec)  # no Resolver nodes: they fail on open-source KFP


def test_the_training_steps_come_from_the_munit_config_unless_given():
    assert (
        configs.PipelineConfig(munit_config="tiny").train_steps
        == load_config("tiny").train.max_iter
    )
    moved = configs.PipelineConfig(munit_overrides=["train.max_iter=7"])
    assert moved.train_steps == 7
    assert (
        configs.PipelineConfig(munit_overrides=["train.max_iter=7"], train_steps=3).train_steps == 3
    )
    # a config that cannot be read here (a file only in the image) names the way out
    with pytest.raises(UserError, match="--steps"):
        configs.PipelineConfig(munit_config="in/the/image.yaml")
    assert configs.PipelineConfig(munit_config="in/the/image.yaml", train_steps=5).train_steps == 5


def test_gate_rules():
    metrics = {"a2b": {"content_iou": {"mean": 0.5}, "fid": {"mean": 40.0}}}
    assert gate(metrics, {"a2b/content_iou": {"min": 0.4}, "a2b/fid": {"max": 50}}, None, 0.0) == (
        True,
        [],
    )
    blessed, reasons = gate(
        metrics, {"a2b/content_iou": {"min": 0.6}, "b2a/fid": {"max": 1}}, None, 0.0
    )
    assert not blessed and len(reasons) == 2 and "b2a/fid was not computed" in reasons
    served = {"a2b": {"content_iou": {"mean": 0.55}, "fid": {"mean": 30.0}}}
    blessed, reasons = gate(
        metrics, {"a2b/content_iou": {"min": 0.0}, "a2b/fid": {"max": 100}}, served, 0.02
    )
    assert not blessed and len(reasons) == 2 and all("served model" in r for r in reasons)
    assert gate(metrics, {"a2b/content_iou": {"min": 0.0}}, served, 0.1)[0]


def _executor_input(spec, component, artifacts, output_dir):
    """An ExecutorInput as the KFP v2 launcher builds it: input artifacts with their types and
    metadata, the task's constant parameters, local output artifact folders and an output file."""
    definition = spec["components"][component]
    parameters = {
        name: value["runtimeValue"]["constant"]
        for name, value in spec["root"]["dag"]["tasks"][component]["inputs"]["parameters"].items()
    }
    inputs = {
        name: {
            "artifacts": [
                {
                    "name": f"{component}-{name}",
                    "uri": uri,
                    "metadata": metadata,
                    "type": definition["inputDefinitions"]["artifacts"][name]["artifactType"],
                }
            ]
        }
        for name, (uri, metadata) in artifacts.items()
    }
    outputs = {}
    for name, output in definition["outputDefinitions"]["artifacts"].items():
        uri = os.path.join(output_dir, component, name)
        os.makedirs(uri, exist_ok=True)
        outputs[name] = {
            "artifacts": [
                {
                    "name": f"{component}-{name}-out",
                    "uri": uri,
                    "metadata": {},
                    "type": output["artifactType"],
                }
            ]
        }
    return {
        "inputs": {"artifacts": inputs, "parameterValues": parameters},
        "outputs": {
            "artifacts": outputs,
            "outputFile": os.path.join(output_dir, component, "output.json"),
        },
    }


def _run_in_kfp_entrypoint(spec, component, executor_input):
    args = spec["deploymentSpec"]["executors"][f"{component}_executor"]["container"]["args"]
    args = [json.dumps(executor_input) if a == "{{$}}" else a for a in args]
    command = spec["deploymentSpec"]["executors"][f"{component}_executor"]["container"]["command"]
    assert command == [
        "python",
        "-m",
        "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor",
    ]
    result = subprocess.run(
        [sys.executable] + command[1:] + args,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.load(open(executor_input["outputs"]["outputFile"]))


def test_trainer_and_evaluator_run_as_kubeflow_pods_would(config, tmp_path):
    """The container command of the compiled spec, fed an ExecutorInput, chained Trainer ->
    evaluator."""
    kfp_config = dataclasses.replace(
        config,
        pipeline_root="gs://unused",
        enable_cache=False,
        serving_dir=str(tmp_path / "serving"),
    )
    spec = yaml.safe_load(open(compile_pipeline(kfp_config, str(tmp_path / "munit.yaml"))))
    store = _store(config)
    examples = store.get_artifacts_by_type("Examples")[0]
    schema = store.get_artifacts_by_type("Schema")[0]
    split_names = {"split_names": examples.properties["split_names"].string_value}
    trainer_input = _executor_input(
        spec,
        "Trainer",
        {"examples": (examples.uri, split_names), "schema": (schema.uri, {})},
        str(tmp_path),
    )
    _run_in_kfp_entrypoint(spec, "Trainer", trainer_input)
    model_uri = trainer_input["outputs"]["artifacts"]["model"]["artifacts"][0]["uri"]
    assert os.path.exists(os.path.join(model_uri, "Format-Serving", "saved_model.pb"))
    evaluator_input = _executor_input(
        spec,
        "MunitEvaluator",
        {"model": (model_uri, {}), "examples": (examples.uri, split_names)},
        str(tmp_path),
    )
    output = _run_in_kfp_entrypoint(spec, "MunitEvaluator", evaluator_input)
    blessing = output["artifacts"]["blessing"]["artifacts"][0]
    assert blessing["metadata"]["blessed"] == 1  # what Pusher reads on KFP
    assert os.path.exists(os.path.join(blessing["uri"], "BLESSED"))
    evaluation_uri = evaluator_input["outputs"]["artifacts"]["evaluation"]["artifacts"][0]["uri"]
    assert json.load(open(os.path.join(evaluation_uri, "gate.json")))["blessed"] is True


def test_pipeline_compile_and_submit_commands(tmp_path, capsys):
    from munit_tf import cli

    output = str(tmp_path / "build" / "munit.yaml")
    assert (
        cli.main(
            argv(
                "pipeline",
                "compile",
                output=output,
                pipeline_root="minio://mlpipeline/v2/artifacts",
                data="gs://bucket/prepared",
                serving_dir="gs://bucket/serving",
                image="registry.example/munit:2",
                steps=5,
            )
        )
        == 0
    )
    spec = yaml.safe_load(open(output))
    assert (
        spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]["image"]
        == "registry.example/munit:2"
    )
    assert json.loads(
        spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]["train_args"][
            "runtimeValue"
        ]["constant"]
    ) == {"num_steps": 5}
    assert (
        cli.main(
            argv(
                "pipeline",
                "submit",
                endpoint="http://127.0.0.1:9",
                package=str(tmp_path / "none.yaml"),
                pipeline_root="minio://x",
            )
        )
        == 2
    )
    assert "compile it first" in capsys.readouterr().err


def test_pipeline_run_command_prepares_data_runs_and_reports(tmp_path, capsys):
    from munit_tf import cli

    home = str(tmp_path / "home")
    assert (
        cli.main(argv("pipeline", "run", home=home, config="tiny", steps=2, synthetic_count=16))
        == 0
    )
    printed = capsys.readouterr().out
    assert os.path.exists(os.path.join(home, "data", "manifest.json"))  # the Beam job ran first
    assert "a2b/content_iou:" in printed and "report: " in printed and "pushed model: " in printed
    # a 2-step model is not pushed by the default gate
    assert f"below the minimum {configs.DEFAULT_THRESHOLDS['a2b/content_iou']['min']}" in printed


def test_data_preparation_as_a_pipeline_step_with_three_domains(tmp_path):
    """PrepareExamples makes the synthetic data's third domain because the munit config names
    it; the Trainer learns all three, the evaluator scores every direction and gates on one
    into c."""
    config = configs.PipelineConfig(
        home=str(tmp_path),
        prepare_source="synthetic",
        prepare_min_size=32,
        prepare_synthetic_count=16,
        munit_config="tiny",
        munit_overrides=["data.domains=[a,b,c]"],
        train_steps=1,
        eval_inputs=4,
        eval_styles=2,
        thresholds={"a2b/content_iou": {"min": 0.0}, "b2c/outline_f_score": {"min": 0.0}},
    )
    assert config.prepare_synthetic_domains == 3
    local_runner.run(config)
    executions = _executions(config)
    assert {name for name, _ in executions} == COMPONENTS - {"ImportExampleGen"} | {
        "PrepareExamples"
    }
    assert all(state == COMPLETE for _, state in executions)
    examples = _store(config).get_artifacts_by_type("Examples")[0]
    assert json.loads(examples.properties["split_names"].string_value) == ["train", "eval"]
    counts = json.load(open(os.path.join(examples.uri, "manifest.json")))["counts"]
    assert counts["train/a"] == counts["train/c"] == 16
    result = local_runner.summary(config)
    assert result["pushed"]
    metrics = json.load(open(os.path.join(result["evaluation"], "metrics.json")))["metrics"]
    assert {"a2b", "a2c", "b2a", "b2c", "c2a", "c2b"} <= set(metrics)
    assert "outline_f_score" in metrics["b2c"]


def test_the_synthetic_domains_follow_the_munit_config():
    assert configs.PipelineConfig(prepare_source="synthetic").prepare_synthetic_domains == 2
    with pytest.raises(UserError, match="data.domains is a, d"):
        configs.PipelineConfig(prepare_source="synthetic", munit_overrides=["data.domains=[a,d]"])
