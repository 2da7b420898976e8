"""Does mixed_bfloat16 train as well as float32? Same data, steps and seeds; metrics compared to
noise.

    PYTHONPATH=. .venv/bin/python benchmarks/precision_quality.py --steps 600  # ~25 min, 2 cores
    PYTHONPATH=. .venv/bin/python benchmarks/precision_quality.py --seeds 2 3 > more.json
    PYTHONPATH=. .venv/bin/python benchmarks/precision_quality.py --merge first.json more.json

Trains the `synthetic` preset (the demo's budget) once per precision and training seed, evaluates
each run with the synthetic benchmark (ground-truth content IoU, outline F-score, diversity,
style distance; 3 evaluation seeds), and prints per metric the mean of each precision, their
difference, and the noise: the spread between float32 runs that differ only in their training
seed. "Unchanged within noise" means |bf16 - fp32| <= that spread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from munit_tf import evaluation  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.data import prepare  # noqa: E402
from munit_tf.training import train  # noqa: E402


def run(precision: str, seed: int, steps: int, data: str, work: str) -> dict:
    config = load_config(
        "synthetic",
        [
            f"train.precision={precision}",
            f"train.seed={seed}",
            f"train.max_iter={steps}",
            f"train.snapshot_save_iter={steps}",
            f"train.image_save_iter={steps}",
        ],
    )
    output = os.path.join(work, f"{precision}-{seed}")
    start = time.perf_counter()
    train(config, data, output, verbose=0)
    seconds = time.perf_counter() - start
    options = evaluation.EvalOptions(num_inputs=64, inception_weights="none", vgg_weights="none")
    result = evaluation.evaluate(
        output, data, os.path.join(output, "eval"), options, log=lambda *_: None
    )
    values = {
        f"{direction}/{name}": summary["mean"]
        for direction in ("a2b", "b2a")
        for name, summary in result["metrics"][direction].items()
    }
    return {"seconds": round(seconds, 1), "metrics": values}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="munit-precision-")
    data = prepare.ensure_synthetic(os.path.join(work, "data"), 64, log=lambda *_: None)
    runs = {
        (precision, seed): run(precision, seed, args.steps, data, work)
        for precision in ("float32", "mixed_bfloat16")
        for seed in args.seeds
    }
    names = sorted({name for r in runs.values() for name in r["metrics"]})
    table = compare(
        {name: [runs["float32", s]["metrics"][name] for s in args.seeds] for name in names},
        {name: [runs["mixed_bfloat16", s]["metrics"][name] for s in args.seeds] for name in names},
    )
    print(
        json.dumps(
            {
                "steps": args.steps,
                "seeds": args.seeds,
                "metrics": table,
                "train_seconds": {f"{p}-{s}": r["seconds"] for (p, s), r in runs.items()},
            },
            indent=2,
        )
    )


def compare(fp32: dict, bf16: dict) -> dict:
    """Per metric: each precision's values (one per training seed), their difference of means and
    the float32 runs' spread, the noise it is judged against."""
    table = {}
    for name in fp32:
        difference = float(np.mean(bf16[name]) - np.mean(fp32[name]))
        noise = float(np.ptp(fp32[name]))
        table[name] = {
            "float32": [round(v, 4) for v in fp32[name]],
            "mixed_bfloat16": [round(v, 4) for v in bf16[name]],
            "difference_of_means": round(difference, 4),
            "float32_seed_spread": round(noise, 4),
            "within_noise": abs(difference) <= noise,
        }
    return table


def merge(paths: list) -> dict:
    """``--merge A.json B.json``: one table from runs on other seeds (same code and steps), so more
    seeds can be added without training the first ones again."""
    results = [json.load(open(path)) for path in paths]
    if len({r["steps"] for r in results}) != 1:
        raise SystemExit("--merge: the results were trained for different numbers of steps")
    seeds = [seed for r in results for seed in r["seeds"]]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"--merge: a training seed appears twice ({seeds})")
    values = {
        precision: {
            name: [v for r in results for v in r["metrics"][name][precision]]
            for name in results[0]["metrics"]
        }
        for precision in ("float32", "mixed_bfloat16")
    }
    return {
        "steps": results[0]["steps"],
        "seeds": seeds,
        "metrics": compare(values["float32"], values["mixed_bfloat16"]),
        "train_seconds": {k: v for r in results for k, v in r.get("train_seconds", {}).items()},
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--merge"]:
        print(json.dumps(merge(sys.argv[2:]), indent=2))
    else:
        main()
