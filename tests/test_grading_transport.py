"""transport: values cross between the batch grader and a learner's kernel as data only.

Round trips keep types and values; anything that is not data arrives as an ``Opaque``; a
hostile file makes ``load`` raise ``ValueError`` (never anything else, never unpickling); and
the kernel's record survives ``Answer.from_record`` and ``judge`` end to end on ``demo.add``.

Tests marked ``# BUG:`` fail on purpose: they show a defect of ``transport.load``/``dump``
that is described (with its fix) next to the test.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course_lib.grading import transport
from course_lib.grading.check import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    USES_REFERENCE,
    Answer,
    Outcome,
    draw_cases,
    judge,
    run_answer,
)
from course_lib.grading.exercise import Case, Exercise, get_exercise
from course_lib.grading.transport import MAX_DEPTH, Opaque, dump, load

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"


@pytest.fixture
def demo_add(monkeypatch: pytest.MonkeyPatch) -> Exercise:
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises")
    return get_exercise("demo.add")


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def round_trip(value: Any, tmp_path: Path) -> Any:
    path = tmp_path / "value.npz"
    dump(value, path)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # renamed into place
    return load(path)


def assert_same(got: Any, want: Any) -> None:
    """``got`` is ``want``'s type, with equal values (NaN equals NaN; the sign of 0.0 counts)."""
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
        np.testing.assert_array_equal(got, want)
        if want.dtype.kind in "fc":
            np.testing.assert_array_equal(np.signbit(np.real(got)), np.signbit(np.real(want)))
    elif isinstance(want, float):
        np.testing.assert_equal(got, want)
        assert math.copysign(1.0, got) == math.copysign(1.0, want)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_same(g, w)
    elif isinstance(want, dict):
        assert len(got) == len(want)
        for (gk, gv), (wk, wv) in zip(got.items(), want.items(), strict=True):
            assert_same(gk, wk)
            assert_same(gv, wv)
    else:
        assert got == want


# --- 1. round trips ------------------------------------------------------------------------

PLAIN = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "negative int": -7,
    "30-digit int": 123456789012345678901234567890,
    "negative 30-digit int": -(10**29) - 1,
    "float": 0.1,
    "nan": float("nan"),
    "inf": float("inf"),
    "-inf": float("-inf"),
    "-0.0": -0.0,
    "subnormal": 5e-324,
    "max float": 1.7976931348623157e308,
    "empty string": "",
    "unicode": "héllo wörld ✓ 漢字 🎉",
    "control characters": "\x00\n\t\"'\\",
    "lone surrogate": "\ud800",
    "looks like a tag": '{"array": 0}',
    "NaN as text": "NaN",
}


@pytest.mark.parametrize("value", PLAIN.values(), ids=PLAIN.keys())
def test_plain_values_come_back_with_their_type(value, tmp_path):
    assert_same(round_trip(value, tmp_path), value)


def test_bools_stay_bools_and_ints_stay_ints(tmp_path):
    got = round_trip([True, 1, False, 0, 1.0], tmp_path)
    assert [type(v) for v in got] == [bool, int, bool, int, float]


def test_containers_keep_list_tuple_and_dict_apart(tmp_path):
    value = {
        "a": [1, (2, [3, {"b": (4,)}])],
        "empty": ([], (), {}),
        1: "int key",
        "1": "str key",
        (1, "x", (2.5,)): ["tuple key"],
        None: None,
        2.5: "float key",
        "nested": [[[[[]]]]],
        "singleton tuple": (None,),
    }
    got = round_trip(value, tmp_path)
    assert_same(got, value)
    assert list(got) == list(value)  # insertion order too
    assert type(got["empty"]) is tuple and type(got["empty"][0]) is list


def test_a_tuple_of_lists_and_a_list_of_tuples(tmp_path):
    value = ([1, 2], [(3, 4), (5,)], ((),))
    assert_same(round_trip(value, tmp_path), value)


_BASE = np.arange(24, dtype=np.float64).reshape(4, 6) - 11.5

ARRAYS = {
    "bool": np.array([True, False, True]),
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "int16": np.array([-32768, 1, 32767], dtype=np.int16),
    "int32": np.array([[-(2**31), 2**31 - 1]], dtype=np.int32),
    "int64": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
    "uint8": np.arange(256, dtype=np.uint8).reshape(16, 16),
    "uint16": np.array([0, 65535], dtype=np.uint16),
    "uint64": np.array([0, 2**64 - 1], dtype=np.uint64),
    "float16": np.array([0.5, -0.0, np.inf, np.nan], dtype=np.float16),
    "float32": np.array([1.5, -0.0, np.nan, -np.inf, 1e-45], dtype=np.float32),
    "float64": _BASE.copy(),
    "complex64": np.array([1 + 2j, -0.0 - 1j, np.nan], dtype=np.complex64),
    "complex128": np.array([[1e300 + 1j]], dtype=np.complex128),
    "0-d": np.array(3.25),
    "0-d int": np.array(7, dtype=np.int16),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "empty 1-d": np.array([], dtype=np.int64),
    "non-contiguous slice": _BASE[::2, 1::3],
    "negative strides": _BASE[::-1, ::-2],
    "transposed": _BASE.T,
    "fortran order": np.asfortranarray(_BASE.astype(np.float32)),
    "broadcast view": np.broadcast_to(np.arange(3, dtype=np.int32), (4, 3)),
    "big-endian": np.arange(5, dtype=">i4"),
    "unicode strings": np.array(["α", "βγ", "", "漢字🎉"]),
    "byte strings": np.array([b"ab", b"\x00\xff"]),
    "high-dimensional": np.arange(2 * 3 * 1 * 2 * 1, dtype=np.int8).reshape(2, 3, 1, 2, 1),
    "datetime64": np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
    "structured": np.array([(1.5, 2), (-0.0, 3)], dtype=[("x", "<f4"), ("n", "<i8")]),
}


