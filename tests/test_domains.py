"""More than two domains: two stay the reference's step, N learn every pair, and every way in
(config, data, translation, checkpoints, SavedModel signatures) takes the domains' names."""

import collections
import importlib.util
import itertools
import os

import keras
import numpy as np
import pytest
from paths import FIXTURES

from munit_tf.config import ConfigError, UnknownDomain, load_config
from munit_tf.errors import InvalidInput, MissingInput
from munit_tf.training import Checkpointer, build_model

THREE = ["data.domains=[a,b,c]"]
RECIPE = [
    "train.ema_beta=0.9",
    "gen.spectral_norm=true",
    "dis.spectral_norm=true",
    "train.reuse_translations=true",
]


def _fixture_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FIXTURES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _batches(count, seed=0, size=32):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, (2, size, size, 3)).astype("float32") for _ in range(count))


def _model(overrides=(), seed=0):
    keras.utils.set_random_seed(seed)
    return build_model(load_config("tiny", list(overrides)))


# ------------------------------------------------------------------------------------------
# Two domains: the reference's step, as the code before N domains computed it
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["reference", "reuse", "imaginaire"])
def test_two_domains_step_is_the_two_domain_code_s(variant):
    """Two steps from seed 0 against tests/fixtures/two_domain_step.npz, written by the code
    before N domains (commit 104d6cd): every loss and every weight. On the machine that wrote it
    the arrays were equal bit for bit; elsewhere other CPU kernels may round differently."""
    make = _fixture_module("make_two_domain_step")
    expected = np.load(os.path.join(FIXTURES, "two_domain_step.npz"))
    got = make.run(variant)
    names = sorted(k for k in expected.files if k.startswith(f"{variant}/"))
    assert sorted(got) == names  # the same terms and the same weights, by name
    for name in names:
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-5, atol=1e-6, err_msg=name)


def test_two_named_domains_train_exactly_as_a_and_b():
    names = ["data.domains=[summer,winter]"]
    ours, theirs = _model(names), _model()
    logs = ours.train_step(_batches(2))
    reference = theirs.train_step(_batches(2))
    assert logs["loss_gen_recon_x_summer"] == reference["loss_gen_recon_x_a"]
    assert logs["loss_dis_winter"] == reference["loss_dis_b"]
    for mine, yours in zip(ours.weights, theirs.weights):
        np.testing.assert_array_equal(mine.numpy(), yours.numpy())


# ------------------------------------------------------------------------------------------
# Three domains
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stepped():
    """(model, its weights before, the logs of its one step): three domains, with the EMA,
    spectral norm in G and D, and D trained on the G step's translations."""
    model = _model(THREE + RECIPE)
    networks = model.trained_generators + model.discriminators
    before = [[v.numpy().copy() for v in n.trainable_variables] for n in networks]
    return model, before, model.train_step(_batches(3))


def test_three_domains_step_updates_every_network_and_logs_every_domain(stepped):
    model, before, logs = stepped
    assert model.pairs == (("a", "b"), ("a", "c"), ("b", "c"))
    for domain in "abc":
        for term in ("loss_dis", "loss_gen_adv", "loss_gen_recon_x", "loss_gen_recon_c"):
            assert np.isfinite(logs[f"{term}_{domain}"]).all()
    for network, weights in zip(model.trained_generators + model.discriminators, before):
        assert any(
            not np.array_equal(v.numpy(), w) for v, w in zip(network.trainable_variables, weights)
        ), network.name


def test_a_three_domain_step_averages_its_pairs(stepped):
    """Each domain's logged term is its mean over the two pairs it is in, the total the mean of
    the three pairs' totals: so D's total is twice the mean of the domains' terms (gan_w = 1)."""
    logs = stepped[2]
    terms = [float(logs[f"loss_dis_{d}"][0]) for d in "abc"]
    assert float(logs["loss_dis_total"][0]) == pytest.approx(2 * np.mean(terms), rel=1e-5)


