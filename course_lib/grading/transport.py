"""Values that cross between the batch grader and a learner's kernel, as data only.

The grader sends each hidden case's inputs to the kernel and reads back what the learner's
answer returned; neither side unpickles anything. A value is written as one ``.npz`` file: a
JSON tree (in the array ``"tree"``) whose leaves are JSON numbers, strings, booleans and
``null``, or references to the file's other arrays. Containers and special values are tagged
objects:

- ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}``;
- ``{"array": i}`` (a NumPy array), ``{"scalar": i}`` (a NumPy scalar, stored 0-d),
  ``{"tensor": i}`` (a TensorFlow tensor or variable, by its value);
- ``{"opaque": [type name, repr]}``: anything else (a function, a model, a generator) arrives
  as an :class:`Opaque` that says what it was, so that feedback can name it.

:func:`load` checks everything it reads and raises ``ValueError`` on a malformed or too large
file, so a kernel that writes garbage makes its exercise an error, never the grader's crash.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

#: Files larger than this are refused by :func:`load` (a learner returning gigabytes).
MAX_BYTES = 256 * 2**20
#: Containers nested deeper than this, or values with more nodes, become :class:`Opaque`.
MAX_DEPTH, MAX_NODES = 40, 200_000


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A value that could not cross as data: its type name and a short ``repr``."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return self.text


def _opaque(value: Any) -> dict:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's __repr__ may raise
        text = f"<{type(value).__name__} object>"
    return {"opaque": [type(value).__name__, text[:200]]}


def _tensor_value(value: Any) -> np.ndarray | None:
    """The value of a TensorFlow tensor or variable; ``None`` for anything else (or symbolic)."""
    if not type(value).__module__.startswith(("tensorflow", "keras", "tf_keras")):
        return None
    numpy = getattr(value, "numpy", None)
    if not callable(numpy):
        return None
    try:
        array = np.asarray(numpy())
    except Exception:  # noqa: BLE001 - a symbolic tensor has no value
        return None
    return array if array.dtype != object else None


def _plain(array: np.ndarray) -> np.ndarray:
    """``array`` with a dtype NumPy's own file format reads back: ``ml_dtypes`` types such as
    TensorFlow's bfloat16 become float32 (int4 and the like: int32)."""
    if array.dtype.type.__module__.split(".")[0] == "ml_dtypes":
        name = array.dtype.name
        return array.astype(np.int32 if name.startswith(("int", "uint")) else np.float32)
    return array


class _Encoder:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.nodes = 0

    def array(self, tag: str, array: np.ndarray) -> dict:
        self.arrays.append(_plain(np.asarray(array, order="C")))  # 0-d stays 0-d
        return {tag: len(self.arrays) - 1}

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            return {"opaque": [type(value).__name__, "(nested too deeply or too large to grade)"]}
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) is int:
            # JSON has no limit, but Python's int <-> str conversion does (4300 digits).
            return value if value.bit_length() < 14_000 else _opaque(value)
        if type(value) is float:
            return value
        if isinstance(value, np.ndarray):
            return _opaque(value) if value.dtype == object else self.array("array", value)
        if isinstance(value, np.generic):
            array = np.asarray(value)
            return _opaque(value) if array.dtype == object else self.array("scalar", array)
        tensor = _tensor_value(value)
        if tensor is not None:
            return self.array("tensor", tensor)
        if type(value) in (list, tuple):
            return {type(value).__name__: [self.encode(v, depth + 1) for v in value]}
        if type(value) is dict:
            return {
                "dict": [
                    [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
                ]
            }
        if isinstance(value, Opaque):
            return {"opaque": [value.type_name, value.text]}
        return _opaque(value)


def dump(value: Any, path: str | Path) -> None:
    """Writes ``value`` to ``path`` (an ``.npz`` file), atomically (a temporary file, renamed)."""
    encoder = _Encoder()
    tree = encoder.encode(value)
    text = json.dumps(tree, allow_nan=True).encode("utf-8")
    arrays = {f"a{i}": a for i, a in enumerate(encoder.arrays)}
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, tree=np.frombuffer(text, dtype=np.uint8), **arrays)
    os.replace(temporary, path)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def array(self, index: Any) -> np.ndarray:
        if type(index) is not int or f"a{index}" not in self.arrays:
            raise ValueError(f"malformed value: no array {index!r}")
        return self.arrays[f"a{index}"]

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH + 2:
            raise ValueError("malformed value: nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"malformed value: {str(node)[:80]}")
        ((tag, body),) = node.items()
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [self.decode(item, depth + 1) for item in body]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(body, list):
            result = {}
            for pair in body:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ValueError("malformed value: a dict item is not a pair")
                key = self.decode(pair[0], depth + 1)
                try:
                    result[key] = self.decode(pair[1], depth + 1)
                except TypeError:  # an unhashable key (a list): not a dict anyone returns
                    raise ValueError("malformed value: unhashable dict key") from None
            return result
        if tag == "array":
            return self.array(body)
        if tag == "scalar":
            return self.array(body)[()]
        if tag == "tensor":
            array = self.array(body)
            tf = sys.modules.get("tensorflow")  # as a tensor only where TensorFlow is loaded
            return tf.convert_to_tensor(array) if tf is not None else array
        if tag == "opaque" and isinstance(body, list) and len(body) == 2:
            return Opaque(str(body[0])[:200], str(body[1])[:200])
        raise ValueError(f"malformed value: a {tag!r} node that does not fit it"[:120])


def _read_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, each checked before it is read: ``.npy`` members only,
    no objects (nothing is unpickled), and no more than :data:`MAX_BYTES` unpacked.

    Raises:
        ValueError: for anything else.
    """
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_BYTES:
            raise ValueError(f"unpacks to more than {MAX_BYTES >> 20} MB")
        for member in members:
            if not member.filename.endswith(".npy"):
                raise ValueError(f"unexpected member {member.filename[:60]!r}")
            with archive.open(member) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(handle)
                if dtype.hasobject:
                    raise ValueError("an object array")
                if math.prod(shape) * dtype.itemsize > member.file_size:
                    raise ValueError("an array larger than its data")
            with archive.open(member) as handle:
                array = np.lib.format.read_array(handle, allow_pickle=False)
            arrays[member.filename[: -len(".npy")]] = array
    return arrays


def load(path: str | Path) -> Any:
    """Reads a value :func:`dump` wrote.

    Raises:
        ValueError: if the file is larger than :data:`MAX_BYTES` (packed or unpacked), not such
            a file, or malformed.
        FileNotFoundError: if it does not exist.
    """
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES >> 20} MB")
    try:
        arrays = _read_arrays(path.read_bytes())
    except ValueError as error:
        raise ValueError(f"not a value file: {error}") from None
    except (OSError, zipfile.BadZipFile, EOFError, MemoryError, TypeError, KeyError) as error:
        raise ValueError(f"not a value file: {type(error).__name__}: {error}") from None
    tree = arrays.pop("tree", None)
    if not isinstance(tree, np.ndarray) or tree.dtype != np.uint8 or tree.ndim != 1:
        raise ValueError("not a value file: no tree")
    try:
        node = json.loads(tree.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, a giant int
        raise ValueError(f"malformed value: {error}") from None
    return _Decoder(arrays).decode(node)
