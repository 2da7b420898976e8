"""Which runtime the web page uses, by measurement: LiteRT.js (the page's) against
onnxruntime-web, both WebAssembly on the CPU, in headless Chromium, on the same synthetic model's
``translate_with_style_a2b`` at batch 1 (one image, one style code: what the page calls).

    PYTHONPATH=. .venv-export/bin/python benchmarks/browser.py --run runs/curves/imag-nog \\
        > benchmarks/browser.json

Needs ``make export-env web-deps`` and Debian's chromium; installs onnxruntime-web from npm into
``build/bench-web`` (the page itself does not need it). Time it alone on the machine. TF.js is
not measured: its converter (pip ``tensorflowjs``) would need a third Python environment.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from munit_tf import cpu, portable, training  # noqa: E402
from munit_tf.portable import exporter  # noqa: E402
from munit_tf.portable.functions import portable_functions  # noqa: E402

ORT_VERSION = "1.30.0"
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.wasm", "ort-wasm-simd-threaded.mjs")
PAGE = os.path.join(HERE, "browser_bench.html")  # its {size}, {style_dim}, {runs} filled in
DRIVER = os.path.join(HERE, "browser_driver.cjs")


def litert_version() -> str:
    lock = os.path.join(ROOT, "munit_tf", "portable", "web", "package-lock.json")
    return json.load(open(lock))["packages"]["node_modules/@litertjs/core"]["version"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def ort_files() -> str:
    modules = os.path.join(ROOT, "build", "bench-web")
    dist = os.path.join(modules, "node_modules", "onnxruntime-web", "dist")
    if not os.path.isfile(os.path.join(dist, ORT_FILES[0])):
        os.makedirs(modules, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", modules]
            + [f"onnxruntime-web@{ORT_VERSION}"],
            check=True,
            stdout=sys.stderr,  # stdout is the JSON
        )
    return dist


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default="runs/curves/imag-nog")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    model = training.load_model(args.run)
    config = model.config
    with tempfile.TemporaryDirectory() as root:
        folder = os.path.join(root, "web")
        portable.export(model, folder, "web")
        function = next(
            f
            for f in portable_functions(portable.float32_copy(model), batch=1)
            if f.name == "translate_with_style_a2b"
        )
        exporter._write_onnx(function, os.path.join(folder, "translate_with_style_a2b.onnx"))
        dist = ort_files()
        for name in ORT_FILES:
            shutil.copy(os.path.join(dist, name), folder)
        with open(os.path.join(folder, "bench.html"), "w") as handle:
            values = {"size": config.data.crop_size, "style_dim": config.gen.style_dim}
            page = open(PAGE).read()
            for key, value in {**values, "runs": args.runs}.items():
                page = page.replace("{" + key + "}", str(value))
            handle.write(page)
        handler = functools.partial(_Quiet, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            out = subprocess.run(
                ["node", DRIVER, f"http://127.0.0.1:{server.server_address[1]}/bench.html"],
                env={
                    **os.environ,
                    "NODE_PATH": os.path.join(ROOT, "munit_tf", "portable", "web", "node_modules"),
                },
                capture_output=True,
                text=True,
                timeout=900,
                check=True,
            ).stdout
        finally:
            server.shutdown()
    measured, browser = out.strip().split("\n")
    result = {
        "cpu": cpu.describe(),
        "browser": f"headless Chromium {browser}",
        "function": "translate_with_style_a2b, batch 1",
        "image_size": config.data.crop_size,
        "runs": args.runs,
        "versions": {"onnxruntime-web": ORT_VERSION, "@litertjs/core": litert_version()},
        **json.loads(measured),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
