"""benchmarks/domains_proof.py: every direction of the three-domain models held against the pair
model that learned it alone, the tolerance read the right way for each metric, and a run short of
its budget marked as such."""

import json
import os

from paths import benchmark_module

from munit_tf.evaluation import during_training

proof = benchmark_module("domains_proof")


def _run(root, name, step, minutes, metrics):
    """A run's live ground-truth log, as training writes it: step 0, then its last evaluation."""
    logs = os.path.join(root, name, "logs")
    os.makedirs(logs)
    records = [
        {"step": 0, "train_seconds": 0, "metrics": {}},
        {"step": step, "train_seconds": minutes * 60, "metrics": metrics},
    ]
    with open(os.path.join(logs, during_training.LOG_NAME), "w") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)


def test_each_direction_is_held_against_its_pair_model(tmp_path):
    root = str(tmp_path)
    _run(root, "ab", 750, 25, {"a2b/content_iou": 0.60, "guided_a2b/reference_color_error": 0.2})
    _run(root, "ac", 750, 26, {"c2a/outline_f_score": 0.90, "a2c/style_distance": 0.20})
    three = {
        "a2b/content_iou": 0.57,
        "c2a/outline_f_score": 0.80,
        "guided_a2b/reference_color_error": 0.21,
    }
    _run(root, "abc", 1000, 70, three)
    _run(root, "abc_shared", 250, 18, {"a2b/content_iou": 0.66, "a2c/style_distance": 0.23})

    result = proof.table(root, minutes=20)
    rows = {row["metric"]: row for row in result["rows"]}
    iou = rows["a2b/content_iou"]
    assert iou["pair_model"] == 0.60 and abs(iou["abc_ratio"] - 0.95) < 1e-9 and iou["abc_within"]
    assert iou["abc_shared_within"]  # better than the pair model is within
    outline = rows["c2a/outline_f_score"]  # the ac model's, 0.89x: more than 10% lower
    assert outline["pair_model"] == 0.90 and not outline["abc_within"]
    distance = rows["a2c/style_distance"]  # lower is better: 1.15x the pair's is outside
    assert not distance["higher_is_better"] and not distance["abc_shared_within"]
    guided = rows["guided_a2b/reference_color_error"]  # guided rows come from the pair model ab
    assert guided["pair_model"] == 0.2 and guided["abc_within"]  # 1.05x of a distance
    unpaired = rows["b2c/outline_f_score"]  # no bc run yet: nothing to hold it against
    assert unpaired["pair_model"] is None and "abc_ratio" not in unpaired

    runs = result["runs"]
    assert runs["ab"]["minutes_per_direction"] == 12.5 and runs["ab"]["complete"]
    assert runs["abc"]["minutes_per_direction"] == round(70 / 6, 1) and runs["abc"]["complete"]
    assert not runs["abc_shared"]["complete"] and runs["abc_shared"]["budget_minutes"] == 60
    text = proof.markdown(result)
    assert "0.570 (0.95x, yes)" in text and "0.800 (0.89x, **no**)" in text
    assert "abc_shared: 250 steps, 18.0 min (3.0 per direction; still training, budget 60 min)" in (
        text
    )
