"""More than two domains against one model per pair, at the same training time per direction.

    PYTHONPATH=. .venv/bin/python benchmarks/domains_proof.py --root runs/domains --minutes 20
    PYTHONPATH=. .venv/bin/python benchmarks/domains_proof.py --root runs/domains --table

Trains, with ``benchmarks/convergence.py`` (resumable: the same command continues each run where
it stopped), the quality issue's best recipe on the synthetic data's domains a, b and c as
- one two-domain model per pair (``ab``, ``ac``, ``bc``), ``--minutes`` each (2 directions);
- one three-domain model (``abc``, every pair each step) and one with a single content encoder
  for all (``abc_shared``), 3 x ``--minutes`` each (6 directions): the same minutes per direction.
Then holds every direction's ground-truth metrics of the three-domain models against the pair
model of that direction (the last evaluation of each run), writes ``domains_proof.json`` beside
this file and prints the table for RESULTS.md. A three-domain direction is "within 10%" when its
score is at least 0.9 of the pair model's (at most 1.1 for distances, where lower is better).
Run it alone on the machine: budgets are minutes of training.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)  # convergence.py beside this file, also when imported (tests)

import convergence  # noqa: E402

from munit_tf import cpu  # noqa: E402
from munit_tf.evaluation import during_training  # noqa: E402

RECIPE = ["gen.init=kaiming", "gen.spectral_norm=false"]  # over synthetic+imaginaire
RUNS = {  # name: (overrides, minutes per --minutes)
    "ab": (["data.domains=[a,b]"], 1),
    "ac": (["data.domains=[a,c]"], 1),
    "bc": (["data.domains=[b,c]"], 1),
    "abc": (["data.domains=[a,b,c]"], 3),
    "abc_shared": (["data.domains=[a,b,c]", "gen.shared_content=true"], 3),
}
# per target domain: (metric, higher is better)
METRICS = {
    "a": (("outline_f_score", True), ("diversity", True), ("synthetic_fid", False)),
    "b": (
        ("content_iou", True),
        ("style_distance", False),
        ("diversity", True),
        ("synthetic_fid", False),
    ),
    "c": (
        ("outline_f_score", True),
        ("style_distance", False),
        ("diversity", True),
        ("synthetic_fid", False),
    ),
}
GUIDED = {  # example-guided translation from the first domain, scored into b and c
    "guided_a2b": (
        ("content_iou", True),
        ("reference_color_error", False),
        ("texture_accuracy", True),
    ),
    "guided_a2c": (("outline_f_score", True), ("reference_color_error", False)),
}
DIRECTIONS = ("a2b", "b2a", "a2c", "c2a", "b2c", "c2b")
TOLERANCE = 0.10


def train(args) -> None:
    for name, (overrides, scale) in RUNS.items():
        if args.only and name not in args.only:
            continue
        run_args = argparse.Namespace(
            run=os.path.join(args.root, name),
            config="synthetic+imaginaire",
            overrides=RECIPE + overrides,
            every=args.every,
            minutes=args.minutes * scale,
            steps=0,
            eval_inputs=args.eval_inputs,
            eval_styles=args.eval_styles,
            eval_seeds=args.eval_seeds,
            eval_references=args.eval_references,
            data=os.path.join(args.root, "data-64"),
            synthetic_count=2000,
        )
        print(f"== {name}: {run_args.minutes:g} minutes of training")
        convergence.run_curve(run_args)


def last_record(root: str, name: str) -> dict | None:
    """The run's last evaluation, read from its live ground-truth log (``curve.json`` is written
    only when a run ends), so that a run still training can be tabulated too."""
    records = during_training.read_log(os.path.join(root, name, "logs"))
    return records[-1] if records else None


def directions_of(run: str) -> int:
    """How many directions a run's model learns: n (n - 1) for its n domains."""
    domains = next(o for o in RUNS[run][0] if o.startswith("data.domains="))
    count = len(domains.split("[")[1].rstrip("]").split(","))
    return count * (count - 1)


