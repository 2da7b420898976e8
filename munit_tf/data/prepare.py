"""The Beam job that turns two image collections into validated, sharded TFRecords.

    sources -> read + check each image -> drop duplicate content -> shard by content hash
            -> sort each shard by id -> write DIR/{train,test}/{a,b}-NNNNN-of-MMMMM.tfrecord.gz

Runs on the DirectRunner by default and, unchanged, on Dataflow, Flink or Spark when given their
Beam pipeline options. A bad file never fails the job: it goes to ``rejected.jsonl`` with its
reason and to a Beam counter. Files with identical bytes enter once (the others are listed as
duplicates). Example ids come from content hashes and every shard is sorted, so the same input
and options always give the same files. Everything is written into a temporary folder beside
``DIR`` and moved into place only when the job has succeeded, so an interrupted run leaves no
half-written dataset and never mixes two runs' shards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from munit_tf import atomic
from munit_tf.config import DOMAIN_NAME
from munit_tf.data import images, schema
from munit_tf.errors import InvalidInput, MissingInput, NotAFolder, OutputExists
from munit_tf.pixels import png_bytes

NAMESPACE = "munit_prepare"
FOLDER_NAMES = {
    ("train", "a"): "trainA",
    ("train", "b"): "trainB",
    ("test", "a"): "testA",
    ("test", "b"): "testB",
}
TFDS_PREFIX = "tfds:"


@dataclasses.dataclass
class PrepareOptions:
    output: str
    resize: int | None = None  # shorter side of stored images (never upsampled); None keeps sizes
    shards: int = 4  # files per split and domain
    min_size: int = 256  # reject images whose shorter side is below this (the crop size)
    max_pixels: int = images.DEFAULT_MAX_PIXELS
    overwrite: bool = False
    synthetic_count: int = 1000  # images per domain in train (test: a tenth, at least 8)
    synthetic_domains: int = 2  # a and b; 3 adds domain c (dotted outlines)
    synthetic_size: int = 64
    seed: int = 0


# ------------------------------------------------------------------------------------------
# Sources: each produces "work items" (small dicts); reading happens on the workers.
# ------------------------------------------------------------------------------------------
def _list_images(folder: str) -> list[str]:
    if "://" in folder:
        from apache_beam.io.filesystems import FileSystems

        matches = FileSystems.match([folder.rstrip("/") + "/**"])[0].metadata_list
        return sorted(m.path for m in matches if images.is_image_path(m.path))
    found = []
    for directory, _, names in os.walk(folder):
        found += [os.path.join(directory, n) for n in names if images.is_image_path(n)]
    return sorted(found)


def _read_list_or_folder(location: str) -> list[str]:
    """A folder (searched recursively) or a text file with one image path per line."""
    if os.path.isfile(location):
        base = os.path.dirname(os.path.abspath(location))
        with open(location, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
        return [
            line if os.path.isabs(line) or "://" in line else os.path.join(base, line)
            for line in lines
        ]
    if "://" not in location and not os.path.isdir(location):
        raise MissingInput(f"{location}: no such folder or list file")
    return _list_images(location)


# trainA, TRAINA, traina (the MUNIT/CycleGAN layout), trainSummer, train_summer, test-summer; not
# "training/" or "tests/": after the split, a capital, a separator, or the a/b of that layout
FOLDER = re.compile(r"(?i:(train|test))(?:[_-](\w+)|([A-Z]\w*)|([ab]))")


def folder_domains(root: str) -> dict:
    """{(split, domain): path} of ROOT/train<X> and test<X>: trainA -> domain ``a`` (in any
    letter case, as the MUNIT layout), trainSummer or train_summer -> ``summer``. Other entries
    are not domains (``training/``, ``tests/``, a ``train.txt`` beside them stay unread)."""
    locations = {}
    for name in sorted(os.listdir(root)):
        match = FOLDER.fullmatch(name)
        domain = next((g for g in match.groups()[1:] if g), "").lower() if match else ""
        if DOMAIN_NAME.fullmatch(domain):
            key = (match.group(1).lower(), domain)
            if key in locations:
                raise InvalidInput(
                    f"--source {root}: {os.path.basename(locations[key])}/ and {name}/ are the "
                    f"same domain ({key[1]}) in other letter cases; keep one"
                )
            locations[key] = os.path.join(root, name)
    return locations


def folder_items(root: str) -> list[dict]:
    """ROOT/trainA, trainB (required), testA, testB (optional), matched in any letter case; or
    any other domains' ROOT/train<Name>/ [test<Name>/], two at least."""
    if not os.path.isdir(root):
        raise MissingInput(
            f"--source {root}: no such folder (expected trainA/ trainB/ [testA/ testB/] in it)"
        )
    locations = folder_domains(root)
    trained = sorted(domain for split, domain in locations if split == "train")
    found = ", ".join(sorted(os.listdir(root))) or "nothing"
    if len(trained) < 2:
        missing = [f"train{d.upper()}" for d in schema.DOMAINS if ("train", d) not in locations]
        raise MissingInput(
            f"--source {root}: no {'/ '.join(missing) or 'second train<Domain>'}/ folder "
            f"(found: {found}); two domains' train<Domain>/ folders at least"
        )
    untrained = sorted(d for split, d in locations if split == "test" and d not in trained)
    if untrained:
        folder = os.path.basename(locations[("test", untrained[0])])
        raise MissingInput(
            f"--source {root}: {folder}/ names domain {untrained[0]}, which has no train folder; "
            f"add one or move {folder}/ out of {root} (found: {found})"
        )
    return explicit_items(locations)


