"""Every MUNIT hyperparameter, in one place.

The dataclass defaults are the reference's ``edges2shoes_folder.yaml`` (the paper's default
configuration). A preset is a YAML file in ``munit_tf/presets/`` that states only what differs
from those defaults; a user's YAML file works the same way and may name a preset to start from
with ``base: PRESET``. Values are checked on load and a bad one is reported with its dotted field
name (``gen.dim``), never as a stack trace from deep inside the model.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from munit_tf.errors import UserError


class ConfigError(UserError, ValueError):
    """A configuration value is unknown, of the wrong type or out of range."""


@dataclass
class GeneratorConfig:
    """``gen:`` in the reference YAML (AdaINGen)."""

    dim: int = 64  # channels of the first convolution
    mlp_dim: int = 256  # width of the MLP that maps a style code to AdaIN parameters
    style_dim: int = 8  # length of a style code
    n_downsample: int = 2  # stride-2 convolutions in the content encoder
    n_res: int = 4  # residual blocks in the content encoder and in the decoder
    style_n_downsample: int = 4  # hard-coded to 4 in the reference's AdaINGen
    activation: str = "relu"
    pad_type: str = "reflect"
    init: str = "kaiming"  # the reference's; "gaussian" N(0, 0.02), "orthogonal" (imaginaire)
    spectral_norm: bool = False  # every conv and dense kernel divided by its spectral norm
    # One content encoder for every domain (the paper's shared content space made literal) instead
    # of one per domain (the reference). With two domains the reference's layout is the default.
    shared_content: bool = False


@dataclass
class DiscriminatorConfig:
    """``dis:`` in the reference YAML (MsImageDis)."""

    dim: int = 64
    n_layer: int = 4  # stride-2 convolutions per scale
    num_scales: int = 3
    activation: str = "lrelu"
    pad_type: str = "reflect"
    gan_type: str = "lsgan"  # "lsgan" (reference), "nsgan" (non-saturating) or "hinge"
    init: str = "gaussian"  # the reference's N(0, 0.02); "kaiming", "orthogonal" (imaginaire)
    spectral_norm: bool = False


@dataclass
class LossConfig:
    """Loss weights (Eq. 5 of the paper, with the reference's optional terms)."""

    gan_w: float = 1.0
    recon_x_w: float = 10.0
    recon_s_w: float = 1.0
    recon_c_w: float = 1.0
    recon_x_cyc_w: float = 0.0  # explicit style-augmented cycle loss
    vgg_w: float = 0.0  # domain-invariant perceptual loss (off at 256x256, as in the paper)
    vgg_weights: str = (
        "imagenet"  # "imagenet" (Keras download) or a path to a local .h5/.weights.h5 file
    )


@dataclass
class OptimizerConfig:
    """Adam with coupled L2 weight decay and a step learning-rate schedule (PyTorch semantics)."""

    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epsilon: float = 1e-8  # PyTorch's Adam default (Keras' default is 1e-7)
    # "pytorch": eps added to sqrt(v) after bias correction, as torch.optim.Adam (the reference);
    # "keras": before it, as keras.optimizers.Adam (a larger effective eps in the first steps)
    epsilon_placement: str = "pytorch"
    weight_decay: float = 1e-4  # added to the gradient as wd * theta, not decoupled (AdamW)
    # The discriminator's learning rate is lr * dis_lr_ratio: 1 in the reference, 4 for the
    # two time-scale update rule (TTUR) of imaginaire's MUNIT (1e-4 for G, 4e-4 for D).
    dis_lr_ratio: float = 1.0
    lr_policy: str = "step"  # "step" or "constant"
    step_size: int = 100_000
    gamma: float = 0.5


@dataclass
class DataConfig:
    """How images become training tensors."""

    new_size: int = 256  # the shorter side is resized to this
    crop_size: int = 256  # square random crop taken after the resize
    input_dim_a: int = 3  # channels of the first domain's images
    input_dim_b: int = 3  # channels of the second domain's
    # The domains' names, in order: one generator and one discriminator each. Two is MUNIT; more
    # learn every pair of directions in one run, with one content space. Names are lowercase
    # identifiers (prepare reads ROOT/train<Name>/ as domain <name>).
    domains: list[str] = field(default_factory=lambda: ["a", "b"])
    # Channels per domain (one per name) when given; empty: input_dim_a for the first domain,
    # input_dim_b for the second, 3 for any further one.
    input_dims: list[int] = field(default_factory=list)
    flip: bool = True  # random horizontal flip in training
    shuffle_buffer: int = 1000


@dataclass
class TrainConfig:
    """The training loop, checkpoints, logging and execution options."""

    batch_size: int = 1  # global batch size, split across replicas
    max_iter: int = 1_000_000
    steps_per_epoch: int = 1000  # only how often Keras prints a progress line; not a data epoch
    snapshot_save_iter: int = 10_000
    keep_checkpoints: int = 3
    log_iter: int = 10
    image_save_iter: int = 10_000
    display_size: int = 16
    seed: int = 0
    # "float32", "mixed_float16", "mixed_bfloat16", or "auto": mixed_bfloat16 where the CPU has
    # native bfloat16 (AVX512-BF16, AMX, Arm BF16), else float32 (munit_tf/cpu.py)
    precision: str = "float32"
    jit_compile: bool = False
    strategy: str = "default"  # "default", "mirrored" or "multi_worker"
    # A departure from the reference, off by default: train D on the translations the G step makes
    # (saving D's own generator forward pass) instead of on translations with separate fresh styles.
    reuse_translations: bool = False
    # More than two domains: how many pairs of domains each step trains (0: every pair). The
    # pairs are shuffled once from train.seed and visited this many at a time, round the cycle,
    # so every pair is trained equally often; step s trains group s mod the number of groups.
    pairs_per_step: int = 0
    # At a NaN/Inf loss or gradient: "stop" the run (the last checkpoint stays good), or "skip"
    # that update (weights and Adam state untouched, counted, stopping after max_skipped_updates).
    on_nonfinite: str = "stop"
    max_skipped_updates: int = 100
    # An exponential moving average of the generators' weights (0: none): the averaged copies
    # translate (samples, evaluation, export), the trained weights keep training.
    ema_beta: float = 0.0
    # the average's beta at update n is min(ema_beta, (1 + n) / (10 + n)), as TensorFlow's
    # ExponentialMovingAverage with num_updates: without it, 0.999 still weighs the random
    # initial weights 0.37 after 1,000 updates
    ema_warmup: bool = True
    # Every eval_iter steps (0: never), the ground-truth metrics on the test split's first
    # eval_inputs images per domain, eval_styles random styles each, evaluation seeds
    # 0..eval_seeds-1, and example-guided translation of the first eval_references sources in
    # as many references' styles (its pairs): console, TensorBoard and logs/ground_truth.jsonl.
    # Synthetic data only.
    eval_iter: int = 0
    eval_inputs: int = 32
    eval_styles: int = 4
    eval_seeds: int = 1
    eval_references: int = 8


@dataclass
class MUNITConfig:
    """A whole experiment. ``name`` is the preset or file it came from."""

    name: str = "edges2shoes"
    gen: GeneratorConfig = field(default_factory=GeneratorConfig)
    dis: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimizerConfig = field(default_factory=OptimizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def channels(self, domain: str) -> int:
        """Image channels of ``domain`` (see ``DataConfig.input_dims``)."""
        index = domain_index(self, domain)
        if self.data.input_dims:
            return self.data.input_dims[index]
        return (self.data.input_dim_a, self.data.input_dim_b)[index] if index < 2 else 3

    def validate(self) -> MUNITConfig:
        _validate(self)
        return self


_CHOICES = {
    "gen.activation": ("relu", "lrelu", "tanh", "none"),
    "gen.pad_type": ("reflect", "zero"),
    "dis.activation": ("relu", "lrelu", "tanh", "none"),
    "dis.pad_type": ("reflect", "zero"),
    "dis.gan_type": ("lsgan", "nsgan", "hinge"),
    "gen.init": ("kaiming", "gaussian", "orthogonal"),
    "dis.init": ("kaiming", "gaussian", "orthogonal"),
    "optim.lr_policy": ("step", "constant"),
    "optim.epsilon_placement": ("pytorch", "keras"),
    "train.precision": ("float32", "mixed_float16", "mixed_bfloat16", "auto"),
    "train.strategy": ("default", "mirrored", "multi_worker"),
    "train.on_nonfinite": ("stop", "skip"),
}


DOMAIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def domain_index(config: MUNITConfig, domain: str) -> int:
    """The position of ``domain`` in ``data.domains``; an unknown name is a one-line error."""
    if domain not in config.data.domains:
        raise UnknownDomain(domain, config.data.domains)
    return config.data.domains.index(domain)


class UnknownDomain(UserError, ValueError):
    """A domain name that the model was not configured with."""

    def __init__(self, domain, known):
        super().__init__(f"unknown domain {domain!r}; this model's domains are {', '.join(known)}")


def _check(condition: bool, name: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{name}: {message}")


def _validate(config: MUNITConfig) -> None:
    values = _flatten(config.to_dict())
    for name, choices in _CHOICES.items():
        _check(
            values[name] in choices,
            name,
            f"must be one of {', '.join(choices)}; got {values[name]!r}",
        )
    positive = [k for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)]
    for name in positive:
        if name in (
            "gen.n_res",
            "train.seed",
            "train.image_save_iter",
            "train.eval_iter",
            "train.pairs_per_step",
        ):
            _check(values[name] >= 0, name, f"must be >= 0; got {values[name]}")
        else:
            _check(values[name] >= 1, name, f"must be >= 1; got {values[name]}")
    for name, value in values.items():
        if isinstance(value, float):
            _check(value >= 0 and value == value, name, f"must be a number >= 0; got {value}")
    _check(config.optim.lr > 0, "optim.lr", "must be > 0")
    _check(config.train.eval_styles >= 2, "train.eval_styles", "must be >= 2 (diversity)")
    _check(config.optim.dis_lr_ratio > 0, "optim.dis_lr_ratio", "must be > 0")
    _check(0 <= config.train.ema_beta < 1, "train.ema_beta", "must be in [0, 1)")
    _check(0 <= config.optim.beta1 < 1, "optim.beta1", "must be in [0, 1)")
    _check(0 <= config.optim.beta2 < 1, "optim.beta2", "must be in [0, 1)")
    data, gen, dis = config.data, config.gen, config.dis
    _check(len(data.domains) >= 2, "data.domains", f"needs at least two names; got {data.domains}")
    for name in data.domains:
        _check(
            DOMAIN_NAME.fullmatch(name) is not None,
            "data.domains",
            f"{name!r} is not a domain name (lowercase letter, then letters, digits or _; "
            "at most 32)",
        )
    _check(
        not any(name.endswith("_ema") for name in data.domains),
        "data.domains",
        "a name may not end in _ema (the averaged generators' suffix)",
    )
    _check(
        len(set(data.domains)) == len(data.domains),
        "data.domains",
        f"names must differ; got {data.domains}",
    )
    _check(
        not data.input_dims or len(data.input_dims) == len(data.domains),
        "data.input_dims",
        f"needs one channel count per domain ({len(data.domains)}); got {data.input_dims}",
    )
    for channels in data.input_dims:
        _check(channels >= 1, "data.input_dims", f"must be >= 1; got {channels}")
    counts = {config.channels(domain) for domain in data.domains}
    _check(
        not gen.shared_content or len(counts) == 1,
        "gen.shared_content",
        f"one content encoder needs every domain's images to have the same channels; got {counts}",
    )
    _check(
        data.crop_size <= data.new_size,
        "data.crop_size",
        f"must be <= data.new_size ({data.new_size}); got {data.crop_size}",
    )
    factor = 2**gen.n_downsample
    _check(
        data.crop_size % factor == 0,
        "data.crop_size",
        f"must be divisible by 2**gen.n_downsample = {factor}; got {data.crop_size}",
    )
    smallest = data.crop_size // 2 ** (dis.num_scales - 1)
    _check(
        smallest >= 2**dis.n_layer,
        "data.crop_size",
        f"{data.crop_size} is too small for {dis.num_scales} discriminator scales of {dis.n_layer} "
        f"layers (the smallest scale would be {smallest} pixels, needs >= {2**dis.n_layer})",
    )
    _check(
        data.crop_size >= 2**gen.style_n_downsample * 2,
        "data.crop_size",
        f"must be >= {2**gen.style_n_downsample * 2} for the style encoder",
    )


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict:
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _coerce(value: Any, kind: type, name: str) -> Any:
    """Accept YAML's natural spellings (1e-4 may arrive as a string, 10 for a float)."""
    if kind is bool:
        _check(isinstance(value, bool), name, f"must be true or false; got {value!r}")
        return value
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        _check(
            isinstance(value, int) and not isinstance(value, bool),
            name,
            f"must be an integer; got {value!r}",
        )
        return value
    if kind is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        _check(
            isinstance(value, (int, float)) and not isinstance(value, bool),
            name,
            f"must be a number; got {value!r}",
        )
        return float(value)
    if kind is str:
        _check(isinstance(value, str), name, f"must be a string; got {value!r}")
        return value
    if typing.get_origin(kind) is list:
        if isinstance(value, str):  # a command-line override: data.domains=summer,winter
            value = [v.strip() for v in value.split(",") if v.strip()]
        _check(isinstance(value, list), name, f"must be a list; got {value!r}")
        (item,) = typing.get_args(kind)
        return [_coerce(v, item, f"{name}[{k}]") for k, v in enumerate(value)]
    raise TypeError(kind)  # pragma: no cover - only the kinds above are used


def _merge(instance: Any, data: Mapping[str, Any], prefix: str = "") -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: must be a mapping; got {data!r}")
    hints = typing.get_type_hints(type(instance))
    known = {f.name for f in dataclasses.fields(instance)}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(f"{name}: unknown field (known here: {', '.join(sorted(known))})")
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            _merge(getattr(instance, key), value, name + ".")
        else:
            setattr(instance, key, _coerce(value, kind, name))


PRESETS = (
    "edges2shoes",
    "edges2handbags",
    "summer2winter_yosemite256",
    "synthia2cityscape",
    "synthetic",
    "tiny",
    "imaginaire",  # a recipe, for "+": synthetic+imaginaire
)


def _read_yaml(text: str, source: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML ({error})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a YAML mapping of fields")
    return data


def _preset_text(name: str) -> str:
    return resources.files("munit_tf.presets").joinpath(f"{name}.yaml").read_text()


def _resolve(name_or_path: str, seen: tuple = ()) -> dict:
    """Read a preset or file and, if it says ``base: X``, lay it over X (recursively).

    ``A+B`` lays preset (or file) B over A: ``synthetic+imaginaire`` is the synthetic data's
    preset trained with the imaginaire recipe, which sets nothing but the recipe's fields.
    """
    if "+" in name_or_path and not os.path.isfile(name_or_path):
        data = {}
        for part in name_or_path.split("+"):
            data = _deep_update(data, _resolve(part, seen))
        return {**data, "name": name_or_path}
    if name_or_path in seen:
        raise ConfigError(f"base: circular reference through {name_or_path!r}")
    if name_or_path in PRESETS:
        data, name = _read_yaml(_preset_text(name_or_path), f"preset {name_or_path}"), name_or_path
    elif os.path.isfile(name_or_path):
        with open(name_or_path, encoding="utf-8") as handle:
            data = _read_yaml(handle.read(), name_or_path)
        name = os.path.splitext(os.path.basename(name_or_path))[0]
    else:
        raise ConfigError(
            f"config: {name_or_path!r} is neither a preset ({', '.join(PRESETS)}) nor a YAML file"
        )
    base = data.pop("base", None)
    layers = _resolve(base, seen + (name_or_path,)) if base else {}
    # a base's name is not ours
    return {
        **_deep_update(layers, data),
        "name": data.get("name", name),
    }


def _deep_update(base: dict, update: Mapping) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_update(out[key], value)
        else:
            out[key] = value
    return out


def parse_overrides(overrides: list[str] | None) -> dict:
    """``["train.batch_size=4", "loss.vgg_w=1"]`` -> nested dict (values parsed as YAML scalars)."""
    tree: dict = {}
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: write it as field.name=value")
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw)
    return tree


def from_dict(data: Mapping[str, Any]) -> MUNITConfig:
    config = MUNITConfig()
    _merge(config, data)
    return config.validate()


def run_overrides(steps: int | None = None, strategy: str | None = None) -> list[str]:
    """The ``field=value`` overrides of a run's ``--steps`` and ``--strategy`` (None: keep)."""
    return ([f"train.max_iter={steps}"] if steps else []) + (
        [f"train.strategy={strategy}"] if strategy else []
    )


def load_config(
    name_or_path: str | MUNITConfig = "edges2shoes", overrides: list[str] | None = None
) -> MUNITConfig:
    """A validated config from a preset name or a YAML path, with ``field=value`` overrides."""
    if isinstance(name_or_path, MUNITConfig):
        data = name_or_path.to_dict()
    else:
        data = _resolve(name_or_path)
    return from_dict(_deep_update(data, parse_overrides(overrides)))
