"""munit-tf translate: parity with the reference's test.py / test_batch.py, from a SavedModel or a
checkpoint."""

import os
import shutil

import numpy as np
import pytest
from cli_args import argv
from PIL import Image

from munit_tf import cli

RNG = np.random.default_rng(1)


@pytest.fixture(scope="module")
def models(exported_run):
    return exported_run


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    image = Image.fromarray(RNG.integers(0, 255, (36, 44, 3), dtype=np.uint8))
    image.save(folder / "one.png")
    shutil.copy(folder / "one.png", folder / "sub" / "same.png")  # identical content
    Image.fromarray(RNG.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / "two.jpg")
    return str(folder)


def _read(path):
    return np.asarray(Image.open(path))


def test_random_styles_one_folder_per_style(models, inputs, tmp_path):
    out = str(tmp_path / "out")
    assert (
        cli.main(
            argv(
                "translate",
                model=models[1],
                input=inputs,
                output=out,
                num_styles=3,
                seed=5,
                batch_size=2,
            )
        )
        == 0
    )
    assert sorted(os.listdir(out)) == ["style_00", "style_01", "style_02"]
    assert sorted(os.listdir(os.path.join(out, "style_00"))) == ["one.png", "sub", "two.png"]
    # resized as in training
    assert _read(os.path.join(out, "style_00", "one.png")).shape == (
        32,
        36,
        3,
    )
    # Not synchronized: two inputs with identical content get different styles.
    assert not np.array_equal(
        _read(os.path.join(out, "style_00", "one.png")),
        _read(os.path.join(out, "style_00", "sub", "same.png")),
    )


def test_synchronized_styles_and_checkpoint_parity(models, inputs, tmp_path):
    run, saved = models
    outputs = []
    for model in (saved, run):
        out = str(tmp_path / os.path.basename(model))
        assert (
            cli.main(
                argv(
                    "translate",
                    model=model,
                    input=inputs,
                    output=out,
                    num_styles=2,
                    synchronized=True,
                )
            )
            == 0
        )
        outputs.append(out)
    one = _read(os.path.join(outputs[0], "style_01", "one.png"))
    assert np.array_equal(one, _read(os.path.join(outputs[0], "style_01", "sub", "same.png")))
    assert (
        np.abs(one.astype(int) - _read(os.path.join(outputs[1], "style_01", "one.png"))).max() <= 1
    )


@pytest.mark.slow  # a minute or more: whole training runs
def test_reference_interpolation_and_grid(models, inputs, tmp_path):
    saved = models[1]
    references = []
    for k in range(2):
        reference = str(tmp_path / f"ref{k}.png")
        Image.fromarray(RNG.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(reference)
        out = str(tmp_path / f"guided{k}")
        assert (
            cli.main(argv("translate", model=saved, input=inputs, output=out, reference=reference))
            == 0
        )
        references.append(_read(os.path.join(out, "one.png")))
    assert not np.array_equal(*references)
    out = str(tmp_path / "strip")
    assert (
        cli.main(
            argv(
                "translate",
                model=saved,
                input=os.path.join(inputs, "two.jpg"),
                output=out,
                interpolate=4,
            )
        )
        == 0
    )
    assert _read(os.path.join(out, "interpolation", "two.png")).shape == (32, 5 * 32, 3)
    out = str(tmp_path / "grid")
    assert (
        cli.main(argv("translate", model=saved, input=inputs, output=out, num_styles=3, grid=True))
        == 0
    )
    assert _read(os.path.join(out, "two.png")).shape == (32, 4 * 32, 3)


def test_bad_inputs_are_skipped_and_outputs_are_not_overwritten(models, inputs, tmp_path, capsys):
    with open(os.path.join(inputs, "broken.png"), "wb") as handle:
        handle.write(b"\x89PNG not really")
    out = str(tmp_path / "out")
    assert cli.main(argv("translate", model=models[1], input=inputs, output=out, num_styles=1)) == 0
    printed = capsys.readouterr().out
    assert "skipped" in printed and "broken.png" in printed
    assert sorted(os.listdir(os.path.join(out, "style_00"))) == ["one.png", "sub", "two.png"]
    assert cli.main(argv("translate", model=models[1], input=inputs, output=out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (
        cli.main(argv("translate", model=models[1], input=str(tmp_path / "none"), output=out)) == 2
    )
    assert (
        cli.main(
            argv(
                "translate", model=models[1], input=inputs, output=str(tmp_path / "o"), num_styles=0
            )
        )
        == 2
    )
