"""One MUNIT iteration's update: our Adam and Keras' Adam against ``torch.optim.Adam`` itself.

    python benchmarks/adam_vs_torch.py --torch-python /path/to/python-with-torch \\
        [--config edges2shoes]

Runs one real training iteration of the preset (random images, fixed seed) and records each
optimiser's parameters and gradients (coupled weight decay included, as the model adds it to the
loss). Those same gradients are then applied by three optimisers from the same state: ours
(``epsilon_placement="pytorch"``, the default), ``keras.optimizers.Adam``, and PyTorch's Adam, run
by the given interpreter (torch is not a dependency of munit-tf). For a fresh run (t = 1) and
after an ``import-reference`` at iteration 99,999 (fresh moments), it reports how far each
update is from PyTorch's: the difference's norm relative to PyTorch's update, and the share of
elements off by more than 1e-3 of the learning rate. Writes ``adam_vs_torch.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

IMPORTED_AT = 99_999


def _torch_updates(path: str) -> None:
    """In the torch interpreter: PyTorch's first update of every recorded tensor, at the given
    lr."""
    import torch

    data = dict(np.load(path))
    lr, beta_1, beta_2, eps = (float(x) for x in data["hyperparameters"])
    out = {}
    for group in ("gen", "dis"):
        names = sorted(k for k in data if k.startswith(f"{group}/before/"))
        tensors = [torch.tensor(data[name], requires_grad=True) for name in names]
        optimizer = torch.optim.Adam(tensors, lr=lr, betas=(beta_1, beta_2), eps=eps)
        for name, tensor in zip(names, tensors):
            tensor.grad = torch.tensor(data[name.replace("/before/", "/grad/")])
        optimizer.step()
        for name, tensor in zip(names, tensors):
            out[name.replace("/before/", "/after/")] = tensor.detach().numpy()
    np.savez(path + ".torch.npz", **out)


def _record_iteration(config_name: str, size: int, seed: int):
    """(hyperparameters, {group: [(before, grad)]}) of one training iteration."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    from munit_tf import optimizers
    from munit_tf.config import load_config
    from munit_tf.model import MUNIT

    class Recording(optimizers.Adam):
        def apply(self, grads, trainable_variables=None):
            self.recorded = [
                (v.numpy().copy(), np.asarray(g)) for g, v in zip(grads, trainable_variables)
            ]
            super().apply(grads, trainable_variables)

    config = load_config(
        config_name, [f"data.crop_size={size}", f"data.new_size={size}", f"train.seed={seed}"]
    )
    keras.utils.set_random_seed(seed)
    model = MUNIT(config)
    rate = optimizers.learning_rate(config.optim)
    o = config.optim
    model.compile(
        gen_optimizer=Recording(rate, o.beta1, o.beta2, o.epsilon, name="gen_optimizer"),
        dis_optimizer=Recording(rate, o.beta1, o.beta2, o.epsilon, name="dis_optimizer"),
    )
    rng = np.random.default_rng(seed)
    batch = [
        tf.constant(rng.uniform(-1, 1, (config.train.batch_size, size, size, 3)).astype("float32"))
        for _ in range(2)
    ]
    model.train_step(batch)
    return config.optim, {"gen": model.gen_optimizer.recorded, "dis": model.dis_optimizer.recorded}


def _tf_update(make, recorded, iterations: int):
    import keras

    variables = [keras.Variable(before) for before, _ in recorded]
    optimizer = make()
    optimizer.build(variables)
    optimizer.iterations.assign(iterations)
    optimizer.apply_gradients(zip([grad for _, grad in recorded], variables))
    return [v.numpy() for v in variables]


def _distance(ours, torch_after, recorded, lr) -> dict:
    diff = np.concatenate([(a - t).ravel() for a, t in zip(ours, torch_after)])
    reference = np.concatenate(
        [(t - before).ravel() for t, (before, _) in zip(torch_after, recorded)]
    )
    update = np.concatenate([(a - before).ravel() for a, (before, _) in zip(ours, recorded)])
    return {
        "relative_difference": float(np.linalg.norm(diff) / np.linalg.norm(reference)),
        "share_off_by_1e-3_lr": float(np.mean(np.abs(diff) > 1e-3 * lr)),
        "update_norm_ratio": float(np.linalg.norm(update) / np.linalg.norm(reference)),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--torch-python", help="a Python interpreter with torch installed")
    parser.add_argument("--config", default="edges2shoes")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output",
        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "adam_vs_torch.json"),
    )
    parser.add_argument("--torch-stage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.torch_stage:
        return _torch_updates(args.torch_stage)
    if not args.torch_python:
        parser.error("--torch-python is required (an interpreter where `import torch` works)")

    import keras

    from munit_tf import cpu, optimizers

    o, recorded = _record_iteration(args.config, args.size, args.seed)
    schedule = optimizers.learning_rate(o)
    results = {
        "cpu": cpu.describe(),
        "config": args.config,
        "size": args.size,
        "seed": args.seed,
        "cases": {},
    }
    for case, iterations in (
        ("fresh run, t = 1", 0),
        (f"after import at iteration {IMPORTED_AT:,}", IMPORTED_AT),
    ):
        lr = float(schedule(iterations)) if callable(schedule) else float(schedule)
        makers = {
            "munit_tf.optimizers.Adam": lambda: optimizers.Adam(
                schedule, o.beta1, o.beta2, o.epsilon
            ),
            "keras.optimizers.Adam": lambda: keras.optimizers.Adam(
                schedule, o.beta1, o.beta2, o.epsilon
            ),
        }
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "recorded.npz")
            arrays = {"hyperparameters": np.array([lr, o.beta1, o.beta2, o.epsilon])}
            for group, pairs in recorded.items():
                for index, (before, grad) in enumerate(pairs):
                    arrays[f"{group}/before/{index:05d}"], arrays[f"{group}/grad/{index:05d}"] = (
                        before,
                        grad,
                    )
            np.savez(path, **arrays)
            subprocess.run(
                [args.torch_python, os.path.abspath(__file__), "--torch-stage", path], check=True
            )
            torch_after = dict(np.load(path + ".torch.npz"))
        rows = {}
        for name, make in makers.items():
            for group, pairs in recorded.items():
                theirs = [torch_after[f"{group}/after/{index:05d}"] for index in range(len(pairs))]
                rows[f"{name} / {group}"] = _distance(
                    _tf_update(make, pairs, iterations), theirs, pairs, lr
                )
        results["cases"][case] = {"learning_rate": lr, "rows": rows}
    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2)
    for case, body in results["cases"].items():
        print(f"\n{case} (lr {body['learning_rate']:.3g}):")
        print(
            f"  {'optimiser / network':34} {'|Δ| / |torch update|':>21} {'share > 1e-3 lr':>16} "
            f"{'|update| ratio':>15}"
        )
        for name, row in body["rows"].items():
            print(
                f"  {name:34} {row['relative_difference']:21.2e} "
                f"{row['share_off_by_1e-3_lr']:16.1%} {row['update_norm_ratio']:15.3f}"
            )
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
