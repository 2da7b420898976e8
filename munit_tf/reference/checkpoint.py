"""Reading the reference implementation's checkpoint files (NVlabs/MUNIT ``gen_*.pt`` /
``dis_*.pt``).

The files are PyTorch pickles: ``{'a': state_dict, 'b': state_dict}``. They are read without
torch and without executing pickled code: a restricted unpickler accepts only what a state dict
needs (ordered dicts, tensor rebuilds, typed storages) and refuses every other global, so a
malicious file is rejected before anything runs. Both serialisation formats are supported: the
zip archive of PyTorch >= 1.6 and the legacy stream of PyTorch 0.4 that the official pretrained
files use. ``.npz`` files holding ``a/<key>`` and ``b/<key>`` arrays work too.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile

import numpy as np

from munit_tf.errors import InvalidInput, MissingInput, UserError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsafeCheckpointError(UserError, pickle.UnpicklingError):
    """The file asks to run or import something a state dict never needs."""


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    def __init__(self, dtype, data: np.ndarray | None = None):
        self.dtype, self.data = dtype, data


class _LazyTensor:
    """A tensor whose storage may not be read yet (the legacy format stores data after the
    pickle)."""

    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)

    def materialize(self) -> np.ndarray:
        data = self.storage.data
        if not self.size:
            return np.array(data[self.offset])
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        )
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_):
    return _LazyTensor(storage, storage_offset, size, stride)


def _ordered_dict(*args):
    return collections.OrderedDict(*args)


_ALLOWED = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch", "Size"): tuple,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, handle, persistent_load):
        super().__init__(handle)
        self._persistent_load = persistent_load

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"refused to load {module}.{name}: a MUNIT checkpoint holds only tensors "
            "and dicts, so this file is not one (or it is not safe to open)"
        )

    def persistent_load(self, pid):
        return self._persistent_load(pid)


def _materialize(obj):
    if isinstance(obj, _LazyTensor):
        return obj.materialize()
    if isinstance(obj, dict):
        return type(obj)((k, _materialize(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize(v) for v in obj)
    return obj


def _load_zip(path: str):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl")]
        if not pickles:
            raise InvalidInput(f"{path}: a zip file without data.pkl is not a PyTorch checkpoint")
        prefix = pickles[0][: -len("data.pkl")]

        def persistent_load(pid):
            kind, storage_type, key, _location, _numel = pid[:5]
            if kind != "storage" or not isinstance(storage_type, _StorageType):
                raise UnsafeCheckpointError(f"unexpected persistent id {pid!r}")
            raw = archive.read(f"{prefix}data/{key}")
            return _Storage(storage_type.dtype, np.frombuffer(raw, storage_type.dtype))

        return _RestrictedUnpickler(io.BytesIO(archive.read(pickles[0])), persistent_load).load()


def _load_legacy(path: str):
    storages = {}

    def persistent_load(pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise UnsafeCheckpointError(f"unexpected persistent id {pid!r}")
        if pid[5] is not None:
            raise InvalidInput("storage views are not supported in reference checkpoints")
        return storages.setdefault(key, _Storage(storage_type.dtype))

    def no_storage(pid):
        raise UnsafeCheckpointError(f"unexpected persistent id {pid!r} in the header")

    with open(path, "rb") as handle:
        if _RestrictedUnpickler(handle, no_storage).load() != LEGACY_MAGIC:
            raise InvalidInput(
                f"{path}: not a PyTorch checkpoint (no legacy magic number, not a zip archive)"
            )
        _RestrictedUnpickler(handle, no_storage).load()  # protocol version
        _RestrictedUnpickler(handle, no_storage).load()  # sys_info
        result = _RestrictedUnpickler(handle, persistent_load).load()
        keys = _RestrictedUnpickler(handle, no_storage).load()
        for key in keys:
            storage = storages[key]
            count = int(np.frombuffer(handle.read(8), "<i8")[0])
            storage.data = np.frombuffer(handle.read(count * storage.dtype.itemsize), storage.dtype)
            if len(storage.data) != count:
                raise InvalidInput(f"{path}: truncated (storage {key} is short)")
    return result


def load_checkpoint(path: str) -> dict:
    """``{'a': {key: array}, 'b': {key: array}}`` from a ``.pt`` (zip or legacy) or ``.npz``
    file."""
    if not os.path.isfile(path):
        raise MissingInput(f"{path}: no such file")
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            out = {}
            for name in archive.files:
                domain, _, key = name.partition("/")
                out.setdefault(domain, collections.OrderedDict())[key] = np.array(archive[name])
            return out
    try:
        loaded = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    except (UnsafeCheckpointError, ValueError):
        raise
    except Exception as error:  # EOF, bad opcodes: a damaged file
        raise InvalidInput(
            f"{path}: not a readable PyTorch checkpoint ({type(error).__name__}: {error})"
        ) from None
    loaded = _materialize(loaded)
    if not isinstance(loaded, dict) or not {"a", "b"} <= set(loaded):
        raise InvalidInput(
            f"{path}: expected {{'a': state_dict, 'b': state_dict}}, got keys "
            f"{sorted(loaded) if isinstance(loaded, dict) else type(loaded).__name__}"
        )
    return {"a": loaded["a"], "b": loaded["b"]}
