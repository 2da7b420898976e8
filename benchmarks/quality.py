"""The quality goals, and ``benchmarks/quality.json`` from the committed learning curves.

    PYTHONPATH=. .venv/bin/python benchmarks/quality.py        # writes quality.json, prints goals

Reads ``benchmarks/curves/*.json`` (one ``convergence.py`` run per recipe, copied there) and
``benchmarks/curves/demo/*.json`` (the demo's preset and budget, one run per training seed).
The best recipe is the run whose last point scores highest on the goals (each goal counts up to
1: its value's share of the goal). ``quality.json`` holds
``{"best": {METRIC: {"mean", "std"}}, "demo": {...}, "best_recipe", "budget_minutes", ...}``
under the names ``evaluate`` writes, with the goals and which are met, so a script can hold the
figures against them; it also holds the pipeline gate's thresholds derived from the demo runs,
which ``pipeline/configs.py`` must equal (a test checks).
"""

from __future__ import annotations

import glob
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CURVES = os.path.join(HERE, "curves")
OUTPUT = os.path.join(HERE, "quality.json")
SPEEDS = os.path.join(HERE, "recipe_speed.json")
RATIO = "guided_a2b/color_error_ratio"  # reference colour error / random style's: derived here

# (metric, "min" or "max", value): the goals, 3 evaluation seeds on the test split
GOALS = {
    "best": (
        ("a2b/content_iou", "min", 0.90),
        ("b2a/outline_f_score", "min", 0.70),
        ("guided_a2b/texture_accuracy", "min", 0.80),
        (RATIO, "max", 0.30),
    ),
    "demo": (
        ("a2b/content_iou", "min", 0.70),
        ("b2a/outline_f_score", "min", 0.40),
        ("guided_a2b/texture_accuracy", "min", 0.50),
        (RATIO, "max", 0.40),
    ),
}
# relative to the paired ground truth on the same inputs (the curve's ceilings)
RELATIVE_GOALS = (
    ("a2b/diversity", "min", 0.5),  # at least half of real B's own diversity
    ("a2b/synthetic_fid", "max", 2.0),  # within 2x of the true translations' FID
)
# the pipeline gates on these; the guided texture accuracy is left out: the pipeline's evaluator
# scores 4 x 4 guided pairs, whose accuracy moves by 1/16 with one pair
GATED = ("a2b/content_iou", "b2a/outline_f_score")


def last_point(curve: dict) -> dict:
    """{metric: {"mean", "std"}} of a curve's last record, with the colour-error ratio."""
    record = curve["records"][-1]
    out = {
        name: {"mean": value, "std": record.get("std", {}).get(name, 0.0)}
        for name, value in record["metrics"].items()
    }
    reference = record["metrics"].get("guided_a2b/reference_color_error")
    random_style = record["metrics"].get("guided_a2b/random_style_color_error")
    if reference is not None and random_style:
        out[RATIO] = {"mean": reference / random_style, "std": None}
    return out


def ceiling(curve: dict, metric: str) -> float | None:
    group, name = metric.split("/")
    entry = curve.get("bounds", {}).get(group, {}).get(name, {}).get("ceiling", {})
    value = entry.get("paired_truth")
    return value["mean"] if isinstance(value, dict) else value


def goals_for(kind: str, curve: dict) -> list[tuple]:
    """[(metric, "min"|"max", goal)] of ``kind`` with the relative goals made absolute."""
    goals = list(GOALS[kind])
    if kind == "best":
        for metric, sense, factor in RELATIVE_GOALS:
            value = ceiling(curve, metric)
            if value is not None:
                goals.append((metric, sense, factor * value))
    return goals


def met(value: float, sense: str, goal: float) -> bool:
    return value >= goal if sense == "min" else value <= goal


def goal_score(point: dict, goals) -> float:
    """Each goal counts up to 1: the value's share of the goal (inverted for a maximum)."""
    total = 0.0
    for metric, sense, goal in goals:
        value = point.get(metric, {}).get("mean")
        if value is None:
            continue
        share = value / goal if sense == "min" else goal / max(value, 1e-9)
        total += min(1.0, max(0.0, share))
    return total


def over_seeds(points: list[dict]) -> dict:
    """{metric: {"mean", "std", "n"}} across runs (training seeds): the spread that matters for
    a gate, not one run's evaluation noise."""
    out = {}
    for name in points[0]:
        values = [p[name]["mean"] for p in points if name in p]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1))
        out[name] = {"mean": mean, "std": std, "n": len(values)}
    return out


def gate_thresholds(demo: dict) -> dict:
    """The pipeline gate's minimums from the demo runs: mean - 3 std over training seeds,
    rounded down to 0.05, so a healthy demo run passes and a model that has not learned fails."""
    out = {}
    for metric in GATED:
        if metric in demo:
            low = demo[metric]["mean"] - 3 * demo[metric]["std"]
            out[metric] = {"min": max(0.0, math.floor(low * 20 + 1e-9) / 20)}
    return out


