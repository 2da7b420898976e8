"""munit-tf: MUNIT (Huang et al., ECCV 2018) as a Keras 3 / TensorFlow package.

Importing the package registers its Keras classes (the model, its networks and layers, the
optimiser and its schedule, all under the ``munit_tf`` package name), so that
``keras.models.load_model("munit.keras")`` works after ``import munit_tf`` alone.
"""

import os as _os
import sys as _sys

# The command line starts quietly: TensorFlow's start-up chatter (CUDA plugin registration) is
# printed when TensorFlow is imported, which this package does, before ``cli.main`` runs.
if _sys.argv and _os.path.basename(_sys.argv[0]) == "munit-tf" and "--debug" not in _sys.argv:
    _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from munit_tf.config import MUNITConfig, load_config  # noqa: E402
from munit_tf.model import MUNIT  # noqa: E402  (imports every registered class)

__all__ = ["MUNIT", "MUNITConfig", "load_config"]
