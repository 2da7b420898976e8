"""The reference's optimisers: Adam(lr, (beta1, beta2), eps) with ``StepLR`` decay.

Weight decay is *coupled* L2 as in ``torch.optim.Adam(weight_decay=...)``: the model adds it to
the loss (see ``losses.l2_penalty``); Keras' own ``weight_decay`` argument is decoupled (AdamW)
and is therefore not used.
"""

from __future__ import annotations

import keras
from keras import ops

from munit_tf.config import OptimizerConfig


@keras.saving.register_keras_serializable(package="munit_tf")
class StepLR(keras.optimizers.schedules.LearningRateSchedule):
    """``lr * gamma ** floor((step + 1) / step_size)``.

    The reference calls ``scheduler.step()`` at the start of each iteration, before the update,
    so iteration ``it`` (0-based) runs with the rate for ``it + 1``.
    """

    def __init__(self, initial_learning_rate: float, step_size: int, gamma: float):
        self.initial_learning_rate, self.step_size, self.gamma = initial_learning_rate, step_size, gamma

    def __call__(self, step):
        exponent = ops.floor((ops.cast(step, "float32") + 1.0) / float(self.step_size))
        return self.initial_learning_rate * ops.power(self.gamma, exponent)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "step_size": self.step_size,
                "gamma": self.gamma}


def learning_rate(config: OptimizerConfig):
    if config.lr_policy == "constant":
        return config.lr
    return StepLR(config.lr, config.step_size, config.gamma)


def make_optimizer(config: OptimizerConfig, name: str) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate=learning_rate(config), beta_1=config.beta1, beta_2=config.beta2,
                                 epsilon=config.epsilon, name=name)
