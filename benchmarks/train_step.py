"""Seconds per training iteration, images/s, analytic FLOPs and achieved GFLOP/s, peak memory.

    python benchmarks/train_step.py --config edges2shoes --size 256 --batch 1 --steps 5

FLOPs are counted by TensorFlow's graph profiler on the forward pass of each network at this
size (2 FLOPs per multiply-add) and combined as the reference's iteration runs them: the D
update encodes and decodes without gradients, then runs D forward and backward on 4 images;
the G update runs its forward pass, twice that again for the backward pass (the usual 1:2).
`achieved_gflops` divides the reference's FLOPs (upsample + 5x5 conv in the decoder) by the
time, as the performance goal is stated; `executed_gflops` divides the FLOPs we actually run
(the equivalent sub-pixel convolution does 36% of that block's work).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from peak import around  # noqa: E402  (benchmarks/peak.py)

from munit_tf import cpu, fast_conv  # noqa: E402
from munit_tf.config import load_config  # noqa: E402
from munit_tf.training import build_model  # noqa: E402


def forward_flops(function, *specs) -> float:
    concrete = tf.function(function).get_concrete_function(*specs)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=concrete.graph, options=options)
    return float(profile.total_float_ops)


def reference_iteration_flops(model, size: int, batch: int) -> dict:
    """The same count for the reference's order of operations (``fast_conv``'s reference form: the
    decoder's upsampling blocks as upsample + 5x5 conv, its last conv as a plain 7x7 conv). This
    is the analytic cost of a MUNIT iteration, the yardstick for "% of peak";
    ``iteration_flops`` is the work we execute."""
    with fast_conv.form("reference"):
        return iteration_flops(model, size, batch)


def iteration_flops(model, size: int, batch: int) -> dict:
    cfg = model.config
    image = tf.TensorSpec([batch, size, size, 3], tf.float32)
    content_shape = model.gen_a.enc_content(tf.zeros([1, size, size, 3])).shape[1:]
    content = tf.TensorSpec([batch, *content_shape], tf.float32)
    style = tf.TensorSpec([batch, cfg.gen.style_dim], tf.float32)
    enc_c = forward_flops(model.gen_a.enc_content, image)
    enc_s = forward_flops(model.gen_a.enc_style, image)
    dec = forward_flops(model.gen_a.decode, content, style)
    dis = forward_flops(model.dis_a, image)
    # with more than two domains, the reference's step per pair (train.pairs_per_step: a group)
    pairs = len(model.pair_groups[0])
    # no-grad translations, then D fwd+bwd on 4 images
    d_update = pairs * (2 * enc_c + 2 * dec + 3 * (4 * dis))
    g_forward = 4 * (enc_c + enc_s) + 4 * dec + 2 * dis + (2 * dec if cfg.loss.recon_x_cyc_w else 0)
    g_update = pairs * 3 * g_forward
    return {
        "content_encoder": enc_c,
        "style_encoder": enc_s,
        "decoder": dec,
        "discriminator": dis,
        "dis_update": d_update,
        "gen_update": g_update,
        "iteration": d_update + g_update,
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="edges2shoes")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument(
        "--form",
        default="fast",
        choices=("fast", "reference"),
        help="the convolutions' form (fast_conv): is each fast form a gain on this CPU?",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=fast_conv.PARTS,
        help="leave this part of the fast form out (repeatable): what does it gain here?",
    )
    parser.add_argument(
        "--inference", action="store_true", help="only print the FLOPs of one translation"
    )
    args = parser.parse_args()
    size, batch = args.size, args.batch
    sized = [f"data.new_size={size}", f"data.crop_size={size}", f"train.batch_size={batch}"]
    config = load_config(args.config, sized + args.overrides)
    model = build_model(config)
    flops = iteration_flops(model, args.size, args.batch)
    reference = reference_iteration_flops(model, args.size, args.batch)
    if args.inference:  # translate = content encoder + MLP/decoder, per image
        print(
            json.dumps(
                {
                    "size": args.size,
                    "tflops_translate_per_image": round(
                        (reference["content_encoder"] + reference["decoder"]) / args.batch / 1e12, 4
                    ),
                    "tflops_translate_per_image_executed": round(
                        (flops["content_encoder"] + flops["decoder"]) / args.batch / 1e12, 4
                    ),
                }
            )
        )
        return
    rng = np.random.default_rng(0)
    batch = tuple(  # one batch per domain
        tf.constant(rng.uniform(-1, 1, (args.batch, args.size, args.size, 3)).astype("float32"))
        for _ in config.data.domains
    )
    # train.pairs_per_step: every group of pairs is as costly; the first is timed
    pairs = model.pair_groups[0]
    step = tf.function(
        functools.partial(model.train_step, pairs=pairs), jit_compile=config.train.jit_compile
    )
    with fast_conv.form(args.form), fast_conv.without(*args.without):  # read while tracing
        step(batch)["loss_gen_total"].numpy()
    for _ in range(args.warmup - 1):
        step(batch)["loss_gen_total"].numpy()

    def timed_steps():
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            step(batch)["loss_gen_total"].numpy()
            times.append(time.perf_counter() - start)
        return times

    times, peak = around(
        timed_steps, "bfloat16" if config.train.precision == "mixed_bfloat16" else "float32"
    )
    seconds = float(np.median(times))
    result = {
        "config": config.name,
        "domains": len(config.data.domains),
        "pairs_per_step": len(pairs),
        "size": args.size,
        "batch": args.batch,
        "precision": config.train.precision,
        "jit_compile": config.train.jit_compile,
        "form": args.form,
        "without": args.without,
        "seconds_per_iteration": round(seconds, 3),
        "seconds_min_max": [round(min(times), 3), round(max(times), 3)],
        "images_per_second": round(args.batch / seconds, 3),
        "tflops_per_iteration": round(reference["iteration"] / 1e12, 4),  # the reference's work
        "tflops_gen_update": round(reference["gen_update"] / 1e12, 4),
        "tflops_dis_update": round(reference["dis_update"] / 1e12, 4),
        "tflops_executed_per_iteration": round(
            flops["iteration"] / 1e12, 4
        ),  # ours (sub-pixel upsampling)
        "achieved_gflops": round(reference["iteration"] / seconds / 1e9, 1),
        "executed_gflops": round(flops["iteration"] / seconds / 1e9, 1),
        "conv_peak_gflops": round(peak, 1),  # measured just before and after the timed steps
        "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2),
        "tensorflow": tf.__version__,
        "cores": os.cpu_count(),
        "cpu": cpu.describe(),  # the instruction sets that decide these figures
        "onednn_isa": cpu.onednn_isa(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
