"""The project's own user-facing errors.

A ``UserError`` is a mistake in what the user gave (a path, an option, a file, a config value):
the command line reports it in one line with exit code 2. Each one is also the built-in
exception it refines (``InvalidInput`` is a ``ValueError``...), so Python callers catch it as
before. Any other exception, such as a ``ValueError`` from deep inside Keras or TensorFlow, is an
internal failure, and the command line says so (exit code 1; ``--debug`` shows the traceback).
"""


class UserError(Exception):
    """A mistake in what the user gave, reported in one line."""


class InvalidInput(UserError, ValueError):
    """An argument, option or file content that cannot be used."""


class MissingInput(UserError, FileNotFoundError):
    """A file or folder that should exist and does not."""


class OutputExists(UserError, FileExistsError):
    """An output that is there already and would be replaced without ``--overwrite``."""


class NotAFolder(UserError, NotADirectoryError):
    """A path that should be a folder and is a file."""


class Unwritable(UserError, PermissionError):
    """An output location that cannot be written."""
