"""Presets, YAML files, overrides and the errors a user sees for bad values."""

import pytest

from munit_tf.config import PRESETS, ConfigError, MUNITConfig, load_config


def test_defaults_are_the_reference_edges2shoes_config():
    config = load_config("edges2shoes")
    assert (config.gen.dim, config.gen.mlp_dim, config.gen.style_dim, config.gen.n_res) == (
        64,
        256,
        8,
        4,
    )
    assert (config.dis.dim, config.dis.n_layer, config.dis.num_scales, config.dis.gan_type) == (
        64,
        4,
        3,
        "lsgan",
    )
    assert (config.loss.recon_x_w, config.loss.recon_c_w, config.loss.recon_s_w) == (10, 1, 1)
    assert (config.loss.recon_x_cyc_w, config.loss.vgg_w) == (0, 0)
    assert (
        config.optim.lr,
        config.optim.beta1,
        config.optim.epsilon,
        config.optim.weight_decay,
    ) == (1e-4, 0.5, 1e-8, 1e-4)
    assert (config.optim.step_size, config.optim.gamma, config.train.batch_size) == (
        100_000,
        0.5,
        1,
    )
    assert config.to_dict() == {**MUNITConfig().to_dict(), "name": "edges2shoes"}


def test_reference_presets_differ_where_the_reference_configs_do():
    assert load_config("summer2winter_yosemite256").loss.recon_x_cyc_w == 10
    synthia = load_config("synthia2cityscape")
    assert (synthia.loss.vgg_w, synthia.loss.recon_x_cyc_w, synthia.data.crop_size) == (1, 10, 512)
    assert load_config("edges2handbags").to_dict() == {
        **load_config("edges2shoes").to_dict(),
        "name": "edges2handbags",
    }
    for name in PRESETS:
        assert load_config(name).name == name


def test_yaml_file_with_base_and_overrides(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("base: synthetic\ngen:\n  dim: 16\noptim:\n  lr: 2e-4\n")
    config = load_config(str(path), ["train.batch_size=2", "loss.recon_x_cyc_w=5"])
    assert config.name == "mine"
    assert (config.gen.dim, config.optim.lr, config.train.batch_size) == (16, 2e-4, 2)
    # from the synthetic base
    assert config.loss.recon_x_cyc_w == 5.0 and config.data.crop_size == 64
    assert load_config(config).to_dict() == config.to_dict()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["gen.dimm=3"], r"gen\.dimm: unknown field"),
        (["genn.dim=3"], r"genn: unknown field"),
        (["train.batch_size=abc"], r"train\.batch_size: must be an integer"),
        (["train.batch_size=0"], r"train\.batch_size: must be >= 1"),
        (["dis.gan_type=wgan"], r"dis\.gan_type: must be one of lsgan, nsgan"),
        (["data.crop_size=30"], r"data\.crop_size: must be divisible by"),
        (["data.crop_size=300"], r"data\.crop_size: must be <= data\.new_size"),
        (["data.new_size=64", "data.crop_size=32"], r"data\.crop_size: 32 is too small"),
        (["loss.gan_w=-1"], r"loss\.gan_w: must be a number >= 0"),
        (["train.jit_compile=maybe"], r"train\.jit_compile: must be true or false"),
        (["gen.dim"], r"write it as field\.name=value"),
    ],
)
def test_bad_values_name_the_field(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config("edges2shoes", overrides)


def test_missing_preset_bad_yaml_and_circular_base(tmp_path):
    with pytest.raises(ConfigError, match="neither a preset"):
        load_config("no_such_preset")
    bad = tmp_path / "bad.yaml"
    bad.write_text("gen: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad))
    loop = tmp_path / "loop.yaml"
    loop.write_text(f"base: {loop}\n")
    with pytest.raises(ConfigError, match="circular"):
        load_config(str(loop))


def test_yaml_is_read_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("gen: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path))
