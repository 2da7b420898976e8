"""Keras-native saving: ``model.save("m.keras")`` and ``keras.models.load_model`` in a fresh
process."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from cli_args import argv

from munit_tf import cli, layers, losses, networks, optimizers, training
from munit_tf.config import ConfigError, DiscriminatorConfig, GeneratorConfig, load_config
from munit_tf.model import MUNIT


def _state(model):
    return [
        v.numpy()
        for v in model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables
    ]


def _run(script, cwd):
    """A fresh Python process (nothing of this one's Keras registry); its stdout, or the failure."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny model trained two steps with fit(), saved as .keras; the next batch, the translations
    of fixed codes, and the weights after one more fit() step of the original model."""
    folder = tmp_path_factory.mktemp("keras_saving")
    config = load_config("tiny", ["train.seed=3"])
    model = training.build_model(config)
    rng = np.random.default_rng(0)
    batches = [
        tuple(rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
        for _ in range(3)
    ]
    model.fit(
        tf.data.Dataset.from_tensor_slices(tuple(np.stack(x) for x in zip(*batches[:2]))),
        steps_per_epoch=2,
        epochs=1,
        verbose=0,
    )
    path = str(folder / "munit.keras")
    model.save(path)
    codes = rng.standard_normal((2, config.gen.style_dim)).astype("float32")
    translations = np.asarray(model.translate(batches[2][0], "a2b", style=codes))
    model.fit(tf.data.Dataset.from_tensors(batches[2]), steps_per_epoch=1, epochs=1, verbose=0)
    np.savez(
        folder / "expected.npz",
        x_a=batches[2][0],
        x_b=batches[2][1],
        codes=codes,
        translations=translations,
        **{f"state_{i}": v for i, v in enumerate(_state(model))},
    )
    return folder, path


def test_load_model_in_a_fresh_process_translates_alike_and_fit_continues_identically(saved):
    folder, path = saved
    out = _run(
        f"""
        import numpy as np, keras, tensorflow as tf
        import munit_tf
        model = keras.models.load_model({path!r})
        assert type(model) is munit_tf.MUNIT, type(model)
        expected = np.load("expected.npz")
        translations = model.translate(expected["x_a"], "a2b", style=expected["codes"])
        same = np.array_equal(np.asarray(translations), expected["translations"])
        print("step", int(model.step), int(model.gen_optimizer.bias_correction_step))
        batch = tf.data.Dataset.from_tensors((expected["x_a"], expected["x_b"]))
        model.fit(batch, steps_per_epoch=1, epochs=1, verbose=0)
        variables = model.weights + model.gen_optimizer.variables + model.dis_optimizer.variables
        state = [v.numpy() for v in variables]
        count = len([k for k in expected.files if k.startswith("state_")])
        print("translations", same)
        print("count", len(state), count)
        differ = [i for i in range(count) if not np.array_equal(state[i], expected[f"state_{{i}}"])]
        print("differ", differ)
        """,
        folder,
    )
    assert "step 2 2" in out
    assert "translations True" in out
    count = out.split("count ")[1].split("\n")[0].split()
    assert count[0] == count[1] and int(count[0]) > 100
    assert "differ []" in out


def test_without_import_munit_tf_the_error_names_the_missing_import(saved):
    folder, path = saved
    done = subprocess.run(
        [sys.executable, "-c", f"import keras; keras.models.load_model({path!r})"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert done.returncode != 0
    assert "Could not locate class 'MUNIT'" in done.stderr and "munit_tf" in done.stderr


def test_training_load_model_takes_a_keras_file_and_the_command_line_too(saved, tmp_path):
    folder, path = saved
    model = training.load_model(path)
    assert isinstance(model, MUNIT) and int(model.step) == 2
    assert isinstance(model.gen_optimizer, optimizers.Adam)
    with pytest.raises(ValueError, match="another configuration"):
        training.load_model(path, load_config("tiny"))
    keras.utils.save_img(str(tmp_path / "edge.png"), np.full((32, 32, 3), 200, np.uint8))
    assert (
        cli.main(
            argv(
                "translate",
                model=path,
                input=str(tmp_path / "edge.png"),
                output=str(tmp_path / "out"),
                num_styles=2,
            )
        )
        == 0
    )
    written = [name for _, _, names in os.walk(tmp_path / "out") for name in names]
    assert len(written) == 2


def _rewrite_config(source, target, change):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    change(config["config"])
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(target)


def test_a_newer_or_incompatible_file_fails_with_one_clear_line(saved, tmp_path, capsys):
    _, path = saved
    newer = _rewrite_config(path, tmp_path / "newer.keras", lambda c: c.update(save_format=99))
    with pytest.raises(ValueError, match="newer munit-tf .*save format 99"):
        training.load_model(newer)
    unknown = _rewrite_config(
        path, tmp_path / "unknown.keras", lambda c: c["config"]["gen"].update(width=3)
    )
    with pytest.raises(ConfigError, match="gen.width: unknown field"):
        training.load_model(unknown)
    resized = _rewrite_config(
        path, tmp_path / "resized.keras", lambda c: c["config"]["gen"].update(dim=4)
    )
    with pytest.raises(ValueError, match="saved weights do not fit the model its config describes"):
        training.load_model(resized)
    not_zip = tmp_path / "broken.keras"
    not_zip.write_bytes(b"not a zip")
    for bad in (newer, unknown, resized, str(not_zip), str(tmp_path / "missing.keras")):
        assert cli.main(argv("export", checkpoint=bad, output=str(tmp_path / "serving" / "1"))) == 2
        err = capsys.readouterr().err.strip()
        assert (
            err.startswith("munit-tf export: error:") and "\n" not in err and "Traceback" not in err
        )


@pytest.mark.parametrize(
    "layer",
    [
        layers.AdaptiveInstanceNorm(),
        layers.MunitLayerNorm(),
        layers.ConvBlock(8, 3, 1, 1, "in", "relu", "reflect"),
        layers.UpsampleConvBlock(8, 5, 1, 2, "ln", "relu", "reflect"),
        layers.ResBlock(8, "adain"),
        layers.MLP(16, 8),
        layers.AvgPoolExcludePad(),
        networks.StyleEncoder(8, 4),
        networks.ContentEncoder(8),
        networks.Decoder(2, 1, 32, 3),
        networks.Generator(3, GeneratorConfig(dim=8, mlp_dim=16)),
        networks.Discriminator(DiscriminatorConfig(dim=8, num_scales=2)),
        optimizers.StepLR(1e-4, 10, 0.5),
        optimizers.Adam(optimizers.StepLR(1e-4, 10, 0.5), epsilon_placement="keras"),
        losses.PerceptualLoss("random"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_every_custom_class_is_registered_and_round_trips_its_config(layer):
    assert keras.saving.get_registered_name(type(layer)).startswith("munit_tf>")
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is type(layer) and again.get_config() == layer.get_config()
