"""Mixed precision for the networks and their optimisers (``train.precision``)."""

from __future__ import annotations

import contextlib

import keras

from munit_tf import cpu


def resolve(name: str, cpuinfo: str | None = None) -> str:
    """``auto``: the fastest precision this CPU really has (``cpu.fastest_precision``); any other
    name as it is. A model keeps ``auto`` in its config and resolves it where it is built, so a
    saved model trained in bfloat16 runs in float32 on a CPU without it."""
    return cpu.fastest_precision(cpuinfo) if name == "auto" else name


def start_message(name: str, cpuinfo: str | None = None) -> str | None:
    """The one line training prints about its precision: a warning when it is emulated on this
    CPU, what ``auto`` chose, or nothing."""
    cpuinfo = cpu.read_cpuinfo(cpuinfo)  # read once for the three questions below
    resolved = resolve(name, cpuinfo)
    warning = cpu.precision_warning(resolved, cpuinfo)
    if warning:
        return f"warning: {warning}"
    if name == "auto":
        return f"train.precision=auto: {resolved} on this CPU ({cpu.describe(cpuinfo)})"
    return None


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