def explicit_items(locations: dict) -> list[dict]:
    """{(split, domain): folder or list file} -> work items; an empty domain is an error."""
    items = []
    for (split, domain), location in sorted(locations.items()):
        paths = _read_list_or_folder(location)
        if not paths:
            raise InvalidInput(
                f"{location}: no images for {split}/{domain} "
                f"(looked for {', '.join(images.EXTENSIONS)})"
            )
        items += [{"kind": "file", "split": split, "domain": domain, "path": p} for p in paths]
    return items


def tfds_items(name: str, data_dir: str | None = None, parts: int = 4) -> list[dict]:
    """A TFDS builder with trainA/trainB/testA/testB splits (e.g. cycle_gan/horse2zebra).

    The download and preparation happen here, on the launching machine; workers then read
    ``parts`` even slices of each split.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise InvalidInput(f"tfds:{name}: {str(error).splitlines()[0]}") from None
    builder.download_and_prepare()
    # empty when TFDS has no metadata (e.g. mocked in tests)
    splits = set(builder.info.splits.keys())
    items = []
    for (split, domain), tfds_split in FOLDER_NAMES.items():
        if splits and tfds_split not in splits:
            if split == "train":
                raise InvalidInput(
                    f"tfds:{name} has no {tfds_split} split (it has: {', '.join(sorted(splits))})"
                )
            continue
        items += [
            {
                "kind": "tfds",
                "split": split,
                "domain": domain,
                "name": name,
                "data_dir": data_dir,
                "tfds_split": tfds_split,
                "part": k,
                "parts": parts,
            }
            for k in range(parts)
        ]
    return items


def source_items(
    source: str,
    synthetic_count: int = 1000,
    seed: int = 0,
    tfds_data_dir: str | None = None,
    synthetic_domains: int = 2,
) -> tuple[list[dict], str]:
    """The work items of a source, and how the manifest names it: a folder with trainA/ trainB/
    [testA/ testB/], ``synthetic`` (the built-in data) or ``tfds:NAME`` (a TFDS builder)."""
    if source == "synthetic":
        return synthetic_items(synthetic_count, seed, synthetic_domains), "synthetic"
    if source.startswith(TFDS_PREFIX):
        return tfds_items(source[len(TFDS_PREFIX) :], tfds_data_dir), source
    return folder_items(source), os.path.abspath(source)


def synthetic_items(count: int, seed: int, domains: int = 2) -> list[dict]:
    """The built-in data's work items: domains a and b, and c with ``domains`` = 3."""
    from munit_tf.data import synthetic

    if not 2 <= domains <= len(synthetic.DOMAINS):
        raise InvalidInput(f"the synthetic data has 2 or 3 domains; got {domains}")
    test_count = max(8, count // 10)
    return [
        {"kind": "synthetic", "split": split, "domain": domain, "index": i, "seed": seed}
        for split, n in (("train", count), ("test", test_count))
        for domain in synthetic.DOMAINS[:domains]
        for i in range(n)
    ]


# ------------------------------------------------------------------------------------------
# Beam transforms (module level so that they pickle for multi-process and remote runners)
# ------------------------------------------------------------------------------------------
class Progress:
    """Images checked so far, counted by the ``LoadAndCheck`` DoFns of this process and reported
    by the driver every ``interval`` seconds: files done / total, rate, time left.

    The DirectRunner runs the DoFns in the driver's process (its default mode), so the driver
    sees the count as it grows; on a remote runner the count stays here at 0 and the runner's
    own console shows progress (the Beam counter ``munit_prepare/read``).
    """

    _counts: dict = {}
    _lock = threading.Lock()

    def __init__(self, job: str, total: int | None, log, interval: float = 10.0):
        self.job, self.total, self.log, self.interval = job, total, log, interval
        self._counts[job] = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report_until_stopped, daemon=True)
        self.started = time.time()

    @classmethod
    def tick(cls, job: str) -> None:
        with cls._lock:
            if job in cls._counts:
                cls._counts[job] += 1

    def line(self) -> str:
        done, seconds = self._counts.get(self.job, 0), max(time.time() - self.started, 1e-9)
        rate = done / seconds
        text = f"checked {done:,} images"
        if self.total:
            text = f"checked {done:,} / {self.total:,} images ({done / self.total:.0%})"
        text += f", {rate:.1f} images/s"
        if self.total and rate > 0 and done < self.total:
            text += f", about {(self.total - done) / rate:.0f} s left"
        return text

    def _report_until_stopped(self):
        while not self._stop.wait(self.interval):
            self.log(self.line())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            self.log(self.line() + f" in {time.time() - self.started:.1f} s")
        self._counts.pop(self.job, None)


