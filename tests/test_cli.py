"""The command line: the demo end to end, one readable line with exit code 2 for user mistakes, and
internal failures that say they are one (exit code 1)."""

import os
import subprocess
import sys

import pytest
from cli_args import argv
from PIL import Image

from munit_tf import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_trains_and_prints_the_sample_grid(tmp_path, capsys):
    output = tmp_path / "demo"
    code = cli.main(
        argv(
            "demo",
            output=str(output),
            steps=2,
            synthetic_count=8,
            set=["train.batch_size=2", "train.steps_per_epoch=2"],
        )
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "trained to step 2" in printed
    grids = [
        line.split(":", 1)[1].strip()
        for line in printed.splitlines()
        if line.startswith("sample grid:")
    ]
    assert len(grids) == 2
    width, height = Image.open(grids[0]).size
    # display_size columns x (input, recon, fixed, random)
    assert (width, height) == (
        8 * 64,
        4 * 64,
    )


@pytest.mark.slow  # a minute or more: whole training runs
def test_train_with_prepared_data_and_resume(tmp_path, synthetic_data, capsys):
    args = argv("train", config="tiny", data=synthetic_data, output=tmp_path, steps=2)
    assert cli.main(args) == 0
    assert cli.main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert cli.main(args[:-1] + ["3", "--resume"]) == 0
    assert "trained to step 3" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--config", "nope"], "neither a preset"),
        (["--set", "gen.dimm=3"], "gen.dimm: unknown field"),
        (["--set", "train.batch_size=-1"], "train.batch_size: must be >= 1"),
    ],
)
def test_bad_config_is_one_line_and_exit_code_2(tmp_path, synthetic_data, capsys, extra, message):
    args = argv("train", config="tiny", data=synthetic_data, output=tmp_path) + extra
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_data_folder(tmp_path, capsys):
    assert (
        cli.main(argv("train", config="tiny", data=str(tmp_path / "none"), output=str(tmp_path)))
        == 2
    )
    assert "no such folder" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError):
        cli.main(["--debug", "train", "--config", "nope", "--data", "x", "--output", str(tmp_path)])


def test_installed_entry_point_reports_user_errors_without_a_traceback(tmp_path):
    munit_tf = os.path.join(os.path.dirname(sys.executable), "munit-tf")
    command = [
        munit_tf,
        *argv("train", config="tiny", data=tmp_path / "missing", output=tmp_path / "run"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "no such folder" in result.stderr


@pytest.mark.slow  # a minute or more: whole training runs
def test_train_with_the_mirrored_strategy(tmp_path, synthetic_data, capsys):
    assert (
        cli.main(
            argv(
                "train",
                config="tiny",
                data=synthetic_data,
                output=str(tmp_path),
                steps=2,
                strategy="mirrored",
                set="train.image_save_iter=0",
            )
        )
        == 0
    )
    assert "trained to step 2" in capsys.readouterr().out
    assert "strategy: mirrored" in open(tmp_path / "config.yaml").read()


def test_diverged_training_is_one_line_and_exit_code_3(
    tmp_path, synthetic_data, capsys, monkeypatch
):
    from munit_tf import training

    def diverge(*args, **kwargs):
        raise training.TrainingDiverged("loss_gen_total became NaN at step 7; training stopped.")

    monkeypatch.setattr(training, "train", diverge)
    assert cli.main(argv("train", config="tiny", data=synthetic_data, output=str(tmp_path))) == 3
    err = capsys.readouterr().err.strip()
    assert err == "munit-tf train: loss_gen_total became NaN at step 7; training stopped."


def test_an_internal_failure_says_it_is_one_with_exit_code_1(
    tmp_path, synthetic_data, capsys, monkeypatch
):
    """A ValueError from deep inside a library is not the user's mistake: it is not dressed as
    one."""
    from munit_tf import training

    def fail_inside(*args, **kwargs):
        raise ValueError("Invalid reduction dimension 0 for input with 0 dimensions")

    monkeypatch.setattr(training, "train", fail_inside)
    args = ["train", "--config", "tiny", "--data", synthetic_data, "--output", str(tmp_path)]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "munit-tf train: internal error (ValueError: Invalid reduction dimension 0"
    )
    assert "--debug" in err and len(err.splitlines()) == 1 and "error: " not in err.split("(")[0]
    with pytest.raises(ValueError, match="Invalid reduction"):
        cli.main(["--debug"] + args)


def test_user_errors_are_the_projects_own_and_still_the_builtin_kinds():
    from munit_tf import errors
    from munit_tf.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config("tiny", ["gen.nope=1"])
    assert isinstance(caught.value, errors.UserError) and isinstance(caught.value, ValueError)
    assert issubclass(errors.MissingInput, FileNotFoundError) and issubclass(
        errors.OutputExists, FileExistsError
    )
    assert cli._is_user_error(errors.InvalidInput("x")) and not cli._is_user_error(ValueError("x"))
    assert cli._is_user_error(PermissionError("disk")) and not cli._is_user_error(KeyError("x"))


COMMANDS = {  # every command that writes, with {out} where its output goes
    "train": ["train", "--config", "tiny", "--data", "synthetic", "--output", "{out}"],
    "demo": ["demo", "--output", "{out}"],
    "prepare": ["prepare", "--source", "synthetic", "--output", "{out}"],
    "export": ["export", "--checkpoint", "run", "--output", "{out}/1"],
    "translate": ["translate", "--model", "model", "--input", "in.png", "--output", "{out}"],
    "evaluate": ["evaluate", "--model", "model", "--data", "data", "--output", "{out}"],
    "import-reference": ["import-reference", "--gen", "gen.pt", "--output", "{out}"],
    "pipeline run": ["pipeline", "run", "--home", "{out}"],
    "pipeline compile": [
        "pipeline",
        "compile",
        "--output",
        "{out}/munit.yaml",
        "--pipeline-root",
        "gs://b/root",
        "--data",
        "gs://b/data",
        "--serving-dir",
        "gs://b/serving",
    ],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_with_an_unwritable_output_is_one_line_and_exit_code_2(
    command, tmp_path, capsys
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for unwritable in (str(blocker / "out"), "/sys/munit-test/out"):  # /sys refuses even root
        args = [part.replace("{out}", unwritable) for part in COMMANDS[command]]
        assert cli.main(args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err and "cannot write there" in err, err


def _translate_one(model, image, output) -> list[str]:
    return argv("translate", model=model, input=image, output=output, num_styles=1, overwrite=True)


def test_a_write_failure_midway_is_one_line_and_exit_code_2(exported_run, tmp_path, capsys):
    """Checked up front and still failing later: --output/style_00 is a file, not a folder."""
    _, saved = exported_run
    Image.new("RGB", (40, 40)).save(tmp_path / "in.png")
    output = tmp_path / "out"
    output.mkdir()
    (output / "style_00").write_text("in the way")
    assert cli.main(_translate_one(saved, tmp_path / "in.png", output)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "style_00" in err


def test_translate_never_writes_outside_its_output_folder(exported_run, tmp_path, capsys):
    _, saved = exported_run
    Image.new("RGB", (40, 40)).save(tmp_path / "in.png")
    output, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    output.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, output / "style_00")  # planted in the output folder
    assert cli.main(_translate_one(saved, tmp_path / "in.png", output)) == 2
    assert "resolves outside --output" in capsys.readouterr().err
    assert os.listdir(elsewhere) == []
