"""The synthetic preset's own speed: seconds per step, images/s and % of the conv peak, for the
batch sizes and widths that its quality-per-minute tuning compares (issue: every step saved is
quality gained). Each point runs ``train_step.py`` in a fresh process, one after another.

    PYTHONPATH=. .venv/bin/python benchmarks/synthetic_speed.py > benchmarks/synthetic_speed.json
    PYTHONPATH=. .venv/bin/python benchmarks/synthetic_speed.py --recipes \\
        > benchmarks/recipe_speed.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
POINTS = (  # (name, batch, overrides)
    ("synthetic, batch 1", 1, []),
    ("synthetic, batch 2", 2, []),
    ("synthetic, batch 4", 4, []),
    ("synthetic, batch 8", 8, []),
    ("synthetic, batch 16", 16, []),
    ("synthetic, batch 8, one D scale", 8, ["dis.num_scales=1"]),
    ("synthetic, batch 8, XLA", 8, ["train.jit_compile=true"]),
    ("synthetic + imaginaire recipe, batch 8", 8, ["+imaginaire"]),
)
LSGAN = "dis.gan_type=lsgan"  # the reference's loss (the preset's own is the hinge loss)
RECIPES = (  # --recipes: the learning curves' recipes at batch 4, for their quality per minute
    ("reference (LSGAN)", 4, [LSGAN]),
    ("hinge (the preset)", 4, []),
    ("hinge, batch 2", 2, []),
    ("reference + spectral norm in D", 4, [LSGAN, "dis.spectral_norm=true"]),
    (
        "reference + spectral norm in G and D",
        4,
        [LSGAN, "dis.spectral_norm=true", "gen.spectral_norm=true"],
    ),
    ("imaginaire", 4, ["+imaginaire"]),
    (
        "imaginaire without G's spectral norm and orthogonal init",
        4,
        ["+imaginaire", "gen.spectral_norm=false", "gen.init=kaiming"],
    ),
)


def measure(batch: int, overrides: list[str]) -> dict:
    config = "synthetic"
    sets = []
    for item in overrides:
        if item.startswith("+"):
            config += item
        else:
            sets += ["--set", item]
    command = [sys.executable, os.path.join(HERE, "train_step.py"), "--config", config]
    command += ["--size", "64", "--batch", str(batch), "--steps", "15", "--warmup", "3", *sets]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{") :])


def main():
    from munit_tf import cpu

    points = RECIPES if "--recipes" in sys.argv[1:] else POINTS
    rows = []
    for name, batch, overrides in points:
        result = measure(batch, overrides)
        rows.append(
            {
                "name": name,
                "batch": batch,
                "overrides": overrides,
                "seconds_per_step": result["seconds_per_iteration"],
                "images_per_second": result["images_per_second"],
                "executed_gflops": result["executed_gflops"],
                "conv_peak_gflops": result["conv_peak_gflops"],
                "percent_of_peak": round(
                    100 * result["executed_gflops"] / result["conv_peak_gflops"], 1
                ),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    machine = {"cpu": cpu.describe(), "onednn_isa": cpu.onednn_isa()}
    print(json.dumps({**machine, "points": rows}, indent=2))


if __name__ == "__main__":
    main()
