"""benchmarks/quality.py: the goals held against curves, the best recipe chosen, the demo's
spread over training seeds and the gate thresholds derived from it."""

import json
import os

import pytest
from paths import ROOT, benchmark_module

from pipeline.configs import DEFAULT_THRESHOLDS

quality = benchmark_module("quality")


def _curve(seed=0, iou=0.5, outline=0.5, texture=0.5, reference=0.2, random_style=0.4, fid=10.0):
    metrics = {
        "a2b/content_iou": iou,
        "b2a/outline_f_score": outline,
        "guided_a2b/texture_accuracy": texture,
        "guided_a2b/reference_color_error": reference,
        "guided_a2b/random_style_color_error": random_style,
        "a2b/diversity": 0.1,
        "a2b/synthetic_fid": fid,
    }
    ceiling = {"ceiling": {"paired_truth": {"mean": 0.2}}}
    return {
        "records": [{"step": 100, "train_seconds": 600.0, "metrics": metrics, "std": {}}],
        "bounds": {
            "a2b": {"diversity": ceiling, "synthetic_fid": {"ceiling": {"paired_truth": 4.0}}}
        },
        "config": {"train": {"seed": seed}},
        "machine": "test CPU",
    }


def _write(folder, name, curve):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as handle:
        json.dump(curve, handle)
    return path


def test_the_colour_ratio_is_derived_and_relative_goals_follow_the_ceilings():
    point = quality.last_point(_curve(reference=0.1, random_style=0.4))
    assert point[quality.RATIO]["mean"] == pytest.approx(0.25)
    goals = dict((m, (s, g)) for m, s, g in quality.goals_for("best", _curve()))
    assert goals["a2b/diversity"] == ("min", pytest.approx(0.1))  # half of real B's 0.2
    assert goals["a2b/synthetic_fid"] == ("max", pytest.approx(8.0))  # within 2x of 4.0
    assert "a2b/diversity" not in dict((m, g) for m, _, g in quality.goals_for("demo", _curve()))


def test_the_best_recipe_is_the_one_closest_to_the_goals(tmp_path):
    weak = _write(tmp_path, "weak", _curve(iou=0.3, outline=0.2, texture=0.2))
    strong = _write(tmp_path, "strong", _curve(iou=0.95, outline=0.8, texture=0.7))
    result = quality.build([weak, strong], [])
    assert result["best_recipe"] == "strong" and result["budget_minutes"] == 10.0
    assert result["best"]["a2b/content_iou"]["mean"] == 0.95
    assert result["met"]["best"]["a2b/content_iou"] is True
    assert result["met"]["best"]["guided_a2b/texture_accuracy"] is False  # 0.7 < 0.8
    assert "demo" not in result


def test_demo_figures_are_spread_over_training_seeds_and_set_the_gate(tmp_path):
    best = _write(tmp_path, "best", _curve())
    demos = [
        _write(tmp_path / "demo", f"seed{s}", _curve(seed=s, iou=v, outline=0.5, texture=0.6))
        for s, v in enumerate((0.70, 0.74, 0.78))
    ]
    result = quality.build([best], demos)
    assert result["demo"]["a2b/content_iou"]["mean"] == pytest.approx(0.74)
    assert result["demo"]["a2b/content_iou"]["std"] == pytest.approx(0.04)
    assert result["demo_runs"]["seeds"] == [0, 1, 2]
    # mean - 3 std = 0.62, rounded down to 0.05; no spread: the value itself, rounded down
    assert result["gate_thresholds"]["a2b/content_iou"] == {"min": 0.6}
    assert result["gate_thresholds"]["b2a/outline_f_score"] == {"min": 0.5}
    assert set(result["gate_thresholds"]) == set(quality.GATED)


def test_the_pipeline_gates_on_the_thresholds_the_committed_demo_runs_measured():
    measured = json.load(open(os.path.join(ROOT, "benchmarks", "quality.json")))
    assert measured["demo_runs"]["seeds"] == [0, 1, 2]  # three training seeds, as the issue asks
    gated = {metric: DEFAULT_THRESHOLDS[metric] for metric in quality.GATED}
    assert gated == measured["gate_thresholds"]
