"""Translating image files with an exported SavedModel or a training checkpoint.

The parity of the reference's ``test.py`` (one image, K styles or a reference image) and
``test_batch.py`` (a folder, ``--synchronized``), plus style interpolation strips and grids.
Every path goes through ``serving.TranslatorClient``, so a checkpoint and its export give the
same pixels.
"""

from __future__ import annotations

import io
import os

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from munit_tf import styles
from munit_tf.data import images as image_checks
from munit_tf.errors import InvalidInput, MissingInput, OutputExists, Unwritable
from munit_tf.pixels import to_uint8
from munit_tf.serving.client import TranslatorClient

SEED_STRIDE = 1_000_003  # per-input seeds when styles are not synchronized


def _strip(images: list[np.ndarray]) -> np.ndarray:
    height = max(i.shape[0] for i in images)
    padded = [
        np.pad(i, ((0, height - i.shape[0]), (0, 0), (0, 0)), constant_values=255) for i in images
    ]
    return np.concatenate(padded, axis=1)


def list_inputs(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise MissingInput(f"--input {path}: no such file or folder")
    found = sorted(
        os.path.join(d, n)
        for d, _, names in os.walk(path)
        for n in names
        if image_checks.is_image_path(n)
    )
    if not found:
        raise InvalidInput(f"--input {path}: no images ({', '.join(image_checks.EXTENSIONS)})")
    return found


def _output_name(path: str, root: str) -> str:
    """Relative path of an input under --input, as .png (subfolders kept, never escaping
    --output)."""
    relative = os.path.relpath(path, root) if os.path.isdir(root) else os.path.basename(path)
    return os.path.splitext(relative)[0] + ".png"


def translate_files(
    model: str,
    input_path: str,
    output: str,
    *,
    direction: str | None = None,
    source: str | None = None,
    target: str | None = None,
    num_styles: int = 10,
    seed: int = 0,
    reference: str | None = None,
    synchronized: bool = False,
    interpolate: int = 0,
    grid: bool = False,
    batch_size: int = 8,
    overwrite: bool = False,
    log=print,
) -> dict:
    """Translate every image of ``input_path``, in ``direction`` (``a2b``) or from ``source``
    to ``target`` (domain names); by default from the model's first domain to its second.

    Returns ``{"written": [paths], "failed": {path: reason}}``.

    Layout: ``OUTPUT/style_JJ/NAME.png`` per style (or ``OUTPUT/NAME.png`` grids with ``grid``),
    ``OUTPUT/NAME.png`` with ``reference``, ``OUTPUT/interpolation/NAME.png`` with ``interpolate``.
    """
    if direction is not None and (source or target):
        raise InvalidInput("give --direction or --source-domain/--target-domain, not both")
    if not 1 <= num_styles <= 64:
        raise InvalidInput(f"--num-styles must be between 1 and 64; got {num_styles}")
    if interpolate and interpolate < 2:
        raise InvalidInput(f"--interpolate needs at least 2 steps; got {interpolate}")
    if reference and not os.path.isfile(reference):
        raise MissingInput(f"--reference {reference}: no such file")
    files = list_inputs(input_path)
    if os.path.isdir(output) and os.listdir(output) and not overwrite:
        raise OutputExists(f"--output {output} is not empty; pass --overwrite to write into it")
    client = TranslatorClient(model)
    # default: the model's first domain to its second (a2b)
    direction = client.direction(direction, source, target)
    written, failed = [], {}

    root = os.path.realpath(output)

    def save(image: np.ndarray, *parts: str) -> None:
        target = os.path.join(output, *parts)
        # e.g. a symlink planted in --output
        if os.path.commonpath([os.path.realpath(target), root]) != root:
            raise Unwritable(f"refusing to write {target}: it resolves outside --output {output}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Image.fromarray(image).save(target)
        written.append(target)

    reference_image = None
    if reference:
        with open(reference, "rb") as handle:
            reference_image = client.prepare(handle.read())[None]
    codes = None
    if interpolate:
        start, end = styles.sample((2, client.style_dim), seed)
        codes = styles.interpolate(start, end, interpolate)

    def random_styles(numbered: list[tuple[int, str]]) -> None:
        """K random styles per image through the bytes signature, a batch per call.

        The style seed of an input depends on its position in the listing only, so batching and
        retries do not change the output.
        """
        datas, seeds, kept = [], [], []
        for index, path in numbered:
            try:
                with open(path, "rb") as handle:
                    datas.append(handle.read())
            except OSError as error:
                failed[path] = str(error)
                continue
            seeds.append(seed if synchronized else seed * SEED_STRIDE + index)
            kept.append((index, path))
        if not kept:
            return
        try:
            outputs = client.signatures[f"translate_bytes_{direction}"](
                image_bytes=tf.constant(datas),
                num_styles=tf.constant([num_styles]),
                seed=tf.constant(seeds, tf.int64),
            )["output_bytes"].numpy()
        except tf.errors.InvalidArgumentError as error:
            if len(kept) == 1:
                failed[kept[0][1]] = error.message.strip().splitlines()[-1]
                return
            for item in kept:  # one call per image finds the bad file(s) and translates the rest
                random_styles([item])
            return
        for (_, path), data, row in zip(kept, datas, outputs):
            decoded = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in row]
            name = _output_name(path, input_path)
            if grid:
                save(_strip([to_uint8(client.prepare(data))] + decoded), name)
            else:
                for j, translated in enumerate(decoded):
                    save(translated, f"style_{j:02d}", name)

    def guided(path: str) -> None:
        """One image with the reference's style, or along the interpolation strip."""
        name = _output_name(path, input_path)
        try:
            with open(path, "rb") as handle:
                image = client.prepare(handle.read())
            if reference_image is not None:
                out = client.signatures[f"translate_with_reference_{direction}"](
                    images=image[None], reference_images=reference_image
                )["images"]
                save(to_uint8(out[0]), name)
            else:
                out = client.signatures[f"translate_with_style_{direction}"](
                    images=np.repeat(image[None], len(codes), 0), styles=codes
                )["images"]
                save(_strip([to_uint8(image)] + list(to_uint8(out))), "interpolation", name)
        except (tf.errors.InvalidArgumentError, OSError) as error:
            failed[path] = getattr(error, "message", str(error)).strip().splitlines()[-1]

    progress = keras.utils.Progbar(len(files), unit_name="image")
    for first in range(0, len(files), batch_size):
        batch = files[first : first + batch_size]
        if reference_image is None and codes is None:
            random_styles(list(enumerate(batch, start=first)))
        else:
            for path in batch:
                guided(path)
        progress.update(first + len(batch))
    for path, message in failed.items():
        log(f"skipped {path}: {message}")
    log(
        f"wrote {len(written)} images to {output}"
        + (f"; {len(failed)} inputs failed" if failed else "")
    )
    return {"written": written, "failed": failed}
