"""One optimiser update of the training step, under any ``tf.distribute`` strategy and precision.

What the tape differentiates: the loss plus the reference's coupled L2 weight decay, divided by
the number of replicas (their gradients are summed) and loss-scaled under ``mixed_float16``.
How it is applied: at once, or, with ``train.on_nonfinite = "skip"``, only if every gradient of
every replica is finite, so that all replicas take the same branch.
"""

from __future__ import annotations

import tensorflow as tf

from munit_tf import losses


def objective(optimizer, loss, variables, weight_decay: float):
    """(loss + coupled weight decay) per replica, loss-scaled where the optimiser scales."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return optimizer.scale_loss((loss + losses.l2_penalty(variables, weight_decay)) / replicas)


def apply(optimizer, tape, objective_value, variables, skip_nonfinite: bool):
    """Differentiate and apply; returns whether the update was applied (a bool tensor) or, when
    not skipping, None. A skipped update leaves weights, moments and both step counters as they
    were."""
    gradients = tape.gradient(objective_value, variables)
    if not skip_nonfinite:
        optimizer.apply_gradients(zip(gradients, variables))
        return None
    nonfinite = tf.add_n(
        [tf.reduce_sum(tf.cast(~tf.math.is_finite(g), tf.float32)) for g in gradients]
    )
    context = tf.distribute.get_replica_context()

    def update():
        optimizer.apply_gradients(zip(gradients, variables))

    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        if tf.distribute.get_strategy().num_replicas_in_sync > 1:
            nonfinite = context.all_reduce(tf.distribute.ReduceOp.SUM, nonfinite)
        finite = tf.equal(nonfinite, 0.0)
        tf.cond(finite, update, lambda: None)
        return finite

    # apply_gradients calls merge_call, which a cond in replica context cannot hold; so the vote
    # and the cond happen in cross-replica context, over the replicas' own counts (a collective
    # issued here beside the gradients' could pair up with theirs out of order).
    def in_cross_replica(distribution, nonfinite):
        finite = tf.equal(tf.add_n(distribution.experimental_local_results(nonfinite)), 0.0)
        tf.cond(finite, lambda: distribution.extended.call_for_each_replica(update), lambda: None)
        return finite

    return context.merge_call(in_cross_replica, args=(nonfinite,))
