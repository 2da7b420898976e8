"""Learning curves: a preset trained for a budget, its ground-truth metrics every K steps.

    PYTHONPATH=. .venv/bin/python benchmarks/convergence.py --run runs/curves/reference \\
        --config synthetic --minutes 60 --every 100
    PYTHONPATH=. .venv/bin/python benchmarks/convergence.py --plot benchmarks/curves.png \\
        runs/curves/reference runs/curves/imaginaire

Trains with ``train.eval_iter`` = ``--every``: the held-out synthetic test split (fixed inputs,
styles and evaluation seeds) is scored at step 0 and every K steps, into the run's
``logs/ground_truth.jsonl`` (step, training seconds with evaluation excluded, every metric) with
each metric's floors and ceiling beside it (``logs/ground_truth_bounds.json``). A checkpoint is
written (and kept) at every evaluation, so the same command resumes where a run stopped (a
killed process, a session that ended) and a long curve is built across sessions; the budget
(``--minutes`` of training or ``--steps``) counts the whole run. ``curve.json`` in the run
folder gathers the log, the bounds, the configuration and the machine; ``--plot`` draws runs
against steps and minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import keras  # noqa: E402

from munit_tf import cpu, training  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.data import prepare  # noqa: E402
from munit_tf.evaluation import during_training  # noqa: E402

PLOTTED = (  # (metric, better when)
    ("a2b/content_iou", "higher"),
    ("b2a/outline_f_score", "higher"),
    ("guided_a2b/reference_color_error", "lower"),
    ("a2b/diversity", "higher"),
    ("a2b/style_distance", "lower"),
    ("guided_a2b/content_iou", "higher"),
    ("guided_a2b/texture_accuracy", "higher"),
    ("a2b/synthetic_fid", "lower"),
)


class StopAfterMinutes(keras.callbacks.Callback):
    """Ends training at the first evaluation once the run has trained ``minutes`` in all (the
    ``train_seconds`` of its ground-truth log, which the built-in callback writes first)."""

    def __init__(self, log_dir: str, every: int, minutes: float):
        super().__init__()
        self.log_dir, self.every, self.seconds = log_dir, every, minutes * 60

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if step % self.every:
            return
        records = during_training.read_log(self.log_dir)
        if records and records[-1]["step"] == step and records[-1]["train_seconds"] >= self.seconds:
            self.model.stop_training = True


def run_curve(args) -> dict:
    """Train (or resume) ``args.run`` until its budget; returns the curve summary."""
    saved = os.path.join(args.run, "config.yaml")
    resume = os.path.exists(saved)
    schedule = [  # on a resume only these may differ from the run's own configuration
        f"train.max_iter={args.steps or 10_000_000}",
        f"train.eval_iter={args.every}",
        f"train.snapshot_save_iter={args.every}",
        # every checkpoint kept, so that a metric added later can score the old points too
        "train.keep_checkpoints=100000",
        f"train.eval_inputs={args.eval_inputs}",
        f"train.eval_styles={args.eval_styles}",
        f"train.eval_seeds={args.eval_seeds}",
        f"train.eval_references={args.eval_references}",
    ]
    if resume:
        config = load_config(saved, schedule)
    else:
        config = load_config(args.config, list(args.overrides) + schedule)
    parent = os.path.dirname(os.path.abspath(args.run))
    data = args.data or os.path.join(parent, f"data-{config.data.new_size}")
    # domain c (--set data.domains=[a,b,c] or [a,c]) is prepared beside a and b
    domains = 3 if "c" in config.data.domains else 2
    prepare.ensure_synthetic(data, config.data.new_size, args.synthetic_count, domains=domains)
    log_dir = os.path.join(args.run, "logs")
    records = during_training.read_log(log_dir)
    if records and args.minutes and records[-1]["train_seconds"] >= args.minutes * 60:
        print(f"{args.run}: already trained {records[-1]['train_seconds'] / 60:.1f} minutes")
    else:
        stop = [StopAfterMinutes(log_dir, args.every, args.minutes)] if args.minutes else []
        training.train(config, data, args.run, resume=resume, verbose=2, callbacks=stop)
    return write_summary(args.run, config, args)


def write_summary(run: str, config, args) -> dict:
    log_dir = os.path.join(run, "logs")
    bounds_path = os.path.join(log_dir, during_training.BOUNDS_NAME)
    summary = {
        "run": run,
        "config": config.to_dict(),
        "machine": cpu.describe(),
        "every": args.every,
        "budget": {"minutes": args.minutes, "steps": args.steps},
        "records": during_training.read_log(log_dir),
        "bounds": json.load(open(bounds_path)) if os.path.exists(bounds_path) else {},
    }
    with open(os.path.join(run, "curve.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
    last = summary["records"][-1] if summary["records"] else None
    if last:
        print(
            f"{run}: step {last['step']}, {last['train_seconds'] / 60:.1f} min: "
            + ", ".join(
                f"{name} {last['metrics'][name]:.3f}"
                for name, _ in PLOTTED
                if name in last["metrics"]
            )
        )
    return summary


def _bound_lines(axis, bounds: dict, metric: str):
    """The metric's floors (dotted, grey) and ceiling (dashed), each named at the left edge."""
    group, name = metric.split("/")
    entry = bounds.get(group, {}).get(name) or {}
    lines = [
        ("floor", which, value, "grey", ":") for which, value in entry.get("floor", {}).items()
    ]
    lines += [
        ("ceiling", which, value, "black", "--")
        for which, value in entry.get("ceiling", {}).items()
    ]
    for kind, which, value, colour, style in lines:
        value = value["mean"] if isinstance(value, dict) else value
        axis.axhline(value, color=colour, linestyle=style, linewidth=1)
        axis.annotate(
            f"{kind}: {which}",
            (0, value),
            xycoords=("axes fraction", "data"),
            fontsize=6,
            color=colour,
            va="bottom",
        )