def test_shared_content_encoder_is_one_set_of_weights():
    shared = _model(THREE + ["gen.shared_content=true"])
    separate = _model(THREE)
    gens = shared.trained_generators
    assert gens[0].enc_content is gens[1].enc_content is gens[2].enc_content
    variables = shared.generator_variables
    assert len({id(v) for v in variables}) == len(variables)
    encoder = len(gens[0].enc_content.trainable_variables)
    assert len(variables) == len(separate.generator_variables) - 2 * encoder
    x = _batches(1)[0]
    shared.train_step(_batches(3))
    np.testing.assert_array_equal(
        shared.encode(x, "a")[0].numpy(), shared.generator("c").encode_content(x).numpy()
    )


def test_three_domains_resume_from_a_checkpoint_exactly(stepped, tmp_path):
    model = stepped[0]
    Checkpointer(model, str(tmp_path)).save()
    restored = _model(THREE + RECIPE, seed=1)
    assert Checkpointer(restored, str(tmp_path)).restore() == 1
    for mine, yours in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(mine.numpy(), yours.numpy())
    assert {v.path.split("/")[0] for v in restored.weights} >= {"gen_c", "gen_c_ema", "dis_c"}


def test_three_domains_keras_file_round_trip(stepped, tmp_path):
    from munit_tf.training import load_keras_file

    model = stepped[0]
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = load_keras_file(path)
    assert loaded.domains == ("a", "b", "c")
    for mine, yours in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(mine.numpy(), yours.numpy())


def test_the_pair_schedule_visits_every_pair_equally_often():
    from munit_tf.model import pair_schedule

    pairs = tuple(itertools.combinations("abcd", 2))  # six
    assert pair_schedule(pairs, 0, seed=0) == pair_schedule(pairs, 6, seed=0) == (pairs,)
    for per_step, groups in ((1, 6), (2, 3), (4, 3)):
        schedule = pair_schedule(pairs, per_step, seed=0)
        assert len(schedule) == groups and all(len(g) == per_step for g in schedule)
        visits = collections.Counter(pair for group in schedule for pair in group)
        assert set(visits) == set(pairs) and len(set(visits.values())) == 1, visits
        assert schedule == pair_schedule(pairs, per_step, seed=0)
    orders = {pair_schedule(pairs, 1, seed=seed) for seed in range(4)}
    assert len(orders) > 1  # the seed shuffles the order


def test_a_step_of_a_pair_schedule_trains_only_its_pairs_domains(three_domain_data, tmp_path):
    """Three domains, one pair per step, trained with fit(): each step changes the networks of
    its pair's two domains and no others, the next step takes the next pair (also after a resume
    from a checkpoint: the restored step counter continues the cycle), and the logs keep every
    domain's latest terms."""
    from munit_tf.data import dataset

    config = load_config("tiny", THREE + ["train.pairs_per_step=1"])
    keras.utils.set_random_seed(0)
    model = build_model(config)
    model.compile()
    data = dataset.make_dataset(three_domain_data, config)
    groups = model.pair_groups
    assert len(groups) == 3 and sorted(p for g in groups for p in g) == list(model.pairs)
    trained = set()
    for step, (pair,) in enumerate(groups):
        if step == 1:  # a fresh model from the checkpoint of step 1 takes the second pair
            Checkpointer(model, str(tmp_path)).save()
            keras.utils.set_random_seed(1)
            model = build_model(config)
            model.compile()
            assert Checkpointer(model, str(tmp_path)).restore() == 1
            assert model.pair_groups == groups
            trained = set()
        networks = {d: (model.generator(d, trained=True), model.discriminator(d)) for d in "abc"}
        before = {d: [w.numpy().copy() for n in networks[d] for w in n.weights] for d in "abc"}
        history = model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)
        assert int(model.step.numpy()) == step + 1
        for d in "abc":
            after = [w.numpy() for n in networks[d] for w in n.weights]
            changed = any(not np.array_equal(x, y) for x, y in zip(before[d], after))
            assert changed == (d in pair), (step, pair, d)
        trained |= set(pair)
        logged = {name.rsplit("_", 1)[1] for name in history.history if "loss_dis_" in name}
        assert logged == trained | {"total"}