class LoadAndCheck(beam.DoFn):
    """Work item -> ((split, domain, sha256), record) for each good image, or a rejection."""

    REJECTED = "rejected"

    def __init__(self, options: PrepareOptions, job: str = ""):
        self.options, self.job = options, job
        self.read = Metrics.counter(NAMESPACE, "read")
        self.converted = Metrics.counter(NAMESPACE, "converted")

    def _raw(self, item):
        """(path, bytes, extra features) for each image an item stands for."""
        if item["kind"] == "file":
            from apache_beam.io.filesystems import FileSystems

            try:
                with FileSystems.open(item["path"], compression_type="uncompressed") as handle:
                    data = handle.read()
            except Exception as error:  # a vanished or unreadable file is that file's problem
                data = error
            yield item["path"], data, {}
        elif item["kind"] == "synthetic":
            from munit_tf.data import synthetic

            example = synthetic.example(
                item["domain"],
                item["index"],
                item["seed"],
                self.options.synthetic_size,
                item["split"],
            )
            extra = {
                "id": example["id"],
                "mask": png_bytes(example["mask"] * 255),
                "content": example["content"],
                "style": example["style"],
            }
            yield example["id"], png_bytes(example["image"]), extra
        else:
            import tensorflow_datasets as tfds

            split = tfds.even_splits(item["tfds_split"], item["parts"])[item["part"]]
            dataset = tfds.builder(item["name"], data_dir=item["data_dir"]).as_dataset(split=split)
            for index, example in enumerate(tfds.as_numpy(dataset)):
                yield (
                    f"tfds:{item['name']}/{split}#{index}",
                    png_bytes(np.asarray(example["image"])),
                    {},
                )

    def process(self, item) -> Iterable[Any]:  # main and tagged outputs: no narrower hint
        for path, data, extra in self._raw(item):
            self.read.inc()
            Progress.tick(self.job)
            if isinstance(data, Exception):
                result = images.Rejected(images.UNREADABLE, f"{type(data).__name__}: {data}")
            else:
                result = images.check_image(
                    data, self.options.min_size, self.options.max_pixels, self.options.resize
                )
            if isinstance(result, images.Rejected):
                Metrics.counter(NAMESPACE, f"rejected_{result.reason}").inc()
                yield beam.pvalue.TaggedOutput(
                    self.REJECTED,
                    {
                        "path": path,
                        "split": item["split"],
                        "domain": item["domain"],
                        "reason": result.reason,
                        "detail": result.detail,
                    },
                )
                continue
            if result.converted:
                self.converted.inc()
            record = {
                "id": extra.get("id") or f"{item['domain']}-{result.sha256[:20]}",
                "path": path,
                "image": result.data,
                "width": result.width,
                "height": result.height,
                "mask": extra.get("mask", b""),
                "content": extra.get("content", []),
                "style": extra.get("style", []),
            }
            yield (item["split"], item["domain"], result.sha256), record


def keep_first(keyed) -> Iterable[Any]:
    """One record per identical content: the smallest path wins; the others are reported."""
    (split, domain, sha256), records = keyed
    records = sorted(records, key=lambda r: r["path"])
    yield (split, domain, int(sha256[:12], 16)), records[0]
    for duplicate in records[1:]:
        Metrics.counter(NAMESPACE, f"rejected_{images.DUPLICATE}").inc()
        yield beam.pvalue.TaggedOutput(
            LoadAndCheck.REJECTED,
            {
                "path": duplicate["path"],
                "split": split,
                "domain": domain,
                "reason": images.DUPLICATE,
                "detail": f"same bytes as {records[0]['path']}",
            },
        )


