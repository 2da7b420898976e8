"""Mixed precision for the networks and their optimisers (``train.precision``)."""

from __future__ import annotations

import contextlib

import keras


@contextlib.contextmanager
def building_in(policy: str):
    """Layers created inside take the dtype policy ``policy`` (Keras gives sub-layers the global
    policy, not their parent's); the previous global policy is restored afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def for_precision(optimizer, precision: str, name: str):
    """``optimizer`` wrapped in dynamic loss scaling for ``mixed_float16``; as is otherwise."""
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer, name=name)
    return optimizer