# ------------------------------------------------------------------------------------------
# Names everywhere, and errors that name the domains
# ------------------------------------------------------------------------------------------
def test_translate_between_named_domains():
    model = _model(["data.domains=[summer,winter,autumn]"])
    x = _batches(1)[0]
    assert model.translate(x, source="autumn", target="summer").shape == x.shape
    assert model.translate(x, "winter2autumn", style=3).shape == (2, 3, 32, 32, 3)
    np.testing.assert_array_equal(  # the default: the first domain to the second
        model.translate(x, seed=1).numpy(), model.translate(x, "summer2winter", seed=1).numpy()
    )
    with pytest.raises(UnknownDomain, match="domains are summer, winter, autumn"):
        model.translate(x, source="spring", target="summer")
    with pytest.raises(InvalidInput, match="summer2winter, summer2autumn"):
        model.translate(x, "a2b")
    with pytest.raises(InvalidInput, match="both 'summer'"):
        model.translate(x, source="summer", target="summer")
    with pytest.raises(InvalidInput, match="one batch of images per domain"):
        model.train_step(_batches(2))


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.domains=[a]"], "at least two"),
        (["data.domains=[a,a]"], "must differ"),
        (["data.domains=[a,a_ema]"], "may not end in _ema"),
        (["data.domains=[Summer,b]"], "not a domain name"),
        (["data.domains=[a,b,c]", "data.input_dims=[3,3]"], "one channel count per domain"),
        (["gen.shared_content=true", "data.input_dim_b=1"], "same channels"),
    ],
)
def test_bad_domains_in_the_config_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("tiny", overrides)


def test_domains_from_a_command_line_override_and_their_channels():
    config = load_config("tiny", ["data.domains=day,night,dusk", "data.input_dim_b=1"])
    assert config.data.domains == ["day", "night", "dusk"]
    assert [config.channels(d) for d in config.data.domains] == [3, 1, 3]
    config = load_config("tiny", ["data.domains=[x,y,z]", "data.input_dims=[1,3,4]"])
    assert [config.channels(d) for d in "xyz"] == [1, 3, 4]


def test_three_domain_serving_signatures_name_every_direction():
    from munit_tf.serving.client import TranslatorClient

    model = _model(THREE)
    client = TranslatorClient(model, lazy=True)
    directions = {"a2b", "b2a", "a2c", "c2a", "b2c", "c2b"}
    assert {n[len("translate_bytes_") :] for n in client.signatures if "bytes" in n} == directions
    assert {"encode_style_c", "encode_content_c"} <= set(client.signatures)
    assert client.domains == ("a", "b", "c")
    assert client.direction(source="c") == "c2a" and client.direction() == "a2b"
    x = _batches(1)[0]
    codes = np.zeros((2, model.config.gen.style_dim), "float32")
    out = client.signatures["translate_with_style_c2b"](images=x, styles=codes)["images"]
    expected = model.translate(x, source="c", target="b", style=codes)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    with pytest.raises(UnknownDomain, match="domains are a, b, c"):
        client.direction(source="d")


# ------------------------------------------------------------------------------------------
# Data: any domain names, from folders and from the synthetic data's third domain
# ------------------------------------------------------------------------------------------
def _image_folder(folder, count=2, size=40):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    for k in range(count):
        Image.new("RGB", (size, size), (40 * k, 90, 160)).save(os.path.join(folder, f"{k}.png"))


