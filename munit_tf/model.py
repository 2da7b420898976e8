"""The MUNIT model: two generators, two discriminators, and the reference's training step.

``train_step`` reads as the algorithm (reference ``trainer.py``): a discriminator update on
translations made with fresh N(0, I) styles, then a generator update with new styles, each
with its own Adam optimiser. It runs unchanged under any ``tf.distribute`` strategy: losses are
divided by the number of replicas (gradients are summed across replicas), and the random
styles of the whole global batch are drawn from a seed derived from the step, so N replicas
with a global batch B update exactly like one replica with batch B, and a resumed run draws
the same styles as an uninterrupted one.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from munit_tf import ema, losses, precision, styles, updates
from munit_tf.config import MUNITConfig, from_dict
from munit_tf.errors import InvalidInput
from munit_tf.layers import reinitialize
from munit_tf.networks import Discriminator, Generator
from munit_tf.optimizers import make_optimizer, unwrapped

DIRECTIONS = ("a2b", "b2a")
SAVE_FORMAT = 1  # of the .keras file's MUNIT config; a newer one is refused with a clear message


def generators(pair, direction: str):
    """(source generator, target generator) of ``pair`` = (generator A, generator B) for
    ``a2b`` / ``b2a``."""
    gen_a, gen_b = pair
    if direction == "a2b":
        return gen_a, gen_b
    if direction == "b2a":
        return gen_b, gen_a
    raise InvalidInput(f"direction must be 'a2b' or 'b2a'; got {direction!r}")


def min_image_size(config: MUNITConfig) -> int:
    """The smallest square input every network accepts: enough to create all weights."""
    size = max(
        2**config.gen.style_n_downsample * 2,
        2**config.dis.n_layer * 2 ** (config.dis.num_scales - 1),
    )
    step = 2**config.gen.n_downsample
    return -(-size // step) * step


def _two_calls_as_one(network, *pairs):
    """``network(*firsts), network(*seconds)`` computed as one call on the two batches stacked.

    Every MUNIT layer works per sample (instance, layer and adaptive norms included), so the
    result is the same as two calls; one call on twice the batch keeps the CPU's convolution
    kernels busier (measured in ``benchmarks/PROFILE.md``).

    Keep every differentiated input to at most two uses: the stack's gradient comes back as
    slices of one buffer, and TensorFlow's CPU ``AddN`` moves whichever input's buffer it can
    reuse to the front, which depends on which other op has finished. A sum of two is the same
    in any order; a sum of three is not, and training would then differ from run to run.
    """
    return _split_in_two(network(*(ops.concatenate(pair, axis=0) for pair in pairs)))


def _split_in_two(outputs):
    """(first halves, second halves) along the batch axis of a tensor or of a list of tensors."""
    if isinstance(outputs, (list, tuple)):  # the discriminator: one output per scale
        firsts, seconds = zip(*(_split_in_two(output) for output in outputs))
        return list(firsts), list(seconds)
    size = tf.shape(outputs)[0] // 2
    return outputs[:size], outputs[size:]


@keras.saving.register_keras_serializable(package="munit_tf")
class MUNIT(keras.Model):
    """MUNIT (Huang et al., ECCV 2018) as a Keras model.

    >>> model = MUNIT(load_config("synthetic"))
    >>> model.compile()
    >>> model.fit(dataset_of_(x_a, x_b)_batches, steps_per_epoch=100, epochs=10)
    >>> model.translate(images_a, "a2b", style=4)       # four random styles per image
    """

    def __init__(self, config: MUNITConfig | dict | None = None, **kwargs):
        kwargs.setdefault("name", "munit")
        super().__init__(**kwargs)
        if config is None:
            config = MUNITConfig()
        elif isinstance(config, dict):
            config = from_dict(config)
        self.config = config
        self.precision = precision.resolve(config.train.precision)  # "auto": this CPU's fastest
        with precision.building_in(self.precision):
            self.gen_a = Generator(config.data.input_dim_a, config.gen, name="gen_a")
            self.gen_b = Generator(config.data.input_dim_b, config.gen, name="gen_b")
            self.dis_a = Discriminator(config.dis, name="dis_a")
            self.dis_b = Discriminator(config.dis, name="dis_b")
        self.perceptual = (
            losses.PerceptualLoss(config.loss.vgg_weights) if config.loss.vgg_w > 0 else None
        )
        self._build_networks()
        # the layers are built with the reference's init; another is drawn over it
        if config.gen.init != "kaiming":
            for gen in (self.gen_a, self.gen_b):
                reinitialize(gen, config.gen.init)
        if config.dis.init != "gaussian":
            for dis in (self.dis_a, self.dis_b):
                reinitialize(dis, config.dis.init)
        self.gen_a_ema = self.gen_b_ema = None
        if config.train.ema_beta > 0:  # built after the others: their initial weights unchanged
            with precision.building_in(self.precision):
                self.gen_a_ema = Generator(config.data.input_dim_a, config.gen, name="gen_a_ema")
                self.gen_b_ema = Generator(config.data.input_dim_b, config.gen, name="gen_b_ema")
            size = min_image_size(config)
            for average, channels in (
                (self.gen_a_ema, config.data.input_dim_a),
                (self.gen_b_ema, config.data.input_dim_b),
            ):
                average(ops.zeros((1, size, size, channels)))
                average.trainable = False
            self.reset_averages()
        # Updates left out by train.on_nonfinite = "skip" (generator, discriminator); checkpointed.
        self.skipped_updates = self.add_weight(
            shape=(2,),
            dtype="int64",
            initializer="zeros",
            trainable=False,
            name="skipped_updates",
            aggregation="only_first_replica",
        )
        self.gen_optimizer = None
        self.dis_optimizer = None

    def _build_networks(self):
        size = min_image_size(self.config)
        for gen, dis, channels in (
            (self.gen_a, self.dis_a, self.config.data.input_dim_a),
            (self.gen_b, self.dis_b, self.config.data.input_dim_b),
        ):
            x = ops.zeros((1, size, size, channels))
            gen(x)
            dis(x)
        self.built = True

    @property
    def inference_generators(self):
        """(generator A, generator B) that translate: the averaged copies with ``train.ema_beta``,
        else the trained ones."""
        if self.gen_a_ema is not None:
            return self.gen_a_ema, self.gen_b_ema
        return self.gen_a, self.gen_b

    def reset_averages(self):
        """Start the averaged generators at the trained weights (after loading weights)."""
        if self.gen_a_ema is not None:
            ema.copy(
                self.gen_a_ema.weights + self.gen_b_ema.weights,
                self.gen_a.weights + self.gen_b.weights,
            )

    def power_iteration(self, *networks) -> None:
        """One power-iteration step of every spectrally normalised kernel of ``networks`` (after
        their update, so the next forward pass divides the new kernels by their norm)."""
        for network in networks:
            for layer in network._flatten_layers(include_self=False):
                if getattr(layer, "spectral_norm", False) and hasattr(layer, "power_iteration"):
                    layer.power_iteration()

    @property
    def spectral_vectors(self) -> list:
        """The power iterations' state of the trained networks (checkpointed beside them)."""
        networks = (self.gen_a, self.gen_b, self.dis_a, self.dis_b)
        return [v for n in networks for v in n.non_trainable_weights if v.name.startswith("sn_u")]

    @property
    def generator_variables(self):
        return self.gen_a.trainable_variables + self.gen_b.trainable_variables

    @property
    def discriminator_variables(self):
        return self.dis_a.trainable_variables + self.dis_b.trainable_variables

    @property
    def step(self):
        """Completed training iterations (the generator optimiser's counter, saved in
        checkpoints)."""
        return self.gen_optimizer.iterations

    def compile(self, gen_optimizer=None, dis_optimizer=None, jit_compile=None, **kwargs):
        """Create (and build, so that ``tf.distribute`` sees every variable up front) both
        optimisers.

        Call inside ``strategy.scope()`` when distributing.
        """
        if jit_compile is None:
            jit_compile = self.config.train.jit_compile
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        dtype = self.precision
        self.gen_optimizer = precision.for_precision(
            gen_optimizer or make_optimizer(self.config.optim, "gen_optimizer"),
            dtype,
            "gen_loss_scale",
        )
        self.dis_optimizer = precision.for_precision(
            dis_optimizer
            or make_optimizer(self.config.optim, "dis_optimizer", self.config.optim.dis_lr_ratio),
            dtype,
            "dis_loss_scale",
        )
        self.gen_optimizer.build(self.generator_variables)
        self.dis_optimizer.build(self.discriminator_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Nothing to build: every network variable exists after ``__init__`` and every optimiser
        variable after ``compile``.

        Keras 3.12's version peeks at the first batch and calls ``strategy.reduce`` on the whole
        ``(x_a, x_b)`` tuple, which ``MultiWorkerMirroredStrategy`` cannot reduce (it takes one
        tensor, not a nest), so multi-worker ``fit()`` would fail before its first step.
        """

    # ----------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------
    def _random_styles(self, local_batch, stream: int):
        """N(0, I) style codes for both domains, identical for any number of replicas.

        The codes of the *global* batch are drawn from a seed made of the config seed, the step and
        the stream (0: discriminator update, 1: generator update); each replica takes its rows.
        """
        strategy = tf.distribute.get_strategy()
        replicas = strategy.num_replicas_in_sync
        context = tf.distribute.get_replica_context()  # None when called outside strategy.run
        replica = context.replica_id_in_sync_group if context is not None else 0
        seed = tf.stack(
            [
                tf.constant(self.config.train.seed, tf.int64),
                tf.cast(self.step, tf.int64) * 2 + stream,
            ]
        )
        codes = tf.random.stateless_normal(
            [local_batch * replicas, 2, self.config.gen.style_dim], seed
        )
        start = tf.cast(replica, tf.int32) * local_batch
        codes = codes[start : start + local_batch]
        return codes[:, 0], codes[:, 1]

    def discriminator_step(self, x_a, x_b, x_ab=None, x_ba=None):
        """``dis_update``: D on real images vs translations made with fresh random styles (or, with
        ``train.reuse_translations``, the translations the generator step already made)."""
        cfg = self.config
        if x_ab is None:
            s_a, s_b = self._random_styles(tf.shape(x_a)[0], stream=0)
            x_ba = self.gen_a.decode(self.gen_b.encode_content(x_b), s_a)
            x_ab = self.gen_b.decode(self.gen_a.encode_content(x_a), s_b)
        x_ab, x_ba = tf.stop_gradient(x_ab), tf.stop_gradient(x_ba)
        variables = self.discriminator_variables
        with tf.GradientTape() as tape:
            loss_dis_a = losses.dis_loss(
                *_two_calls_as_one(self.dis_a, (x_a, x_ba)), cfg.dis.gan_type
            )
            loss_dis_b = losses.dis_loss(
                *_two_calls_as_one(self.dis_b, (x_b, x_ab)), cfg.dis.gan_type
            )
            loss_dis_total = cfg.loss.gan_w * (loss_dis_a + loss_dis_b)
            objective = self._objective(self.dis_optimizer, loss_dis_total, variables)
        self._update(self.dis_optimizer, tape, objective, variables)
        if cfg.dis.spectral_norm:
            self.power_iteration(self.dis_a, self.dis_b)
        return {
            "loss_dis_a": loss_dis_a,
            "loss_dis_b": loss_dis_b,
            "loss_dis_total": loss_dis_total,
        }

    def generator_step(self, x_a, x_b):
        """``gen_update``: reconstruction, latent reconstruction, optional cycle/perceptual,
        adversarial."""
        cfg, w = self.config, self.config.loss
        s_a, s_b = self._random_styles(tf.shape(x_a)[0], stream=1)
        variables = self.generator_variables
        out = {}
        with tf.GradientTape() as tape:
            c_a, s_a_prime = self.gen_a.encode(x_a)
            c_b, s_b_prime = self.gen_b.encode(x_b)
            # Both decoders take one stack of the contents, so c_a has two uses (this stack and its
            # recon_c target), not three: see _two_calls_as_one.
            contents = ops.concatenate([c_a, c_b], axis=0)
            x_a_recon, x_ba = _split_in_two(
                self.gen_a.decode(contents, ops.concatenate([s_a_prime, s_a], axis=0))
            )
            x_ab, x_b_recon = _split_in_two(
                self.gen_b.decode(contents, ops.concatenate([s_b, s_b_prime], axis=0))
            )
            c_b_recon, s_a_recon = self.gen_a.encode(x_ba)
            c_a_recon, s_b_recon = self.gen_b.encode(x_ab)
            # D learns from these translations, then G is judged by the new D
            if cfg.train.reuse_translations:
                with tape.stop_recording():
                    out.update(self.discriminator_step(x_a, x_b, x_ab, x_ba))

            out["loss_gen_recon_x_a"] = losses.recon_loss(x_a_recon, x_a)
            out["loss_gen_recon_x_b"] = losses.recon_loss(x_b_recon, x_b)
            out["loss_gen_recon_s_a"] = losses.recon_loss(s_a_recon, s_a)
            out["loss_gen_recon_s_b"] = losses.recon_loss(s_b_recon, s_b)
            # target not detached, as the reference
            out["loss_gen_recon_c_a"] = losses.recon_loss(c_a_recon, c_a)
            out["loss_gen_recon_c_b"] = losses.recon_loss(c_b_recon, c_b)
            out["loss_gen_adv_a"] = losses.gen_adv_loss(self.dis_a(x_ba), cfg.dis.gan_type)
            out["loss_gen_adv_b"] = losses.gen_adv_loss(self.dis_b(x_ab), cfg.dis.gan_type)
            total = (
                w.gan_w * (out["loss_gen_adv_a"] + out["loss_gen_adv_b"])
                + w.recon_x_w * (out["loss_gen_recon_x_a"] + out["loss_gen_recon_x_b"])
                + w.recon_s_w * (out["loss_gen_recon_s_a"] + out["loss_gen_recon_s_b"])
                + w.recon_c_w * (out["loss_gen_recon_c_a"] + out["loss_gen_recon_c_b"])
            )
            if w.recon_x_cyc_w > 0:
                x_aba = self.gen_a.decode(c_a_recon, s_a_prime)
                x_bab = self.gen_b.decode(c_b_recon, s_b_prime)
                out["loss_gen_cycrecon_x_a"] = losses.recon_loss(x_aba, x_a)
                out["loss_gen_cycrecon_x_b"] = losses.recon_loss(x_bab, x_b)
                total += w.recon_x_cyc_w * (
                    out["loss_gen_cycrecon_x_a"] + out["loss_gen_cycrecon_x_b"]
                )
            if w.vgg_w > 0:
                # translation vs its source image
                out["loss_gen_vgg_a"] = self.perceptual(x_ba, x_b)
                out["loss_gen_vgg_b"] = self.perceptual(x_ab, x_a)
                total += w.vgg_w * (out["loss_gen_vgg_a"] + out["loss_gen_vgg_b"])
            out["loss_gen_total"] = total
            objective = self._objective(self.gen_optimizer, total, variables)
        self._update(self.gen_optimizer, tape, objective, variables)
        if cfg.gen.spectral_norm:
            self.power_iteration(self.gen_a, self.gen_b)
        if self.gen_a_ema is not None:
            ema.update(
                self.gen_a_ema.weights + self.gen_b_ema.weights,
                self.gen_a.weights + self.gen_b.weights,
                ema.beta_at(cfg.train.ema_beta, self.step, cfg.train.ema_warmup),
            )
        return out

    def _objective(self, optimizer, loss, variables):
        return updates.objective(optimizer, loss, variables, self.config.optim.weight_decay)

    def _update(self, optimizer, tape, objective, variables):
        """Apply the update (see ``updates.apply``); count it if ``on_nonfinite = "skip"`` left it
        out."""
        applied = updates.apply(
            optimizer, tape, objective, variables, self.config.train.on_nonfinite == "skip"
        )
        if applied is not None:
            index = 0 if optimizer is self.gen_optimizer else 1
            self.skipped_updates.assign_add(
                tf.one_hot(index, 2, dtype=tf.int64) * tf.cast(~applied, tf.int64)
            )

    def train_step(self, data):
        x_a, x_b = data
        logs = {} if self.config.train.reuse_translations else self.discriminator_step(x_a, x_b)
        logs.update(self.generator_step(x_a, x_b))
        if self.config.train.on_nonfinite == "skip":
            logs["skipped_gen_updates"], logs["skipped_dis_updates"] = (
                self.skipped_updates[0],
                self.skipped_updates[1],
            )
        # Rank-1 values: multi-worker fit() reduces step outputs along axis 0.
        return {name: tf.reshape(tf.cast(value, tf.float32), [1]) for name, value in logs.items()}

    # ----------------------------------------------------------------------------------------
    # Inference
    # ----------------------------------------------------------------------------------------
    def _generators(self, direction: str):
        return generators(self.inference_generators, direction)

    def _generator(self, domain: str):
        if domain not in ("a", "b"):
            raise InvalidInput(f"domain must be 'a' or 'b'; got {domain!r}")
        return self.inference_generators[0 if domain == "a" else 1]

    def encode(self, images, domain: str):
        """(content, style) codes of ``images`` from ``domain`` ('a' or 'b')."""
        return self._generator(domain).encode(images)

    def decode(self, content, style, domain: str):
        """Images of ``domain`` from content codes and style codes."""
        return self._generator(domain).decode(content, style)

    def sample_styles(self, n: int, seed: int | None = None):
        """``n`` style codes from the prior N(0, I), reproducible with ``seed``."""
        return styles.sample((n, self.config.gen.style_dim), seed)

    interpolate_styles = staticmethod(styles.interpolate)

    def translate(self, images, direction: str = "a2b", style=None, seed: int | None = None):
        """Translate ``images`` (B, H, W, C in [-1, 1]) keeping their content.

        ``style`` is one of: None (one random style per image) -> (B, H, W, C); an int ``n``
        (``n`` random styles per image) -> (B, n, H, W, C); style codes of shape (B, style_dim)
        or (1, style_dim) -> (B, H, W, C); reference images of the target domain (R, H', W', C)
        with R = B or 1 (example-guided) -> (B, H, W, C).
        """
        source, target = self._generators(direction)
        images = ops.convert_to_tensor(images, "float32")
        batch = int(images.shape[0])
        content = source.encode_content(images)
        if style is None or isinstance(style, (int, np.integer)):
            count = 1 if style is None else int(style)
            if count < 1:
                raise InvalidInput(f"the number of styles must be >= 1; got {count}")
            codes = self.sample_styles(batch * count, seed).reshape(batch, count, -1)
            outputs = [target.decode(content, codes[:, k]) for k in range(count)]
            return outputs[0] if style is None else ops.stack(outputs, axis=1)
        style = ops.convert_to_tensor(style, "float32")
        if len(style.shape) == 4:
            style = target.encode_style(style)
        elif len(style.shape) != 2 or style.shape[-1] != self.config.gen.style_dim:
            raise InvalidInput(
                f"style must be None, an int, codes of shape (B, {self.config.gen.style_dim}) or "
                f"reference images (B, H, W, C); got shape {tuple(style.shape)}"
            )
        if style.shape[0] == 1 and batch > 1:
            style = ops.repeat(style, batch, axis=0)
        if style.shape[0] != batch:
            raise InvalidInput(
                f"{style.shape[0]} styles given for {batch} images (give 1 or {batch})"
            )
        return target.decode(content, style)

    def call(self, inputs, training=False):
        """(x_a, x_b) -> (x_ab, x_ba) with random styles, so ``predict`` works."""
        x_a, x_b = inputs
        s_a = keras.random.normal((ops.shape(x_b)[0], self.config.gen.style_dim))
        s_b = keras.random.normal((ops.shape(x_a)[0], self.config.gen.style_dim))
        return self.gen_b.decode(self.gen_a.encode_content(x_a), s_b), self.gen_a.decode(
            self.gen_b.encode_content(x_b), s_a
        )

    # ----------------------------------------------------------------------------------------
    # Keras saving: model.save("m.keras") / keras.models.load_model("m.keras")
    # ----------------------------------------------------------------------------------------
    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name, "save_format": SAVE_FORMAT}

    @classmethod
    def from_config(cls, config):
        written = config.get("save_format", 1)
        if not isinstance(written, int) or written > SAVE_FORMAT:
            raise InvalidInput(
                f"this MUNIT was saved by a newer munit-tf (save format {written}; this version "
                f"reads formats up to {SAVE_FORMAT}): upgrade munit-tf to load it"
            )
        return cls(config["config"], name=config.get("name", "munit"))

    def get_compile_config(self):
        """Both optimisers (their hyperparameters and schedule), so that loading re-creates them
        before Keras restores their state (moments, iteration and bias-correction step)."""
        if self.gen_optimizer is None:
            return None
        return {
            "gen_optimizer": keras.optimizers.serialize(unwrapped(self.gen_optimizer)),
            "dis_optimizer": keras.optimizers.serialize(unwrapped(self.dis_optimizer)),
            "jit_compile": bool(self.jit_compile),
        }

    def compile_from_config(self, config):
        self.compile(
            gen_optimizer=keras.optimizers.deserialize(config["gen_optimizer"]),
            dis_optimizer=keras.optimizers.deserialize(config["dis_optimizer"]),
            jit_compile=config.get("jit_compile", False),
        )