class WriteShard(beam.DoFn):
    """((split, domain, shard), records) -> one GZIP TFRecord file, sorted by id; yields its
    stats."""

    def __init__(self, staging: str, shards: int):
        self.staging, self.shards = staging, shards
        self.written = Metrics.counter(NAMESPACE, "written")

    def process(self, keyed):
        import tensorflow as tf

        (split, domain, shard), records = keyed
        records = sorted(records, key=lambda r: r["id"])
        path = os.path.join(self.staging, schema.shard_name(split, domain, shard, self.shards))
        tf.io.gfile.makedirs(os.path.dirname(path))
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for r in records:
                writer.write(
                    schema.encode_example(
                        r["image"],
                        r["id"],
                        domain,
                        r["height"],
                        r["width"],
                        r["mask"],
                        r["content"],
                        r["style"],
                    )
                )
                self.written.inc()
        yield {
            "split": split,
            "domain": domain,
            "shard": shard,
            "count": len(records),
            "widths": [r["width"] for r in records],
            "heights": [r["height"] for r in records],
        }


def build_pipeline(
    pipeline: beam.Pipeline, items: list[dict], options: PrepareOptions, staging: str
):
    checked = (
        pipeline
        | "Items" >> beam.Create(items)
        | "Spread" >> beam.Reshuffle()
        | "LoadAndCheck"
        >> beam.ParDo(LoadAndCheck(options, staging)).with_outputs(
            LoadAndCheck.REJECTED, main="images"
        )
    )
    unique = (
        checked.images
        | "ByContent" >> beam.GroupByKey()
        | "KeepFirst" >> beam.FlatMap(keep_first).with_outputs(LoadAndCheck.REJECTED, main="images")
    )
    shards = options.shards
    stats = (
        unique.images
        | "ToShard" >> beam.Map(lambda kv: ((kv[0][0], kv[0][1], kv[0][2] % shards), kv[1]))
        | "ByShard" >> beam.GroupByKey()
        | "Write" >> beam.ParDo(WriteShard(staging, shards))
    )
    (
        stats
        | "StatsList" >> beam.combiners.ToList()
        | "StatsJson" >> beam.Map(lambda s: json.dumps(s))
        | "WriteStats"
        >> beam.io.WriteToText(os.path.join(staging, ".stats"), shard_name_template="")
    )
    (
        (checked[LoadAndCheck.REJECTED], unique[LoadAndCheck.REJECTED])
        | "Rejections" >> beam.Flatten()
        | "RejectedJson" >> beam.Map(lambda r: json.dumps(r, sort_keys=True))
        | "WriteRejected"
        >> beam.io.WriteToText(os.path.join(staging, ".rejected"), shard_name_template="")
    )


# ------------------------------------------------------------------------------------------
# The driver
# ------------------------------------------------------------------------------------------
def _check_output(output: str, overwrite: bool) -> None:
    if os.path.exists(output) and not os.path.isdir(output):
        raise NotAFolder(f"--output {output} is a file")
    if os.path.isdir(output) and os.listdir(output) and not overwrite:
        raise OutputExists(f"--output {output} already holds data; pass --overwrite to replace it")


def _summaries(stats_rows: list[dict]) -> tuple[dict, dict]:
    counts, sizes = {}, {}
    for key in sorted({f"{r['split']}/{r['domain']}" for r in stats_rows}):
        rows = [r for r in stats_rows if f"{r['split']}/{r['domain']}" == key]
        widths = [w for r in rows for w in r["widths"]]
        heights = [h for r in rows for h in r["heights"]]
        counts[key] = len(widths)
        if widths:
            sizes[key] = {
                "min_width": min(widths),
                "max_width": max(widths),
                "mean_width": round(float(np.mean(widths)), 1),
                "min_height": min(heights),
                "max_height": max(heights),
                "mean_height": round(float(np.mean(heights)), 1),
            }
    return counts, sizes


def _finalise(staging: str, output: str, shards: int, stats_rows: list[dict]) -> None:
    """Fill in empty shards, then move the staged dataset into place in one rename."""
    import tensorflow as tf

    for split, domain in {(r["split"], r["domain"]) for r in stats_rows}:
        for shard in range(shards):
            path = os.path.join(staging, schema.shard_name(split, domain, shard, shards))
            if not os.path.exists(path):
                tf.io.TFRecordWriter(path, options="GZIP").close()
    for name in (".stats", ".rejected"):
        if os.path.exists(os.path.join(staging, name)):
            os.remove(os.path.join(staging, name))
    atomic.publish(staging, output)


