"""``munit-tf``: the command line, a thin face over the library.

A user mistake (bad argument, missing file, bad config value, output already in use) exits with
code 2 and one readable line; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError)


def _add_config_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--config", default=default,
                        help="a preset (edges2shoes, edges2handbags, summer2winter_yosemite256, synthia2cityscape, "
                             f"synthetic, tiny) or a YAML file (default: {default})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                        help="override one config field, e.g. --set train.batch_size=4 (repeatable)")


def _config(args):
    from munit_tf.config import load_config

    overrides = list(args.overrides)
    if getattr(args, "steps", None):
        overrides.append(f"train.max_iter={args.steps}")
    if getattr(args, "strategy", None):
        overrides.append(f"train.strategy={args.strategy}")
    return load_config(args.config, overrides)


def _print_result(result: dict, started: float) -> None:
    print(f"trained to step {result['step']} in {time.time() - started:.0f} s")
    print(f"checkpoint:   {result['checkpoint']}")
    print(f"tensorboard:  tensorboard --logdir {result['logs']}")
    for path in result["samples"]:
        if path.endswith("_current.png"):
            print(f"sample grid:  {path}")


def cmd_train(args) -> int:
    from munit_tf import training
    from munit_tf.data import synthetic

    config = _config(args)
    data = args.data
    if data == "synthetic":
        data = os.path.join(args.output, "data")
        if not os.path.exists(os.path.join(data, "manifest.json")):
            print(f"writing the synthetic dataset to {data}")
            synthetic.write_tfrecords(data, args.synthetic_count, max(8, args.synthetic_count // 10),
                                      size=config.data.new_size, seed=config.train.seed)
    elif not os.path.isdir(data):
        raise FileNotFoundError(f"--data {data}: no such folder (prepared TFRecords, or 'synthetic')")
    started = time.time()
    result = training.train(config, data, args.output, resume=args.resume, overwrite=args.overwrite)
    _print_result(result, started)
    return 0


def cmd_demo(args) -> int:
    """The synthetic preset end to end: data, a short training run, the sample grid."""
    args.config, args.data, args.resume, args.overwrite = "synthetic", "synthetic", False, True
    return cmd_train(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="munit-tf", description="MUNIT image-to-image translation (Keras 3 / TFX)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model", description="Train MUNIT on prepared TFRecords.")
    _add_config_arguments(train, "edges2shoes")
    train.add_argument("--data", required=True,
                       help="a folder prepared by `munit-tf prepare` ({train,test}/{a,b}-*.tfrecord.gz), or "
                            "'synthetic' to generate the built-in dataset into OUTPUT/data")
    train.add_argument("--output", required=True, help="run folder: checkpoints/, logs/, images/, config.yaml")
    train.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --output")
    train.add_argument("--overwrite", action="store_true", help="delete a previous run in --output first")
    train.add_argument("--steps", type=int, help="train to this step (overrides train.max_iter)")
    train.add_argument("--strategy", choices=("default", "mirrored", "multi_worker"),
                       help="tf.distribute strategy (overrides train.strategy)")
    train.add_argument("--synthetic-count", type=int, default=2000, help="images per domain for --data synthetic")
    train.set_defaults(func=cmd_train)

    demo = commands.add_parser("demo", help="train the synthetic preset for a few minutes and write a sample grid")
    demo.add_argument("--output", default="runs/demo")
    demo.add_argument("--steps", type=int, help="training steps (default: the synthetic preset's max_iter)")
    demo.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    demo.add_argument("--synthetic-count", type=int, default=2000)
    demo.set_defaults(func=cmd_demo, strategy=None)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.debug:  # TensorFlow's start-up chatter (CUDA plugin registration) is not for users
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        return args.func(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"munit-tf {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"munit-tf {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
