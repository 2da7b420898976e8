"""The exported web page in a real browser: headless Chromium (Debian's) driven by Playwright,
the folder served from localhost as a user would serve it. The page's translations, read back
from its canvases, are the model's own for the same style codes; a reference image steers the
style; a non-image file and a model that fails to load each get a clear message; the page asks
nothing of any other host."""

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest
import tensorflow as tf
from paths import ROOT

from munit_tf import portable
from munit_tf.data import synthetic

WEB = os.path.join(ROOT, "munit_tf", "portable", "web")
# LiteRT.js runs float32 WebAssembly kernels (XNNPACK): one level of 255 covers their rounding
LEVELS = 1


@pytest.fixture(scope="module")
def page_folder(model, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("web") / "munit-web")
    portable.export(model, folder, "web")
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(folder):
        handler = functools.partial(_Quiet, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()


def _png(path, image):
    tf.io.write_file(str(path), tf.io.encode_png(image))
    return str(path)


def _browse(url, tmp_path, input_image, reference_image) -> dict:
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    result = subprocess.run(
        [
            "node",
            os.path.join(os.path.dirname(__file__), "web_check.cjs"),
            url,
            _png(tmp_path / "input.png", input_image),
            _png(tmp_path / "reference.png", reference_image),
            str(not_image),
            str(tmp_path / "translations.png"),
        ],
        env={**os.environ, "NODE_PATH": os.path.join(WEB, "node_modules")},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _as_uint8(values):
    return np.clip(np.round((np.asarray(values) + 1) * 127.5), 0, 255).astype(np.int64)


def _canvas(rgba, size):
    return np.asarray(rgba, np.int64).reshape(size, size, 4)[..., :3]


def test_the_page_translates_as_the_model_does(model, page_folder, serve, tmp_path):
    size = model.config.data.crop_size
    outline = synthetic.example("a", 0, size=size, split="test")["image"]
    reference = synthetic.example("b", 1, size=size, split="test")["image"]
    url = serve(page_folder)
    shown = _browse(url, tmp_path, outline, reference)
    assert not shown["failed"] and not shown["statusIsError"], shown["status"]
    assert all(request.startswith(url) for request in shown["requests"])  # nothing else asked
    gen_a, gen_b = model.inference_generators
    images = tf.constant(outline[None].astype("float32") / 127.5 - 1)
    content = gen_a.encode_content(images)
    codes = np.asarray(shown["codes"], "float32")
    assert codes.shape == (4, model.config.gen.style_dim)  # the page's default: 4 styles
    assert len(shown["translations"]) == 4
    for code, rgba in zip(codes, shown["translations"]):
        expected = _as_uint8(gen_b.decode(content, code[None])[0])
        difference = np.abs(_canvas(rgba, size) - expected)
        assert difference.max() <= LEVELS and difference.mean() < 0.05
    assert np.ptp(np.asarray(shown["translations"]), axis=0).max() > 0  # the styles differ
    # the slider starts at the first style
    assert shown["walked"] == shown["translations"][0]
    # example-guided: the reference's own style code
    style = gen_b.encode_style(tf.constant(reference[None].astype("float32") / 127.5 - 1))
    expected = _as_uint8(gen_b.decode(content, style)[0])
    assert np.abs(_canvas(shown["guided"], size) - expected).max() <= LEVELS
    assert "not an image" in shown["notImageStatus"] and "notes.png" in shown["notImageStatus"]
    # the screenshot shows the four translations side by side (128 px each), not a blank
    screenshot = tf.io.decode_png(tf.io.read_file(str(tmp_path / "translations.png"))).numpy()
    assert screenshot.shape[1] >= 4 * 128 and screenshot[..., :3].std() > 10


def test_a_model_that_fails_to_load_says_so_on_the_page(page_folder, serve, tmp_path):
    broken = str(tmp_path / "broken")
    shutil.copytree(page_folder, broken)
    with open(os.path.join(broken, "translator.tflite"), "wb") as handle:
        handle.write(b"not a LiteRT model")
    image = np.zeros((32, 32, 3), np.uint8)
    shown = _browse(serve(broken), tmp_path, image, image)
    assert shown["failed"] and shown["statusIsError"]
    assert "The model failed to load" in shown["status"]


def test_the_web_export_holds_the_page_the_runtime_and_a_batch_one_model(page_folder):
    manifest = json.load(open(os.path.join(page_folder, "manifest.json")))
    assert manifest["format"] == "web"
    assert manifest["functions"]["decode_b"]["inputs"][0]["shape"][0] == 1
    for name in ("index.html", "munit.js", "translator.tflite", "litert/litert.js"):
        assert os.path.getsize(os.path.join(page_folder, name)) > 0
    assert max(e for e in manifest["max_abs_error"].values() if e is not None) < 1e-4