def pair_of(direction: str) -> str:
    """The pair model that learns ``direction`` (a2b, guided_a2b -> ab)."""
    return "".join(sorted(direction.removeprefix("guided_").split("2")))


def table(root: str, minutes: float) -> dict:
    """{rows: [...], runs: {name: {step, minutes, ..., complete}}, machine, tolerance}; a run
    short of its budget (``minutes`` x its scale) is tabulated at its last evaluation and marked
    as still training."""
    last = {name: last_record(root, name) for name in RUNS}
    rows = []
    measured = [(d, METRICS[d[-1]]) for d in DIRECTIONS] + list(GUIDED.items())
    for direction, metrics in measured:
        alone = last[pair_of(direction)]
        for metric, higher in metrics:
            name = f"{direction}/{metric}"
            row = {"metric": name, "higher_is_better": higher}
            row["pair_model"] = alone["metrics"].get(name) if alone else None
            for model in ("abc", "abc_shared"):
                value = last[model]["metrics"].get(name) if last[model] else None
                row[model] = value
                if value is not None and row["pair_model"]:
                    ratio = value / row["pair_model"]
                    row[f"{model}_ratio"] = ratio
                    row[f"{model}_within"] = (
                        ratio >= 1 - TOLERANCE if higher else ratio <= 1 + TOLERANCE
                    )
            rows.append(row)
    # a run stops at its first evaluation past the budget: the minutes actually trained, and
    # per direction (2 for a pair model, 6 for three domains), say how even the comparison is
    runs = {
        name: {
            "step": r["step"],
            "minutes": round(r["train_seconds"] / 60, 1),
            "minutes_per_direction": round(r["train_seconds"] / 60 / directions_of(name), 1),
            "budget_minutes": minutes * RUNS[name][1],
            "complete": r["train_seconds"] >= minutes * RUNS[name][1] * 60,
        }
        for name, r in last.items()
        if r
    }
    return {"rows": rows, "runs": runs, "machine": cpu.describe(), "tolerance": TOLERANCE}


def markdown(result: dict) -> str:
    def cell(row, model):
        value = row.get(model)
        if value is None:
            return "–"
        if f"{model}_ratio" not in row:
            return f"{value:.3f}"
        mark = "yes" if row[f"{model}_within"] else "**no**"
        return f"{value:.3f} ({row[f'{model}_ratio']:.2f}x, {mark})"

    lines = [
        "| direction / metric | its pair's model | three domains (ratio, within 10%) | "
        "three domains, one content encoder |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        better = "higher" if row["higher_is_better"] else "lower"
        alone = "–" if row["pair_model"] is None else f"{row['pair_model']:.3f}"
        lines.append(
            f"| {row['metric']} ({better} is better) | {alone} | {cell(row, 'abc')} | "
            f"{cell(row, 'abc_shared')} |"
        )
    runs = ", ".join(
        f"{name}: {run['step']} steps, {run['minutes']} min ({run['minutes_per_direction']} per "
        "direction"
        + ("" if run["complete"] else f"; still training, budget {run['budget_minutes']:g} min")
        + ")"
        for name, run in result["runs"].items()
    )
    lines.append("")
    lines.append(f"Runs: {runs}. Machine: {result['machine']}.")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default="runs/domains")
    parser.add_argument("--minutes", type=float, default=20, help="per pair model; x3 for three")
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--eval-inputs", type=int, default=32)
    parser.add_argument("--eval-styles", type=int, default=8)
    parser.add_argument("--eval-seeds", type=int, default=3)
    parser.add_argument("--eval-references", type=int, default=16)
    parser.add_argument("--only", nargs="*", choices=sorted(RUNS), help="train only these runs")
    parser.add_argument("--table", action="store_true", help="only tabulate the runs there are")
    args = parser.parse_args(argv)
    if not args.table:
        train(args)
    result = table(args.root, args.minutes)
    with open(os.path.join(HERE, "domains_proof.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    print(markdown(result))


if __name__ == "__main__":
    main()
