"""Reference checkpoints: real .pt files written by torch (both formats), read back bit for bit
without torch, and the converted generators checked against an independent NumPy oracle of the
reference."""

import fcntl
import os
import pickle
import shutil
import subprocess
import textwrap

import numpy as np
import pytest
import reference_oracle as oracle
import tensorflow as tf
from cli_args import argv
from paths import ROOT

from munit_tf import cli, reference
from munit_tf.config import load_config
from munit_tf.model import MUNIT

TORCH_VENV = os.path.join(ROOT, "build", "torch-venv")
PYTHON311 = shutil.which("python3.11") or os.path.expanduser(
    "~/.pyenv/versions/3.11.7/bin/python3.11"
)


@pytest.fixture(scope="session")
def torch_python():
    """A throw-away Python 3.11 environment with the machine's CPU build of PyTorch 2.13 (no network
    needed for torch itself: pip finds the wheel in /opt/wheels). Built once into build/torch-venv,
    under a file lock: the pytest-xdist workers would otherwise build it at the same time, into each
    other."""
    python = os.path.join(TORCH_VENV, "bin", "python")
    os.makedirs(os.path.dirname(TORCH_VENV), exist_ok=True)
    with open(TORCH_VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        probe = (
            subprocess.run([python, "-c", "import torch, numpy"], capture_output=True)
            if os.path.exists(python)
            else None
        )
        if probe is None or probe.returncode:
            assert os.path.exists(PYTHON311), (
                "Python 3.11 is needed for the PyTorch 2.13 wheel on this machine"
            )
            subprocess.run([PYTHON311, "-m", "venv", "--clear", TORCH_VENV], check=True)
            subprocess.run(
                [python, "-m", "pip", "install", "--quiet", "torch==2.13.0", "numpy<2.3"],
                check=True,
                timeout=1200,
            )
    return python


def _reference_state(model: MUNIT, seed: int = 0) -> dict:
    """Random state dicts with the reference's exact keys and PyTorch shapes, plus AdaIN's dummy
    buffers."""
    rng = np.random.default_rng(seed)
    out = {}
    for domain, gen in (("a", model.gen_a), ("b", model.gen_b)):
        state = {}
        for key, variable, kind in reference.generator_entries(gen):
            shape = tuple(variable.shape)
            if kind == "conv":
                shape = (shape[3], shape[2], shape[0], shape[1])
            elif kind == "linear":
                shape = shape[::-1]
            fan_in = int(np.prod(shape[1:])) if kind != "vector" else 1
            scale = np.sqrt(2.0 / fan_in) if kind != "vector" else 0.1
            value = rng.normal(0, scale, shape)
            if key.endswith("norm.gamma"):
                value = rng.uniform(0, 1, shape)
            state[key] = value.astype(np.float32)
            if ".model.0.model." in key and key.startswith("dec.") and key.endswith("conv.weight"):
                stem = key[: -len("conv.weight")]
                state[stem + "norm.running_mean"] = np.zeros(shape[0], np.float32)
                state[stem + "norm.running_var"] = np.ones(shape[0], np.float32)
        out[domain] = state
    return out


WRITE_WITH_TORCH = textwrap.dedent("""
    import collections, sys
    import numpy as np, torch
    source, zip_path, legacy_path = sys.argv[1:4]
    arrays = np.load(source)
    checkpoint = {"a": collections.OrderedDict(), "b": collections.OrderedDict()}
    for name in arrays.files:
        domain, key = name.split("/", 1)
        checkpoint[domain][key] = torch.from_numpy(arrays[name].copy())
    torch.save(checkpoint, zip_path)
    torch.save(checkpoint, legacy_path, _use_new_zipfile_serialization=False)
    print(torch.__version__)
""")


@pytest.fixture(scope="module")
def reference_files(torch_python, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    model = MUNIT(load_config("edges2shoes"))
    state = _reference_state(model)
    np.savez(
        folder / "gen_00012345.npz",
        **{f"{d}/{k}": v for d, sd in state.items() for k, v in sd.items()},
    )
    result = subprocess.run(
        [
            torch_python,
            "-c",
            WRITE_WITH_TORCH,
            str(folder / "gen_00012345.npz"),
            str(folder / "gen_00012345.pt"),
            str(folder / "gen_legacy.pt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("2.13")
    return folder, state


@pytest.mark.parametrize("name", ["gen_00012345.pt", "gen_legacy.pt", "gen_00012345.npz"])
def test_every_format_reads_back_bit_for_bit(reference_files, name):
    folder, state = reference_files
    if name == "gen_00012345.pt":
        import zipfile

        assert zipfile.is_zipfile(folder / name)
    elif name == "gen_legacy.pt":
        assert (folder / name).read_bytes()[:2] == b"\x80\x02"  # a pickle stream, not a zip archive
    loaded = reference.load_checkpoint(str(folder / name))
    for domain in "ab":
        assert set(loaded[domain]) == set(state[domain])
        for key, value in state[domain].items():
            assert loaded[domain][key].dtype == np.float32
            np.testing.assert_array_equal(loaded[domain][key], value, err_msg=key)


def test_converted_generators_match_the_reference_oracle(reference_files):
    folder, state = reference_files
    model = MUNIT(load_config("edges2shoes"))
    reference.load_reference(model, str(folder / "gen_legacy.pt"))
    rng = np.random.default_rng(1)
    x_a = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    x_b = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    nchw = lambda x: np.transpose(x, (0, 3, 1, 2))  # noqa: E731
    nhwc = lambda x: np.transpose(x, (0, 2, 3, 1))  # noqa: E731
    worst = {}
    for domain, x in (("a", x_a), ("b", x_b)):
        content, style = model.encode(x, domain)
        ref_content, ref_style = oracle.encode(state[domain], nchw(x))
        worst[f"content_{domain}"] = np.abs(np.asarray(content) - nhwc(ref_content)).max()
        worst[f"style_{domain}"] = np.abs(np.asarray(style) - ref_style.reshape(2, -1)).max()
        recon = np.asarray(model.decode(content, style, domain))
        worst[f"recon_{domain}"] = np.abs(
            recon - nhwc(oracle.decode(state[domain], ref_content, ref_style))
        ).max()
    codes = rng.standard_normal((2, 8)).astype("float32")
    ab = np.asarray(model.translate(x_a, "a2b", style=codes))
    ref_ab = oracle.decode(
        state["b"], oracle.encode(state["a"], nchw(x_a))[0], codes[:, :, None, None]
    )
    worst["a2b"] = np.abs(ab - nhwc(ref_ab)).max()
    guided = np.asarray(model.translate(x_b, "b2a", style=x_a))  # example-guided: x_a's styles
    ref_ba = oracle.decode(
        state["a"], oracle.encode(state["b"], nchw(x_b))[0], oracle.encode(state["a"], nchw(x_a))[1]
    )
    worst["b2a_guided"] = np.abs(guided - nhwc(ref_ba)).max()
    assert max(worst.values()) < 1e-4, worst
    assert np.abs(ab).mean() > 0.05  # the comparison is not between two blank images


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "gen_00000001.pt"
    with open(path, "wb") as handle:
        pickle.dump(Exploit(), handle, protocol=2)
    with pytest.raises(reference.UnsafeCheckpointError, match="refused to load posix.system"):
        reference.load_checkpoint(str(path))
    assert not marker.exists()
    import zipfile

    zipped = tmp_path / "gen_zip.pt"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"a": Exploit(), "b": {}}, protocol=2))
    assert cli.main(argv("import-reference", gen=str(zipped), output=str(tmp_path / "out"))) == 2
    assert not marker.exists()


def test_mismatched_keys_and_shapes_are_listed(reference_files, tmp_path):
    folder, state = reference_files
    small = MUNIT(load_config("tiny"))
    with pytest.raises(ValueError) as error:
        reference.load_reference(small, str(folder / "gen_00012345.npz"))
    message = str(error.value)
    assert (
        "wrong shape: enc_style.model.0.conv.weight" in message
        and "unexpected: enc_content.model.3.model.1" in message
    )
    broken = {d: dict(sd) for d, sd in state.items()}
    del broken["a"]["mlp.model.2.fc.bias"]
    broken["a"]["extra.weight"] = np.zeros(1, np.float32)
    np.savez(
        tmp_path / "broken.npz",
        **{f"{d}/{k}": v for d, sd in broken.items() for k, v in sd.items()},
    )
    with pytest.raises(
        ValueError, match=r"(?s)missing: mlp.model.2.fc.bias.*unexpected: extra.weight"
    ):
        reference.load_reference(MUNIT(load_config("edges2shoes")), str(tmp_path / "broken.npz"))


def _discriminator_state(model: MUNIT, seed: int = 2) -> dict:
    rng = np.random.default_rng(seed)
    state = {}
    for domain, dis in (("a", model.dis_a), ("b", model.dis_b)):
        state[domain] = {}
        for key, variable, kind in reference.discriminator_entries(dis):
            shape = tuple(variable.shape)
            shape = (shape[3], shape[2], shape[0], shape[1]) if kind == "conv" else shape
            state[domain][key] = rng.normal(0, 0.05, shape).astype(np.float32)
    return state


def test_import_reference_command_writes_a_run_and_a_saved_model(reference_files, tmp_path, capsys):
    folder, state = reference_files
    output = str(tmp_path / "imported")
    dis_state = _discriminator_state(MUNIT(load_config("edges2shoes")))
    dis_path = str(tmp_path / "dis_00012345.npz")
    np.savez(dis_path, **{f"{d}/{k}": v for d, sd in dis_state.items() for k, v in sd.items()})
    assert (
        cli.main(
            argv(
                "import-reference",
                gen=str(folder / "gen_00012345.pt"),
                dis=dis_path,
                config="edges2shoes",
                output=output,
                export=True,
            )
        )
        == 0
    )
    assert "step 12345" in capsys.readouterr().out
    from munit_tf.training import load_model

    restored = load_model(output)
    assert int(restored.step) == 12345
    image = np.random.default_rng(3).uniform(-1, 1, (1, 64, 64, 3)).astype("float32")
    for ours, theirs in zip(
        restored.dis_b(image), oracle.discriminate(dis_state["b"], image.transpose(0, 3, 1, 2))
    ):
        np.testing.assert_allclose(np.asarray(ours), theirs.transpose(0, 2, 3, 1), atol=1e-4)
    kernel = np.asarray(restored.gen_b.mlp.dense[0].kernel)
    np.testing.assert_array_equal(kernel, state["b"]["mlp.model.0.fc.weight"].T)
    served = tf.saved_model.load(os.path.join(output, "serving", "1"))
    styles = served.signatures["encode_style_a"](images=tf.zeros([1, 32, 32, 3]))["styles"]
    ref_style = oracle.encode(state["a"], np.zeros((1, 3, 32, 32)))[1].reshape(1, -1)
    np.testing.assert_allclose(styles.numpy(), ref_style, atol=1e-4)
    assert cli.main(argv("import-reference", gen=str(tmp_path / "missing.pt"), output=output)) == 2
