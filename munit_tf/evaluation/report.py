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


def _format(value) -> str:
    if isinstance(value, dict) and "mean" in value:
        return f"{value['mean']:.4f} ± {value['std']:.4f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def _metric_table(metrics: dict) -> str:
    rows = []
    for group, values in metrics.items():
        for name, value in values.items():
            rows.append(
                f"<tr><td>{html.escape(group)}</td><td>{html.escape(name)}</td><td>{_format(value)}</td></tr>"
            )
    return (
        "<table><tr><th>group</th><th>metric</th><th>mean ± std over seeds</th></tr>"
        + "".join(rows)
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
        _metric_table(result["metrics"]),
        f"<ul class='note'>{skipped}</ul>" if skipped else "",
        "<h2>Protocol</h2>",
        f"<pre>{html.escape(json.dumps(result['protocol'], indent=2))}</pre>",
    ]
    parts += [_figure(title, image, caption, scale) for title, image, caption in figures]
    parts.append("</body></html>")
    return "\n".join(parts)
