"""The reference implementation's checkpoints (NVlabs/MUNIT), read without PyTorch.

``checkpoint``  the ``.pt`` files: a restricted unpickler that runs no pickled code
``key_map``     their state-dict keys -> our variables
``importer``    a run folder (and SavedModel) from ``gen_*.pt`` / ``dis_*.pt``
"""

from munit_tf.reference.checkpoint import UnsafeCheckpointError, load_checkpoint
from munit_tf.reference.importer import import_reference
from munit_tf.reference.key_map import discriminator_entries, generator_entries, load_reference

__all__ = [
    "UnsafeCheckpointError",
    "discriminator_entries",
    "generator_entries",
    "import_reference",
    "load_checkpoint",
    "load_reference",
]
