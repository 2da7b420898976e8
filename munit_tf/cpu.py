"""What this CPU can do, read from ``/proc/cpuinfo``: the vector instruction sets that decide
which convolution forms and precisions are fast (AVX2/FMA, AVX-512, AVX512-BF16, AMX), and what
oneDNN itself says it uses.

Every speed figure is stated beside these, because machines differ from one session to the next.
A precision the CPU has no instructions for is emulated: ``mixed_bfloat16`` ran 10x slower than
float32 on an AVX2-only EPYC (202 s against 19 s per 256² iteration), where it is 1.6x faster
with AVX512-BF16. Training says so in one line (``precision_warning``), and
``train.precision=auto`` takes the fastest precision the machine really has.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_bf16",
    "amx_bf16",
    "amx_tile",
    "avx512_fp16",
    "amx_fp16",
    "bf16",  # aarch64 (Features: ... bf16)
)
# the flags that make a mixed precision's arithmetic native, not emulated
NATIVE = {
    "mixed_bfloat16": ("avx512_bf16", "amx_bf16", "bf16"),
    "mixed_float16": ("avx512_fp16", "amx_fp16"),
}


def read_cpuinfo(cpuinfo: str | None = None) -> str:
    """``cpuinfo``, or the machine's /proc/cpuinfo when None ("" where there is no such file)."""
    if cpuinfo is not None:
        return cpuinfo
    try:
        with open("/proc/cpuinfo") as handle:
            return handle.read()
    except OSError:
        return ""


def flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU flags (of the first processor) in ``cpuinfo``, the text of /proc/cpuinfo, read
    from the machine when None; empty where there is no such file."""
    for line in read_cpuinfo(cpuinfo).splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def instruction_sets(cpuinfo: str | None = None) -> list[str]:
    """The vector extensions of ``FLAGS`` that the CPU has, e.g. ``["avx2", "fma", "avx512f"]``."""
    found = flags(cpuinfo)
    return [name for name in FLAGS if name in found]


def describe(cpuinfo: str | None = None) -> str:
    """One line for a report: ``AMD EPYC (x86_64): avx2, fma, avx512f, avx512_bf16``."""
    model, text = "unknown CPU", read_cpuinfo(cpuinfo)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
            break
    sets = instruction_sets(text)
    return f"{model} ({platform.machine()}): {', '.join(sets) or 'no AVX2'}"


def is_native(precision: str, cpuinfo: str | None = None) -> bool:
    """Whether ``precision`` runs on the CPU's own instructions (float32 always does)."""
    return precision == "float32" or bool(flags(cpuinfo) & set(NATIVE.get(precision, ())))


def fastest_precision(cpuinfo: str | None = None) -> str:
    """What ``train.precision=auto`` means here: ``mixed_bfloat16`` with native bfloat16 (the
    measured 1.6x, with quality within the float32 runs' spread: precision_quality.json), else
    float32. float16 is never chosen: on CPUs TensorFlow's float16 kernels are not the fast
    ones, and it needs loss scaling."""
    return "mixed_bfloat16" if is_native("mixed_bfloat16", cpuinfo) else "float32"


def precision_warning(precision: str, cpuinfo: str | None = None) -> str | None:
    """One line when ``precision`` would be emulated on this CPU, else None."""
    if is_native(precision, cpuinfo):
        return None
    kind = precision.removeprefix("mixed_")
    return (
        f"train.precision={precision} is emulated on this CPU (no native {kind}: "
        f"{describe(cpuinfo)}) and ~10x slower; use float32"
    )


# the CPU features for which TensorFlow 2.16 runs its oneDNN kernels without being told
# (TF_ENABLE_ONEDNN_OPTS): elsewhere (AVX2 alone, AVX-512 without VNNI) it runs Eigen's
ONEDNN_BY_DEFAULT = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def tensorflow_uses_onednn(environ: dict | None = None, cpuinfo: str | None = None) -> bool:
    """Whether TensorFlow runs oneDNN's kernels in this process (``TF_ENABLE_ONEDNN_OPTS``, else
    its default for the CPU). TensorFlow's own answer where it gives one; from the same rule when
    ``environ`` or ``cpuinfo`` is given (tests) or TensorFlow has no such function."""
    if environ is None and cpuinfo is None:
        try:
            from tensorflow.python.util import _pywrap_util_port

            return bool(_pywrap_util_port.IsMklEnabled())
        except (ImportError, AttributeError):
            pass
    setting = (os.environ if environ is None else environ).get("TF_ENABLE_ONEDNN_OPTS", "")
    if setting.strip().lower() in ("1", "true"):
        return True
    if setting.strip().lower() in ("0", "false"):
        return False
    return bool(flags(cpuinfo) & set(ONEDNN_BY_DEFAULT))


def parse_onednn_isa(verbose_output: str) -> str | None:
    """The ISA line of oneDNN's verbose output ("Intel AVX-512 with ... bfloat16 support")."""
    match = re.search(r"onednn_verbose,info,cpu,isa:(.+)", verbose_output)
    return match.group(1).strip() if match else None


def onednn_isa(environ: dict | None = None) -> str | None:
    """What oneDNN uses on this machine (honouring ``ONEDNN_MAX_CPU_ISA``), from one small
    convolution with ``ONEDNN_VERBOSE=1`` in a child process; None if it cannot tell."""
    code = (
        "import tensorflow as tf; x = tf.ones([1, 8, 8, 4]); "
        "tf.nn.conv2d(x, tf.ones([3, 3, 4, 4]), 1, 'SAME').numpy()"
    )
    env = {**(os.environ if environ is None else environ), "ONEDNN_VERBOSE": "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_onednn_isa(out.stdout + out.stderr)
