"""Checking and normalising one image file: the per-file work of data preparation.

Every file is judged on its own and either becomes 8-bit RGB image bytes, upright as its EXIF
orientation says (phone photos), or gets a reason for rejection; nothing here raises for a bad
file. The pixel count is read from the header before anything is decoded, so a decompression
bomb is refused without allocating it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".gif", ".webp")
DEFAULT_MAX_PIXELS = 50_000_000

# Rejection reasons (also the Beam counter names and rejected.jsonl's "reason" values).
EMPTY = "empty_file"
NOT_AN_IMAGE = "not_an_image"
TRUNCATED = "truncated"
TOO_SMALL = "too_small"
TOO_LARGE = "too_large"
UNREADABLE = "unreadable"
DUPLICATE = "duplicate"


@dataclasses.dataclass(frozen=True)
class Checked:
    """An accepted image: encoded 8-bit RGB bytes, its size, and the hash of the source file."""

    data: bytes
    width: int
    height: int
    sha256: str
    converted: bool  # re-encoded (mode conversion or resize) rather than kept byte for byte


@dataclasses.dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str


def is_image_path(path: str) -> bool:
    return path.lower().endswith(EXTENSIONS)


def _resized(image: Image.Image, shorter_side: int | None) -> Image.Image:
    if not shorter_side or min(image.size) <= shorter_side:
        return image  # never upsample
    scale = shorter_side / min(image.size)
    size = (
        max(shorter_side, round(image.width * scale)),
        max(shorter_side, round(image.height * scale)),
    )
    return image.resize(size, Image.BICUBIC)


def _upright(image: Image.Image) -> Image.Image:
    """The image as a viewer shows it: turned by its EXIF orientation (``image`` itself if none)."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # a malformed EXIF block: show the pixels as stored, as viewers do
        return image
    return ImageOps.exif_transpose(image) if orientation in range(2, 9) else image


def _to_rgb8(image: Image.Image) -> Image.Image:
    """Grayscale (8/16/32-bit), palette, alpha (composited on white) and CMYK images -> 8-bit
    RGB."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode != "F" and array.max(initial=0) > 255 else 255.0
        image = Image.fromarray(
            np.clip(np.round(array * 255.0 / peak), 0, 255).astype(np.uint8), "L"
        )
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def check_image(
    data: bytes, min_size: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS, resize: int | None = None
) -> Checked | Rejected:
    """Decode, validate and normalise one file's bytes."""
    if not data:
        return Rejected(EMPTY, "zero bytes")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                return Rejected(
                    TOO_LARGE, f"{width}x{height} is over the {max_pixels:,}-pixel limit"
                )
            fmt = image.format
            image.load()
    except UnidentifiedImageError:
        return Rejected(NOT_AN_IMAGE, "not an image format this reader knows")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return Rejected(TOO_LARGE, str(error))
    except OSError as error:
        reason = (
            TRUNCATED
            if "truncated" in str(error).lower() or "broken" in str(error).lower()
            else UNREADABLE
        )
        return Rejected(reason, str(error))
    except Exception as error:  # any decoder failure is this file's problem, not the job's
        return Rejected(UNREADABLE, f"{type(error).__name__}: {error}")
    if min(width, height) < min_size:
        return Rejected(TOO_SMALL, f"{width}x{height} is below the {min_size}-pixel minimum side")
    turned = _upright(image)
    rgb = _resized(_to_rgb8(turned), resize)
    keep = (
        fmt in ("JPEG", "PNG")
        and image.mode == "RGB"
        and turned is image
        and rgb.size == (width, height)
        and not getattr(image, "is_animated", False)
    )
    if keep:
        return Checked(data, width, height, sha256, converted=False)
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    return Checked(buffer.getvalue(), rgb.width, rgb.height, sha256, converted=True)
