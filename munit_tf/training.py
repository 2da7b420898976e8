"""Training a MUNIT model from prepared data: strategy, full-state checkpoints, logs and samples.

Output layout (``OUTPUT``)::

    config.yaml           the resolved configuration of the run
    checkpoints/          ckpt-<step>.{index,data-*}: every domain's generator and discriminator,
                          both optimisers (with their step counters); the newest ``keep`` kept
    logs/                 TensorBoard scalars of every loss term (and sample images)
    images/               sample grids: gen_a2b_train_<step>.png, ..._current.png
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
import zipfile

import keras
import numpy as np
import tensorflow as tf

from munit_tf import precision, styles, visualize
from munit_tf.config import MUNITConfig
from munit_tf.data import dataset as data_lib
from munit_tf.errors import InvalidInput, MissingInput, OutputExists, UserError
from munit_tf.model import MUNIT
from munit_tf.optimizers import unwrapped


def make_strategy(name: str) -> tf.distribute.Strategy:
    """``default`` (one device), ``mirrored`` (all local devices), ``multi_worker`` (TF_CONFIG)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def build_model(config: MUNITConfig, strategy: tf.distribute.Strategy | None = None) -> MUNIT:
    """A compiled model whose every variable (networks and optimiser slots) lives in
    ``strategy``."""
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = MUNIT(config)
        model.compile()
    return model


def _is_chief(strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


BIAS_CORRECTION_STEP = "_bias_correction_step"  # the optimisers' own Adam step, in checkpoint keys


class Checkpointer:
    """One ``tf.train.Checkpoint`` holding every network and optimiser: resume cannot forget a
    piece.

    ``tf.train.CheckpointManager`` writes the index file last, so an interrupted save is never
    listed as the latest checkpoint. Non-chief workers save to a scratch folder they delete.
    """

    def __init__(self, model: MUNIT, directory: str, keep: int = 3, chief: bool = True):
        self.model = model
        # With train.ema_beta, the averaged generators' weights, as lists: Keras 3 layers kept
        # in Python lists (blocks, res_blocks) are not tf.train-tracked, so a network reaches a
        # checkpoint only through the variable lists that hold its weights (the optimisers', here).
        lists = {}
        if model.averaged:
            lists["generator_averages"] = model.averaged_weights()[0]
        if model.spectral_vectors:  # spectral normalisation's power-iteration state
            lists["spectral_vectors"] = model.spectral_vectors
        networks = {}  # gen_a, gen_b, dis_a, dis_b for two domains, as always
        for domain in model.domains:
            networks[f"gen_{domain}"] = model.generator(domain, trained=True)
        for domain in model.domains:
            networks[f"dis_{domain}"] = model.discriminator(domain)
        self.checkpoint = tf.train.Checkpoint(
            **networks,
            gen_optimizer=model.gen_optimizer,
            dis_optimizer=model.dis_optimizer,
            skipped_updates=model.skipped_updates,
            **lists,
        )
        self.chief = chief
        self.directory = directory if chief else os.path.join(directory, f".worker-{os.getpid()}")
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.directory, max_to_keep=keep)

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint

    def restore(self, path: str | None = None) -> int:
        """Restore ``path`` (default: the latest); returns the step it was saved at (0 if none)."""
        path = path or self.latest
        if path:
            status = self.checkpoint.restore(path)
            own_steps = [
                optimizer
                for optimizer in (self.model.gen_optimizer, self.model.dis_optimizer)
                if hasattr(unwrapped(optimizer), "bias_correction_step")
            ]
            if own_steps and not any(
                BIAS_CORRECTION_STEP in name for name, _ in tf.train.list_variables(path)
            ):
                # Written before the optimisers had their own step: Keras' Adam used the iteration.
                status.assert_nontrivial_match().expect_partial()
                for optimizer in own_steps:
                    unwrapped(optimizer).bias_correction_step.assign(optimizer.iterations)
            else:
                status.assert_existing_objects_matched()
        return int(self.model.step.numpy())

    def save(self) -> str:
        path = self.manager.save(checkpoint_number=int(self.model.step.numpy()))
        if not self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)
        return path


