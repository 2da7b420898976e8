"""The reference's display grid: for each direction, rows of input, reconstruction, translation with
fixed styles and translation with random styles, one column per display image."""

from __future__ import annotations

import numpy as np
from PIL import Image

from munit_tf.model import generators
from munit_tf.pixels import to_uint8


def sample_rows(model, x_a, x_b, fixed_s_a, fixed_s_b, seed: int = 0) -> dict:
    """``trainer.sample()``: {"a2b": [x_a, recon, fixed-style, random-style], "b2a": [...]}, by
    the generators that translate (the averaged ones with ``train.ema_beta``)."""
    rows = {}
    for direction, x, fixed in (("a2b", x_a, fixed_s_b), ("b2a", x_b, fixed_s_a)):
        gen_src, gen_tgt = generators(model.inference_generators, direction)
        content, style = gen_src.encode(x)
        random_styles = model.sample_styles(len(x), seed)
        rows[direction] = [
            x,
            gen_src.decode(content, style),
            gen_tgt.decode(content, fixed[: len(x)]),
            gen_tgt.decode(content, random_styles),
        ]
    return rows


def grid(rows) -> np.ndarray:
    """A list of (N, H, W, C) batches -> one uint8 image, a batch per row."""
    lines = [np.concatenate(list(to_uint8(batch)), axis=1) for batch in rows]
    image = np.concatenate(lines, axis=0)
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def save_png(image: np.ndarray, path: str) -> str:
    Image.fromarray(image).save(path)
    return path
