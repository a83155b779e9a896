"""`mdl.save` / `mdl.load`: state dicts (and nested dicts/lists of arrays and numbers) as `.npz`.

File layout: a plain NumPy `.npz` archive, readable with `np.load(path, allow_pickle=False)`.
Each array is an entry named by its path in the structure ("0.weight", "state/3/exp_avg"); the entry
`__minidl__` holds JSON describing the structure (dict keys with their types, lists, tuples, numbers,
strings, None) and the format version. Nothing is pickled.

Writes are atomic: the archive goes to a temporary file in the target folder, is flushed to disk,
then renamed over the target, so an interrupted save leaves the previous file intact.
Reads verify every entry (the zip CRC) and raise `SerializationError` for anything unexpected.
"""

import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

from minidl.backend import backend_of_array, get_backend
from minidl.errors import SerializationError
from minidl.tensor import Tensor

FORMAT = "minidl"
VERSION = 1
_META_KEY = "__minidl__"


def save(obj, path):
    """Write `obj` (a state dict, or nested dicts/lists/tuples of arrays, Tensors, numbers, strings,
    None) to `path` as an `.npz` archive, atomically."""
    arrays = {}
    tree = _encode(obj, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    entries = {_META_KEY: np.array(meta)}
    entries.update(arrays)
    atomic_write(path, lambda f: np.savez(f, **entries))


def atomic_write(path, write):
    """Call `write(file)` on a temporary file next to `path`, then rename it to `path`.

    The rename is atomic on POSIX and Windows: readers see the old file or the new one, never half.
    The file gets the mode any new file gets (0o666 less the umask), not mkstemp's private 0o600."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def new_file_mode():
    """The permission bits open() gives a new file: 0o666 less the process's umask (e.g. 0o644 for 022)."""
    umask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def load(path, device=None):
    """Read what `save` wrote. Arrays come back as NumPy arrays, or on `device` when given."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SerializationError(f"cannot load {path!r}: no such file")
    backend = None if device is None else get_backend(device)
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META_KEY not in archive.files:
                raise SerializationError(f"{path!r} is an .npz archive but not a minidl file (no {_META_KEY!r} "
                                         f"entry; its entries: {archive.files[:8]})")
            meta = json.loads(str(archive[_META_KEY]))
            if meta.get("format") != FORMAT or not isinstance(meta.get("version"), int):
                raise SerializationError(f"{path!r}: unknown format {meta.get('format')!r}")
            if meta["version"] > VERSION:
                raise SerializationError(f"{path!r} was written by a newer minidl (format version "
                                         f"{meta['version']}, this one reads up to {VERSION}): upgrade minidl")
            arrays = {name: archive[name] for name in archive.files if name != _META_KEY}  # reads verify CRCs
    except SerializationError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, json.JSONDecodeError, NotImplementedError,
            RuntimeError, TypeError, IndexError, OverflowError, UnicodeDecodeError, zlib.error, struct.error) as exc:
        # a damaged archive fails in many ways: a flipped byte in a header may name an unknown compression
        # method (NotImplementedError), a bad deflate stream (zlib.error), a bad field size (struct.error), ...
        raise SerializationError(f"cannot load {path!r}: the file is truncated or corrupted ({exc}); "
                                 f"restore it from a good copy or save it again") from exc
    try:
        return _decode(meta["tree"], arrays, backend)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise SerializationError(f"cannot load {path!r}: its structure is damaged ({exc!r})") from exc


# -- structure <-> JSON ---------------------------------------------------------------------------------
def _encode(obj, path, arrays):
    if isinstance(obj, Tensor):
        obj = obj.data
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):  # an array of any device
        name = path or "array"
        while name in arrays or name == _META_KEY:
            name += "_"
        arrays[name] = backend_of_array(obj).to_host(obj)
        return {"__array__": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r}")
            child = f"{path}/{key}" if path else str(key)
            items.append([key, _encode(value, child, arrays)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in enumerate(obj)]
        return {"__tuple__": values} if isinstance(obj, tuple) else values
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {path or 'the top level'!r}; minidl saves "
                    f"arrays, Tensors, numbers, strings, None and dicts/lists/tuples of them (no pickle)")


def _decode(node, arrays, backend):
    if isinstance(node, list):
        return [_decode(v, arrays, backend) for v in node]
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        array = arrays[node["__array__"]]
        return array if backend is None else backend.from_host(array)
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, backend) for v in node["__tuple__"])
    return {key: _decode(value, arrays, backend) for key, value in node["__dict__"]}
