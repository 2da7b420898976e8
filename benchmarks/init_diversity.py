"""How much the style code moves a freshly initialised generator, per recipe part: a2b and b2a
diversity at step 0 on the synthetic test split (the curves' protocol, one evaluation seed).

    PYTHONPATH=. .venv/bin/python benchmarks/init_diversity.py > benchmarks/init_diversity.json

Why: the imaginaire recipe learns the content far sooner but ignores the style; a generator
whose style path starts almost silent (tiny AdaIN parameters) has to grow it against losses that
are already met without it. This measures which part silences it, before any training.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import keras  # noqa: E402

from munit_tf import cpu, training  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.data import prepare  # noqa: E402
from munit_tf.evaluation import protocol  # noqa: E402
from munit_tf.serving.client import TranslatorClient  # noqa: E402

VARIANTS = (  # (name, config, overrides)
    ("reference init (kaiming G, N(0, 0.02) D)", "synthetic", []),
    ("spectral norm in G", "synthetic", ["gen.spectral_norm=true"]),
    ("orthogonal init in G", "synthetic", ["gen.init=orthogonal"]),
    ("imaginaire", "synthetic+imaginaire", []),
)  # D's settings do not touch a fresh G's translations, so no D-only variant


def main(data: str = "runs/curves/data-64", seeds=(0, 1, 2)):
    prepare.ensure_synthetic(data, 64, 2000)
    rows = []
    for name, config, overrides in VARIANTS:
        values = {"a2b/diversity": [], "b2a/diversity": []}
        for seed in seeds:  # initialisation seeds
            keras.utils.set_random_seed(seed)
            model = training.build_model(load_config(config, overrides))
            client = TranslatorClient(model, lazy=True)
            domains = {d: protocol.load_domain(client, data, d, 32) for d in "ab"}
            scores = protocol.ground_truth_scores(client, domains, 8, [0], 2)
            for key in values:
                values[key].append(round(scores[key]["mean"], 4))
        rows.append({"name": name, "config": config, "overrides": overrides, **values})
        print(json.dumps(rows[-1]), file=sys.stderr)
    result = {"cpu": cpu.describe(), "init_seeds": list(seeds), "variants": rows}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