def goal_rows(point: dict, goals) -> list[dict]:
    """One row per goal that ``point`` has a value for: what the console table and RESULTS.md
    (``run_all.goals_section``) both print."""
    rows = []
    for metric, sense, goal in goals:
        value = point.get(metric)
        if value is None:
            continue
        rows.append(
            {
                "metric": metric,
                "mean": value["mean"],
                "std": value.get("std"),
                "goal": f"{'>=' if sense == 'min' else '<='} {goal:.3f}",
                "met": met(value["mean"], sense, goal),
            }
        )
    return rows


def _table(kind: str, point: dict, goals) -> list[str]:
    return [
        f"  {kind:5s} {row['metric']:34s} {row['mean']:7.3f}  goal {row['goal']}  "
        + ("met" if row["met"] else "not met")
        for row in goal_rows(point, goals)
    ]


def alone_seconds_per_step(config: dict, speeds_path: str = SPEEDS) -> float | None:
    """The s/step measured alone (``synthetic_speed.py --recipes``) for the recipe of a curve's
    ``config``: its networks, losses, optimiser and batch; None if no point was measured. A
    curve's logged minutes count the time it shared the cores; this is what it costs alone."""
    keys = ("gen", "dis", "loss", "optim")
    if not os.path.exists(speeds_path) or any(key not in config for key in keys):
        return None  # no speeds measured, or a config that names no recipe
    from munit_tf.config import load_config

    def recipe(values: dict) -> tuple:
        return tuple(json.dumps(values[k], sort_keys=True) for k in keys) + (
            values["train"]["batch_size"],
            values["train"]["precision"],
        )

    for point in json.load(open(speeds_path))["points"]:
        base = "synthetic" + "".join(o for o in point["overrides"] if o.startswith("+"))
        overrides = [o for o in point["overrides"] if not o.startswith("+")]
        overrides.append(f"train.batch_size={point['batch']}")
        if recipe(load_config(base, overrides).to_dict()) == recipe(config):
            return point["seconds_per_step"]
    return None


def build(curve_paths: list[str], demo_paths: list[str]) -> dict:
    curves = {os.path.splitext(os.path.basename(p))[0]: json.load(open(p)) for p in curve_paths}
    if not curves:
        raise SystemExit(f"no learning curves in {CURVES}")
    scored = {
        name: goal_score(last_point(curve), goals_for("best", curve))
        for name, curve in curves.items()
    }
    best_name = max(scored, key=scored.get)
    best = curves[best_name]
    result = {
        "best": last_point(best),
        "best_recipe": best_name,
        "best_config": best["config"],
        "budget_minutes": round(best["records"][-1]["train_seconds"] / 60, 1),
        "best_steps": best["records"][-1]["step"],
        "best_seconds_per_step_alone": alone_seconds_per_step(best["config"]),
        "machine": best["machine"],
        "goal_scores": scored,
        "goals": {kind: goals_for(kind, best) for kind in GOALS},
    }
    if result["best_seconds_per_step_alone"]:
        result["best_alone_minutes"] = round(
            result["best_steps"] * result["best_seconds_per_step_alone"] / 60, 1
        )
    if demo_paths:
        demos = [json.load(open(p)) for p in demo_paths]
        result["demo"] = over_seeds([last_point(d) for d in demos])
        result["demo_runs"] = {
            "seeds": [d["config"]["train"]["seed"] for d in demos],
            "steps": [d["records"][-1]["step"] for d in demos],
            "minutes": [round(d["records"][-1]["train_seconds"] / 60, 1) for d in demos],
        }
        result["gate_thresholds"] = gate_thresholds(result["demo"])
    result["met"] = {
        kind: {row["metric"]: row["met"] for row in goal_rows(result[kind], result["goals"][kind])}
        for kind in GOALS
        if kind in result
    }
    return result


def main():
    paths = sorted(glob.glob(os.path.join(CURVES, "*.json")))
    demo_paths = sorted(glob.glob(os.path.join(CURVES, "demo", "*.json")))
    result = build(paths, demo_paths)
    with open(OUTPUT, "w") as handle:
        json.dump(result, handle, indent=2)
    alone = result.get("best_alone_minutes")
    print(
        f"best recipe: {result['best_recipe']} ({result['budget_minutes']} min logged"
        + (f", {alone} min at its speed alone)" if alone else ")")
    )
    for kind in GOALS:
        if kind in result:
            print("\n".join(_table(kind, result[kind], result["goals"][kind])))
    if "gate_thresholds" in result:
        print(f"gate thresholds from the demo runs: {result['gate_thresholds']}")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
