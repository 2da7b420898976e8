"""The Trainer's ``run_fn``: train MUNIT with ``model.fit()`` and export the serving SavedModel.

``custom_config``: ``munit_config`` (preset or YAML), ``overrides`` (``field=value`` list) and
``strategy``; ``train_args.num_steps`` is the number of training iterations.
"""

from __future__ import annotations

from munit_tf import serving, training
from munit_tf.config import load_config, run_overrides


def run_fn(fn_args) -> None:
    custom = fn_args.custom_config or {}
    overrides = list(custom.get("overrides", [])) + run_overrides(
        fn_args.train_steps, custom.get("strategy")
    )
    config = load_config(custom.get("munit_config", "synthetic"), overrides)
    # Checkpoints, TensorBoard logs and sample grids go to the ModelRun artifact.
    training.train(
        config, list(fn_args.train_files), fn_args.model_run_dir, overwrite=True, verbose=2
    )
    model = training.load_model(fn_args.model_run_dir)
    serving.export(model, fn_args.serving_model_dir, overwrite=True)
