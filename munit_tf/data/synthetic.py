"""A two-domain (or three-domain) dataset with known ground truth, rendered from a seed.

Content is a silhouette: a shape family (ellipse, rectangle, triangle, star, cross, hexagon)
at a random position, scale, aspect and rotation. Domain A draws it as a dark outline on a light
background (one look per content, like edge maps); domain B fills it with a random style (two
clearly different colours, a texture: solid, stripes, checks, gradient or noise, with a random
frequency and angle) on a plain light background (many looks per content, like photos). The
texture is laid out on the shape itself (its frequency counts periods across the shape; a
gradient or noise spans both colours within the shape), so that every texture class can be told
from the image: one drawn across the whole image would show a small shape a single stripe, or a
gradient too faint to see (version 1 did, and a classifier told its textures apart in only two
thirds of held-out images). A third domain, C, for more than two domains, draws the outline as a
dotted line of one random colour and dot spacing (the silhouette again, in a third look).

Every example is a pure function of (seed, split, domain, index), so the silhouette mask and the
style parameters kept beside each image let evaluation score content preservation and style
exactly, and ``render_pair`` draws one content in both domains (a paired ground truth).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from PIL import Image, ImageDraw

FAMILIES = ("ellipse", "rectangle", "triangle", "star", "cross", "hexagon")
TEXTURES = ("solid", "stripes", "checks", "gradient", "noise")
SPLITS = ("train", "test")
DOMAINS = ("a", "b", "c")  # prepared data has a and b unless asked for c
BACKGROUND = np.array([0.93, 0.93, 0.91])  # the light background of both domains
OUTLINE_COLOR = np.array([0.08, 0.08, 0.1])
SUPERSAMPLE = 4
VERSION = 2  # of the rendering: recorded in the manifest of prepared synthetic data
MIN_COLOR_DISTANCE = 0.5  # RGB distance in [0, 1] between a style's two colours


@dataclasses.dataclass(frozen=True)
class Content:
    family: int
    center_x: float  # in [0, 1] of the image width
    center_y: float
    scale: float  # radius as a fraction of the image size
    aspect: float
    rotation: float  # radians

    def vector(self) -> list[float]:
        return [float(v) for v in dataclasses.astuple(self)]


@dataclasses.dataclass(frozen=True)
class Style:
    texture: int
    color1: tuple
    color2: tuple
    frequency: float  # texture periods across the shape
    angle: float  # radians

    def vector(self) -> list[float]:
        return [float(self.texture), *self.color1, *self.color2, self.frequency, self.angle]


def _rng(seed: int, split: str, domain: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLITS.index(split), DOMAINS.index(domain), index])


def sample_content(rng: np.random.Generator) -> Content:
    scale = rng.uniform(0.18, 0.28)
    margin = scale * math.sqrt(2) + 0.02  # a rotated square's corner stays inside the image
    return Content(
        family=int(rng.integers(len(FAMILIES))),
        center_x=rng.uniform(margin, 1 - margin),
        center_y=rng.uniform(margin, 1 - margin),
        scale=scale,
        aspect=rng.uniform(0.65, 1.0),
        rotation=rng.uniform(0, 2 * math.pi),
    )


def _saturated_color(rng: np.random.Generator) -> tuple:
    hue, value = rng.uniform(0, 1), rng.uniform(0.35, 0.85)
    rgb = np.clip(np.abs(((hue * 6 + np.array([0, 4, 2])) % 6) - 3) - 1, 0, 1)  # HSV with S = 1
    return tuple(float(c) for c in rgb * value + (1 - value) * 0.1)


def sample_style(rng: np.random.Generator) -> Style:
    texture, color1 = int(rng.integers(len(TEXTURES))), _saturated_color(rng)
    color2 = _saturated_color(rng)
    while np.linalg.norm(np.subtract(color1, color2)) < MIN_COLOR_DISTANCE:
        color2 = _saturated_color(rng)  # two colours that look alike hide the texture
    return Style(texture, color1, color2, rng.uniform(1.5, 4.0), rng.uniform(0, math.pi))


@dataclasses.dataclass(frozen=True)
class Dots:
    """Domain C's style: the dots' colour and their spacing along the outline (in dot widths)."""

    color: tuple
    spacing: float

    def vector(self) -> list[float]:
        return [*self.color, self.spacing]


def sample_dots(rng: np.random.Generator) -> Dots:
    return Dots(_saturated_color(rng), float(rng.uniform(1.6, 3.2)))


def _outline(content: Content, size: int) -> list[tuple]:
    """Polygon vertices (pixels) of the silhouette."""
    family = FAMILIES[content.family]
    if family == "ellipse":
        points = [
            (math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 72, endpoint=False)
        ]
    elif family == "rectangle":
        points = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    elif family == "triangle":
        points = [(math.cos(t), math.sin(t)) for t in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif family == "star":
        points = [
            (
                (1 if k % 2 == 0 else 0.45) * math.cos(k * math.pi / 5 - math.pi / 2),
                (1 if k % 2 == 0 else 0.45) * math.sin(k * math.pi / 5 - math.pi / 2),
            )
            for k in range(10)
        ]
    elif family == "cross":
        a = 0.35
        points = [
            (-a, -1),
            (a, -1),
            (a, -a),
            (1, -a),
            (1, a),
            (a, a),
            (a, 1),
            (-a, 1),
            (-a, a),
            (-1, a),
            (-1, -a),
            (-a, -a),
        ]
    else:  # hexagon
        points = [(math.cos(k * math.pi / 3), math.sin(k * math.pi / 3)) for k in range(6)]
    cos, sin = math.cos(content.rotation), math.sin(content.rotation)
    radius = content.scale * size
    out = []
    for x, y in points:
        x, y = x * radius, y * radius * content.aspect
        out.append(
            (
                content.center_x * size + x * cos - y * sin,
                content.center_y * size + x * sin + y * cos,
            )
        )
    return out


def _rasterize(polygon: list[tuple], size: int, outline_width: float = 0.0) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of the filled polygon, or of its outline if a width is
    given."""
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    scaled = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in polygon]
    draw = ImageDraw.Draw(big)
    if outline_width:
        draw.polygon(scaled, outline=255, width=max(1, round(outline_width * SUPERSAMPLE)))
    else:
        draw.polygon(scaled, fill=255)
    return np.asarray(big.resize((size, size), Image.BOX), dtype=np.float32) / 255.0


