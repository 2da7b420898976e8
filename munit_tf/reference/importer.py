"""``munit-tf import-reference``: a run folder (and optionally a SavedModel) from reference
files."""

from __future__ import annotations

import os
import re

from munit_tf.reference.key_map import load_reference


def iteration_from_name(path: str) -> int:
    """``gen_00800000.pt`` -> 800000 (the reference names snapshots by iteration); 0 if unnamed."""
    match = re.search(r"(\d{8})\.(pt|npz)$", os.path.basename(path))
    return int(match.group(1)) if match else 0


def import_reference(
    gen_path: str,
    config,
    output: str,
    dis_path: str | None = None,
    export_model: bool = False,
    overwrite: bool = False,
) -> dict:
    """A run folder (config.yaml + a full checkpoint) from reference files; optionally a SavedModel.

    The optimisers start fresh (the reference's ``optimizer.pt`` is not read): their iteration is
    set to the one in the file name, so the learning-rate schedule continues from there, while
    their moments, empty, are bias-corrected from step 1 (``bias_correction_step`` stays 0), so
    the first update is a fresh Adam's and does not kick the imported weights away.
    """
    from munit_tf import serving, training

    training.prepare_output(output, resume=False, overwrite=overwrite)
    model = training.build_model(config)
    load_reference(model, gen_path, dis_path)
    model.reset_averages()  # with train.ema_beta, the average starts at the imported weights
    iteration = iteration_from_name(gen_path)
    model.gen_optimizer.iterations.assign(iteration)
    model.dis_optimizer.iterations.assign(iteration)
    with open(os.path.join(output, "config.yaml"), "w") as handle:
        handle.write(config.to_yaml())
    result = {
        "checkpoint": training.Checkpointer(model, os.path.join(output, "checkpoints")).save(),
        "step": iteration,
    }
    if export_model:
        result["saved_model"] = serving.export(
            model, os.path.join(output, "serving", "1"), overwrite=overwrite
        )
    return result
