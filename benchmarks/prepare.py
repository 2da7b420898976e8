"""Images per second of the preparation job against a plain loop doing the same work.

    python benchmarks/prepare.py --images 400

Writes N synthetic 256x256 JPEGs (half trainA, half trainB), then times: the Beam job on the
DirectRunner in memory, the same job with two worker processes, and a single-process loop that
does the same decode-check-encode-write work without Beam.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from munit_tf.data import images, prepare, schema, synthetic  # noqa: E402


def write_jpegs(root: str, count: int, size: int) -> None:
    for index in range(count):
        domain = "ab"[index % 2]
        example = synthetic.example(domain, index, size=size)
        folder = os.path.join(root, f"train{domain.upper()}")
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(example["image"]).save(os.path.join(folder, f"{index:06d}.jpg"), quality=90)


def plain_loop(items, output: str, min_size: int) -> None:
    os.makedirs(output, exist_ok=True)
    writers = {
        d: tf.io.TFRecordWriter(os.path.join(output, f"{d}.tfrecord.gz"), options="GZIP")
        for d in "ab"
    }
    for item in items:
        with open(item["path"], "rb") as handle:
            result = images.check_image(handle.read(), min_size)
        if isinstance(result, images.Checked):
            writers[item["domain"]].write(
                schema.encode_example(
                    result.data, result.sha256[:20], item["domain"], result.height, result.width
                )
            )
    for writer in writers.values():
        writer.close()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    source = os.path.join(work, "source")
    write_jpegs(source, args.images, args.size)
    items = prepare.folder_items(source)
    results = {"images": len(items), "size": args.size}
    runs = {
        "beam_in_memory": ["--direct_running_mode=in_memory"],
        "beam_multi_processing_2": [
            "--direct_running_mode=multi_processing",
            "--direct_num_workers=2",
        ],
    }
    for name, beam_args in runs.items():
        options = prepare.PrepareOptions(output=os.path.join(work, name), min_size=args.size)
        start = time.perf_counter()
        prepare.prepare(items, options, beam_args, log=lambda *_: None)
        results[f"{name}_images_per_second"] = round(len(items) / (time.perf_counter() - start), 1)
    start = time.perf_counter()
    plain_loop(items, os.path.join(work, "plain"), args.size)
    results["plain_loop_images_per_second"] = round(len(items) / (time.perf_counter() - start), 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