def test_prepare_reads_train_folders_of_any_domain_names(tmp_path):
    from munit_tf.data import prepare

    for name in ("trainA", "trainB", "train_Summer", "testSummer", "training", "tests"):
        _image_folder(str(tmp_path / "src" / name))  # the last two are not domains
    (tmp_path / "src" / "train.txt").write_text("not a domain")
    items = prepare.folder_items(str(tmp_path / "src"))
    assert {(i["split"], i["domain"]) for i in items} == {
        ("train", "a"),
        ("train", "b"),
        ("train", "summer"),
        ("test", "summer"),
    }
    _image_folder(str(tmp_path / "lonely" / "trainA"))
    _image_folder(str(tmp_path / "lonely" / "testWinter"))
    with pytest.raises(MissingInput, match="trainB"):
        prepare.folder_items(str(tmp_path / "lonely"))
    _image_folder(str(tmp_path / "lonely" / "trainSummer"))
    with pytest.raises(MissingInput, match="testWinter/ names domain winter, which has no train"):
        prepare.folder_items(str(tmp_path / "lonely"))


def test_prepare_command_takes_named_domains(tmp_path, capsys):
    from munit_tf import cli

    for name in ("day", "night", "dusk"):
        _image_folder(str(tmp_path / name))
    out = str(tmp_path / "data")
    args = ["prepare", "--output", out, "--min-size", "32"]
    for name in ("day", "night", "dusk"):
        args += ["--domain", f"{name}={tmp_path / name}"]
    assert cli.main(args) == 0
    assert sorted(os.listdir(os.path.join(out, "train")))[0].startswith("day-")
    assert cli.main(["prepare", "--output", out, "--domain", "Day=x", "--domain", "b=y"]) == 2
    assert "NAME=FOLDER" in capsys.readouterr().err
    only_one = ["prepare", "--output", str(tmp_path / "o"), "--domain", f"day={tmp_path / 'day'}"]
    assert cli.main(only_one) == 2


@pytest.fixture(scope="module")
def three_domain_data(tmp_path_factory):
    from munit_tf.data import prepare

    root = str(tmp_path_factory.mktemp("three") / "data")
    return prepare.ensure_synthetic(root, 32, 8, log=lambda *_: None, domains=3)


def test_three_domain_synthetic_data_feeds_a_batch_per_domain(three_domain_data):
    from munit_tf.data import dataset, synthetic

    config = load_config("tiny", THREE)
    x_a, x_b, x_c = next(iter(dataset.make_dataset(three_domain_data, config)))
    assert x_c.shape == (2, 32, 32, 3)
    assert not np.array_equal(x_a.numpy(), x_c.numpy())
    c = synthetic.example("c", 3, size=32)
    assert c["mask"].sum() > 0 and len(c["style"]) == 4  # its ground truth: silhouette, dots
    assert dataset.check_domains(three_domain_data, config) == []
    # two of the three: the third is named for the user, not trained
    assert dataset.check_domains(three_domain_data, load_config("tiny")) == ["c"]
    with pytest.raises(MissingInput, match="no train images of domain 'winter'"):
        dataset.check_domains(three_domain_data, load_config("tiny", ["data.domains=[a,winter]"]))


def test_training_three_domains_from_the_command_line(tmp_path, three_domain_data, capsys):
    from munit_tf import cli

    run = str(tmp_path / "run")
    args = ["train", "--config", "tiny", "--data", three_domain_data, "--output", run]
    assert cli.main(args + ["--steps", "2", "--set", "data.domains=[a,b,c]"]) == 0
    assert os.path.exists(os.path.join(run, "checkpoints", "ckpt-2.index"))
    assert "not trained" not in capsys.readouterr().out
    # a two-domain config on the same data names the domain it leaves out, in one line
    pair = ["train", "--config", "tiny", "--data", three_domain_data, "--steps", "1"]
    assert cli.main(pair + ["--output", str(tmp_path / "pair")]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "not trained" in line]
    assert said == [f"{three_domain_data} also has domain(s) c: not trained (data.domains = a, b)"]
    out = str(tmp_path / "translated")
    image = os.path.join(str(tmp_path), "in.png")
    from PIL import Image

    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(image)
    translate = ["translate", "--model", run, "--input", image, "--output", out]
    assert cli.main(translate + ["--source-domain", "c", "--target-domain", "a"]) == 0
    assert len(os.listdir(out)) == 10  # the default: ten random styles
    assert cli.main(translate + ["--overwrite", "--direction", "a2d"]) == 2


