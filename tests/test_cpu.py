"""CPU detection from /proc/cpuinfo (fed fake files: the machine under test does not matter),
and the precision training picks or warns about on each kind of CPU."""

import os
import platform

import pytest

from munit_tf import cpu, precision, training
from munit_tf.config import load_config

AVX2_EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2
processor\t: 1
model name\t: AMD EPYC 7B12
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2
"""
BF16_EPYC = """processor\t: 0
model name\t: AMD EPYC 9B14
flags\t\t: fpu sse2 fma avx2 avx512f avx512dq avx512_bf16 avx512_vnni
"""
SAPPHIRE_RAPIDS = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C
flags\t\t: fma avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
"""
GRAVITON3 = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp bf16 i8mm
"""


def test_instruction_sets_and_the_one_line_description_come_from_the_first_processor():
    assert cpu.instruction_sets(AVX2_EPYC) == ["avx2", "fma"]
    assert cpu.instruction_sets(BF16_EPYC) == ["avx2", "fma", "avx512f", "avx512_bf16"]
    assert "amx_bf16" in cpu.instruction_sets(SAPPHIRE_RAPIDS)
    assert cpu.instruction_sets(GRAVITON3) == ["bf16"]
    assert cpu.describe(AVX2_EPYC).startswith("AMD EPYC 7B12 (")
    assert cpu.describe(AVX2_EPYC).endswith("): avx2, fma")
    assert cpu.describe("").startswith("unknown CPU") and cpu.describe("").endswith("no AVX2")


@pytest.mark.parametrize(
    "cpuinfo, fastest",
    [
        (AVX2_EPYC, "float32"),
        (BF16_EPYC, "mixed_bfloat16"),
        (SAPPHIRE_RAPIDS, "mixed_bfloat16"),
        (GRAVITON3, "mixed_bfloat16"),
        ("", "float32"),
    ],
)
def test_auto_takes_bfloat16_only_where_the_cpu_has_it(cpuinfo, fastest):
    assert cpu.fastest_precision(cpuinfo) == fastest
    assert precision.resolve("auto", cpuinfo) == fastest
    assert precision.resolve("float32", cpuinfo) == "float32"  # a chosen precision stays
    assert precision.resolve("mixed_bfloat16", AVX2_EPYC) == "mixed_bfloat16"


def test_an_emulated_precision_is_one_warning_line_naming_the_cpu():
    warning = precision.start_message("mixed_bfloat16", AVX2_EPYC)
    assert warning.startswith("warning: train.precision=mixed_bfloat16 is emulated on this CPU")
    assert "AMD EPYC 7B12" in warning and warning.endswith("~10x slower; use float32")
    assert "\n" not in warning
    assert precision.start_message("mixed_bfloat16", BF16_EPYC) is None
    assert precision.start_message("float32", AVX2_EPYC) is None
    assert "emulated" in precision.start_message("mixed_float16", BF16_EPYC)  # no avx512_fp16
    assert precision.start_message("mixed_float16", SAPPHIRE_RAPIDS) is None
    assert precision.start_message("auto", AVX2_EPYC).startswith("train.precision=auto: float32")
    assert "mixed_bfloat16" in precision.start_message("auto", BF16_EPYC)


def test_parsing_onednns_verbose_isa_line():
    text = (
        "onednn_verbose,info,oneDNN v3.3.4 (commit N/A)\n"
        "onednn_verbose,info,cpu,runtime:threadpool,nthr:2\n"
        "onednn_verbose,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support\n"
    )
    assert cpu.parse_onednn_isa(text) == "Intel AVX-512 with Intel DL Boost and bfloat16 support"
    assert cpu.parse_onednn_isa("no verbose output") is None


@pytest.mark.skipif(platform.machine() != "x86_64", reason="oneDNN's x86 ISA names")
def test_onednn_reports_the_isa_it_was_restricted_to():
    # every x86 machine this runs on has AVX2; restricting oneDNN to it is how AVX2 figures
    # are taken on an AVX-512 machine
    assert cpu.onednn_isa({**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}) == "Intel AVX2"


def test_training_prints_the_warning_for_an_emulated_precision(
    monkeypatch, synthetic_data, tmp_path, capsys
):
    monkeypatch.setattr(
        cpu, "read_cpuinfo", lambda cpuinfo=None: AVX2_EPYC if cpuinfo is None else cpuinfo
    )
    config = load_config("tiny", ["train.max_iter=1", "train.precision=auto"])
    model = training.build_model(config)
    assert model.precision == "float32"  # what auto means on an AVX2-only CPU
    assert model.gen_a.compute_dtype == "float32"
    config = load_config("tiny", ["train.max_iter=1", "train.precision=mixed_bfloat16"])
    training.train(config, synthetic_data, str(tmp_path / "run"), verbose=0)
    lines = [line for line in capsys.readouterr().out.splitlines() if "emulated" in line]
    assert len(lines) == 1 and "AMD EPYC 7B12" in lines[0]


def test_tensorflow_runs_onednn_by_default_only_with_vnni_bf16_or_amx_unless_told():
    assert not cpu.tensorflow_uses_onednn({}, AVX2_EPYC)
    assert cpu.tensorflow_uses_onednn({}, BF16_EPYC)  # avx512_bf16 and avx512_vnni
    assert cpu.tensorflow_uses_onednn({}, SAPPHIRE_RAPIDS)
    assert not cpu.tensorflow_uses_onednn({}, GRAVITON3)
    assert cpu.tensorflow_uses_onednn({"TF_ENABLE_ONEDNN_OPTS": "1"}, AVX2_EPYC)
    assert not cpu.tensorflow_uses_onednn({"TF_ENABLE_ONEDNN_OPTS": "false"}, BF16_EPYC)
    assert isinstance(cpu.tensorflow_uses_onednn(), bool)  # TensorFlow's own answer here
