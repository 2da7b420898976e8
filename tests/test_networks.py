"""Network shapes and parameter counts against the reference's (munit.md section 1.2)."""

import numpy as np
import pytest

from munit_tf.config import GeneratorConfig
from munit_tf.networks import Decoder, Discriminator, Generator


def _count(module):
    return sum(int(np.prod(v.shape)) for v in module.weights)


@pytest.fixture(scope="module")
def default_networks():
    generator, discriminator = Generator(), Discriminator()
    x = np.zeros((1, 64, 64, 3), "float32")
    generator(x)
    discriminator(x)
    return generator, discriminator


def test_parameter_counts_match_the_reference(default_networks):
    generator, discriminator = default_networks
    assert _count(generator) == 15_026_187
    assert _count(discriminator) == 8_271_171
    assert [
        _count(m)
        for m in (generator.enc_style, generator.enc_content, generator.dec, generator.mlp)
    ] == [2_764_936, 5_385_856, 5_754_627, 1_120_768]
    assert generator.dec.num_adain_params == 4096


def test_code_and_output_shapes(default_networks):
    generator, discriminator = default_networks
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 48, 3)).astype("float32")
    content, style = generator.encode(x)
    assert content.shape == (2, 16, 12, 256) and style.shape == (2, 8)
    image = np.asarray(generator.decode(content, style))
    assert image.shape == x.shape and np.abs(image).max() <= 1.0
    square = np.zeros((2, 64, 64, 3), "float32")
    assert [tuple(o.shape) for o in discriminator(square)] == [
        (2, 4, 4, 1),
        (2, 2, 2, 1),
        (2, 1, 1, 1),
    ]


def test_decoder_reads_adain_parameters_as_beta_then_gamma():
    decoder = Decoder(n_upsample=0, n_res=1, dim=4, output_dim=3)
    content = np.random.default_rng(1).normal(size=(1, 8, 8, 4)).astype("float32")
    # First AdaIN: beta = 0, gamma = 1. Second AdaIN: beta = 0, gamma = 0, so the residual branch is
    # zero and the blocks return their input; read swapped, beta = 1 would add a constant.
    params = np.concatenate([np.zeros(4), np.ones(4), np.zeros(4), np.zeros(4)])[None].astype(
        "float32"
    )
    out = decoder.res_blocks[0](
        content, adain=[(params[:, 0:4], params[:, 4:8]), (params[:, 8:12], params[:, 12:16])]
    )
    np.testing.assert_allclose(np.asarray(out), content, atol=1e-6)
    swapped = np.concatenate([np.zeros(4), np.ones(4), np.ones(4), np.zeros(4)])[None].astype(
        "float32"
    )
    out = decoder.res_blocks[0](
        content, adain=[(swapped[:, 0:4], swapped[:, 4:8]), (swapped[:, 8:12], swapped[:, 12:16])]
    )
    np.testing.assert_allclose(np.asarray(out) - content, 1.0, atol=1e-5)


def test_generator_config_round_trips():
    generator = Generator(3, GeneratorConfig(dim=8, mlp_dim=16, n_res=1))
    config = generator.get_config()
    assert config["config"]["dim"] == 8
    rebuilt = Generator.from_config(config)
    assert rebuilt.gen_config == generator.gen_config
