"""MUNIT's networks: style encoder, content encoder, AdaIN decoder, generator, discriminator.

Each is a short list of blocks from ``layers.py``, sized by the config, in the reference's layer
order (so the reference's state-dict keys map one to one onto our weights, see
reference/key_map.py). Images are NHWC in [-1, 1]; a content code is (B, H/4, W/4, 256) at the
default config and a style code is (B, style_dim)."""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from munit_tf.config import DiscriminatorConfig, GeneratorConfig
from munit_tf.layers import (
    MLP,
    AvgPoolExcludePad,
    ConvBlock,
    ResBlock,
    UpsampleConvBlock,
    initializer,
    power_iteration,
    spectral_vector,
    spectrally_normalized,
)


def _build_chain(layers, input_shape) -> None:
    """Build conv layers that run one after the other (with spectral normalisation the
    enclosing layer makes its own state in ``build``, so its sublayers must exist by then)."""
    shape = input_shape
    for layer in layers:
        layer.build(shape)
        shape = (shape[0], None, None, layer.filters)


@keras.saving.register_keras_serializable(package="munit_tf")
class StyleEncoder(keras.layers.Layer):
    """7x7 conv, two channel-doubling stride-2 convs, more stride-2 convs, global pool, 1x1 conv.

    No normalisation (it would erase the statistics that carry style).
    """

    def __init__(
        self,
        dim: int,
        style_dim: int,
        n_downsample: int = 4,
        activation: str = "relu",
        pad_type: str = "reflect",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim, self.style_dim, self.n_downsample = dim, style_dim, n_downsample
        self.activation_type, self.pad_type = activation, pad_type
        self.spectral_norm = spectral_norm
        sn = {"spectral_norm": spectral_norm}
        blocks = [ConvBlock(dim, 7, 1, 3, "none", activation, pad_type, name="block0", **sn)]
        channels = dim
        for i in range(n_downsample):
            channels = channels * 2 if i < 2 else channels
            blocks.append(
                ConvBlock(
                    channels, 4, 2, 1, "none", activation, pad_type, name=f"block{i + 1}", **sn
                )
            )
        self.blocks = blocks
        self.project = keras.layers.Conv2D(
            style_dim,
            1,
            kernel_initializer=initializer("kaiming"),
            bias_initializer="zeros",
            name="project",
        )

    def build(self, input_shape):
        if not self.spectral_norm:  # the sublayers build on their first call, as ever
            return super().build(input_shape)
        _build_chain(self.blocks + [self.project], input_shape)
        self.sn_u = spectral_vector(self, self.style_dim, "sn_u")
        self.built = True

    def power_iteration(self):
        if self.spectral_norm:
            power_iteration(self.project.kernel, self.sn_u)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        x = ops.mean(x, axis=[1, 2], keepdims=True)
        if self.spectral_norm:
            kernel = spectrally_normalized(self.project.kernel, self.sn_u)
            x = ops.conv(x, ops.cast(kernel, x.dtype)) + ops.cast(self.project.bias, x.dtype)
        else:
            x = self.project(x)
        return ops.reshape(x, (-1, self.style_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "style_dim": self.style_dim,
            "n_downsample": self.n_downsample,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class ContentEncoder(keras.layers.Layer):
    """7x7 conv, stride-2 convs and residual blocks, all with instance norm (no affine)."""

    def __init__(
        self,
        dim: int,
        n_downsample: int = 2,
        n_res: int = 4,
        activation: str = "relu",
        pad_type: str = "reflect",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim, self.n_downsample, self.n_res = dim, n_downsample, n_res
        self.activation_type, self.pad_type = activation, pad_type
        self.spectral_norm = spectral_norm
        sn = {"spectral_norm": spectral_norm}
        blocks = [ConvBlock(dim, 7, 1, 3, "in", activation, pad_type, name="block0", **sn)]
        for i in range(n_downsample):
            channels = dim * 2 ** (i + 1)
            blocks.append(
                ConvBlock(channels, 4, 2, 1, "in", activation, pad_type, name=f"block{i + 1}", **sn)
            )
        blocks += [
            ResBlock(dim * 2**n_downsample, "in", activation, pad_type, name=f"res{i}", **sn)
            for i in range(n_res)
        ]
        self.blocks = blocks
        self.output_dim = dim * 2**n_downsample

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "n_downsample": self.n_downsample,
            "n_res": self.n_res,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class Decoder(keras.layers.Layer):
    """AdaIN residual blocks, then nearest x2 upsampling + 5x5 conv + LayerNorm, then 7x7 conv +
    tanh."""

    def __init__(
        self,
        n_upsample: int,
        n_res: int,
        dim: int,
        output_dim: int,
        activation: str = "relu",
        pad_type: str = "reflect",
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_upsample, self.n_res, self.dim, self.output_dim = n_upsample, n_res, dim, output_dim
        self.activation_type, self.pad_type = activation, pad_type
        self.spectral_norm = spectral_norm
        sn = {"spectral_norm": spectral_norm}
        self.res_blocks = [
            ResBlock(dim, "adain", activation, pad_type, name=f"res{i}", **sn) for i in range(n_res)
        ]
        self.up_blocks = [
            UpsampleConvBlock(
                dim // 2 ** (i + 1), 5, 1, 2, "ln", activation, pad_type, name=f"up{i}", **sn
            )
            for i in range(n_upsample)
        ]
        self.to_image = ConvBlock(
            output_dim, 7, 1, 3, "none", "tanh", pad_type, name="to_image", **sn
        )

    @property
    def num_adain_params(self) -> int:
        """[beta, gamma] for each of the two AdaIN layers of each residual block."""
        return 2 * 2 * self.dim * self.n_res

    def call(self, content, adain_params):
        """``adain_params``: (B, num_adain_params), laid out [beta(C), gamma(C)] per layer in
        order."""
        x, offset, c = content, 0, self.dim
        for block in self.res_blocks:
            pairs = []
            for _ in range(2):
                pairs.append(
                    (
                        adain_params[:, offset : offset + c],
                        adain_params[:, offset + c : offset + 2 * c],
                    )
                )
                offset += 2 * c
            x = block(x, adain=pairs)
        for block in self.up_blocks:
            x = block(x)
        return self.to_image(x)

    def get_config(self):
        return {
            **super().get_config(),
            "n_upsample": self.n_upsample,
            "n_res": self.n_res,
            "dim": self.dim,
            "output_dim": self.output_dim,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "spectral_norm": self.spectral_norm,
        }


def content_encoder_of(config: GeneratorConfig) -> ContentEncoder:
    """The content encoder a generator of ``config`` has (or shares, with ``shared_content``)."""
    c = config
    return ContentEncoder(
        c.dim,
        c.n_downsample,
        c.n_res,
        c.activation,
        c.pad_type,
        name="enc_content",
        spectral_norm=c.spectral_norm,
    )


@keras.saving.register_keras_serializable(package="munit_tf")
class Generator(keras.Model):
    """AdaINGen: one per domain. ``encode`` -> (content, style); ``decode(content, style)`` ->
    image."""

    def __init__(
        self,
        input_dim: int = 3,
        config: GeneratorConfig | dict | None = None,
        content_encoder: ContentEncoder | None = None,
        **kwargs,
    ):
        """``content_encoder``: one shared with other generators (``gen.shared_content``)."""
        super().__init__(**kwargs)
        config = (
            config if isinstance(config, GeneratorConfig) else GeneratorConfig(**(config or {}))
        )
        self.input_dim, self.gen_config = input_dim, config
        c = config
        sn = {"spectral_norm": c.spectral_norm}
        self.enc_style = StyleEncoder(
            c.dim,
            c.style_dim,
            c.style_n_downsample,
            c.activation,
            c.pad_type,
            name="enc_style",
            **sn,
        )
        self.enc_content = content_encoder or content_encoder_of(c)
        self.dec = Decoder(
            c.n_downsample,
            c.n_res,
            self.enc_content.output_dim,
            input_dim,
            c.activation,
            c.pad_type,
            name="dec",
            **sn,
        )
        self.mlp = MLP(c.mlp_dim, self.dec.num_adain_params, 3, c.activation, name="mlp", **sn)

    def encode(self, images):
        style = self.enc_style(images)
        content = self.enc_content(images)
        return content, style

    def encode_style(self, images):
        return self.enc_style(images)

    def encode_content(self, images):
        return self.enc_content(images)

    def decode(self, content, style):
        return self.dec(content, self.mlp(style))

    def call(self, images):
        """Within-domain reconstruction, as the reference's ``forward``."""
        return self.decode(*self.encode(images))

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "config": dataclasses.asdict(self.gen_config),
        }


@keras.saving.register_keras_serializable(package="munit_tf", name="DiscriminatorScale")
class _DiscriminatorScale(keras.layers.Layer):
    """One scale: ``n_layer`` stride-2 4x4 convs with leaky ReLU (no norm), then a 1x1 conv to one
    map."""

    def __init__(
        self,
        dim: int,
        n_layer: int,
        activation: str,
        pad_type: str,
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.dim = dim
        self.n_layer = n_layer
        self.activation_type = activation
        self.pad_type = pad_type
        self.spectral_norm = spectral_norm
        self.blocks = [
            ConvBlock(
                dim * 2**i,
                4,
                2,
                1,
                "none",
                activation,
                pad_type,
                init="gaussian",
                spectral_norm=spectral_norm,
                name=f"block{i}",
            )
            for i in range(n_layer)
        ]
        self.out = keras.layers.Conv2D(
            1, 1, kernel_initializer=initializer("gaussian"), bias_initializer="zeros", name="out"
        )

    def build(self, input_shape):
        if not self.spectral_norm:  # the sublayers build on their first call, as ever
            return super().build(input_shape)
        _build_chain(self.blocks + [self.out], input_shape)
        self.sn_u = spectral_vector(self, 1, "sn_u")
        self.built = True

    def power_iteration(self):
        if self.spectral_norm:
            power_iteration(self.out.kernel, self.sn_u)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        if self.spectral_norm:
            kernel = spectrally_normalized(self.out.kernel, self.sn_u)
            return ops.conv(x, ops.cast(kernel, x.dtype)) + ops.cast(self.out.bias, x.dtype)
        return self.out(x)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "n_layer": self.n_layer,
            "activation": self.activation_type,
            "pad_type": self.pad_type,
            "spectral_norm": self.spectral_norm,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class Discriminator(keras.Model):
    """MsImageDis: the same patch discriminator on an image pyramid; returns one map per scale."""

    def __init__(self, config: DiscriminatorConfig | dict | None = None, **kwargs):
        super().__init__(**kwargs)
        config = (
            config
            if isinstance(config, DiscriminatorConfig)
            else DiscriminatorConfig(**(config or {}))
        )
        self.dis_config = config
        self.cnns = [
            _DiscriminatorScale(
                config.dim,
                config.n_layer,
                config.activation,
                config.pad_type,
                config.spectral_norm,
                name=f"scale{i}",
            )
            for i in range(config.num_scales)
        ]
        self.downsample = AvgPoolExcludePad()

    def call(self, images):
        outputs, x = [], images
        for i, cnn in enumerate(self.cnns):
            outputs.append(cnn(x))
            if i < len(self.cnns) - 1:
                x = self.downsample(x)
        return outputs

    def get_config(self):
        return {**super().get_config(), "config": dataclasses.asdict(self.dis_config)}
