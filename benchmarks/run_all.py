"""Run every benchmark and write benchmarks/RESULTS.md (machine, versions, date, figures).

    PYTHONPATH=. .venv/bin/python benchmarks/run_all.py            # about 27 minutes on 2 cores
    PYTHONPATH=. .venv/bin/python benchmarks/run_all.py --quality-only  # after precision_quality

Each training or serving benchmark runs in its own process, so its peak memory is its own.
Efficiency is reported against the peak measured in the same run (a 3x3, 256->256 convolution on
64x64 in fp32 and bf16), so the percentages do not depend on a number quoted from elsewhere.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# NVlabs/MUNIT, PyTorch, batch 1, 2 threads, this machine (issue 8)
REFERENCE = {
    256: 12.8,
    128: 3.5,
}


def run_json(script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if result.returncode:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout[result.stdout.index("{") :])


def input_pipeline(images: int = 200) -> float:
    import tensorflow as tf

    from munit_tf.config import load_config
    from munit_tf.data import dataset, prepare

    sys.path.insert(0, HERE)
    from prepare import write_jpegs  # benchmarks/prepare.py

    work = tempfile.mkdtemp()
    # larger than the crop: resize + random crop
    write_jpegs(os.path.join(work, "source"), images, 286)
    prepare.prepare(
        prepare.folder_items(os.path.join(work, "source")),
        prepare.PrepareOptions(output=os.path.join(work, "data"), min_size=256),
        log=lambda *_: None,
    )
    config = load_config("edges2shoes", ["train.batch_size=8"])
    data = dataset.make_dataset(os.path.join(work, "data"), config)
    iterator = iter(data)
    next(iterator)
    start, batches = time.perf_counter(), 50
    for _ in range(batches):
        x_a, x_b = next(iterator)
    tf.reduce_sum(x_a).numpy()
    return 2 * 8 * batches / (time.perf_counter() - start)


QUALITY_HEADING = "## mixed_bfloat16 versus float32: synthetic metrics after the same steps"


def quality_section() -> list[str]:
    """RESULTS.md's table from precision_quality.json (written by precision_quality.py, ~25 min)."""
    quality = os.path.join(HERE, "precision_quality.json")
    if not os.path.exists(quality):
        return []
    result = json.load(open(quality))
    lines = [
        QUALITY_HEADING,
        "",
        f"`benchmarks/precision_quality.py`: the `synthetic` preset trained {result['steps']} "
        f"steps per run, training seeds {result['seeds']}, each evaluated on 64 inputs x 8 styles "
        "x 3 seeds. Noise is the spread between the float32 runs.",
        "",
        "| metric | float32 runs | mixed_bfloat16 runs | difference of means | float32 spread | "
        "within noise |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in result["metrics"].items():
        lines.append(
            f"| {name} | {row['float32']} | {row['mixed_bfloat16']} | "
            f"{row['difference_of_means']:+.4f} | "
            f"{row['float32_seed_spread']:.4f} | {'yes' if row['within_noise'] else 'no'} |"
        )
    return lines + [""]


CURVE_METRICS = (
    "a2b/content_iou",
    "b2a/outline_f_score",
    "guided_a2b/texture_accuracy",
    "guided_a2b/reference_color_error",
    "guided_a2b/random_style_color_error",
    "a2b/diversity",
    "a2b/synthetic_fid",
)


def curves_section() -> list[str]:
    """RESULTS.md's learning curves, from the curve.json files that ``convergence.py`` wrote and
    that were copied to benchmarks/curves/ (with their PNG)."""
    folder = os.path.join(HERE, "curves")
    paths = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not paths:
        return []
    lines = [
        "## Learning curves (synthetic test split, `benchmarks/convergence.py`)",
        "",
        "Each run scored at step 0 and every K steps on 32 test inputs per domain, 8 styles, 3 "
        "evaluation seeds (means below), beside each metric's floor (trivial translators) and "
        "ceiling (the paired ground truth). Minutes are training minutes on the machine named.",
        "",
        "| run | machine | steps | minutes | " + " | ".join(CURVE_METRICS) + " |",
        "|---|---|---|---|" + "---|" * len(CURVE_METRICS),
    ]
    for path in paths:
        curve = json.load(open(path))
        last = curve["records"][-1]
        values = [
            f"{last['metrics'][m]:.3f}" if m in last["metrics"] else "-" for m in CURVE_METRICS
        ]
        name = os.path.splitext(os.path.basename(path))[0]
        lines.append(
            f"| {name} | {curve['machine']} | {last['step']} | {last['train_seconds'] / 60:.1f} | "
            + " | ".join(values)
            + " |"
        )
    for png in sorted(glob.glob(os.path.join(folder, "*.png"))):
        lines += ["", f"![{os.path.basename(png)}](curves/{os.path.basename(png)})"]
    findings = os.path.join(folder, "FINDINGS.md")  # what the curves show, written by hand
    if os.path.exists(findings):
        lines += ["", open(findings).read().strip()]
    return lines + [""]


def texture_probes_section() -> list[str]:
    """Every ``decoder_capacity.py`` run in ``texture_probes/`` (JSON, and its guided grid where
    one was written): can the guided path draw the textures when it is taught on pairs?"""
    folder = os.path.join(HERE, "texture_probes")
    paths = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not paths:
        return []
    lines = [
        "### Can the guided path draw the textures? (`benchmarks/decoder_capacity.py`, "
        "`texture_probes/`)",
        "",
        "A's content encoder, B's style encoder (or, for `oracle`, a linear map of the true "
        "style) and B's decoder trained on *paired* renderings, no GAN; guided texture "
        "accuracy of 16 test outlines in 16 test references' styles (chance 0.2, the paired "
        "truth 0.98) at each step scored. `spectrum`: L1 of 8x8-blurred pixels plus L1 of the "
        "amplitude spectrum, blind to a texture's phase; `oracle-concat`: the true style also "
        "tiled over the content code. Seconds per step as logged (some runs shared the cores "
        "with tests).",
        "",
        "| probe | machine | changes | loss | style | lr | batch | final loss | "
        "texture accuracy by step | s/step logged |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in paths:
        run = json.load(open(path))
        points = run["points"]
        by_step = ", ".join(f"{p['step']}: {p['guided_a2b/texture_accuracy']:.3f}" for p in points)
        seconds = points[-1]["train_seconds"] / max(points[-1]["step"], 1)
        name = os.path.splitext(os.path.basename(path))[0]
        lines.append(
            f"| {name} | {run['machine']} | {', '.join(run.get('overrides') or []) or '-'} | "
            f"{run.get('loss', 'l1')} | {run.get('style', 'encoder')} | {run['lr']:g} | "
            f"{run['batch']} | {run['final_l1']:.3f} | {by_step} | {seconds:.2f} |"
        )
    for png in sorted(glob.glob(os.path.join(folder, "*.png"))):
        name = os.path.basename(png)
        lines += ["", f"![{name}](texture_probes/{name})"]
    return lines + [""]


def speed_table(name: str, title: str) -> list[str]:
    """A ``synthetic_speed.py`` JSON (``synthetic_speed.json``, ``recipe_speed.json``) as a table,
    with the machine and oneDNN's instruction set it was measured on."""
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        return []
    result = json.load(open(path))
    lines = [
        f"### {title} (`benchmarks/synthetic_speed.py`, `{name}`)",
        "",
        f"{result['cpu']}; oneDNN: {result['onednn_isa']}. Float32, 64², alone on the machine.",
        "",
        "| point | batch | s/step | images/s | % of conv peak |",
        "|---|---|---|---|---|",
    ]
    for row in result["points"]:
        lines.append(
            f"| {row['name']} | {row['batch']} | {row['seconds_per_step']:.3f} | "
            f"{row['images_per_second']:.1f} | {row['percent_of_peak']:.0f} |"
        )
    return lines + [""]


def speed_sections() -> list[str]:
    return speed_table("recipe_speed.json", "The learning curves' recipes, alone") + speed_table(
        "synthetic_speed.json", "The synthetic preset by batch size and form"
    )


def versus_reference_sections() -> list[str]:
    """One table per instruction set measured by ``versus_reference.py``
    (``versus_reference_<isa>.json``): training against the reference in PyTorch, same run."""
    lines = []
    for path in sorted(glob.glob(os.path.join(HERE, "versus_reference_*.json"))):
        result = json.load(open(path))
        isa = os.path.basename(path)[len("versus_reference_") : -len(".json")]
        lines += [
            f"## Training against the reference on {isa.upper()} "
            f"(`benchmarks/versus_reference.py`, `{os.path.basename(path)}`)",
            "",
            f"{result['cpu']}; oneDNN reports {result['onednn_isa']}. Batch 1, float32, the "
            "edges2shoes networks; each row's processes alternated with the reference's in one "
            "run (the median of the rounds' s/iteration, each the median of 3 steps; the rounds "
            "in brackets; a whole step drifts by about 5% between processes). The reference is "
            "our PyTorch transcription of NVlabs/MUNIT's iteration (`torch_reference.py`, "
            "parameter counts checked) on PyTorch's oneDNN kernels; the oneDNN rows run "
            "TensorFlow's oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS=1`), the others its default.",
            "",
            "| size | variant | s / iteration (rounds) | speed-up over the reference | "
            "peak memory |",
            "|---|---|---|---|---|",
        ]
        for size, rows in result["results"].items():
            reference = sorted(r["seconds_per_iteration"] for r in rows["reference (PyTorch)"])
            reference_median = reference[len(reference) // 2]
            for label, runs in rows.items():
                seconds = sorted(r["seconds_per_iteration"] for r in runs)
                median = seconds[len(seconds) // 2]
                memory = max(r["peak_memory_gb"] for r in runs)
                lines.append(
                    f"| {size}² | {label} | {median:.2f} ({', '.join(f'{s:.2f}' for s in seconds)})"
                    f" | {reference_median / median:.2f}x | {memory:.2f} GB |"
                )
        lines.append("")
    findings = os.path.join(HERE, "CPUS.md")  # what each instruction set shows, written by hand
    if lines and os.path.exists(findings):
        lines += [open(findings).read().strip(), ""]
    return lines


def goals_section() -> list[str]:
    """The issue's goals against ``quality.json`` (``benchmarks/quality.py``): the best recipe
    within its budget and the demo's preset over its training seeds."""
    path = os.path.join(HERE, "quality.json")
    if not os.path.exists(path):
        return []
    result = json.load(open(path))
    lines = [
        "## Quality goals (`benchmarks/quality.py`, `quality.json`)",
        "",
        f"Best recipe: **{result['best_recipe']}**, {result['best_steps']} steps in "
        f"{result['budget_minutes']} training minutes as logged"
        + (
            f", {result['best_alone_minutes']} minutes at its speed alone "
            f"({result['best_seconds_per_step_alone']} s/step)"
            if result.get("best_alone_minutes")
            else ""
        )
        + f" ({result['machine']}); 3 evaluation seeds, "
        "mean (spread over the seeds; over the pairs for guided_a2b). The best of the curves "
        "committed so far: the goals are for a 60-minute budget. Minutes are as logged: a run "
        "that shared the cores with another logged about twice its time alone (the curves' "
        "findings say which; the s/step alone are in the recipes' speed table).",
    ]
    if "demo_runs" in result:
        runs = result["demo_runs"]
        lines.append(
            f"Demo: the `make demo` preset and steps, training seeds {runs['seeds']} "
            f"({', '.join(str(m) for m in runs['minutes'])} training minutes), mean (spread over "
            f"training seeds). Gate thresholds derived from them: `{result['gate_thresholds']}`."
        )
    lines += ["", "| where | metric | value | goal | met |", "|---|---|---|---|---|"]
    from quality import goal_rows

    for kind in ("best", "demo"):
        for row in goal_rows(result.get(kind, {}), result["goals"].get(kind, [])):
            spread = f" ({row['std']:.3f})" if row["std"] is not None else ""
            verdict = "yes" if row["met"] else "**no**"
            lines.append(
                f"| {kind} | {row['metric']} | {row['mean']:.3f}{spread} | {row['goal']} | "
                f"{verdict} |"
            )
    return lines + [""]


def portable_sections() -> list[str]:
    """The LiteRT / ONNX exports (``portable.py``, ``portable.json``) and the browser runtimes
    (``browser.py``, ``browser.json``): size, error, quality through each runtime, latency."""
    lines = []
    for name, section in (("portable.json", _portable_table), ("browser.json", _browser_table)):
        path = os.path.join(HERE, name)
        if os.path.exists(path):
            lines += section(json.load(open(path)))
    return lines


def _titled(title: str, intro: str, columns: list[str]) -> list[str]:
    """A section's heading, its one paragraph, and the head of its table."""
    head = "| " + " | ".join(columns) + " |"
    return [f"## {title}", "", intro, "", head, "|" + "---|" * len(columns)]


def _portable_table(result: dict) -> list[str]:
    lines = _titled(
        "Portable exports (`benchmarks/portable.py`, `portable.json`)",
        f"{result['cpu']}; oneDNN (the SavedModel's TensorFlow): {result['onednn']}. "
        f"Quality: a synthetic run of {result['run']} at step {result['step']}, held-out test "
        "split, 32 inputs x 8 styles, 3 evaluation seeds, through each runtime. The ONNX and "
        "LiteRT sizes are of all twelve functions (ONNX: one file each, weights repeated); "
        "latency: `translate_with_style_a2b` exported alone.",
        ["runtime", "file MB", "max abs error vs TensorFlow", "a2b content IoU", "b2a outline F"]
        + ["a2b diversity", "guided texture acc.", "guided colour error"],
    )
    for label, row in result.get("quality", {}).items():
        metrics = row["metrics"]
        cells = [
            f"{metrics[name]['mean']:.3f}" if name in metrics else "-"
            for name in (
                "a2b/content_iou",
                "b2a/outline_f_score",
                "a2b/diversity",
                "guided_a2b/texture_accuracy",
                "guided_a2b/reference_color_error",
            )
        ]
        size = f"{row['bytes'] / 1e6:.1f}" if row["bytes"] else "-"
        error = row["max_abs_error_vs_tensorflow"]
        lines.append(
            f"| {label} | {size} | {'-' if error is None else f'{error:.1e}'} | "
            + " | ".join(cells)
            + " |"
        )
    latency = result.get("latency", {})
    if latency:
        lines += [
            "",
            "Latency of `translate_with_style_a2b`, batch 1, per image (p50 / p95), threads = "
            "the cores, alone on the machine:",
            "",
            "| runtime | " + " | ".join(f"{size}²" for size in latency) + " |",
            "|---|" + "---|" * len(latency),
        ]
        labels = list(next(iter(latency.values())))
        for label in labels:
            cells = [
                f"{latency[size][label]['seconds']['p50'] * 1000:.1f} / "
                f"{latency[size][label]['seconds']['p95'] * 1000:.1f} ms"
                for size in latency
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _browser_table(result: dict) -> list[str]:
    lines = _titled(
        "The web page's runtime (`benchmarks/browser.py`, `browser.json`)",
        f"{result['browser']}, {result['cpu']}; {result['function']} at "
        f"{result['image_size']}², WebAssembly on one thread, {result['runs']} timed runs "
        f"after 3 warm-up; versions {result['versions']}.",
        ["runtime", "p50", "p95", "load + compile"],
    )
    for key, name in (
        ("litert", "LiteRT.js (the page's)"),
        ("onnxruntime_web", "onnxruntime-web"),
    ):
        row = result[key]
        lines.append(
            f"| {name} | {row['seconds']['p50'] * 1000:.0f} ms | "
            f"{row['seconds']['p95'] * 1000:.0f} ms | {row['load_seconds']:.2f} s |"
        )
    lines += [
        "",
        f"Largest difference between the two runtimes' outputs: "
        f"{result['max_abs_difference']:.1e}.",
        "",
    ]
    return lines


def rewrite_quality_section():
    """``--quality-only``: replace the quality tables (precision, learning curves) in RESULTS.md
    after new runs, keeping the timings (which take 20 minutes to measure again)."""
    path = os.path.join(HERE, "RESULTS.md")
    text = open(path).read()
    start = text.find(QUALITY_HEADING)
    text = (
        (text if start < 0 else text[:start]).rstrip("\n")
        + "\n\n"
        + "\n".join(
            quality_section()
            + goals_section()
            + curves_section()
            + texture_probes_section()
            + speed_sections()
            + versus_reference_sections()
            + portable_sections()
        )
    )
    with open(path, "w") as handle:
        handle.write(text)


def main():
    import keras
    import tensorflow as tf

    sys.path.insert(0, HERE)
    from peak import conv_peak  # benchmarks/peak.py

    peaks = {"float32": conv_peak("float32"), "bfloat16": conv_peak("bfloat16")}
    rows = []
    variants = [
        ("fp32", 256, []),
        ("fp32 + XLA", 256, ["train.jit_compile=true"]),
        ("mixed_bfloat16", 256, ["train.precision=mixed_bfloat16"]),
        ("fp32, reuse translations", 256, ["train.reuse_translations=true"]),
        ("fp32", 128, []),
    ]
    for name, size, overrides in variants:
        args = ["--size", str(size), "--steps", "3", "--warmup", "2"]
        for override in overrides:
            args += ["--set", override]
        # Two runs, the faster one kept: now and then the machine has a slow spell (10-20% for a
        # minute) that the peak measured around the timing does not show.
        runs = sorted(
            (run_json("train_step.py", *args) for _ in range(2)),
            key=lambda r: r["seconds_per_iteration"],
        )
        runs[0]["other_run_seconds"] = runs[1]["seconds_per_iteration"]
        rows.append((name, size, runs[0], runs[0]["conv_peak_gflops"]))
    memory = [
        (name, run_json("memory.py", "--size", "256", "--steps", "5", *overrides))
        for name, overrides in (
            ("fp32", []),
            ("mixed_bfloat16", ["--set", "train.precision=mixed_bfloat16"]),
        )
    ]
    serve = run_json("serve.py", "--images-per-batch-size", "16")
    translate_flops = run_json(
        "train_step.py", "--size", "256", "--steps", "1", "--warmup", "1", "--inference"
    )
    pipeline_rate = input_pipeline()
    fp32_256 = rows[0][2]
    consumed = 2 * fp32_256["images_per_second"]  # one image per domain per iteration and image

    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run_all.py` on {datetime.date.today().isoformat()}. Machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}.",
        "",
        "## Peak measured in this run",
        "",
        "A 3x3 conv 256->256 on 64x64, batch 4. The machine drifts by several percent within "
        "minutes, so "
        "every benchmark below also measures this peak just before and after its own timing, and "
        "its "
        'percentages use that figure (the "peak" columns).',
        "",
        "| kernel | GFLOP/s at the start |",
        "|---|---|",
        f"| fp32 | {peaks['float32']:.0f} |",
        f"| bfloat16 | {peaks['bfloat16']:.0f} |",
        "",
        "## Training (edges2shoes preset, batch 1)",
        "",
        "GFLOP/s divides the reference's FLOPs per iteration by the time; the executed column "
        "divides the FLOPs we run (the decoder's upsampling as a sub-pixel convolution, see "
        "PROFILE.md). Each variant ran twice (median of 3 iterations after 2 warm-ups each); the "
        "table shows the faster run and the other run's time.",
        "",
        "| variant | size | s / iteration (other run) | TFLOP / iteration (reference; executed) | "
        "GFLOP/s (reference FLOPs) | peak (GFLOP/s) | % of peak | executed GFLOP/s | peak memory | "
        "reference (PyTorch) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, size, r, peak in rows:
        lines.append(
            f"| {name} | {size}² | {r['seconds_per_iteration']:.2f} ({r['other_run_seconds']:.2f}) "
            f"| {r['tflops_per_iteration']:.3f}; {r['tflops_executed_per_iteration']:.3f} | "
            f"{r['achieved_gflops']:.0f} | {peak:.0f} | {100 * r['achieved_gflops'] / peak:.0f}% | "
            f"{r['executed_gflops']:.0f} | {r['peak_memory_gb']:.1f} GB | {REFERENCE[size]} s |"
        )
    reuse = rows[3][2]["seconds_per_iteration"]
    lines += [
        "",
        "Reusing the generator step's translations for the discriminator "
        "(`train.reuse_translations`, a departure from the reference) saves "
        f"{100 * (1 - reuse / fp32_256['seconds_per_iteration']):.0f}% per iteration at 256².",
        "",
        "## Training memory (edges2shoes preset, 256², batch 1)",
        "",
        "The goal is a process peak at or under the reference's 3.9 GB: "
        f"{fp32_256['peak_memory_gb']:.2f} GB in the fp32 timing run above "
        f"({'met' if fp32_256['peak_memory_gb'] <= 3.9 else 'not met'}). `benchmarks/memory.py` "
        "splits it: the tensors at rest (weights and Adam slots), the most a step holds above "
        "that (median of 5 steps, from TensorFlow's BFC allocator), and the process peak in that "
        "run; the rest is TensorFlow itself and what the C allocator keeps.",
        "",
        "| variant | tensors at rest | step tensor peak (min-max) | process peak |",
        "|---|---|---|---|",
    ]
    for name, m in memory:
        low, high = m["step_tensor_peak_min_max_gb"]
        lines.append(
            f"| {name} | {m['resting_tensors_gb']:.2f} GB | {m['step_tensor_peak_gb']:.2f} GB "
            f"({low:.2f}-{high:.2f}) | {m['process_peak_gb']:.2f} GB |"
        )
    lines += [
        "",
        "## Inference (SavedModel, `translate_a2b` / `translate_bytes_a2b`, 256²)",
        "",
        f"One translation at 256² is {translate_flops['tflops_translate_per_image']:.3f} TFLOP in "
        f"the reference's form ({translate_flops['tflops_translate_per_image_executed']:.3f} "
        "executed). The target is that work at 85% of the fp32 peak measured around each timing.",
        "",
        "| signature | batch | p50 per call | p95 per call | p50 per image | images/s | peak "
        "(GFLOP/s) | target per image | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, value in serve.items():
        if isinstance(value, dict):
            signature, batch = key.rsplit("_batch", 1)
            target = (
                translate_flops["tflops_translate_per_image"]
                * 1e12
                / (0.85 * value["conv_peak_gflops"] * 1e9)
            )
            lines.append(
                f"| {signature} | {batch} | {value['p50_seconds']:.3f} s | "
                f"{value['p95_seconds']:.3f} s | {value['p50_seconds_per_image']:.3f} s | "
                f"{value['images_per_second']:.2f} | {value['conv_peak_gflops']:.0f} | "
                f"{target:.3f} s | {'yes' if value['p50_seconds_per_image'] <= target else 'no'} |"
            )
    lines += [
        "",
        "## Input pipeline",
        "",
        f"`tf.data` (decode, resize, random 256² crop, flip, both domains): {pipeline_rate:.0f} "
        f"images/s, {pipeline_rate / consumed:.0f}x what fp32 training at 256² consumes "
        f"({consumed:.2f} images/s).",
        "",
    ]
    lines += quality_section() + goals_section() + curves_section() + texture_probes_section()
    lines += speed_sections()
    lines += versus_reference_sections() + portable_sections()
    with open(os.path.join(HERE, "RESULTS.md"), "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:] == ["--quality-only"]:
        rewrite_quality_section()
    else:
        main()