class CheckpointCallback(keras.callbacks.Callback):
    def __init__(self, checkpointer: Checkpointer, every: int):
        super().__init__()
        self.checkpointer, self.every, self.last = checkpointer, every, None

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if step % self.every == 0 and step != self.last:
            self.checkpointer.save()
            self.last = step

    def on_train_end(self, logs=None):
        if int(self.model.step.numpy()) != self.last:
            self.checkpointer.save()
            self.last = int(self.model.step.numpy())


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the run stopped before checkpointing the damaged weights."""


class NonFiniteGuard(keras.callbacks.Callback):
    """At a NaN/Inf loss term: stop training, naming the term and the step (``on_nonfinite="stop"``;
    it runs before the checkpoint callback, so the damaged weights are never saved), or, when the
    train step skipped that update (``"skip"``), report it and stop only past ``max_skipped``."""

    def __init__(
        self, checkpointer: Checkpointer, skip: bool = False, max_skipped: int = 100, log=print
    ):
        super().__init__()
        self.checkpointer = checkpointer
        self.skip = skip
        self.max_skipped = max_skipped
        self.log = log

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        bad = sorted(name for name, value in logs.items() if not np.all(np.isfinite(value)))
        if not bad:
            return
        step = int(self.model.step.numpy())
        kind = "NaN" if np.isnan(np.mean(logs[bad[0]])) else "infinite"
        what = f"{', '.join(bad)} became {kind} at step {step}"
        if self.skip:
            skipped = {
                name: int(np.max(logs[f"skipped_{name}_updates"])) for name in ("gen", "dis")
            }
            self.log(
                f"{what}; update skipped (so far: {skipped['gen']} generator, {skipped['dis']} "
                "discriminator updates skipped)"
            )
            if max(skipped.values()) <= self.max_skipped:
                return
            raise TrainingDiverged(
                f"more than train.max_skipped_updates = {self.max_skipped} updates skipped "
                f"({what}); training stopped. The last checkpoint is "
                f"{self.checkpointer.latest or 'none'}"
            )
        raise TrainingDiverged(
            f"{what}; training stopped. The last good checkpoint is "
            f"{self.checkpointer.latest or 'none (no checkpoint yet)'}: resume from it with "
            "--resume, e.g. with "
            "a lower optim.lr, or set train.on_nonfinite=skip to leave such updates out"
        )


class StopAtStep(keras.callbacks.Callback):
    """Stops ``fit`` when the model's step reaches ``max_iter`` (the reference's ``max_iter``)."""

    def __init__(self, max_iter: int):
        super().__init__()
        self.max_iter = max_iter

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step.numpy()) >= self.max_iter:
            self.model.stop_training = True


class LossLogger(keras.callbacks.Callback):
    """TensorBoard scalars for every loss term every ``every`` steps, indexed by the model's
    step."""

    def __init__(self, log_dir: str, every: int):
        super().__init__()
        self.every = every
        self.writer = tf.summary.create_file_writer(log_dir)

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if step % self.every or not logs:
            return
        with self.writer.as_default(step=step):
            for name, value in logs.items():
                tf.summary.scalar(name, float(np.mean(value)))
            tf.summary.scalar(
                "learning_rate", float(np.asarray(self.model.gen_optimizer.learning_rate))
            )
        self.writer.flush()


class SampleGrid(keras.callbacks.Callback):
    """Every ``every`` steps: the display grid as PNG files and a TensorBoard image."""

    def __init__(self, images_dir: str, log_dir: str, display, every: int, seed: int):
        super().__init__()
        self.images_dir, self.every, self.seed = images_dir, every, seed
        self.display = display  # one batch per domain
        self.writer = tf.summary.create_file_writer(log_dir)
        self.paths = []

    def on_train_begin(self, logs=None):
        rng = np.random.default_rng(self.seed)  # fixed display styles, as the reference's s_a/s_b
        style_dim = self.model.config.gen.style_dim
        self.images = dict(zip(self.model.domains, self.display))
        self.fixed_styles = {
            domain: styles.sample((len(x), style_dim), rng) for domain, x in self.images.items()
        }

    def write(self, step: int) -> list[str]:
        rows = visualize.sample_rows(self.model, self.images, self.fixed_styles, seed=step)
        self.paths = []
        with self.writer.as_default(step=step):
            for direction, batches in rows.items():
                image = visualize.grid(batches)
                for name in (
                    f"gen_{direction}_train_{step:08d}.png",
                    f"gen_{direction}_train_current.png",
                ):
                    self.paths.append(
                        visualize.save_png(image, os.path.join(self.images_dir, name))
                    )
                tf.summary.image(f"samples/{direction}", image[None], step=step)
        self.writer.flush()
        return self.paths

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if self.every and step % self.every == 0:
            self.write(step)

    def on_train_end(self, logs=None):
        self.write(int(self.model.step.numpy()))


class OutputExistsError(OutputExists):
    pass


RUN_FOLDERS = ("checkpoints", "logs", "images")


def prepare_output(output: str, resume: bool, overwrite: bool) -> None:
    checkpoints = os.path.join(output, "checkpoints")
    has_checkpoints = tf.io.gfile.exists(os.path.join(checkpoints, "checkpoint"))
    if has_checkpoints and not (resume or overwrite):
        raise OutputExistsError(
            f"{output} already holds a training run; pass --resume to continue it or "
            "--overwrite to start again"
        )
    for sub in RUN_FOLDERS:
        path = os.path.join(output, sub)
        if overwrite and not resume and tf.io.gfile.exists(path):
            tf.io.gfile.rmtree(path)  # only what a run writes: data kept beside it survives
        tf.io.gfile.makedirs(path)


def train(
    config: MUNITConfig,
    data,
    output: str,
    resume: bool = False,
    overwrite: bool = False,
    strategy: tf.distribute.Strategy | None = None,
    verbose: int | str = "auto",
    callbacks: list | None = None,
) -> dict:
    """Train until ``config.train.max_iter``; returns {"step", "checkpoint", "samples", "logs"}.

    ``data``: a prepared folder, or a list of TFRecord files/patterns holding both domains;
    ``callbacks``: more Keras callbacks, run after the built-in ones at every step.
    """
    others = data_lib.check_domains(data, config)  # a domain without images: refused first
    strategy = strategy or make_strategy(config.train.strategy)
    chief = _is_chief(strategy)
    if chief and others:
        print(
            f"{data} also has domain(s) {', '.join(others)}: not trained (data.domains = "
            f"{', '.join(config.data.domains)})"
        )
    message = precision.start_message(config.train.precision)
    if chief and message:
        print(message)
    if chief:
        prepare_output(output, resume, overwrite)
        with open(os.path.join(output, "config.yaml"), "w") as handle:
            handle.write(config.to_yaml())
    keras.utils.set_random_seed(config.train.seed)  # same initial weights for the same config
    model = build_model(config, strategy)
    checkpointer = Checkpointer(
        model, os.path.join(output, "checkpoints"), config.train.keep_checkpoints, chief
    )
    start = (
        checkpointer.restore(tf.train.latest_checkpoint(os.path.join(output, "checkpoints")))
        if resume
        else 0
    )
    dataset = data_lib.make_dataset(data, config, start_step=start)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = dataset.with_options(options)
    display_count = config.train.display_size
    display = next(
        iter(
            data_lib.make_dataset(
                data, config, split="train", training=False, batch_size=display_count
            ).take(1)
        )
    )
    display = tuple(np.asarray(x) for x in display)
    samples = SampleGrid(
        os.path.join(output, "images"),
        os.path.join(output, "logs"),
        display,
        config.train.image_save_iter,
        config.train.seed,
    )
    extra = list(callbacks or [])
    callbacks = [
        NonFiniteGuard(
            checkpointer, config.train.on_nonfinite == "skip", config.train.max_skipped_updates
        ),
        StopAtStep(config.train.max_iter),
        CheckpointCallback(checkpointer, config.train.snapshot_save_iter),
    ]
    if chief:
        callbacks += [LossLogger(os.path.join(output, "logs"), config.train.log_iter), samples]
    if chief and config.train.eval_iter:
        from munit_tf.evaluation.during_training import GroundTruthLog

        callbacks.append(GroundTruthLog.from_config(config, data, os.path.join(output, "logs")))
    callbacks += extra
    spe = config.train.steps_per_epoch
    # Skipped updates do not advance the step: leave room for them (StopAtStep ends at max_iter).
    spare = config.train.max_skipped_updates + 1 if config.train.on_nonfinite == "skip" else 0
    if start < config.train.max_iter:
        model.fit(
            dataset,
            steps_per_epoch=spe,
            initial_epoch=start // spe,
            epochs=math.ceil((config.train.max_iter + spare) / spe),
            callbacks=callbacks,
            verbose=verbose if chief else 0,
        )
    result = {
        "step": int(model.step.numpy()),
        "checkpoint": checkpointer.latest if chief else None,
        "skipped_updates": dict(
            zip(("generator", "discriminator"), model.skipped_updates.numpy().tolist())
        ),
        "samples": samples.paths,
        "logs": os.path.join(output, "logs"),
    }
    if chief:
        with open(os.path.join(output, "train_result.json"), "w") as handle:
            json.dump(result, handle, indent=2)
    return result


def load_model(
    output_or_checkpoint: str,
    config: MUNITConfig | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> MUNIT:
    """A model restored from a run folder (its config.yaml and latest checkpoint), a checkpoint
    path, or a ``.keras`` file (``model.save``), compiled, with both optimisers' state."""
    from munit_tf.config import load_config

    if output_or_checkpoint.endswith(".keras"):
        return load_keras_file(output_or_checkpoint, config, strategy)
    if tf.io.gfile.isdir(output_or_checkpoint):
        run = output_or_checkpoint
        checkpoint = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
    else:
        checkpoint = output_or_checkpoint
        run = os.path.dirname(os.path.dirname(checkpoint))
    if checkpoint is None:
        raise MissingInput(f"no checkpoint found in {output_or_checkpoint}")
    if config is None:
        config = load_config(os.path.join(run, "config.yaml"))
    model = build_model(config, strategy)
    Checkpointer(model, os.path.dirname(checkpoint)).restore(checkpoint)
    return model


