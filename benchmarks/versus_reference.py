"""Training speed and memory against the reference, measured in the same run on this CPU.

    PYTHONPATH=. .venv/bin/python benchmarks/versus_reference.py --sizes 128,256 --rounds 2 \\
        > benchmarks/versus_reference_avx2.json

Alternates the reference's iteration in PyTorch (``torch_reference.py``, run by the interpreter
of ``build/torch-venv``, which ``tests/e2e/test_reference.py`` builds from the machine's torch
wheel) with ``train_step.py`` in each form of ``fast_conv`` and with oneDNN's TensorFlow
kernels on and off (``TF_ENABLE_ONEDNN_OPTS``: TensorFlow turns them on by itself only on CPUs
with AVX512-VNNI, -BF16 or AMX), each in a process of its own, so the machine's drift falls on
all of them alike. The CPU's instruction sets and what oneDNN reports are written beside the
figures. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from munit_tf import cpu  # noqa: E402

TORCH_PYTHON = os.path.join(ROOT, "build", "torch-venv", "bin", "python")
# (label, train_step.py arguments, environment): what is measured against the reference
VARIANTS = {
    "munit-tf fp32": ["--form", "fast"],
    "munit-tf fp32, reference form": ["--form", "reference"],
    "munit-tf fp32, oneDNN kernels": ["--form", "fast", "--onednn"],
    # each part of the fast form left out alone: what it gains on this CPU
    "munit-tf fp32 without sub_pixel": ["--without", "sub_pixel"],
    "munit-tf fp32 without in_blocks": ["--without", "in_blocks"],
    "munit-tf fp32 without keep_input": ["--without", "keep_input"],
}
DEFAULT = ("munit-tf fp32", "munit-tf fp32, reference form", "munit-tf fp32, oneDNN kernels")


def run_json(command: list[str], env: dict) -> dict:
    out = subprocess.run(
        command,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out[out.index("{") :])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="128,256")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--variant", action="append", choices=list(VARIANTS), help="default: " + ", ".join(DEFAULT)
    )
    parser.add_argument(
        "--output", help="a JSON file to write; the rows it already has for this CPU are kept"
    )
    args = parser.parse_args(argv)
    if not os.path.exists(TORCH_PYTHON):
        raise SystemExit(f"no PyTorch interpreter at {TORCH_PYTHON}: see this file's docstring")
    steps = ["--steps", str(args.steps)]
    output = {"cpu": cpu.describe(), "onednn_isa": cpu.onednn_isa(), "results": {}}
    if args.output and os.path.exists(args.output):
        kept = json.load(open(args.output))
        if kept["cpu"] != output["cpu"]:
            raise SystemExit(f"{args.output} was measured on {kept['cpu']}, not this CPU")
        output["results"] = kept["results"]
    results = output["results"]
    for size in (int(s) for s in args.sizes.split(",")):
        rows = results.setdefault(str(size), {})
        for round_ in range(args.rounds):
            torch_run = run_json(
                [TORCH_PYTHON, os.path.join(HERE, "torch_reference.py"), "--size", str(size)]
                + steps,
                {},
            )
            rows.setdefault("reference (PyTorch)", []).append(torch_run)
            print(size, round_, "reference", torch_run["seconds_per_iteration"], file=sys.stderr)
            for label in args.variant or DEFAULT:
                extra = [a for a in VARIANTS[label] if a != "--onednn"]
                env = {"TF_ENABLE_ONEDNN_OPTS": "1"} if "--onednn" in VARIANTS[label] else {}
                ours = run_json(
                    [sys.executable, os.path.join(HERE, "train_step.py"), "--size", str(size)]
                    + steps
                    + extra,
                    env,
                )
                rows.setdefault(label, []).append(ours)
                print(size, round_, label, ours["seconds_per_iteration"], file=sys.stderr)
    text = json.dumps(output, indent=2)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