@pytest.mark.parametrize("array", ARRAYS.values(), ids=ARRAYS.keys())
def test_arrays_keep_dtype_shape_and_values(array, tmp_path):
    # BUG (the "0-d" cases): _Encoder.array stores np.ascontiguousarray(array), which returns
    # an array of at least one dimension, so a 0-d array comes back of shape (1,). See
    # test_numpy_scalars_come_back_as_numpy_scalars_of_their_type for the fix.
    got = round_trip(array, tmp_path)
    assert type(got) is np.ndarray
    assert got.flags.c_contiguous  # stored as written out, whatever the layout was
    if array.dtype.names:
        assert got.dtype == array.dtype and got.shape == array.shape
        for name in array.dtype.names:
            assert_same(got[name], array[name])
    else:
        assert_same(got, array)


def test_arrays_inside_containers_are_stored_once_each(tmp_path):
    a, b = np.arange(3), np.ones((2, 2), np.float32)
    value = {"pair": (a, b), "list": [a, [b]], a.dtype.name: a[1:]}
    got = round_trip(value, tmp_path)
    assert_same(got, {"pair": (a, b), "list": [a, [b]], "int64": a[1:]})
    with np.load(tmp_path / "value.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["a0", "a1", "a2", "a3", "a4", "tree"]
        assert archive["tree"].dtype == np.uint8


SCALARS = {
    "float32": np.float32(1.5),
    "float16": np.float16(-0.0),
    "float64": np.float64("nan"),
    "int8": np.int8(-3),
    "int64": np.int64(2**62),
    "uint8": np.uint8(255),
    "uint64": np.uint64(2**64 - 1),
    "bool_": np.bool_(True),
    "complex64": np.complex64(1 - 2j),
    "str_": np.str_("héllo"),
    "bytes_": np.bytes_(b"\x00a"),
    "datetime64": np.datetime64("2024-02-29T12:00"),
}


@pytest.mark.parametrize("scalar", SCALARS.values(), ids=SCALARS.keys())
def test_numpy_scalars_come_back_as_numpy_scalars_of_their_type(scalar, tmp_path):
    # BUG: every NumPy scalar comes back as a 1-element 1-d array (np.float32(1.5) as
    # array([1.5], dtype=float32)): _Encoder.array stores np.ascontiguousarray(np.asarray(v)),
    # and np.ascontiguousarray returns ndim >= 1, so the stored array has shape (1,) and
    # ``array[()]`` in _Decoder.decode("scalar") returns that array, not a scalar. The same
    # happens to 0-d arrays and 0-d tensors (tf.reduce_mean(...)). Fix: in _Encoder.array,
    # ``self.arrays.append(np.asarray(array, order="C"))`` (keeps 0-d; np.save copes with
    # any layout anyway).
    # np.str_ is a str: it crosses as JSON text and comes back as a plain str (same value).
    want = str(scalar) if isinstance(scalar, np.str_) else scalar
    assert_same(round_trip(scalar, tmp_path), want)
    assert_same(round_trip([scalar], tmp_path), [want])


def test_np_float32_is_not_a_python_float(tmp_path):
    # BUG: comes back as array([1.5], dtype=float32); see the test above.
    got = round_trip(np.float32(1.5), tmp_path)
    assert type(got) is np.float32 and got == 1.5
    assert type(round_trip(1.5, tmp_path)) is float


def test_numpy_scalars_as_dict_keys(tmp_path):
    # BUG: the keys come back as 1-element arrays, which are unhashable, so load() refuses a
    # file that dump() wrote ("malformed value: unhashable dict key"); see the tests above.
    value = {np.int64(3): "a", np.float32(0.5): np.float32(2.0), np.bool_(False): None}
    assert_same(round_trip(value, tmp_path), value)


TENSORS = [
    ("float32", [[1.5, -0.0], [np.nan, np.inf]]),
    ("float64", [1e-300, 2.0]),
    ("float16", [0.5, 1.0]),
    ("int32", [[1, -2, 3]]),
    ("int64", [2**40, -1]),
    ("int8", [-128, 127]),
    ("uint8", [0, 255]),
    ("bool", [True, False]),
    ("complex64", [1 + 2j]),
    ("float32", 3.0),  # 0-d. BUG: comes back of shape (1,) (see the NumPy scalars' test)
    ("int32", np.zeros((0, 4))),  # empty
]


@pytest.mark.parametrize(
    ("dtype", "values"), TENSORS, ids=[f"{d}-{i}" for i, (d, _) in enumerate(TENSORS)]
)
def test_eager_tensors_come_back_as_tensors_with_their_dtype(tf, dtype, values, tmp_path):
    tensor = tf.constant(values, dtype=getattr(tf, dtype))
    got = round_trip(tensor, tmp_path)
    assert isinstance(got, tf.Tensor) and got.dtype == tensor.dtype
    assert_same(got.numpy(), tensor.numpy())


def test_variables_come_back_as_tensors_of_their_value(tf, tmp_path):
    variable = tf.Variable([[1.0, 2.0], [3.0, -0.0]], dtype=tf.float64)
    got = round_trip({"w": variable, "pair": (variable, tf.constant([2]))}, tmp_path)
    for tensor in (got["w"], got["pair"][0]):
        assert isinstance(tensor, tf.Tensor) and not isinstance(tensor, tf.Variable)
        assert tensor.dtype == tf.float64
        assert_same(tensor.numpy(), variable.numpy())
    assert got["pair"][1].dtype == tf.int32 and got["pair"][1].numpy().tolist() == [2]


def test_tensors_read_where_tensorflow_is_not_loaded_are_arrays(tf, monkeypatch, tmp_path):
    path = tmp_path / "tensor.npz"
    dump(tf.constant([1, 2], dtype=tf.int16), path)
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as in a grader without TensorFlow
    assert_same(load(path), np.array([1, 2], dtype=np.int16))


def test_bfloat16_tensors_come_back_as_numbers(tf, tmp_path):
    # BUG: a bfloat16 tensor (mixed precision) is written as its raw bytes: np.save stores the
    # ml_dtypes dtype as "|V2", so the file holds a void array; with TensorFlow loaded, load()
    # raises ValueError ("Failed to convert a NumPy array to a Tensor") on a file dump() wrote,
    # and the learner's answer is reported as unreadable (without TF it comes back as bytes).
    # Fix: in _Encoder.array, convert ml_dtypes arrays (array.dtype.type.__module__ ==
    # "ml_dtypes", e.g. bfloat16, float8_*) to float32 (int4 and friends to int8) before storing.
    tensor = tf.constant([1.0, 2.0, -3.5], dtype=tf.bfloat16)
    got = round_trip(tensor, tmp_path)
    np.testing.assert_array_equal(np.asarray(got).astype(np.float32), [1.0, 2.0, -3.5])


def test_an_int_too_long_for_json_does_not_break_dump(tmp_path):
    # BUG: dump() raises ValueError ("Exceeds the limit (4300 digits) for integer string
    # conversion") for an int of more than 4300 digits, so answer_into dies in the kernel and
    # the grader only says "the grader got no result" instead of what came back.
    # Fix: in _Encoder.encode, an int whose bit_length() is over ~14000 (log2(10) * 4300,
    # or sys.get_int_max_str_digits()) becomes {"opaque": ["int", "an integer of N digits"]}.
    got = round_trip([10**5000, 1], tmp_path)
    assert got[1] == 1
    assert got[0] == 10**5000 or (isinstance(got[0], Opaque) and got[0].type_name == "int")


def test_opaque_values_cross_unchanged(tmp_path):
    value = Opaque("Model", "<Model 'net'>")
    got = round_trip([value], tmp_path)
    assert got == [value] and repr(got[0]) == "<Model 'net'>"


# --- 2. anything that is not data becomes an Opaque ----------------------------------------


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class _Point:
    def __init__(self) -> None:
        self.x = 1


def _function(x):
    return x


def _generator():
    yield 1


def _opaque(value: Any, tmp_path: Path) -> Opaque:
    got = round_trip(value, tmp_path)
    assert isinstance(got, Opaque), got
    assert len(got.type_name) <= 200 and len(got.text) <= 200
    return got


@pytest.mark.parametrize(
    ("value", "type_name", "text"),
    [
        (_function, "function", "_function"),
        (lambda x: x, "function", "<lambda>"),
        (_generator(), "generator", "_generator"),
        ((i for i in range(3)), "generator", "genexpr"),
        (_BadRepr(), "_BadRepr", "<_BadRepr object>"),
        (_Point(), "_Point", "_Point object"),
        (_Point, "type", "_Point"),
        (np.array([1, "a", None], dtype=object), "ndarray", "array("),
        ({1, 2}, "set", "{1, 2}"),
        (frozenset(), "frozenset", "frozenset()"),
        (b"bytes", "bytes", "b'bytes'"),
        (3 + 4j, "complex", "(3+4j)"),
        (range(3), "range", "range(0, 3)"),
        (print, "builtin_function_or_method", "print"),
        (Ellipsis, "ellipsis", "Ellipsis"),
        (io.BytesIO(), "BytesIO", "BytesIO"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_non_data_becomes_opaque_with_its_type_name(value, type_name, text, tmp_path):
    got = _opaque(value, tmp_path)
    assert got.type_name == type_name
    assert text in got.text


def test_subclasses_of_data_types_are_not_data(tmp_path):
    class Count(int):
        pass

    class Items(list):
        pass

    got = round_trip([Count(3), Items([1]), 2], tmp_path)
    assert [type(v) for v in got] == [Opaque, Opaque, int]
    assert [v.type_name for v in got[:2]] == ["Count", "Items"]


def test_a_long_repr_is_cut(tmp_path):
    class Long:
        def __repr__(self) -> str:
            return "x" * 10_000

    assert _opaque(Long(), tmp_path).text == "x" * 200


def test_an_opaque_sits_where_the_value_was(tmp_path):
    got = round_trip({"f": _function, "ok": [1, _generator()], (1, 2): _BadRepr()}, tmp_path)
    assert isinstance(got["f"], Opaque) and got["ok"][0] == 1
    assert got["ok"][1].type_name == "generator"
    assert got[(1, 2)].text == "<_BadRepr object>"


def test_symbolic_and_keras_objects_are_opaque(tf, tmp_path):
    keras = pytest.importorskip("keras")
    assert _opaque(keras.Input((3,)), tmp_path).type_name == "KerasTensor"
    assert _opaque(keras.layers.Dense(2), tmp_path).type_name == "Dense"
    with tf.Graph().as_default():
        symbolic = tf.constant(1.0)
    assert "Tensor" in _opaque(symbolic, tmp_path).type_name
    assert _opaque(tf.function(_function), tmp_path).type_name == "Function"
    strings = _opaque(tf.constant(["a"]), tmp_path)  # no numeric value: shown, not compared
    assert "tf.Tensor" in strings.text


def _depth_of_opaque(value: Any) -> tuple[int, Opaque]:
    depth = 0
    while not isinstance(value, Opaque):
        assert type(value) is list and len(value) == 1, value
        value, depth = value[0], depth + 1
    return depth, value


def test_a_list_that_contains_itself_ends_in_an_opaque(tmp_path):
    a: list = []
    a.append(a)
    depth, leaf = _depth_of_opaque(round_trip(a, tmp_path))
    assert depth == MAX_DEPTH + 1
    assert leaf.type_name == "list" and "nested too deeply" in leaf.text


def test_a_dict_that_contains_itself_ends_in_an_opaque(tmp_path):
    d: dict = {}
    d["self"] = d
    got, depth = round_trip(d, tmp_path), 0
    while "self" in got:
        got, depth = got["self"], depth + 1
    assert depth == MAX_DEPTH
    # At the cut, the key (a str) and the value (the dict) are both past MAX_DEPTH.
    ((key, value),) = got.items()
    assert isinstance(key, Opaque) and key.type_name == "str"
    assert isinstance(value, Opaque) and value.type_name == "dict"


def test_nesting_deeper_than_max_depth_is_cut_there(tmp_path):
    value: Any = "leaf"
    for _ in range(MAX_DEPTH + 10):
        value = [value]
    depth, leaf = _depth_of_opaque(round_trip(value, tmp_path))
    assert depth == MAX_DEPTH + 1 and leaf.type_name == "list"
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH):
        shallow = [shallow]
    assert round_trip(shallow, tmp_path) == shallow  # the limit itself still crosses


def test_values_with_too_many_nodes_are_cut(monkeypatch, tmp_path):
    monkeypatch.setattr(transport, "MAX_NODES", 10)
    got = round_trip(list(range(20)), tmp_path)
    assert got[:9] == list(range(9))
    assert all(isinstance(v, Opaque) and v.type_name == "int" for v in got[9:])


# --- 3. hostile files: ValueError, nothing else ----------------------------------------------


def _npz(path: Path, tree: bytes | np.ndarray | None, **arrays: np.ndarray) -> None:
    if isinstance(tree, bytes):
        tree = np.frombuffer(tree, dtype=np.uint8)
    if tree is not None:
        arrays["tree"] = tree
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _tree(node: Any) -> bytes:
    return json.dumps(node).encode()


class _MakesADirectory:
    """Unpickling it would create ``path`` (``os.mkdir``): proof that something unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _write_bytes(data: bytes):
    return lambda path: path.write_bytes(data)


def _good_file_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "good.npz"
    dump({"a": np.arange(10), "b": [1.5, "x"]}, path)
    return path.read_bytes()


HOSTILE_TREES = {
    "bare JSON list": [1, 2],
    "two tags in one node": {"list": [], "tuple": []},
    "empty object": {},
    "unknown tag": {"set": [1, 2]},
    "unknown tag inside a list": {"list": [1, {"pickle": "x"}]},
    "list body not a list": {"list": 5},
    "tuple body an object": {"tuple": {"a": 1}},
    "dict body not a list": {"dict": 5},
    "dict pair of one": {"dict": [[1]]},
    "dict pair of three": {"dict": [[1, 2, 3]]},
    "dict pair not a list": {"dict": [5]},
    "dict key unhashable": {"dict": [[{"list": []}, 1]]},
    "dict key an array": {"dict": [[{"array": 0}, 1]]},
    "array index out of range": {"array": 5},
    "array index negative": {"array": -1},
    "array index a string": {"array": "0"},
    "array index a float": {"array": 0.0},
    "array index a bool": {"array": True},
    "array index null": {"array": None},
    "array index a list": {"array": [0]},
    "scalar index out of range": {"scalar": 1},
    "tensor index a string": {"tensor": "a0"},
    "opaque of one": {"opaque": ["function"]},
    "opaque not a list": {"opaque": "function"},
    "tags nested deeper than allowed": json.loads(
        '{"list": [' * (MAX_DEPTH + 5) + "1" + "]}" * (MAX_DEPTH + 5)
    ),
}


@pytest.mark.parametrize("node", HOSTILE_TREES.values(), ids=HOSTILE_TREES.keys())
def test_a_malformed_tree_is_a_value_error(node, tmp_path):
    path = tmp_path / "hostile.npz"
    _npz(path, _tree(node), a0=np.arange(3))
    with pytest.raises(ValueError, match="malformed value"):
        load(path)


HOSTILE_FILES = {
    "random bytes": _write_bytes(np.random.default_rng(0).bytes(4096)),
    "empty file": _write_bytes(b""),
    "text": _write_bytes(b"hello, grader"),
    "zip magic then garbage": _write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4),
    "npy magic then garbage": _write_bytes(b"\x93NUMPY" + bytes(range(256))),
    "a pickle": _write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00N."),
    "no tree": lambda path: _npz(path, None, a0=np.zeros(3)),
    "tree of int16": lambda path: _npz(path, np.frombuffer(b"null", np.uint8).astype(np.int16)),
    "tree of float": lambda path: _npz(path, np.frombuffer(b"null", np.uint8) * 1.0),
    "tree of 2-d uint8": lambda path: _npz(path, np.frombuffer(b"null", np.uint8).reshape(2, 2)),
    "tree of 0-d uint8": lambda path: _npz(path, np.array(110, dtype=np.uint8)),
    "tree of unicode": lambda path: _npz(path, np.array(["null"])),
    "empty tree": lambda path: _npz(path, b""),
    "invalid UTF-8": lambda path: _npz(path, b'"\xff\xfe\xc3"'),
    "invalid JSON": lambda path: _npz(path, b'{"list": [1, 2'),
    "JSON with trailing garbage": lambda path: _npz(path, b"null null"),
    "100000 [": lambda path: _npz(path, b"[" * 100_000),
    "100000 nested lists": lambda path: _npz(path, b"[" * 100_000 + b"]" * 100_000),
    "100000 nested objects": lambda path: _npz(path, b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "int of 5000 digits": lambda path: _npz(path, b"1" * 5000),
}


@pytest.mark.parametrize("write", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_a_file_that_is_not_a_value_is_a_value_error(write, tmp_path):
    path = tmp_path / "hostile.npz"
    write(path)
    start = time.perf_counter()
    with pytest.raises(ValueError):
        load(path)
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("cut", [1, 10, 100, 0.5, -1, -22])
def test_a_truncated_file_is_a_value_error(cut, tmp_path):
    data = _good_file_bytes(tmp_path)
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * cut)] if isinstance(cut, float) else data[:cut])
    with pytest.raises(ValueError):
        load(path)


def test_a_corrupted_file_is_a_value_error(tmp_path):
    data = bytearray(_good_file_bytes(tmp_path))
    where = data.find(b'{"dict"')
    data[where + 2] = ord("X")  # the CRC no longer matches
    path = tmp_path / "corrupt.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        load(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("where", ["an array", "the tree"])
def test_a_pickled_object_array_is_refused_and_never_unpickled(where, tmp_path):
    trap = tmp_path / "unpickled"
    objects = np.array([_MakesADirectory(trap), 1], dtype=object)
    path = tmp_path / "pickled.npz"
    if where == "the tree":
        _npz(path, objects)
    else:
        _npz(path, _tree({"array": 0}), a0=objects)
    with pytest.raises(ValueError):
        load(path)
    assert not trap.exists()
    # The trap is armed: unpickling the same file does create the directory.
    with np.load(path, allow_pickle=True) as archive:
        archive["tree" if where == "the tree" else "a0"]
    assert trap.is_dir()


def test_a_file_over_max_bytes_is_refused_before_it_is_read(monkeypatch, tmp_path):
    path = tmp_path / "big.npz"
    dump(np.zeros(1000), path)
    monkeypatch.setattr(transport, "MAX_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="larger than"):
        load(path)
    monkeypatch.setattr(transport, "MAX_BYTES", path.stat().st_size)
    assert_same(load(path), np.zeros(1000))


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_plain_npy_file_is_a_value_error(tmp_path):
    # BUG: np.load returns an ndarray (not an NpzFile) for a .npy file, and ``with`` on it
    # raises TypeError ("does not support the context manager protocol"), which
    # sandbox._read_answer (it catches ValueError and OSError) lets through: one learner's
    # kernel that writes a .npy crashes the whole batch. Fix: see the fix proposed for
    # test_an_npz_member_that_is_not_an_array_is_a_value_error (open it with zipfile.ZipFile).
    path = tmp_path / "plain.npy.npz"
    path.write_bytes(_npy(np.frombuffer(b"null", np.uint8)))
    with pytest.raises(ValueError):
        load(path)


@pytest.mark.parametrize(
    "members",
    [
        {"tree": b"null"},
        {"tree.npy": _npy(np.frombuffer(_tree({"scalar": 0}), np.uint8)), "a0": b"xyz"},
        {"tree.npy": _npy(np.frombuffer(_tree({"array": 0}), np.uint8)), "a0": b"xyz"},
    ],
    ids=["tree", "a scalar", "an array"],
)
def test_an_npz_member_that_is_not_an_array_is_a_value_error(members, tmp_path):
    # BUG: NpzFile returns a member that does not start with the .npy magic as raw ``bytes``,
    # so load() raises AttributeError ("'bytes' object has no attribute 'dtype'") for such a
    # tree, TypeError ("byte indices must be integers") for such a scalar, and returns
    # ``b"xyz"`` for such an array; the AttributeError and TypeError escape
    # sandbox._read_answer and end the batch. Fix: read the archive with zipfile.ZipFile
    # instead of np.load, refuse any member whose name does not end in ".npy", and read each
    # with np.lib.format.read_array(handle, allow_pickle=False); at least, check
    # ``isinstance(value, np.ndarray)`` for the tree and in _Decoder.array.
    path = tmp_path / "raw.npz"
    _zip(path, members)
    with pytest.raises(ValueError):
        load(path)


def test_an_array_header_that_claims_petabytes_is_a_value_error(tmp_path):
    # BUG: the .npy header's shape is believed: np.load allocates it before reading, so a
    # file of a few hundred bytes makes load() raise MemoryError ("Unable to allocate 8.00
    # PiB"), which escapes sandbox._read_answer. Fix: before reading a member, read its header
    # (np.lib.format.read_magic + read_array_header_1_0/2_0) and refuse it unless
    # prod(shape) * dtype.itemsize fits in the member's size; or catch MemoryError too.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**50,)}
    )
    path = tmp_path / "liar.npz"
    _zip(
        path,
        {
            "tree.npy": _npy(np.frombuffer(_tree({"array": 0}), np.uint8)),
            "a0.npy": header.getvalue(),
        },
    )
    with pytest.raises(ValueError):
        load(path)


def test_a_compressed_file_that_unpacks_past_max_bytes_is_refused(monkeypatch, tmp_path):
    # BUG: MAX_BYTES bounds the file, not what it unpacks to: np.load inflates deflated
    # members, so a 256 MB file of zeros can unpack to about 256 GB (here: a 4 MB array from
    # a file of a few kB, with MAX_BYTES at 100 kB). Fix: before reading, refuse the file
    # when sum(info.file_size for info in zipfile.ZipFile(...).infolist()) > MAX_BYTES
    # (zipfile stops a member at its declared file_size), or accept ZIP_STORED members only
    # (dump never compresses).
    path = tmp_path / "bomb.npz"
    tree = np.frombuffer(_tree({"array": 0}), np.uint8)
    _zip(path, {"tree.npy": _npy(tree), "a0.npy": _npy(np.zeros(500_000))}, zipfile.ZIP_DEFLATED)
    monkeypatch.setattr(transport, "MAX_BYTES", 100_000)
    assert path.stat().st_size < transport.MAX_BYTES
    with pytest.raises(ValueError):
        load(path)


def test_a_structured_array_as_a_tensor_is_a_value_error(tf, tmp_path):
    path = tmp_path / "structured.npz"
    _npz(path, _tree({"tensor": 0}), a0=np.zeros(2, dtype=[("x", "<f4"), ("n", "<i4")]))
    with pytest.raises(ValueError):
        load(path)


# --- 4. Answer.from_record -------------------------------------------------------------------


def test_a_good_record_becomes_the_answer():
    record = {
        "kind": "ran",
        "what": "",
        "used": ["demo_exercises.reference_add"],
        "outcomes": [(np.arange(3), ""), [None, "raised ZeroDivisionError: boom"], (1.5, None)],
    }
    answer = Answer.from_record(record)
    assert answer.kind == "ran" and answer.what == "" and answer.used == record["used"]
    assert len(answer.outcomes) == 3 and all(type(o) is Outcome for o in answer.outcomes)
    assert_same(answer.outcomes[0].value, np.arange(3))
    assert answer.outcomes[0].error == "" and answer.outcomes[2].error == ""
    assert answer.outcomes[1] == Outcome(None, "raised ZeroDivisionError: boom")
    assert Answer.from_record({"kind": "not_attempted"}) == Answer("not_attempted")
    assert Answer.from_record({"kind": "not_callable", "what": "str 'x'"}).what == "str 'x'"


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"missing": True},
        {"kind": None},
        {"kind": "passed"},
        {"kind": "RAN"},
        {"kind": 3},
        {"kind": ["ran"]},
        {"kind": Opaque("str", "'ran'")},
        {"kind": "ran", "outcomes": "abc"},
        {"kind": "ran", "outcomes": None},
        {"kind": "ran", "outcomes": 5},
        {"kind": "ran", "outcomes": {"0": [1, ""]}},
        {"kind": "ran", "outcomes": ((1, ""),)},  # a tuple: not what answer_into writes
        {"kind": "ran", "outcomes": [(1,)]},
        {"kind": "ran", "outcomes": [(1, "", "extra")]},
        {"kind": "ran", "outcomes": [(1, ""), 5]},
        {"kind": "ran", "outcomes": ["ab"]},  # a str of length 2 is not a pair
        {"kind": "ran", "outcomes": [np.array([1, 2])]},
        {"kind": "ran", "outcomes": [Opaque("tuple", "(1, '')")]},
    ],
)
def test_a_record_that_is_not_an_answer_is_a_value_error(record):
    with pytest.raises(ValueError):
        Answer.from_record(record)


def test_fields_of_the_wrong_type_are_sanitized():
    answer = Answer.from_record(
        {
            "kind": "not_callable",
            "what": ["a", "list"] * 500,
            "used": "demo_exercises.reference_add",  # not a list: dropped
            "outcomes": [],
        }
    )
    assert answer.used == [] and isinstance(answer.what, str) and len(answer.what) == 300
    answer = Answer.from_record(
        {
            "kind": "ran",
            "used": [Opaque("function", "<f>"), 3, "x" * 1000],
            "outcomes": [(1, "e" * 5000), (2, 0), (3, Opaque("int", "7"))],
        }
    )
    assert answer.used == ["<f>", "3", "x" * 200]
    assert [o.error for o in answer.outcomes] == ["e" * 2000, "", "7"]
    for used in (None, 5, {"a": 1}, ("x",)):
        assert Answer.from_record({"kind": "ran", "used": used}).used == []


# --- 5. judge, end to end through the transport --------------------------------------------


def _add(a, b):
    return a + b


def _record(answer: Answer) -> dict:
    """What ``inkernel.answer_into`` writes for ``answer``."""
    return {
        "kind": answer.kind,
        "what": answer.what,
        "used": answer.used,
        "outcomes": [(o.value, o.error) for o in answer.outcomes],
    }


def _through_kernel(record: dict, tmp_path: Path) -> Answer:
    path = tmp_path / "out.npz"
    dump(record, path)
    loaded = load(path)
    assert isinstance(loaded, dict)
    return Answer.from_record(loaded)


def test_a_correct_answer_passes_with_full_marks_through_the_transport(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    answer = _through_kernel(_record(run_answer(demo_add, _add, cases)), tmp_path)
    assert [type(o.value) for o in answer.outcomes] == [np.ndarray] * len(cases)
    result = judge(demo_add, answer, cases)
    assert result.status == PASSED and result.passed
    assert (result.score, result.max_score) == (2.0, 2.0)
    assert (result.cases_passed, result.cases_total) == (3, 3)
    assert result.feedback == "✓ demo.add: 3/3 cases passed"


def test_a_wrong_answer_fails_and_names_the_case(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    answer = _through_kernel(_record(run_answer(demo_add, lambda a, b: a - b, cases)), tmp_path)
    result = judge(demo_add, answer, cases)
    assert result.status == FAILED and result.score == 0.0
    assert (result.cases_passed, result.cases_total) == (0, 3)
    lines = result.feedback.splitlines()
    assert lines[0] == "✗ demo.add: 0/3 cases passed"
    assert lines[1].startswith("  case 1 (a of shape (3,), b of shape (3,)): expected [")
    assert "(2 more case(s) failed.)" in result.feedback


def test_a_partly_wrong_answer_scores_the_cases_it_passed(demo_add, tmp_path):
    def add(a, b):
        return a + b if a.ndim == 1 else a + b + 1

    cases = draw_cases(demo_add, seed=11)
    answer = _through_kernel(_record(run_answer(demo_add, add, cases)), tmp_path)
    result = judge(demo_add, answer, cases)
    assert result.status == FAILED and result.score == pytest.approx(2.0 / 3)
    assert "case 2 (a of shape (2, 3), b of shape (2, 3))" in result.feedback
    assert "off by a constant of about +1" in result.feedback


def test_cases_without_an_outcome_fail_as_no_result(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    record = _record(run_answer(demo_add, _add, cases))
    record["outcomes"] = record["outcomes"][:1]
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == FAILED and (result.cases_passed, result.cases_total) == (1, 3)
    assert result.score == pytest.approx(2.0 / 3)
    assert "case 2 (a of shape (2, 3), b of shape (2, 3)): no result came back" in result.feedback
    assert "(1 more case(s) failed.)" in result.feedback
    record["outcomes"] = []
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == FAILED and result.cases_passed == 0 and result.score == 0.0


def test_an_opaque_outcome_fails_with_a_message(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    record = {"kind": "ran", "what": "", "used": [], "outcomes": [(_add, "")] * len(cases)}
    answer = _through_kernel(record, tmp_path)
    assert all(isinstance(o.value, Opaque) for o in answer.outcomes)
    result = judge(demo_add, answer, cases)
    assert result.status == FAILED and result.score == 0.0
    assert "case 1 (a of shape (3,), b of shape (3,))" in result.feedback
    assert "function" in result.feedback and "_add" in result.feedback


def _mean_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for size in (3, 5):
        x = rng.normal(size=size)
        cases.append(Case(f"x of shape ({size},)", args=(x,), expected=np.mean(x)))
    return cases


@pytest.mark.parametrize("mean", [np.mean, lambda x: np.float32(np.mean(x))], ids=["f8", "f4"])
def test_a_numpy_scalar_answer_passes_through_the_transport_as_it_does_in_check(mean, tmp_path):
    # BUG: the grading impact of the NumPy scalar bug above. A learner's answer returning a
    # NumPy scalar (np.mean, np.sum, x.max(), ...) comes back from the kernel of shape (1,),
    # so batch grading fails a correct answer that check() passes: "expected shape ()
    # (float64), got shape (1,) (float64)". Fix: see
    # test_numpy_scalars_come_back_as_numpy_scalars_of_their_type.
    exercise = Exercise(id="demo.mean_scalar", target="mean", make_cases=_mean_cases)
    cases = draw_cases(exercise, seed=3)  # a throwaway exercise: never registered
    answer = run_answer(exercise, mean, cases)
    assert judge(exercise, answer, cases).status == PASSED  # in one process, as check() does
    result = judge(exercise, _through_kernel(_record(answer), tmp_path), cases)
    assert result.status == PASSED, result.feedback


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        123456789012345678901234567890,
        [1.0, "x", None],
        [[1.0], [2.0, 3.0]],  # ragged
        {"a": np.zeros(3)},
        (np.zeros(3), np.zeros(3)),
        np.zeros(3, dtype=np.complex64),
        np.array(["a", "b", "c"]),
        np.zeros(3, dtype=[("x", "<f4")]),
        np.array(["2020-01-01"] * 3, dtype="datetime64[D]"),
        np.zeros((0, 3)),
        np.full(3, np.nan, dtype=np.float32),
        np.int64(10**18),
        [Opaque("generator", "<gen>")],
    ],
    ids=repr,
)
def test_any_outcome_value_is_judged_without_an_exception(demo_add, value, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    record = {"kind": "ran", "outcomes": [(value, "")] * len(cases)}
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == FAILED and result.cases_passed == 0
    assert result.feedback.splitlines()[1].startswith("  case 1 (")


def test_errors_reference_calls_and_other_kinds_are_judged(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=11)
    record = {"kind": "ran", "outcomes": [(None, "raised ZeroDivisionError: boom")] * 3}
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == FAILED and "case 1 (" in result.feedback
    assert "raised ZeroDivisionError: boom" in result.feedback
    record = _record(run_answer(demo_add, lambda a, b: demo_add.references[0](a, b), cases))
    assert record["used"]  # watched while it ran
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == USES_REFERENCE and result.score == 0.0
    assert "reference_add" in result.feedback
    record = _record(run_answer(demo_add, "not a function", cases))
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == ERROR and "should be a function, but it is str" in result.feedback
    record = _record(run_answer(demo_add, None, cases))
    result = judge(demo_add, _through_kernel(record, tmp_path), cases)
    assert result.status == NOT_ATTEMPTED and result.score == 0.0


# --- 6. inkernel.answer_into, in this process ------------------------------------------------

_NOTEBOOK = """
import numpy as np
from course_lib.grading import inkernel

{body}

def _grade(exercise_id, inputs, outputs):
    inkernel.answer_into(exercise_id, inputs, outputs)
"""


def _answer_into(body: str, cases: list[Case], tmp_path: Path) -> Any:
    """Runs ``answer_into`` as the grader's call does, from a notebook namespace holding
    ``body``, on ``cases``' inputs (sent through the transport): what it wrote back."""
    inputs, outputs = tmp_path / "in.npz", tmp_path / "out.npz"
    public = {"cases": [{"args": list(c.args), "kwargs": dict(c.kwargs)} for c in cases]}
    dump(public, inputs)
    namespace: dict[str, Any] = {"__name__": "learner_notebook"}
    exec(compile(_NOTEBOOK.format(body=body), "<notebook>", "exec"), namespace)
    namespace["_grade"]("demo.add", str(inputs), str(outputs))
    return load(outputs)


def test_answer_into_writes_a_record_that_from_record_accepts(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=5)
    body = "def add(a, b):\n    return np.add(a, b)"
    record = _answer_into(body, cases, tmp_path)
    assert isinstance(record, dict) and set(record) == {"kind", "what", "used", "outcomes"}
    assert record["kind"] == "ran" and record["used"] == []
    assert all(type(item) is tuple and item[1] == "" for item in record["outcomes"])
    result = judge(demo_add, Answer.from_record(record), cases)
    assert result.status == PASSED and result.score == 2.0


def test_answer_into_records_a_wrong_answer_and_errors(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=5)
    body = "def add(a, b):\n    if a.ndim == 2:\n        1 / 0\n    return a * b"
    result = judge(demo_add, Answer.from_record(_answer_into(body, cases, tmp_path)), cases)
    assert result.status == FAILED and result.cases_passed == 0
    assert "case 1 (a of shape (3,), b of shape (3,)): expected [" in result.feedback
    record = _answer_into(body, cases, tmp_path)
    assert "raised ZeroDivisionError: division by zero" in record["outcomes"][1][1]
    body = "def add(a, b):\n    return lambda: a"
    result = judge(demo_add, Answer.from_record(_answer_into(body, cases, tmp_path)), cases)
    assert result.status == FAILED and "function" in result.feedback


def test_answer_into_writes_the_stub_and_non_functions_as_such(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=5)
    body = "def add(a, b):\n    raise NotImplementedError()"
    record = _answer_into(body, cases, tmp_path)
    assert record["kind"] == "not_attempted"
    assert judge(demo_add, Answer.from_record(record), cases).status == NOT_ATTEMPTED
    record = _answer_into("add = 42", cases, tmp_path)
    assert record["kind"] == "not_callable" and record["what"] == "int 42"
    assert judge(demo_add, Answer.from_record(record), cases).status == ERROR


def test_answer_into_writes_missing_when_the_name_is_not_defined(demo_add, tmp_path):
    cases = draw_cases(demo_add, seed=5)
    record = _answer_into("def plus(a, b):\n    return a + b", cases, tmp_path)
    assert record == {"missing": True}
    with pytest.raises(ValueError):
        Answer.from_record(record)
