"""``munit-tf``: the command line, a thin face over the library.

A user mistake (bad argument, missing file, bad config value, output already in use) exits with
code 2 and one readable line; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings

from munit_tf.config import PRESETS
from munit_tf.data.images import DEFAULT_MAX_PIXELS
from munit_tf.errors import InvalidInput, MissingInput, Unwritable, UserError

# The project's own mistakes-in-what-you-gave (munit_tf.errors) and what the machine says about
# files: OSError covers missing files, permissions, read-only or full disks; TensorFlow's file
# system raises its own classes for the same things (checked by name: importing TF costs seconds).
# the last: a damaged TFRecord or checkpoint file
TF_IO_ERRORS = {
    "NotFoundError",
    "PermissionDeniedError",
    "AlreadyExistsError",
    "ResourceExhaustedError",
    "DataLossError",
}


def _is_user_error(error: BaseException) -> bool:
    return isinstance(error, (UserError, OSError)) or (
        type(error).__module__.startswith("tensorflow") and type(error).__name__ in TF_IO_ERRORS
    )


def check_writable(path: str, flag: str = "--output") -> None:
    """Fail before any work when ``path`` cannot be created: probe its parent with a temporary file.

    Without this, an unwritable output would only show after data preparation or training."""
    if "://" in path:  # object stores: the first write reports it
        return
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise Unwritable(f"{flag} {path}: cannot write there ({error.strerror or error})") from None


def _add_config_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--config",
        default=default,
        help=f"a preset ({', '.join(PRESETS)}), presets laid one over the next with + (e.g. "
        f"synthetic+imaginaire: the imaginaire recipe) or a YAML file (default: {default})",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one config field, e.g. --set train.batch_size=4 (repeatable)",
    )


def _config(args):
    from munit_tf.config import load_config, run_overrides

    overrides = list(args.overrides) + run_overrides(
        getattr(args, "steps", None), getattr(args, "strategy", None)
    )
    return load_config(args.config, overrides)


def _print_result(result: dict, started: float) -> None:
    skipped = result["skipped_updates"]
    print(
        f"trained to step {result['step']} in {time.time() - started:.0f} s"
        + (
            f" ({skipped['generator']} generator and {skipped['discriminator']} discriminator "
            "updates skipped for non-finite values)"
            if any(skipped.values())
            else ""
        )
    )
    print(f"checkpoint:   {result['checkpoint']}")
    print(f"tensorboard:  tensorboard --logdir {result['logs']}")
    for path in result["samples"]:
        if path.endswith("_current.png"):
            print(f"sample grid:  {path}")


def cmd_train(args) -> int:
    from munit_tf import training
    from munit_tf.data import prepare

    config = _config(args)
    data = args.data
    if data == "synthetic":
        data = prepare.ensure_synthetic(
            os.path.join(args.output, "data"),
            config.data.new_size,
            args.synthetic_count,
            config.train.seed,
            domains=prepare.synthetic_domain_count(config.data.domains),
        )
    elif not os.path.isdir(data):
        raise MissingInput(f"--data {data}: no such folder (prepared TFRecords, or 'synthetic')")
    started = time.time()
    result = training.train(config, data, args.output, resume=args.resume, overwrite=args.overwrite)
    _print_result(result, started)
    return 0


def _named_paths(
    values: list[str] | None, option: str, what: str = "FOLDER"
) -> list[tuple[str, str]]:
    """``["summer=photos/summer"]`` -> ``[("summer", "photos/summer")]``, names checked (any
    ``NAME=PATH`` option)."""
    from munit_tf.config import DOMAIN_NAME

    pairs = []
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not path or not DOMAIN_NAME.fullmatch(name):
            raise InvalidInput(
                f"{option} {value!r}: write it as NAME={what}, NAME a domain name (a lowercase "
                "letter, then letters, digits or _)"
            )
        pairs.append((name, path))
    return pairs


def cmd_prepare(args) -> int:
    from munit_tf.data import prepare

    options = prepare.PrepareOptions(
        output=args.output,
        resize=args.resize,
        shards=args.shards,
        min_size=args.min_size,
        max_pixels=args.max_pixels,
        overwrite=args.overwrite,
        synthetic_count=args.synthetic_count,
        synthetic_size=args.synthetic_size,
        synthetic_domains=args.synthetic_domains,
        seed=args.seed,
    )
    explicit = {
        (split, domain): getattr(args, f"{split}_{domain}")
        for split, domain in prepare.FOLDER_NAMES
        if getattr(args, f"{split}_{domain}")
    }
    for split, option in (("train", "--domain"), ("test", "--test-domain")):
        for name, folder in _named_paths(getattr(args, f"{split}_domains"), option):
            if (split, name) in explicit:
                raise InvalidInput(f"{option} {name}: given twice (or also as --{split}-{name})")
            explicit[(split, name)] = folder
    for value, name in (
        (args.resize, "--resize"),
        (args.shards, "--shards"),
        (args.max_pixels, "--max-pixels"),
    ):
        if value is not None and value < 1:
            raise InvalidInput(f"{name} must be >= 1; got {value}")
    if explicit and args.source:
        raise InvalidInput(
            "give either --source or --train-a/--train-b/--test-a/--test-b (or --domain), not both"
        )
    if explicit:
        trained = {domain for split, domain in explicit if split == "train"}
        if len(trained) < 2:
            raise InvalidInput(
                "--train-a and --train-b are both required (or two --domain NAME=FOLDER)"
            )
        untrained = sorted({d for split, d in explicit if split == "test"} - trained)
        if untrained:
            raise InvalidInput(f"test images of {untrained[0]} but no training images of it")
        items, source = prepare.explicit_items(explicit), "folders"
    elif not args.source:
        raise InvalidInput(
            "--source is required (a folder with trainA/ trainB/, 'synthetic' or 'tfds:NAME')"
        )
    else:
        items, source = prepare.source_items(
            args.source,
            args.synthetic_count,
            args.seed,
            args.tfds_data_dir,
            args.synthetic_domains,
        )
        if args.source == "synthetic":
            options.min_size = min(options.min_size, options.synthetic_size)
    prepare.prepare(items, options, args.beam_args, source=source)
    return 0


def cmd_export(args) -> int:
    from munit_tf import serving
    from munit_tf.training import load_model

    if args.format != "savedmodel":
        return _export_portable(args)
    if args.quantize != "none" or args.functions:
        raise InvalidInput(
            "--quantize and --functions are for the portable formats; a SavedModel keeps float32 "
            "and every signature"
        )
    version = os.path.basename(os.path.normpath(args.output))
    if not version.isdigit():
        raise InvalidInput(
            f"--output {args.output}: the last folder must be a version number "
            "(TF Serving loads MODEL_BASE/<version>/), e.g. serving/munit/1"
        )
    path = serving.export(
        load_model(args.checkpoint),
        args.output,
        args.default_direction,
        args.overwrite,
        args.max_pixels,
        log=print,
    )
    print(f"exported SavedModel to {path}")
    print(f"inspect it:  saved_model_cli show --dir {path} --all")
    return 0


def _export_portable(args) -> int:
    from munit_tf import portable
    from munit_tf.training import load_model

    # refused before the (slow) model loading: a quantization the format lacks, a missing tool
    only = tuple(args.functions.split(",")) if args.functions else None
    portable.check_request(args.format, args.quantize, args.output, args.overwrite, only)
    manifest = portable.export(
        load_model(args.checkpoint),
        args.output,
        args.format,
        args.quantize,
        args.overwrite,
        print,
        only,
    )
    worst = max((e for e in manifest["max_abs_error"].values() if e is not None), default=0.0)
    print(f"largest difference from TensorFlow on a probe batch: {worst:.2g} (images in [-1, 1])")
    print(f"functions: {', '.join(manifest['functions'])}; see {args.output}/manifest.json")
    return 0


def cmd_translate(args) -> int:
    from munit_tf.translate import translate_files

    result = translate_files(
        args.model,
        args.input,
        args.output,
        direction=args.direction,
        source=args.source_domain,
        target=args.target_domain,
        num_styles=args.num_styles,
        seed=args.seed,
        reference=args.reference,
        synchronized=args.synchronized,
        interpolate=args.interpolate,
        grid=args.grid,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
    )
    return 0 if result["written"] else 1


def cmd_evaluate(args) -> int:
    from munit_tf.evaluation import EvalOptions, evaluate

    for value, name in ((args.num_inputs, "--num-inputs"), (args.references, "--references")):
        if value < 1:
            raise InvalidInput(f"{name} must be >= 1; got {value}")
    classifiers = dict(_named_paths(args.classifier, "--classifier", "FILE"))
    for path in (args.classifier_a, args.classifier_b, *classifiers.values()):
        if path and not os.path.isfile(path):
            raise MissingInput(f"classifier {path}: no such file")
    options = EvalOptions(
        num_inputs=args.num_inputs,
        num_styles=args.num_styles,
        seeds=tuple(args.seeds),
        references=args.references,
        inception_weights=args.inception_weights,
        vgg_weights=args.vgg_weights,
        classifier_a=args.classifier_a,
        classifier_b=args.classifier_b,
        classifiers=classifiers,
    )
    evaluate(args.model, args.data, args.output, options, overwrite=args.overwrite)
    return 0


def cmd_pipeline(args) -> int:
    """The TFX pipeline: run it here, compile it for Kubeflow, or submit a compiled one."""
    return {"run": _pipeline_run, "compile": _pipeline_compile, "submit": _pipeline_submit}[
        args.pipeline_command
    ](args)


def _pipeline_overrides(args) -> dict:
    return {
        "munit_config": args.config,
        "munit_overrides": args.overrides,
        **({"train_steps": args.steps} if args.steps else {}),
    }


def _pipeline_submit(args) -> int:
    from pipeline.kubeflow_runner import submit

    if not os.path.isfile(args.package):
        raise MissingInput(f"--package {args.package}: no such file (compile it first)")
    run = submit(
        args.package,
        args.endpoint,
        args.pipeline_root,
        args.experiment,
        args.run_name,
        args.namespace,
    )
    print(f"submitted run {run.run_id} to {args.endpoint}")
    return 0


def _pipeline_compile(args) -> int:
    from pipeline import configs
    from pipeline.kubeflow_runner import compile_pipeline

    config = configs.PipelineConfig(
        pipeline_root=args.pipeline_root,
        data_root=args.data,
        serving_dir=args.serving_dir,
        image=args.image,
        **_pipeline_overrides(args),
    )
    print(f"compiled {compile_pipeline(config, args.output)}")
    return 0


def _pipeline_run(args) -> int:
    import json

    from munit_tf.data import prepare
    from pipeline import configs, local_runner

    data = args.data
    if data is None:
        from munit_tf.config import load_config

        munit = load_config(args.config, args.overrides)
        data = prepare.ensure_synthetic(
            os.path.join(args.home, "data"),
            munit.data.new_size,
            args.synthetic_count,
            domains=prepare.synthetic_domain_count(munit.data.domains),
        )
    elif not os.path.isdir(data):
        raise MissingInput(f"--data {data}: no such folder (run `munit-tf prepare` first)")
    config = configs.PipelineConfig(
        home=args.home, data_root=os.path.abspath(data), **_pipeline_overrides(args)
    )
    local_runner.run(config)
    result = local_runner.summary(config)
    print(json.dumps(result, indent=2))
    if result.get("evaluation"):
        from munit_tf.evaluation import report

        evaluation = json.load(open(os.path.join(result["evaluation"], "metrics.json")))
        print("\n".join(report.console_lines(evaluation)))
        print(f"report: {os.path.join(result['evaluation'], 'report.html')}")
    print(
        "pushed model: "
        f"{result.get('pushed_model') or 'none (not blessed: ' + str(result.get('gate')) + ')'}"
    )
    return 0


def cmd_import_reference(args) -> int:
    from munit_tf import reference

    for path in (args.gen, args.dis):
        if path and not os.path.isfile(path):
            raise MissingInput(f"{path}: no such file")
    result = reference.import_reference(
        args.gen, _config(args), args.output, args.dis, args.export, args.overwrite
    )
    print(f"checkpoint: {result['checkpoint']} (step {result['step']})")
    if result.get("saved_model"):
        print(f"SavedModel: {result['saved_model']}")
    return 0


def cmd_demo(args) -> int:
    """The synthetic preset end to end: data, a short training run, the sample grid."""
    args.config, args.data, args.resume, args.overwrite = "synthetic", "synthetic", False, True
    return cmd_train(args)


def _add_train_command(commands) -> None:
    train = commands.add_parser(
        "train", help="train a model", description="Train MUNIT on prepared TFRecords."
    )
    _add_config_arguments(train, "edges2shoes")
    train.add_argument(
        "--data",
        required=True,
        help="a folder prepared by `munit-tf prepare` ({train,test}/{a,b}-*.tfrecord.gz), or "
        "'synthetic' to generate the built-in dataset into OUTPUT/data",
    )
    train.add_argument(
        "--output", required=True, help="run folder: checkpoints/, logs/, images/, config.yaml"
    )
    train.add_argument(
        "--resume", action="store_true", help="continue from the latest checkpoint in --output"
    )
    train.add_argument(
        "--overwrite", action="store_true", help="delete a previous run in --output first"
    )
    train.add_argument("--steps", type=int, help="train to this step (overrides train.max_iter)")
    train.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy (overrides train.strategy)",
    )
    train.add_argument(
        "--synthetic-count", type=int, default=2000, help="images per domain for --data synthetic"
    )
    train.set_defaults(func=cmd_train)


def _add_prepare_command(commands) -> None:
    prep = commands.add_parser(
        "prepare",
        help="validate two image collections into sharded TFRecords (Apache Beam)",
        description="Validate images and write DIR/{train,test}/{a,b}-*.tfrecord.gz, "
        "manifest.json and rejected.jsonl. Arguments this command does not know go to Beam, e.g. "
        "--runner=DataflowRunner --project=... or --direct_running_mode=multi_processing.",
    )
    prep.add_argument(
        "--source",
        help="a folder with trainA/ trainB/ [testA/ testB/] (or train<Name>/ [test<Name>/] "
        "for any domains, two or more), 'synthetic', or 'tfds:NAME' (e.g. "
        "tfds:cycle_gan/horse2zebra)",
    )
    for split in ("train", "test"):
        for domain in ("a", "b"):
            prep.add_argument(
                f"--{split}-{domain}",
                dest=f"{split}_{domain}",
                metavar="FOLDER_OR_LIST",
                help=f"images of {split} domain {domain.upper()}: a folder or a file listing paths",
            )
    prep.add_argument(
        "--domain",
        dest="train_domains",
        action="append",
        metavar="NAME=FOLDER_OR_LIST",
        help="training images of domain NAME (repeat: one per domain, two or more; "
        "--domain a=... is --train-a)",
    )
    prep.add_argument(
        "--test-domain",
        dest="test_domains",
        action="append",
        metavar="NAME=FOLDER_OR_LIST",
        help="test images of domain NAME (optional, repeat)",
    )
    prep.add_argument("--output", required=True)
    prep.add_argument(
        "--resize", type=int, help="resize so the shorter side is at most this (never upsamples)"
    )
    prep.add_argument(
        "--shards", type=int, default=4, help="files per split and domain (default 4)"
    )
    prep.add_argument(
        "--min-size",
        type=int,
        default=256,
        help="reject images whose shorter side is smaller (default 256, the crop size)",
    )
    prep.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="reject larger images (decompression bombs)",
    )
    prep.add_argument("--overwrite", action="store_true", help="replace what --output holds")
    prep.add_argument(
        "--synthetic-count", type=int, default=1000, help="synthetic images per domain in train"
    )
    prep.add_argument("--synthetic-size", type=int, default=64)
    prep.add_argument(
        "--synthetic-domains",
        type=int,
        default=2,
        choices=(2, 3),
        help="2: domains a, b; 3: also c, dotted outlines (default 2)",
    )
    prep.add_argument("--seed", type=int, default=0)
    prep.add_argument("--tfds-data-dir", help="TFDS data folder (default: TFDS' own)")
    prep.set_defaults(func=cmd_prepare, accepts_beam_args=True)


def _add_export_command(commands) -> None:
    exp = commands.add_parser(
        "export",
        help="write the translator as a SavedModel (TF Serving), LiteRT or ONNX files",
        description=(
            "Export both generators: a SavedModel with every serving signature (default), or "
            "LiteRT (TFLite) / ONNX files of fixed-size functions, checked against TensorFlow."
        ),
    )
    exp.add_argument(
        "--checkpoint",
        required=True,
        help="a training run folder, a checkpoint path or a .keras file",
    )
    exp.add_argument(
        "--output",
        required=True,
        help="savedmodel: MODEL_BASE/VERSION, e.g. serving/munit/1; tflite, onnx, web: a folder",
    )
    exp.add_argument(
        "--format",
        choices=("savedmodel", "tflite", "onnx", "web"),
        default="savedmodel",
        help="savedmodel (TF Serving), tflite (LiteRT: phones, XNNPACK), onnx (onnxruntime) or "
        "web (a static page that translates in the browser, LiteRT.js)",
    )
    exp.add_argument(
        "--quantize",
        choices=("none", "float16", "int8"),
        default="none",
        help="tflite and web: float16 weights, or dynamic-range int8 weights (default none)",
    )
    exp.add_argument(
        "--default-direction",
        help="direction of serving_default, SOURCE2TARGET (default: the first domain to the "
        "second, a2b)",
    )
    exp.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse larger images in requests",
    )
    exp.add_argument(
        "--functions",
        help="tflite and onnx: only these functions, comma-separated (default all twelve; "
        "fewer take less memory to export: the 256² presets' twelve peak at 14 GB)",
    )
    exp.add_argument("--overwrite", action="store_true")
    exp.set_defaults(func=cmd_export)


def _add_translate_command(commands) -> None:
    tra = commands.add_parser(
        "translate",
        help="translate image files",
        description="Translate a file or a folder with a SavedModel or a checkpoint.",
    )
    tra.add_argument(
        "--model",
        required=True,
        help="an exported SavedModel folder, a run folder, a checkpoint or a .keras file",
    )
    tra.add_argument(
        "--input", required=True, help="an image file or a folder (searched recursively)"
    )
    tra.add_argument("--output", required=True)
    tra.add_argument(
        "--direction",
        help="SOURCE2TARGET, e.g. a2b or b2a (default: the model's first domain to its second)",
    )
    tra.add_argument("--source-domain", help="the inputs' domain (with --target-domain)")
    tra.add_argument("--target-domain", help="the domain to translate to")
    tra.add_argument(
        "--num-styles", type=int, default=10, help="random styles per input (default 10)"
    )
    tra.add_argument("--seed", type=int, default=0)
    tra.add_argument(
        "--reference", help="an image of the target domain whose style to use (example-guided)"
    )
    tra.add_argument("--synchronized", action="store_true", help="the same styles for every input")
    tra.add_argument(
        "--interpolate",
        type=int,
        default=0,
        metavar="N",
        help="write a strip of N translations between two random styles per input",
    )
    tra.add_argument(
        "--grid", action="store_true", help="one image per input: the input and its translations"
    )
    tra.add_argument("--batch-size", type=int, default=8)
    tra.add_argument("--overwrite", action="store_true", help="write into a non-empty --output")
    tra.set_defaults(func=cmd_translate)


def _add_evaluate_command(commands) -> None:
    ev = commands.add_parser(
        "evaluate",
        help="metrics.json and report.html for a model on prepared test data",
        description="Evaluate content preservation, diversity and style on the test split.",
    )
    ev.add_argument(
        "--model",
        required=True,
        help="an exported SavedModel folder, a run folder, a checkpoint or a .keras file",
    )
    ev.add_argument("--data", required=True, help="a prepared data folder (its test split is used)")
    ev.add_argument("--output", required=True)
    ev.add_argument(
        "--num-inputs", type=int, default=32, help="test images per domain (default 32)"
    )
    ev.add_argument("--num-styles", type=int, default=8, help="random styles per input (default 8)")
    ev.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ev.add_argument("--references", type=int, default=4, help="size of the example-guided matrix")
    ev.add_argument(
        "--inception-weights",
        default="imagenet",
        help="for FID/KID: imagenet (Keras download), a local weights file, or none",
    )
    ev.add_argument(
        "--vgg-weights",
        default="imagenet",
        help="for LPIPS-style diversity: imagenet, a file, or none",
    )
    ev.add_argument("--classifier-a", help="a .keras domain-A classifier for IS/CIS of b2a")
    ev.add_argument("--classifier-b", help="a .keras domain-B classifier for IS/CIS of a2b")
    ev.add_argument(
        "--classifier",
        action="append",
        metavar="NAME=FILE",
        help="a .keras classifier of domain NAME for IS/CIS of the directions into it (repeatable)",
    )
    ev.add_argument("--overwrite", action="store_true")
    ev.set_defaults(func=cmd_evaluate)


def _add_pipeline_command(commands) -> None:
    pipe = commands.add_parser(
        "pipeline", help="the TFX pipeline: run locally, compile for Kubeflow, submit"
    )
    pipe_commands = pipe.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    run = pipe_commands.add_parser(
        "run", help="run the whole pipeline here (LocalDagRunner, SQLite metadata)"
    )
    run.add_argument(
        "--home", default="tfx_home", help="pipeline root, metadata and serving folders go here"
    )
    run.add_argument(
        "--data", help="prepared TFRecords (default: the synthetic data, prepared into HOME/data)"
    )
    run.add_argument("--synthetic-count", type=int, default=2000)
    comp = pipe_commands.add_parser("compile", help="compile a KFP v2 pipeline YAML")
    comp.add_argument("--output", default="build/munit_pipeline.yaml")
    comp.add_argument(
        "--pipeline-root", required=True, help="gs://, s3:// or minio:// artifact root"
    )
    comp.add_argument("--data", required=True, help="prepared TFRecords the pods can read")
    comp.add_argument("--serving-dir", required=True, help="the Pusher's destination")
    comp.add_argument(
        "--image", default="munit-tf-pipeline:latest", help="the pipeline image (see Dockerfile)"
    )
    for sub in (run, comp):
        sub.add_argument(
            "--config", default="synthetic", help="munit_tf preset or YAML for the Trainer"
        )
        sub.add_argument(
            "--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE"
        )
        sub.add_argument(
            "--steps", type=int, help="training iterations (default: the config's train.max_iter)"
        )
    sub = pipe_commands.add_parser(
        "submit", help="upload a compiled pipeline to Kubeflow Pipelines and start a run"
    )
    sub.add_argument("--endpoint", required=True, help="the KFP API, e.g. http://localhost:8080")
    sub.add_argument("--package", default="build/munit_pipeline.yaml")
    sub.add_argument("--pipeline-root", required=True)
    sub.add_argument("--experiment", default="munit")
    sub.add_argument("--run-name")
    sub.add_argument("--namespace")
    pipe.set_defaults(func=cmd_pipeline)


def _add_import_reference_command(commands) -> None:
    imp = commands.add_parser(
        "import-reference",
        help="load NVlabs/MUNIT gen_*.pt / dis_*.pt checkpoints",
        description="Convert the reference's PyTorch checkpoints (zip or legacy format, or .npz) "
        "into a munit-tf run folder, without torch and without running pickled code.",
    )
    imp.add_argument(
        "--gen", required=True, help="gen_XXXXXXXX.pt: {'a': state_dict, 'b': state_dict}"
    )
    imp.add_argument(
        "--dis", help="dis_XXXXXXXX.pt (optional: the discriminators, to continue training)"
    )
    _add_config_arguments(imp, "edges2shoes")
    imp.add_argument("--output", required=True, help="run folder: config.yaml and checkpoints/")
    imp.add_argument(
        "--export", action="store_true", help="also write a SavedModel to OUTPUT/serving/1"
    )
    imp.add_argument("--overwrite", action="store_true")
    imp.set_defaults(func=cmd_import_reference)


def _add_demo_command(commands) -> None:
    demo = commands.add_parser(
        "demo", help="train the synthetic preset for a few minutes and write a sample grid"
    )
    demo.add_argument("--output", default="runs/demo")
    demo.add_argument(
        "--steps", type=int, help="training steps (default: the synthetic preset's max_iter)"
    )
    demo.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    demo.add_argument("--synthetic-count", type=int, default=2000)
    demo.set_defaults(func=cmd_demo, strategy=None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="munit-tf", description="MUNIT image-to-image translation (Keras 3 / TFX)"
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_command(commands)
    _add_prepare_command(commands)
    _add_export_command(commands)
    _add_translate_command(commands)
    _add_evaluate_command(commands)
    _add_pipeline_command(commands)
    _add_import_reference_command(commands)
    _add_demo_command(commands)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "accepts_beam_args", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.beam_args = unknown
    if not args.debug:  # TensorFlow's start-up chatter (CUDA plugin registration) is not for users
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        for flag, name in (("--output", "output"), ("--home", "home")):
            if getattr(args, name, None):
                check_writable(getattr(args, name), flag)
        return args.func(args)
    except KeyboardInterrupt:
        print(f"munit-tf {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        from munit_tf.training import TrainingDiverged

        if args.debug:
            raise
        if isinstance(error, TrainingDiverged):  # NaN/Inf: a clear line, not a traceback
            print(f"munit-tf {args.command}: {error}", file=sys.stderr)
            return 3
        # TF keeps it in .message
        message = " ".join((getattr(error, "message", None) or str(error)).split())
        if _is_user_error(error):
            print(f"munit-tf {args.command}: error: {message}", file=sys.stderr)
            return 2
        print(
            f"munit-tf {args.command}: internal error ({type(error).__name__}: {message[:500]}). "
            "This is not a mistake in what you gave but a failure inside munit-tf or a library it "
            "uses; rerun with --debug for the traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