def load_keras_file(
    path: str, config: MUNITConfig | None = None, strategy: tf.distribute.Strategy | None = None
) -> MUNIT:
    """``keras.models.load_model`` of a ``.keras`` file holding a MUNIT, inside ``strategy``'s
    scope; anything else (a missing file, another model, a config that differs from ``config``) is a
    one-line error."""
    if not tf.io.gfile.exists(path):
        raise MissingInput(f"{path}: no such file")
    with (
        (strategy or tf.distribute.get_strategy()).scope(),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            model = keras.models.load_model(path, safe_mode=True)
        except UserError:  # our own: a newer save format, an unknown config field
            raise
        except zipfile.BadZipFile:
            raise InvalidInput(f"{path} is not a .keras file (not a zip archive)") from None
        except (ValueError, TypeError, KeyError) as error:
            # Keras lists every layer after this
            text = str(error).split("List of objects")[0].strip()
            if "could not be loaded" in text:
                raise InvalidInput(
                    f"{path}: the saved weights do not fit the model its config describes ({text})"
                ) from None
            raise InvalidInput(
                f"{path}: not a MUNIT .keras file this munit-tf can read ({text[:300]})"
            ) from None
    skipped = [str(w.message) for w in caught if "Skipping variable loading" in str(w.message)]
    if skipped:  # Keras only warns when a saved optimiser's state does not fit: nothing may be lost
        raise InvalidInput(f"{path}: saved state does not fit this munit-tf's model: {skipped[0]}")
    if not isinstance(model, MUNIT):
        raise InvalidInput(f"{path} holds a {type(model).__name__}, not a MUNIT model")
    if config is not None and config.to_dict() != model.config.to_dict():
        raise InvalidInput(
            f"{path} was saved with another configuration than the one given; load it without one"
        )
    return model