def silhouette_mask(content: Content, size: int) -> np.ndarray:
    """Binary (H, W) uint8 mask of the content: 1 inside the shape."""
    return (_rasterize(_outline(content, size), size) >= 0.5).astype(np.uint8)


def outline_width(size: int) -> float:
    return max(1.0, size / 48)


def _texture(
    style: Style, content: Content, inside: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(H, W, 3) colours of the style laid out on the content's shape (``inside``, its boolean
    (H, W) silhouette): u and v run from -0.5 to 0.5 across the shape's diameter, along the
    style's angle and across it."""
    size = inside.shape[0]
    y, x = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size
    x, y = x - content.center_x, y - content.center_y
    diameter = 2 * content.scale
    u = (x * math.cos(style.angle) + y * math.sin(style.angle)) / diameter
    v = (-x * math.sin(style.angle) + y * math.cos(style.angle)) / diameter
    name, f = TEXTURES[style.texture], style.frequency
    if name == "solid":
        t = np.zeros_like(u)
    elif name == "stripes":
        t = (np.sin(2 * math.pi * f * u) > 0).astype(np.float32)
    elif name == "checks":
        t = (np.sin(2 * math.pi * f * u) * np.sin(2 * math.pi * f * v) > 0).astype(np.float32)
    else:
        if name == "gradient":
            t = u
        else:  # noise: smooth value noise, about `frequency` + 1 cells across the shape
            cells = int(round(f)) + 1
            grid = rng.uniform(0, 1, (cells + 2, cells + 2))
            t = _bilinear(
                grid,
                np.clip((u + 0.5) * cells + 0.5, 0, cells + 1),
                np.clip((v + 0.5) * cells + 0.5, 0, cells + 1),
            )
        # stretched to [0, 1] over the shape: both colours show, whatever the shape's form
        low, high = t[inside].min(), t[inside].max()
        t = np.clip((t - low) / max(high - low, 1e-6), 0, 1)
    c1, c2 = np.array(style.color1, np.float32), np.array(style.color2, np.float32)
    return c1 * (1 - t[..., None]) + c2 * t[..., None]


