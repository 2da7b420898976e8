"""The portable exports' tests share one tiny model (random weights: the exports must equal it,
whatever it computes)."""

import keras
import pytest

from munit_tf import training
from munit_tf.config import load_config


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    return training.build_model(load_config("tiny"))
