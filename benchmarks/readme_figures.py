"""The README's pictures, from one checkpoint of a learning curve (the best recipe's):

    PYTHONPATH=. .venv/bin/python benchmarks/readme_figures.py runs/curves/NAME [--step N]

writes ``docs/content_style.png`` (test outlines, each in the same eight random styles),
``docs/example_guided.png`` (test outlines in the styles of test B images) and
``docs/figures.json`` (which run, step, training minutes and machine made them), so that the
README states where its pictures come from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from munit_tf import styles, training  # noqa: E402
from munit_tf.evaluation import during_training, protocol  # noqa: E402
from munit_tf.pixels import to_uint8  # noqa: E402
from munit_tf.serving.client import TranslatorClient  # noqa: E402

DOCS = os.path.join(ROOT, "docs")


def _save(image: np.ndarray, path: str, scale: int = 2) -> str:
    picture = Image.fromarray(to_uint8(image))
    picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST).save(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a convergence.py run folder")
    parser.add_argument("--step", type=int, help="a kept checkpoint (default: the last)")
    parser.add_argument("--data", help="prepared synthetic data (default: beside the run)")
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--styles", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    checkpoints = os.path.join(args.run, "checkpoints")
    path = os.path.join(checkpoints, f"ckpt-{args.step}") if args.step else checkpoints
    model = training.load_model(path if args.step else args.run)
    step = int(model.step.numpy())
    client = TranslatorClient(model, lazy=True)
    data = args.data or os.path.join(
        os.path.dirname(os.path.abspath(args.run)), f"data-{model.config.data.new_size}"
    )
    a = protocol.load_domain(client, data, "a", args.rows)["images"]
    b = protocol.load_domain(client, data, "b", args.styles)["images"]
    codes = styles.sample((args.styles, client.style_dim), args.seed)
    outputs = protocol.translate_styles(client, "a2b", a, np.repeat(codes[None], len(a), 0))
    os.makedirs(DOCS, exist_ok=True)
    rows = [np.concatenate([a[i], *outputs[i]], axis=1) for i in range(len(a))]
    written = [_save(np.concatenate(rows, axis=0), os.path.join(DOCS, "content_style.png"))]
    matrix = protocol.reference_matrix(client, a, b)
    grid = protocol.reference_grid(a, b, matrix)
    written.append(_save(grid, os.path.join(DOCS, "example_guided.png")))
    record = next(
        (r for r in during_training.read_log(os.path.join(args.run, "logs")) if r["step"] == step),
        None,
    )
    curve = os.path.join(args.run, "curve.json")
    machine = json.load(open(curve))["machine"] if os.path.exists(curve) else None
    info = {
        "run": os.path.basename(os.path.abspath(args.run)),
        "config": model.config.name,
        "step": step,
        "training_minutes": round(record["train_seconds"] / 60, 1) if record else None,
        "machine": machine,
        "style_seed": args.seed,
        "figures": [os.path.relpath(p, ROOT) for p in written],
    }
    with open(os.path.join(DOCS, "figures.json"), "w") as handle:
        json.dump(info, handle, indent=2)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
