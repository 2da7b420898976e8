"""The reference's optimisers: Adam(lr, (beta1, beta2), eps) with ``StepLR`` decay.

``Adam`` follows ``torch.optim.Adam`` exactly: ε is added to √v̂ *after* bias correction. Keras'
own Adam adds it to √v before, which in PyTorch's terms is an ε of ε/√(1-β₂ᵗ): 30x larger at the
first step, and enough to change 40% of the elements of the first update by more than 1e-3 of
the learning rate. ``epsilon_placement="keras"`` gives Keras' formula instead.

Each optimiser keeps two counters apart: ``iterations``, the training iteration that the
learning-rate schedule (and the model's ``step``) reads, and ``bias_correction_step``, how many
updates its own moments have seen. They are equal in a run trained from scratch; after
``import-reference`` the schedule continues from the file's iteration while the fresh moments
are bias-corrected from step 1, as the reference's fresh ``torch.optim.Adam`` would be.

Weight decay is *coupled* L2 as in ``torch.optim.Adam(weight_decay=...)``: the model adds it to
the loss (see ``losses.l2_penalty``); Keras' own ``weight_decay`` argument is decoupled (AdamW)
and is therefore not used.
"""

from __future__ import annotations

import keras
from keras import ops

from munit_tf.config import OptimizerConfig
from munit_tf.errors import InvalidInput

EPSILON_PLACEMENTS = ("pytorch", "keras")


@keras.saving.register_keras_serializable(package="munit_tf")
class StepLR(keras.optimizers.schedules.LearningRateSchedule):
    """``lr * gamma ** floor((step + 1) / step_size)``.

    The reference calls ``scheduler.step()`` at the start of each iteration, before the update,
    so iteration ``it`` (0-based) runs with the rate for ``it + 1``.
    """

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float):
        self.initial_learning_rate = initial_learning_rate
        self.step_size = step_size
        self.gamma = gamma

    def __call__(self, step):
        exponent = ops.floor((ops.cast(step, "float32") + 1.0) / float(self.step_size))
        return self.initial_learning_rate * ops.power(self.gamma, exponent)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "gamma": self.gamma,
        }


@keras.saving.register_keras_serializable(package="munit_tf")
class Adam(keras.optimizers.Optimizer):
    """Adam with PyTorch's update (default) or Keras', and its own bias-correction step.

    PyTorch, at bias-correction step t::

        m = β₁m + (1-β₁)g;   v = β₂v + (1-β₂)g²
        θ -= lr / (1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε)

    Keras: ``θ -= lr·√(1-β₂ᵗ)/(1-β₁ᵗ) · m / (√v + ε)``. The bias-correction factors are computed
    in float64, as PyTorch computes them (in Python floats), then applied in the variable's dtype.
    """

    def __init__(
        self,
        learning_rate=1e-4,
        beta_1=0.5,
        beta_2=0.999,
        epsilon=1e-8,
        epsilon_placement="pytorch",
        name="adam",
        **kwargs,
    ):
        if epsilon_placement not in EPSILON_PLACEMENTS:
            raise InvalidInput(
                f"epsilon_placement must be one of {EPSILON_PLACEMENTS}; got {epsilon_placement!r}"
            )
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.epsilon_placement = epsilon_placement

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        # Created last, so the moments keep the checkpoint positions Keras' Adam gave them.
        self._bias_correction_step = self.add_variable(
            shape=(),
            initializer="zeros",
            dtype="int64",
            aggregation="only_first_replica",
            name="bias_correction_step",
        )

    @property
    def bias_correction_step(self):
        """Updates applied to this optimiser's moments (``iterations`` is the schedule's step)."""
        return self._bias_correction_step

    def apply(self, grads, trainable_variables=None):
        super().apply(grads, trainable_variables)
        if len(grads):  # as ``iterations``: advanced once per update, after every variable's
            self._bias_correction_step.assign_add(1)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self._bias_correction_step + 1, "float64")
        correction_1 = 1.0 - ops.power(ops.cast(self.beta_1, "float64"), step)
        correction_2_sqrt = ops.sqrt(1.0 - ops.power(ops.cast(self.beta_2, "float64"), step))
        lr = ops.cast(learning_rate, "float64")
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1.0 - self.beta_1))
        self.assign(
            v,
            ops.add(
                ops.multiply(v, self.beta_2), ops.multiply(ops.square(gradient), 1.0 - self.beta_2)
            ),
        )
        if self.epsilon_placement == "pytorch":
            denominator = ops.add(
                ops.divide(ops.sqrt(v), ops.cast(correction_2_sqrt, dtype)), self.epsilon
            )
            step_size = ops.cast(lr / correction_1, dtype)
        else:
            denominator = ops.add(ops.sqrt(v), self.epsilon)
            step_size = ops.cast(lr * correction_2_sqrt / correction_1, dtype)
        self.assign_sub(variable, ops.multiply(ops.divide(m, denominator), step_size))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "epsilon_placement": self.epsilon_placement,
            }
        )
        return config


def unwrapped(optimizer):
    """The optimiser inside a ``LossScaleOptimizer`` (mixed_float16), or the optimiser itself."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def learning_rate(config: OptimizerConfig, scale: float = 1.0):
    """The schedule of ``config.lr * scale``: constant, or StepLR (the reference)."""
    if config.lr_policy == "constant":
        return config.lr * scale
    return StepLR(config.lr * scale, config.step_size, config.gamma)


def make_optimizer(config: OptimizerConfig, name: str, scale: float = 1.0):
    """Adam at ``config.lr * scale`` (the discriminator's ``scale`` is ``optim.dis_lr_ratio``)."""
    return Adam(
        learning_rate=learning_rate(config, scale),
        beta_1=config.beta1,
        beta_2=config.beta2,
        epsilon=config.epsilon,
        epsilon_placement=config.epsilon_placement,
        name=name,
    )
