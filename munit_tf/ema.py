"""An exponential moving average of the generators' weights (imaginaire's "model average").

With ``train.ema_beta`` > 0 the model keeps a copy of each generator whose weights follow the
trained ones, ``average <- beta * average + (1 - beta) * weight`` after every generator update
(beta warmed up over the first updates with ``train.ema_warmup``).
The copies translate (samples, evaluation, the SavedModel); the trained weights keep training
and are checkpointed beside them, so a resumed run continues both exactly.
"""

from __future__ import annotations

import tensorflow as tf


def copy(averages, weights) -> None:
    """Start the averages at the weights (a new model, or weights loaded from elsewhere)."""
    for average, weight in zip(averages, weights):
        average.assign(weight)


def beta_at(beta: float, updates, warmup: bool = True):
    """The average's beta after ``updates`` generator updates: ``min(beta, (1 + n) / (10 + n))``
    with ``warmup`` (``train.ema_warmup``), so that a short run's average is not mostly its
    random start; ``beta`` itself without."""
    if not warmup:
        return beta
    n = tf.cast(updates, tf.float32)
    return tf.minimum(tf.constant(beta, tf.float32), (1.0 + n) / (10.0 + n))


def update(averages, weights, beta) -> None:
    """One step of the average, in a training step under any ``tf.distribute`` strategy.

    The averages are ordinary (unaggregated) variables, so under a strategy each replica's copy
    is updated in cross-replica context, from that replica's copy of the weight (the replicas
    hold the same weights after every synchronous update).
    """

    def step(average, weight):
        return average.assign(beta * average + (1.0 - beta) * weight)

    def in_cross_replica(distribution, pairs):
        for average, weight in pairs:
            distribution.extended.update(average, step, args=(weight,), group=False)

    pairs = [(average.value, weight.value) for average, weight in zip(averages, weights)]
    tf.__internal__.distribute.interim.maybe_merge_call(
        in_cross_replica, tf.distribute.get_strategy(), pairs
    )
