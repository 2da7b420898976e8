"""The MUNIT model: a generator and a discriminator per domain, and the reference's training step.

``train_step`` reads as the algorithm (reference ``trainer.py``): a discriminator update on
translations made with fresh N(0, I) styles, then a generator update with new styles, each
with its own Adam optimiser. It runs unchanged under any ``tf.distribute`` strategy: losses are
divided by the number of replicas (gradients are summed across replicas), and the random
styles of the whole global batch are drawn from a seed derived from the step, so N replicas
with a global batch B update exactly like one replica with batch B, and a resumed run draws
the same styles as an uninterrupted one.

Two domains (``data.domains = [a, b]``, the default) are the reference. With N > 2 domains each
step runs the reference's whole step on every unordered pair of domains (both directions each)
and averages the pairs' losses, so every direction is learnt in one run and N = 2 is the
reference's step unchanged (``tests/test_domains.py`` holds it to the two-domain code's).
"""

from __future__ import annotations

import functools
import itertools
import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from munit_tf import ema, losses, precision, styles, updates
from munit_tf.config import MUNITConfig, UnknownDomain, domain_index, from_dict
from munit_tf.errors import InvalidInput
from munit_tf.layers import reinitialize
from munit_tf.networks import Discriminator, Generator, content_encoder_of
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


def direction_domains(direction: str, domains) -> tuple[str, str]:
    """``"summer2winter"`` -> ``("summer", "winter")`` among ``domains``; anything else is a
    one-line error naming the directions there are."""
    for source, target in itertools.permutations(domains, 2):
        if direction == f"{source}2{target}":
            return source, target
    known = ", ".join(f"{s}2{t}" for s, t in itertools.permutations(domains, 2))
    raise InvalidInput(f"unknown direction {direction!r}; this model translates {known}")


def _unique(items) -> list:
    """``items`` without repeats (a shared content encoder is in every generator), in order."""
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


class _Terms:
    """Loss terms of several domain pairs, each averaged over the pairs that have it: a term of
    a single pair (two domains) is passed on as it is."""

    def __init__(self):
        self.values: dict = {}

    def add(self, terms: dict) -> None:
        for name, value in terms.items():
            self.values.setdefault(name, []).append(value)

    def means(self) -> dict:
        return {name: _mean(values) for name, values in self.values.items()}


def _mean(values: list):
    """The mean of a list of tensors; one tensor unchanged (two domains: the reference's value)."""
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total if len(values) == 1 else total / float(len(values))


