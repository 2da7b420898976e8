"""What this CPU can do, read from ``/proc/cpuinfo``: the vector instruction sets that decide
which convolution forms and precisions are fast (AVX2/FMA, AVX-512, AVX512-BF16, AMX).

Every speed figure is stated beside these, because machines differ from one session to the next.
"""

from __future__ import annotations

import platform

FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16")


def flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU flags (of the first processor) in ``cpuinfo``, the text of /proc/cpuinfo, read
    from the machine when None; empty where there is no such file."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as handle:
                cpuinfo = handle.read()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
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
    model = "unknown CPU"
    text = cpuinfo
    if text is None:
        try:
            with open("/proc/cpuinfo") as handle:
                text = handle.read()
        except OSError:
            text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
            break
    sets = instruction_sets(text)
    return f"{model} ({platform.machine()}): {', '.join(sets) or 'no AVX2'}"
