"""Profile one training iteration (or, with ``--inference``, one single-image translation) with
the TensorFlow profiler and say where the time goes.

    PYTHONPATH=. .venv/bin/python benchmarks/profile_step.py --size 256 --logdir runs/profile

The trace is written as TensorBoard expects it (`<logdir>/plugins/profile/<run>/*.xplane.pb`;
view it with `pip install tensorboard-plugin-profile; tensorboard --logdir <logdir>`). The same
file is then read back here and the executed TensorFlow ops are summed by op type and by
network, so the answer needs no browser. Time is the sum of op durations over TF's executor
threads (ops that run side by side both count), shown as a share of that sum.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import re
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from munit_tf.config import load_config  # noqa: E402
from munit_tf.training import build_model  # noqa: E402

# Op types grouped by what they do in MUNIT.
KINDS = {
    "convolution (forward)": {"Conv2D", "FusedConv2D", "_FusedConv2D", "DepthwiseConv2dNative"},
    "convolution (input gradient)": {"Conv2DBackpropInput"},
    "convolution (filter gradient)": {"Conv2DBackpropFilter"},
    "dense (MLP)": {"MatMul", "FusedMatMul", "BatchMatMulV2"},
    "reflection padding and its gradient": {"MirrorPad", "MirrorPadGrad", "Pad"},
    "upsampling, pooling, sub-pixel shuffles": {
        "ResizeNearestNeighbor",
        "ResizeNearestNeighborGrad",
        "AvgPool",
        "AvgPoolGrad",
        "DepthToSpace",
        "SpaceToDepth",
        "Tile",
        "ConcatV2",
        "StridedSlice",
        "StridedSliceGrad",
    },
    "bias add and its gradient": {"BiasAdd", "BiasAddGrad"},
    "reductions (norm statistics, losses)": {"Mean", "Sum", "Max", "Prod"},
    "optimizer (Adam updates)": set(),  # decided by scope, below
}


def kind_of(name: str, op_type: str) -> str:
    op_type = re.sub(r"^_Mkl(Native)?", "", op_type).removesuffix("WithBias")  # oneDNN's rewrites
    if "_optimizer/" in name:
        return "optimizer (Adam updates)"
    for kind, types in KINDS.items():
        if op_type in types:
            return kind
    if op_type in {
        "ReadVariableOp",
        "AssignVariableOp",
        "AssignSubVariableOp",
        "AssignAddVariableOp",
        "Identity",
        "Const",
        "_Recv",
        "_Send",
        "NoOp",
    }:
        return "variable reads and bookkeeping"
    return "element-wise (norms, activations, losses)"


def network_of(name: str) -> str:
    name = name.removeprefix("gradient_tape/")
    match = re.match(
        r"(enc_content|enc_style|dec|mlp|dis_a|dis_b|gen_optimizer|dis_optimizer)", name
    )
    return match.group(1) if match else "other"


def summarise(xplane_path: str) -> dict:
    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as handle:
        space.ParseFromString(handle.read())
    by_type = collections.Counter()
    by_kind = collections.Counter()
    by_network = collections.Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host"):
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_"):
                continue
            for event in line.events:
                full = plane.event_metadata[event.metadata_id].name
                if ":" not in full or "::" in full:
                    continue  # executor bookkeeping (ExecutorState::Process) that encloses ops
                name, op_type = full.rsplit(":", 1)
                seconds = event.duration_ps / 1e12
                by_type[op_type] += seconds
                by_kind[kind_of(name, op_type)] += seconds
                by_network[network_of(name)] += seconds
    total = sum(by_type.values())

    def share(counter):
        return [
            (key, round(value, 4), round(100 * value / total, 1))
            for key, value in counter.most_common()
        ]

    return {
        "op_seconds_total": round(total, 3),
        "by_kind": share(by_kind),
        "by_network": share(by_network),
        "by_op_type": share(by_type)[:15],
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="edges2shoes")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--logdir", default="runs/profile")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--inference",
        action="store_true",
        help="profile content encoder + decoder on one image (what translate_a2b runs)",
    )
    args = parser.parse_args()
    config = load_config(
        args.config,
        [f"data.new_size={args.size}", f"data.crop_size={args.size}", "train.batch_size=1"]
        + args.overrides,
    )
    model = build_model(config)
    rng = np.random.default_rng(0)
    batch = tuple(
        tf.constant(rng.uniform(-1, 1, (1, args.size, args.size, 3)).astype("float32"))
        for _ in range(2)
    )
    if args.inference:
        style = tf.constant(rng.normal(size=(1, config.gen.style_dim)).astype("float32"))
        step = tf.function(
            lambda batch: model.gen_b.decode(model.gen_a.encode_content(batch[0]), style)
        )
    else:
        step = tf.function(
            lambda batch: model.train_step(batch)["loss_gen_total"],
            jit_compile=config.train.jit_compile,
        )
    for _ in range(2):  # trace and warm up outside the profile
        step(batch).numpy()
    run_start = time.time()
    tf.profiler.experimental.start(args.logdir)
    start = time.perf_counter()
    step(batch).numpy()
    wall = time.perf_counter() - start
    tf.profiler.experimental.stop()
    paths = [
        path
        for path in glob.glob(os.path.join(args.logdir, "plugins", "profile", "*", "*.xplane.pb"))
        if os.path.getmtime(path) >= run_start
    ]
    summary = {
        "config": config.name,
        "size": args.size,
        "precision": config.train.precision,
        "profiled": "translation of one image" if args.inference else "training iteration",
        "wall_seconds_profiled_step": round(wall, 3),
        "trace": max(paths, key=os.path.getmtime),
        **summarise(max(paths, key=os.path.getmtime)),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
