"""The reference's display grid: for each direction, rows of input, reconstruction, translation with
fixed styles and translation with random styles, one column per display image."""

from __future__ import annotations

import itertools

import numpy as np
from PIL import Image

from munit_tf.pixels import to_uint8


def sample_rows(model, images: dict, fixed_styles: dict, seed: int = 0) -> dict:
    """``trainer.sample()``: {"a2b": [x_a, recon, fixed-style, random-style], "b2a": [...]} (every
    direction between the model's domains), by the generators that translate (the averaged ones
    with ``train.ema_beta``). ``images`` and ``fixed_styles``: per domain."""
    rows = {}
    for source, target in itertools.permutations(model.domains, 2):
        x = images[source]
        gen_src, gen_tgt = model.generator(source), model.generator(target)
        content, style = gen_src.encode(x)
        random_styles = model.sample_styles(len(x), seed)
        rows[f"{source}2{target}"] = [
            x,
            gen_src.decode(content, style),
            gen_tgt.decode(content, fixed_styles[target][: len(x)]),
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
