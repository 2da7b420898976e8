"""Style codes outside the graph: draws from the prior N(0, I) and paths between two codes.

The training step draws its own codes in the graph (``model.MUNIT._random_styles``, from the
step) and the serving signatures from each request's seed; these are the NumPy ones that
sample grids, ``translate`` and ``evaluate`` use.
"""

from __future__ import annotations

import numpy as np

from munit_tf.errors import InvalidInput


def sample(shape, seed=None) -> np.ndarray:
    """float32 N(0, I) codes of ``shape`` (..., style_dim); ``seed`` is an int, None or a
    ``np.random.Generator`` whose stream continues."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.standard_normal(shape).astype("float32")


def interpolate(start, end, steps: int, method: str = "linear") -> np.ndarray:
    """``steps`` codes from ``start`` to ``end`` (both ends included); ``slerp`` for spherical."""
    start, end = np.asarray(start, "float32"), np.asarray(end, "float32")
    t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    if method == "linear":
        return (1 - t) * start + t * end
    if method != "slerp":
        raise InvalidInput(f"method must be 'linear' or 'slerp'; got {method!r}")
    cos = np.dot(start, end) / max(np.linalg.norm(start) * np.linalg.norm(end), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * start + t * end
    return (np.sin((1 - t) * omega) * start + np.sin(t * omega) * end) / np.sin(omega)