def plot(output: str, runs: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # run folders, or their curve.json as copied to benchmarks/curves/ (named by the file)
    curves = []
    for run in runs:
        if run.endswith(".json"):
            curve = json.load(open(run))
            curve["run"] = os.path.splitext(os.path.basename(run))[0]
        else:
            curve = json.load(open(os.path.join(run, "curve.json")))
        curves.append(curve)
    figure, axes = plt.subplots(2, len(PLOTTED), figsize=(3.2 * len(PLOTTED), 6.2), squeeze=False)
    for column, (metric, better) in enumerate(PLOTTED):
        for row, (key, label) in enumerate((("step", "steps"), ("train_seconds", "minutes"))):
            axis = axes[row][column]
            for curve in curves:
                points = [r for r in curve["records"] if metric in r["metrics"]]
                xs = [r[key] / (60 if key == "train_seconds" else 1) for r in points]
                axis.plot(
                    xs,
                    [r["metrics"][metric] for r in points],
                    marker=".",
                    label=os.path.basename(curve["run"].rstrip("/")),
                )
            if curves:
                _bound_lines(axis, curves[0]["bounds"], metric)
            if metric.endswith("_fid"):  # the trivial translators' FID is orders larger
                axis.set_yscale("log")
            axis.set_xlabel(label + (" of training" if row else ""))
            axis.set_title(f"{metric} ({better} is better)", fontsize=8)
            axis.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    machines = "; ".join(sorted({curve["machine"] for curve in curves}))
    figure.suptitle(f"munit-tf learning curves on the synthetic test split; {machines}", fontsize=9)
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    print(f"wrote {output}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", help="the run folder (created, or resumed if it exists)")
    parser.add_argument("--config", default="synthetic")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--every", type=int, default=100, help="steps between evaluations")
    parser.add_argument("--minutes", type=float, default=0, help="training budget of the run")
    parser.add_argument("--steps", type=int, default=0, help="or a budget in steps")
    parser.add_argument("--eval-inputs", type=int, default=32)
    parser.add_argument("--eval-styles", type=int, default=8)
    parser.add_argument("--eval-seeds", type=int, default=3)
    parser.add_argument(
        "--eval-references", type=int, default=16, help="guided a2b: sources x references"
    )
    parser.add_argument("--data", help="prepared synthetic data (default: beside the run)")
    parser.add_argument("--synthetic-count", type=int, default=2000)
    parser.add_argument(
        "--plot", metavar="PNG", help="draw the curves of RUN... (folders or curve JSON) into PNG"
    )
    parser.add_argument("runs", nargs="*")
    args = parser.parse_args(argv)
    if args.plot:
        return plot(args.plot, args.runs)
    if not args.run or not (args.minutes or args.steps):
        parser.error("--run and a budget (--minutes or --steps) are needed")
    return run_curve(args)


if __name__ == "__main__":
    main()
