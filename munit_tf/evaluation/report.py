"""A self-contained HTML evaluation report: every picture embedded as a PNG data URI."""

from __future__ import annotations

import base64
import html
import json

import numpy as np
from PIL import Image

from munit_tf.pixels import png_bytes

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; } td:nth-child(-n+2), th:nth-child(-n+2) { text-align: left; }
img { image-rendering: pixelated; max-width: 100%; } .note { color: #666; font-size: 0.9em; }
"""

# Lets a headless browser (and a test) confirm that every picture decoded.
CHECK_IMAGES = """
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.title = 'munit-tf report: ' + ok + '/' + images.length + ' images loaded';
});
"""


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    picture = Image.fromarray(image)
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return "data:image/png;base64," + base64.b64encode(png_bytes(np.asarray(picture))).decode()


def _figure(title: str, image: np.ndarray, caption: str, scale: int) -> str:
    return (
        f"<h2>{html.escape(title)}</h2><p class='note'>{html.escape(caption)}</p>"
        f"<img alt='{html.escape(title)}' src='{png_data_uri(image, scale)}'>"
    )


def describe(value) -> str:
    """A metric as text: ``0.4213 ± 0.0102 (3 seeds)``, ``0.4213 (1 seed)`` (a single value has
    no spread to show), ``0.21 ± 0.08 (16 pairs)``, a plain number, or anything else as it is."""
    if isinstance(value, dict) and "mean" in value:
        n, over = value.get("n", 0), value.get("over", "seeds")
        if n == 1:
            return f"{value['mean']:.4f} (1 {over.rstrip('s')})"
        return f"{value['mean']:.4f} ± {value['std']:.4f}" + (f" ({n} {over})" if n else "")
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _bound(values: dict | None) -> str:
    """``{name: value}`` of floors or ceilings as ``0.05 input, 0.31 mean_colour_fill``."""
    if not values:
        return ""
    return ", ".join(f"{describe(v).split(' (')[0]} {name}" for name, v in values.items())


def metric_rows(result: dict) -> list[tuple[str, str, str, str, str]]:
    """(group, metric, value, floor, ceiling) for every metric of a metrics.json result."""
    rows = []
    for group, values in result["metrics"].items():
        for name, value in values.items():
            bound = result.get("bounds", {}).get(group, {}).get(name, {})
            rows.append(
                (
                    group,
                    name,
                    describe(value),
                    _bound(bound.get("floor")),
                    _bound(bound.get("ceiling")),
                )
            )
    return rows


def console_lines(result: dict) -> list[str]:
    """The metric table for a terminal: ``a2b/content_iou: 0.42 ± 0.01 (3 seeds)  [floor ...]``."""
    lines = []
    for group, name, value, floor, ceiling in metric_rows(result):
        bounds = "; ".join(
            part for part in (floor and f"floor {floor}", ceiling and f"ceiling {ceiling}") if part
        )
        lines.append(f"{group}/{name}: {value}" + (f"  [{bounds}]" if bounds else ""))
    return lines


def _metric_table(result: dict) -> str:
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in metric_rows(result)
    )
    return (
        "<table><tr><th>group</th><th>metric</th><th>value (mean ± std over seeds)</th>"
        "<th>floor: trivial translators</th><th>ceiling: paired ground truth</th></tr>"
        + cells
        + "</table>"
    )


def render(result: dict, figures: list[tuple[str, np.ndarray, str]], scale: int = 2) -> str:
    """``result``: the metrics.json content; ``figures``: (title, uint8 image, caption)."""
    skipped = "".join(
        f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.get("skipped", {}).items()
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>munit-tf report</title>",
        f"<style>{STYLE}</style><script>{CHECK_IMAGES}</script></head><body>",
        "<h1>MUNIT evaluation</h1>",
        f"<p class='note'>model: {html.escape(str(result.get('model')))}<br>data: "
        f"{html.escape(str(result.get('data')))}</p>",
        "<h2>Metrics</h2>",
        _metric_table(result),
        f"<ul class='note'>{skipped}</ul>" if skipped else "",
        "<h2>Protocol</h2>",
        f"<pre>{html.escape(json.dumps(result['protocol'], indent=2))}</pre>",
    ]
    parts += [_figure(title, image, caption, scale) for title, image, caption in figures]
    parts.append("</body></html>")
    return "\n".join(parts)