def prepare(
    items: list[dict],
    options: PrepareOptions,
    beam_args: list[str] | None = None,
    source: str = "",
    log=print,
    progress_interval: float = 10.0,
) -> dict:
    """Run the job; returns the manifest (also written to OUTPUT/manifest.json). Progress is
    logged every ``progress_interval`` seconds and when the job ends."""
    _check_output(options.output, options.overwrite)
    if not items:
        raise InvalidInput("no images to prepare")
    output = os.path.abspath(options.output)
    staging = atomic.staging_dir(output)  # also removes what killed runs left behind
    started = time.time()
    try:
        log(
            f"preparing {len(items)} work items into {options.output} "
            f"(Beam {' '.join(beam_args) if beam_args else 'DirectRunner'})"
        )
        images_in_items = None if any(item["kind"] == "tfds" for item in items) else len(items)
        with (
            Progress(staging, images_in_items, log, progress_interval),
            beam.Pipeline(options=PipelineOptions(beam_args or [])) as pipeline,
        ):
            build_pipeline(pipeline, items, options, staging)
        result_metrics = pipeline.result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))[
            "counters"
        ]
        counters = {}
        for counter in result_metrics:
            counters[counter.key.metric.name] = (
                counters.get(counter.key.metric.name, 0) + counter.committed
            )
        with open(os.path.join(staging, ".stats"), encoding="utf-8") as handle:
            stats_rows = [row for line in handle if line.strip() for row in json.loads(line)]
        rejected_path = os.path.join(staging, ".rejected")
        rejected = []
        if os.path.exists(rejected_path):
            with open(rejected_path, encoding="utf-8") as handle:
                rejected = sorted(line.strip() for line in handle if line.strip())
        with open(os.path.join(staging, "rejected.jsonl"), "w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in rejected)
        counts, sizes = _summaries(stats_rows)
        reasons = {}
        for line in rejected:
            reason = json.loads(line)["reason"]
            reasons[reason] = reasons.get(reason, 0) + 1
        manifest = {
            "schema_version": schema.SCHEMA_VERSION,
            "source": source,
            "counts": counts,
            "rejected": reasons,
            "image_size": sizes,
            "shards": options.shards,
            "options": {k: v for k, v in dataclasses.asdict(options).items() if k != "output"},
            "counters": counters,
            "seconds": round(time.time() - started, 1),
            "command": " ".join(sys.argv),
        }
        if any(item["kind"] == "synthetic" for item in items):
            from munit_tf.data import synthetic

            manifest["synthetic_version"] = synthetic.VERSION  # of its rendering
        with open(os.path.join(staging, "manifest.json"), "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2)
        _finalise(staging, output, options.shards, stats_rows)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(summary(manifest))
    return manifest


def synthetic_domain_count(domains) -> int:
    """How many of the synthetic data's domains a model with ``data.domains`` = ``domains``
    trains on: it must name them in order (a, b, and c); anything else is a one-line error."""
    from munit_tf.data import synthetic

    if list(domains) != list(synthetic.DOMAINS[: len(domains)]):
        raise InvalidInput(
            f"the synthetic data has domains a, b (and c); data.domains is {', '.join(domains)}"
        )
    return len(domains)


def ensure_synthetic(
    output: str, size: int, count: int = 2000, seed: int = 0, log=print, domains: int = 2
) -> str:
    """The synthetic dataset prepared at ``output`` (kept if a complete one with ``domains``
    domains is already there)."""
    from munit_tf.data import synthetic

    path = os.path.join(output, "manifest.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            counts = json.load(handle).get("counts", {})
        if all(f"train/{d}" in counts for d in synthetic.DOMAINS[:domains]):
            return output
    options = PrepareOptions(
        output=output,
        min_size=size,
        synthetic_size=size,
        seed=seed,
        overwrite=True,
        synthetic_domains=domains,
    )
    prepare(synthetic_items(count, seed, domains), options, source="synthetic", log=log)
    return output


def summary(manifest: dict) -> str:
    counters = manifest["counters"]
    lines = [
        f"read {counters.get('read', 0)} images, wrote {counters.get('written', 0)} "
        f"({counters.get('converted', 0)} converted to 8-bit RGB or resized) in "
        f"{manifest['seconds']} s"
    ]
    lines += [f"  {key}: {count}" for key, count in manifest["counts"].items()]
    if manifest["rejected"]:
        lines.append(
            "rejected: "
            + ", ".join(f"{reason} {n}" for reason, n in sorted(manifest["rejected"].items()))
            + " (see rejected.jsonl)"
        )
    return "\n".join(lines)