DIRECTIONS = ("a2b", "a2c", "b2a", "b2c", "c2a", "c2b")
# what each target domain's ground truth scores (ground_truth.score_direction), plus diversity
CONTENT = {"a": {"outline_f_score"}, "b": {"content_iou", "style_distance"}}
CONTENT["c"] = {"outline_f_score", "style_distance"}


def test_three_domains_are_evaluated_in_every_direction_while_training_and_after(
    tmp_path, three_domain_data, capsys
):
    """The training log and ``evaluate`` score all six directions with the metrics of their
    target domain, each with its floor and ceiling; guided translation from the first domain
    into the others; the report shows every domain drawn in every domain."""
    from munit_tf import cli, training
    from munit_tf.evaluation import EvalOptions, during_training, evaluate

    run = str(tmp_path / "run")
    logged = [
        "train.max_iter=2",
        "train.eval_iter=2",
        "train.eval_inputs=3",
        "train.eval_styles=2",
        "train.eval_references=2",
        "train.image_save_iter=0",
    ]
    training.train(load_config("tiny", THREE + logged), three_domain_data, run, verbose=0)
    records = during_training.read_log(os.path.join(run, "logs"))
    assert [r["step"] for r in records] == [0, 2]
    for direction in DIRECTIONS:
        for metric in CONTENT[direction[-1]] | {"diversity", "synthetic_fid"}:
            assert np.isfinite(records[-1]["metrics"][f"{direction}/{metric}"]), direction
    assert "guided_a2c/reference_color_error" in records[-1]["metrics"]
    console = capsys.readouterr().out
    assert "c2b/content_iou" in console and "a2c/outline_f_score" in console

    quick = dict(num_inputs=3, num_styles=2, seeds=(0,), references=2)
    options = EvalOptions(**quick, inception_weights="none", vgg_weights="none")
    output = str(tmp_path / "eval")
    result = evaluate(run, three_domain_data, output, options)
    metrics = result["metrics"]
    assert set(metrics) == set(DIRECTIONS) | {"guided_a2b", "guided_a2c"}
    for direction in DIRECTIONS:
        assert CONTENT[direction[-1]] | {"diversity"} <= set(metrics[direction]), direction
        for metric in CONTENT[direction[-1]]:
            bound = result["bounds"][direction][metric]
            assert {"floor", "ceiling"} <= set(bound), (direction, metric)
    assert "texture_accuracy" in metrics["guided_a2b"]
    assert "outline_f_score" in metrics["guided_a2c"]
    assert result["protocol"]["inputs_per_domain"] == {"a": 3, "b": 3, "c": 3}
    # the logged scores are evaluate's for the same protocol (up to the rounding of the
    # convolution forms, which can move a pixel across a threshold)
    for name in ("c2b/content_iou", "b2c/outline_f_score", "guided_a2c/reference_color_error"):
        group, metric = name.split("/")
        logged_value = records[-1]["metrics"][name]
        assert metrics[group][metric]["mean"] == pytest.approx(logged_value, abs=0.02), name
    report = open(os.path.join(output, "report.html"), encoding="utf-8").read()
    assert "Every domain into every domain" in report and "Translations c2a" in report
    assert "Example-guided translation (A-&gt;C)" in report

    capsys.readouterr()
    bad = ["evaluate", "--model", run, "--data", three_domain_data, "--output", output]
    file = os.path.join(run, "config.yaml")  # a file that exists: the domain is what is wrong
    assert cli.main(bad + ["--overwrite", "--classifier", f"d={file}"]) == 2
    assert "domain d, which this model does not have (its domains: a, b, c)" in (
        capsys.readouterr().err
    )