def _bilinear(grid: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``grid`` sampled at fractional (row ``i``, column ``j``) positions."""
    i0 = np.minimum(np.floor(i).astype(int), grid.shape[0] - 2)
    j0 = np.minimum(np.floor(j).astype(int), grid.shape[1] - 2)
    di, dj = i - i0, j - j0
    top = grid[i0, j0] * (1 - dj) + grid[i0, j0 + 1] * dj
    bottom = grid[i0 + 1, j0] * (1 - dj) + grid[i0 + 1, j0 + 1] * dj
    return (top * (1 - di) + bottom * di).astype(np.float32)


def render_a(content: Content, size: int) -> np.ndarray:
    """Domain A: a dark outline of the silhouette on the light background, uint8 (H, W, 3)."""
    coverage = _rasterize(_outline(content, size), size, outline_width(size))[..., None]
    image = BACKGROUND * (1 - coverage) + OUTLINE_COLOR * coverage
    return np.round(image * 255).astype(np.uint8)


def render_b(content: Content, style: Style, size: int, rng: np.random.Generator) -> np.ndarray:
    """Domain B: the silhouette filled with the style's texture on the light background."""
    coverage = _rasterize(_outline(content, size), size)  # thresholded, the silhouette_mask
    texture = _texture(style, content, coverage >= 0.5, rng)
    coverage = coverage[..., None]
    image = BACKGROUND * (1 - coverage) + texture * coverage
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _points_along(polygon: list[tuple], spacing: float) -> list[tuple]:
    """Points every ``spacing`` pixels along the closed ``polygon``."""
    points, carried = [], 0.0
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1]):
        length = math.hypot(x1 - x0, y1 - y0)
        t = carried
        while t < length:
            points.append((x0 + (x1 - x0) * t / length, y0 + (y1 - y0) * t / length))
            t += spacing
        carried = t - length
    return points


def render_c(content: Content, dots: Dots, size: int) -> np.ndarray:
    """Domain C: the silhouette's outline as coloured dots on the light background."""
    width = outline_width(size) * 1.5  # a dot's diameter
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    radius = width * SUPERSAMPLE / 2
    for x, y in _points_along(_outline(content, size), dots.spacing * width):
        x, y = x * SUPERSAMPLE, y * SUPERSAMPLE
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    coverage = np.asarray(big.resize((size, size), Image.BOX), np.float32)[..., None] / 255.0
    image = BACKGROUND * (1 - coverage) + np.asarray(dots.color) * coverage
    return np.round(image * 255).astype(np.uint8)


def example(domain: str, index: int, seed: int = 0, size: int = 64, split: str = "train") -> dict:
    """One image of ``domain`` with its ground truth (unpaired: each domain has its own
    contents)."""
    rng = _rng(seed, split, domain, index)
    content = sample_content(rng)
    if domain == "a":
        image, style = render_a(content, size), None
    elif domain == "c":
        style = sample_dots(rng)
        image = render_c(content, style, size)
    else:
        style = sample_style(rng)
        image = render_b(content, style, size, rng)
    return {
        "id": f"synthetic-{split}-{domain}-{index:06d}",
        "domain": domain,
        "image": image,
        "mask": silhouette_mask(content, size),
        "content": content.vector(),
        "style": style.vector() if style else [],
    }


def render_pair(
    index: int, seed: int = 0, size: int = 64, split: str = "test", style_seed: int | None = None
):
    """One content drawn in both domains: (image_a, image_b, mask, style). Paired ground truth."""
    rng = _rng(seed, split, "a", index)
    content = sample_content(rng)
    style_rng = np.random.default_rng([seed if style_seed is None else style_seed, 7, index])
    style = sample_style(style_rng)
    return (
        render_a(content, size),
        render_b(content, style, size, style_rng),
        silhouette_mask(content, size),
        style,
    )