def pair_schedule(pairs, per_step: int, seed: int) -> tuple:
    """The groups of domain pairs that successive steps train (``train.pairs_per_step``): one
    group of every pair when ``per_step`` is 0 or covers them all; else the pairs shuffled once
    from ``seed`` and taken ``per_step`` at a time round the cycle (wrapping), as many groups as
    make every pair appear equally often. Step s trains group s mod their number; each group
    keeps the pairs in their own order."""
    pairs = tuple(pairs)
    if not per_step or per_step >= len(pairs):
        return (pairs,)
    order = [pairs[i] for i in np.random.default_rng([seed, 23]).permutation(len(pairs))]
    count = len(pairs) // math.gcd(len(pairs), per_step)
    groups = []
    for g in range(count):
        members = {order[(g * per_step + t) % len(pairs)] for t in range(per_step)}
        groups.append(tuple(pair for pair in pairs if pair in members))
    return tuple(groups)


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
        self.domains = tuple(config.data.domains)
        # every unordered pair of domains, both directions each: (a, b) alone for two domains
        self.pairs = tuple(itertools.combinations(self.domains, 2))
        # the pairs each step trains, cycled by step (train.pairs_per_step; one group: all)
        self.pair_groups = pair_schedule(self.pairs, config.train.pairs_per_step, config.train.seed)
        self.precision = precision.resolve(config.train.precision)  # "auto": this CPU's fastest
        self.averaged = config.train.ema_beta > 0  # averaged copies of the generators translate
        with precision.building_in(self.precision):
            self._add_generators("gen_{}")
            for domain in self.domains:  # named dis_a, dis_b, ... as the checkpoints' keys
                setattr(self, f"dis_{domain}", Discriminator(config.dis, name=f"dis_{domain}"))
        self.perceptual = (
            losses.PerceptualLoss(config.loss.vgg_weights) if config.loss.vgg_w > 0 else None
        )
        self._build_networks()
        # the layers are built with the reference's init; another is drawn over it
        if config.gen.init != "kaiming":
            for gen in self.trained_generators:
                reinitialize(gen, config.gen.init)
        if config.dis.init != "gaussian":
            for dis in self.discriminators:
                reinitialize(dis, config.dis.init)
        if self.averaged:  # built after the others: their initial weights unchanged
            with precision.building_in(self.precision):
                self._add_generators("gen_{}_ema")
            size = min_image_size(config)
            for domain, average in zip(self.domains, self._networks_named("gen_{}_ema")):
                average(ops.zeros((1, size, size, config.channels(domain))))
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

    def _add_generators(self, pattern: str) -> None:
        """One generator per domain, as attributes ``pattern.format(domain)`` (``gen_a``, ...),
        sharing one content encoder with ``gen.shared_content``."""
        shared = content_encoder_of(self.config.gen) if self.config.gen.shared_content else None
        for domain in self.domains:
            name = pattern.format(domain)
            generator = Generator(
                self.config.channels(domain), self.config.gen, content_encoder=shared, name=name
            )
            setattr(self, name, generator)

    def _networks_named(self, pattern: str) -> tuple:
        return tuple(getattr(self, pattern.format(domain)) for domain in self.domains)

    def _build_networks(self):
        size = min_image_size(self.config)
        for domain in self.domains:
            x = ops.zeros((1, size, size, self.config.channels(domain)))
            self.generator(domain, trained=True)(x)
            self.discriminator(domain)(x)
        self.built = True

    # ----------------------------------------------------------------------------------------
    # The networks, by domain
    # ----------------------------------------------------------------------------------------
    @property
    def trained_generators(self) -> tuple:
        """The trained generators, in the order of ``data.domains``."""
        return self._networks_named("gen_{}")

    @property
    def discriminators(self) -> tuple:
        return self._networks_named("dis_{}")

    @property
    def inference_generators(self) -> tuple:
        """The generators that translate, in domain order: the averaged copies with
        ``train.ema_beta``, else the trained ones."""
        return self._networks_named("gen_{}_ema" if self.averaged else "gen_{}")

    def generator(self, domain: str, trained: bool = False) -> Generator:
        """``domain``'s generator: the one that translates, or with ``trained`` the trained one."""
        domain_index(self.config, domain)  # an unknown name: a one-line error
        averaged = self.averaged and not trained
        return getattr(self, f"gen_{domain}_ema" if averaged else f"gen_{domain}")

    def discriminator(self, domain: str) -> Discriminator:
        domain_index(self.config, domain)
        return getattr(self, f"dis_{domain}")

    def averaged_weights(self) -> tuple[list, list]:
        """(averaged weights, trained weights), matched one to one."""
        averages = _unique(w for g in self.inference_generators for w in g.weights)
        trained = _unique(w for g in self.trained_generators for w in g.weights)
        return averages, trained

    def reset_averages(self):
        """Start the averaged generators at the trained weights (after loading weights)."""
        if self.averaged:
            ema.copy(*self.averaged_weights())

    def power_iteration(self, *networks) -> None:
        """One power-iteration step of every spectrally normalised kernel of ``networks`` (after
        their update, so the next forward pass divides the new kernels by their norm)."""
        layers = (layer for n in networks for layer in n._flatten_layers(include_self=False))
        for layer in _unique(layers):  # a shared content encoder's once
            if getattr(layer, "spectral_norm", False) and hasattr(layer, "power_iteration"):
                layer.power_iteration()

    @property
    def spectral_vectors(self) -> list:
        """The power iterations' state of the trained networks (checkpointed beside them)."""
        networks = self.trained_generators + self.discriminators
        return _unique(
            v for n in networks for v in n.non_trainable_weights if v.name.startswith("sn_u")
        )

    @property
    def generator_variables(self):
        return _unique(v for g in self.trained_generators for v in g.trainable_variables)

    @property
    def discriminator_variables(self):
        return [v for d in self.discriminators for v in d.trainable_variables]

    def _networks_of(self, pairs, pattern: str) -> tuple:
        """The networks (``gen_{}`` or ``dis_{}``) of the domains in ``pairs``, in domain order."""
        involved = {domain for pair in pairs for domain in pair}
        return tuple(getattr(self, pattern.format(d)) for d in self.domains if d in involved)

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
    def _random_styles(self, local_batch, stream: int) -> list:
        """N(0, I) style codes, one (first domain's, second domain's) per pair of domains,
        identical for any number of replicas.

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
            [local_batch * replicas, 2 * len(self.pairs), self.config.gen.style_dim], seed
        )
        start = tf.cast(replica, tf.int32) * local_batch
        codes = codes[start : start + local_batch]
        return [(codes[:, 2 * p], codes[:, 2 * p + 1]) for p in range(len(self.pairs))]

    def _pair_codes(self, batches: dict, stream: int, pairs) -> list:
        """The random style codes of ``pairs``: each pair's own, whichever pairs a step trains."""
        codes = self._random_styles(tf.shape(batches[self.domains[0]])[0], stream)
        return [codes[self.pairs.index(pair)] for pair in pairs]

    def discriminator_step(self, batches: dict, translations: list | None = None, pairs=None):
        """``dis_update``: D on real images vs translations made with fresh random styles (or, with
        ``train.reuse_translations``, the translations the generator step already made: one
        (i -> j, j -> i) per pair (i, j)). ``pairs``: the pairs of domains trained (all)."""
        cfg = self.config
        pairs = self.pairs if pairs is None else pairs
        if translations is None:
            translations = []
            for (i, j), (s_i, s_j) in zip(pairs, self._pair_codes(batches, 0, pairs)):
                gen_i, gen_j = self.generator(i, trained=True), self.generator(j, trained=True)
                x_ji = gen_i.decode(gen_j.encode_content(batches[j]), s_i)
                x_ij = gen_j.decode(gen_i.encode_content(batches[i]), s_j)
                translations.append((x_ij, x_ji))
        discriminators = self._networks_of(pairs, "dis_{}")
        variables = [v for d in discriminators for v in d.trainable_variables]
        terms, totals = _Terms(), []
        with tf.GradientTape() as tape:
            for (i, j), (x_ij, x_ji) in zip(pairs, translations):
                x_ij, x_ji = tf.stop_gradient(x_ij), tf.stop_gradient(x_ji)
                loss_i = losses.dis_loss(
                    *_two_calls_as_one(self.discriminator(i), (batches[i], x_ji)), cfg.dis.gan_type
                )
                loss_j = losses.dis_loss(
                    *_two_calls_as_one(self.discriminator(j), (batches[j], x_ij)), cfg.dis.gan_type
                )
                terms.add({f"loss_dis_{i}": loss_i, f"loss_dis_{j}": loss_j})
                totals.append(cfg.loss.gan_w * (loss_i + loss_j))
            loss_dis_total = _mean(totals)
            objective = self._objective(self.dis_optimizer, loss_dis_total, variables)
        self._update(self.dis_optimizer, tape, objective, variables)
        if cfg.dis.spectral_norm:
            self.power_iteration(*discriminators)
        return {**terms.means(), "loss_dis_total": loss_dis_total}

    def _translate_pair(self, i: str, j: str, x_i, x_j, s_i, s_j) -> dict:
        """The generator step's forward pass on domains (i, j): codes, reconstructions, both
        translations and their codes."""
        gen_i, gen_j = self.generator(i, trained=True), self.generator(j, trained=True)
        c_i, s_i_prime = gen_i.encode(x_i)
        c_j, s_j_prime = gen_j.encode(x_j)
        # Both decoders take one stack of the contents, so c_i has two uses (this stack and its
        # recon_c target), not three: see _two_calls_as_one.
        contents = ops.concatenate([c_i, c_j], axis=0)
        x_i_recon, x_ji = _split_in_two(
            gen_i.decode(contents, ops.concatenate([s_i_prime, s_i], axis=0))
        )
        x_ij, x_j_recon = _split_in_two(
            gen_j.decode(contents, ops.concatenate([s_j, s_j_prime], axis=0))
        )
        c_j_recon, s_i_recon = gen_i.encode(x_ji)
        c_i_recon, s_j_recon = gen_j.encode(x_ij)
        return {
            "i": i, "j": j, "gen_i": gen_i, "gen_j": gen_j,
            "x_i": x_i, "x_j": x_j, "s_i": s_i, "s_j": s_j,
            "c_i": c_i, "c_j": c_j, "s_i_prime": s_i_prime, "s_j_prime": s_j_prime,
            "x_i_recon": x_i_recon, "x_j_recon": x_j_recon, "x_ij": x_ij, "x_ji": x_ji,
            "c_i_recon": c_i_recon, "c_j_recon": c_j_recon,
            "s_i_recon": s_i_recon, "s_j_recon": s_j_recon,
        }  # fmt: skip

    def _pair_losses(self, f: dict) -> tuple[dict, object]:
        """The reference's generator loss terms and their weighted sum for the pair of ``f``
        (``_translate_pair``'s tensors), named by domain (``loss_gen_recon_x_a``, ...)."""
        cfg, w = self.config, self.config.loss
        i, j = f["i"], f["j"]
        out = {
            f"loss_gen_recon_x_{i}": losses.recon_loss(f["x_i_recon"], f["x_i"]),
            f"loss_gen_recon_x_{j}": losses.recon_loss(f["x_j_recon"], f["x_j"]),
            f"loss_gen_recon_s_{i}": losses.recon_loss(f["s_i_recon"], f["s_i"]),
            f"loss_gen_recon_s_{j}": losses.recon_loss(f["s_j_recon"], f["s_j"]),
            # target not detached, as the reference
            f"loss_gen_recon_c_{i}": losses.recon_loss(f["c_i_recon"], f["c_i"]),
            f"loss_gen_recon_c_{j}": losses.recon_loss(f["c_j_recon"], f["c_j"]),
            f"loss_gen_adv_{i}": losses.gen_adv_loss(
                self.discriminator(i)(f["x_ji"]), cfg.dis.gan_type
            ),
            f"loss_gen_adv_{j}": losses.gen_adv_loss(
                self.discriminator(j)(f["x_ij"]), cfg.dis.gan_type
            ),
        }

        def both(term):
            return out[f"loss_gen_{term}_{i}"] + out[f"loss_gen_{term}_{j}"]

        total = (
            w.gan_w * both("adv")
            + w.recon_x_w * both("recon_x")
            + w.recon_s_w * both("recon_s")
            + w.recon_c_w * both("recon_c")
        )
        if w.recon_x_cyc_w > 0:
            x_iji = f["gen_i"].decode(f["c_i_recon"], f["s_i_prime"])
            x_jij = f["gen_j"].decode(f["c_j_recon"], f["s_j_prime"])
            out[f"loss_gen_cycrecon_x_{i}"] = losses.recon_loss(x_iji, f["x_i"])
            out[f"loss_gen_cycrecon_x_{j}"] = losses.recon_loss(x_jij, f["x_j"])
            total += w.recon_x_cyc_w * both("cycrecon_x")
        if w.vgg_w > 0:
            # translation vs its source image
            out[f"loss_gen_vgg_{i}"] = self.perceptual(f["x_ji"], f["x_j"])
            out[f"loss_gen_vgg_{j}"] = self.perceptual(f["x_ij"], f["x_i"])
            total += w.vgg_w * both("vgg")
        return out, total

    def generator_step(self, batches: dict, pairs=None):
        """``gen_update``: reconstruction, latent reconstruction, optional cycle/perceptual,
        adversarial; for every pair of domains (or those of ``pairs``), averaged over them."""
        cfg = self.config
        pairs = self.pairs if pairs is None else pairs
        codes = self._pair_codes(batches, 1, pairs)
        generators = self._networks_of(pairs, "gen_{}")
        variables = _unique(v for g in generators for v in g.trainable_variables)
        out, terms, totals = {}, _Terms(), []
        with tf.GradientTape() as tape:
            forwards = [
                self._translate_pair(i, j, batches[i], batches[j], s_i, s_j)
                for (i, j), (s_i, s_j) in zip(pairs, codes)
            ]
            # D learns from these translations, then G is judged by the new D
            if cfg.train.reuse_translations:
                with tape.stop_recording():
                    made = [(f["x_ij"], f["x_ji"]) for f in forwards]
                    out.update(self.discriminator_step(batches, made, pairs))
            for forward in forwards:
                pair_terms, pair_total = self._pair_losses(forward)
                terms.add(pair_terms)
                totals.append(pair_total)
            out.update(terms.means())
            out["loss_gen_total"] = total = _mean(totals)
            objective = self._objective(self.gen_optimizer, total, variables)
        self._update(self.gen_optimizer, tape, objective, variables)
        if cfg.gen.spectral_norm:
            self.power_iteration(*generators)
        if self.averaged:
            ema.update(
                *self.averaged_weights(),
                ema.beta_at(cfg.train.ema_beta, self.step, cfg.train.ema_warmup),
            )
        return out

    def make_train_function(self, force=False):
        """Keras' train function; with ``train.pairs_per_step``, one per group of pairs, each
        traced on first use, and the step's counter choosing which runs (as a resumed run
        would). A domain's logged terms are those of the last step that trained it."""
        if len(self.pair_groups) == 1:
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return self.train_function
        if self.steps_per_execution > 1:
            raise InvalidInput(
                "train.pairs_per_step changes the pairs every step; compile with "
                "steps_per_execution=1"
            )
        functions = [
            self._make_function(functools.partial(self.train_step, pairs=group))
            for group in self.pair_groups
        ]
        latest = {}

        def train_function(iterator):
            group = int(self.step.numpy()) % len(functions)
            latest.update(functions[group](iterator))
            return dict(latest)

        self.train_function = train_function
        return train_function

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

    def train_step(self, data, pairs=None):
        """One step on every pair of domains, or on those of ``pairs`` (see
        ``make_train_function``)."""
        if len(data) != len(self.domains):
            raise InvalidInput(
                f"a training batch holds one batch of images per domain ({len(self.domains)}: "
                f"{', '.join(self.domains)}); got {len(data)}"
            )
        batches = dict(zip(self.domains, data))
        logs = {}
        if not self.config.train.reuse_translations:
            logs = self.discriminator_step(batches, pairs=pairs)
        logs.update(self.generator_step(batches, pairs))
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
    def direction(self, direction: str | None = None, source=None, target=None):
        """(source, target) domains from a direction (``a2b``) or from the names themselves; by
        default the first domain to the second."""
        if direction is not None:
            if source is not None or target is not None:
                raise InvalidInput("give a direction or source= and target=, not both")
            return direction_domains(direction, self.domains)
        if source is None:
            source = self.domains[0]
        if target is None:
            target = next(domain for domain in self.domains if domain != source)
        for name in (source, target):
            if name not in self.domains:
                raise UnknownDomain(name, self.domains)
        if source == target:
            raise InvalidInput(f"source and target are both {source!r}: name two domains")
        return source, target

    def encode(self, images, domain: str):
        """(content, style) codes of ``images`` from ``domain`` (one of ``data.domains``)."""
        return self.generator(domain).encode(images)

    def decode(self, content, style, domain: str):
        """Images of ``domain`` from content codes and style codes."""
        return self.generator(domain).decode(content, style)

    def sample_styles(self, n: int, seed: int | None = None):
        """``n`` style codes from the prior N(0, I), reproducible with ``seed``."""
        return styles.sample((n, self.config.gen.style_dim), seed)

    interpolate_styles = staticmethod(styles.interpolate)

    def translate(
        self,
        images,
        direction: str | None = None,
        style=None,
        seed: int | None = None,
        *,
        source: str | None = None,
        target: str | None = None,
    ):
        """Translate ``images`` (B, H, W, C in [-1, 1]) keeping their content.

        From ``source`` to ``target`` (domain names), or a ``direction`` such as ``"a2b"``; by
        default from the first domain to the second.
        ``style`` is one of: None (one random style per image) -> (B, H, W, C); an int ``n``
        (``n`` random styles per image) -> (B, n, H, W, C); style codes of shape (B, style_dim)
        or (1, style_dim) -> (B, H, W, C); reference images of the target domain (R, H', W', C)
        with R = B or 1 (example-guided) -> (B, H, W, C).
        """
        source, target = self.direction(direction, source, target)
        source, target = self.generator(source), self.generator(target)
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
        """One batch per domain -> each domain's images translated to the next domain (the last
        to the first) with random styles, so ``predict`` works: (x_a, x_b) -> (x_ab, x_ba)."""
        outputs = []
        for k, images in enumerate(inputs):
            source, target = self.domains[k], self.domains[(k + 1) % len(self.domains)]
            style = keras.random.normal((ops.shape(images)[0], self.config.gen.style_dim))
            outputs.append(
                self.generator(target, trained=True).decode(
                    self.generator(source, trained=True).encode_content(images), style
                )
            )
        return tuple(outputs)

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
