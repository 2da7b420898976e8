"""Evaluation: how good a translator is, on a prepared test split.

``protocol``      ``evaluate()``: inputs, seeds and directions -> metrics.json + report.html
``metrics``       formulas for any translator (diversity, FID, KID, IS, CIS, LPIPS distance)
``ground_truth``  formulas that need the synthetic data's known masks and styles
``bounds``        each ground-truth metric's floors and ceiling
``synthetic_classifier``  networks that know the synthetic labels (synthetic FID, IS, ...)
``during_training``  the ground-truth metrics every ``train.eval_iter`` steps
``report``        the self-contained HTML report
"""

from munit_tf.evaluation.protocol import EvalOptions, evaluate

__all__ = ["EvalOptions", "evaluate"]
