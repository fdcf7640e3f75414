"""course_lib.checks: the one set of argument checks; every error names the argument."""

import numpy as np
import pytest

from course_lib import checks


@pytest.mark.parametrize("value", [0, 3, -2, np.int64(5), np.uint8(1)])
def test_is_int_accepts_python_and_numpy_integers(value):
    assert checks.is_int(value) and checks.is_real(value)


@pytest.mark.parametrize("value", [True, np.bool_(False), 1.0, "1", None, np.array(1)])
def test_is_int_refuses_bools_floats_strings_and_arrays(value):
    assert not checks.is_int(value)


def test_integers_takes_a_non_empty_sequence_of_bounded_ints():
    values = checks.integers("widths", [8, np.int64(16)], minimum=1)
    assert values == (8, 16) and all(type(v) is int for v in values)
    assert checks.integers("seeds", range(3), minimum=0) == (0, 1, 2)
    assert checks.integers("offsets", (-2, 5)) == (-2, 5)
    for bad, message in [
        (3, "widths must be a sequence of ints, got 3"),
        ([], "widths must hold at least one int"),
        ([4, 2.0], "widths must hold ints, got 2.0"),
        ([4, True], "widths must hold ints, got True"),
        ("ab", "widths must hold ints, got 'a'"),
        ([4, 0], "widths must be >= 1, got 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            checks.integers("widths", bad, minimum=1)


def test_is_real_accepts_floats_not_bools():
    assert checks.is_real(0.5) and checks.is_real(np.float32(2))
    assert not checks.is_real(True) and not checks.is_real("0.5") and not checks.is_real(1j)


def test_integer_bounds_and_messages():
    assert checks.integer("n", np.int32(4), minimum=0, maximum=4) == 4
    assert type(checks.integer("n", np.int32(4))) is int
    with pytest.raises(TypeError, match="n must be an int, got bool"):
        checks.integer("n", True)
    with pytest.raises(TypeError, match="n must be an int, got float"):
        checks.integer("n", 2.0)
    with pytest.raises(ValueError, match=r"n must be in \[0, 4\], got 5"):
        checks.integer("n", 5, minimum=0, maximum=4)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        checks.positive_int("n", 0)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        checks.non_negative_int("seed", -1)
    with pytest.raises(ValueError, match="k must be <= 3, got 9"):
        checks.integer("k", 9, maximum=3)
    assert checks.non_negative_int("seed", 0) == 0


def test_real_and_positive_float():
    assert checks.real("x", 3) == 3.0 and type(checks.real("x", np.float32(0.5))) is float
    assert checks.real("p", 1.0, minimum=0.0, maximum=1.0) == 1.0
    with pytest.raises(ValueError, match=r"p must be in \[0.0, 1.0\], got 1.5"):
        checks.real("p", 1.5, minimum=0.0, maximum=1.0)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="x must be finite"):
            checks.real("x", bad)
    with pytest.raises(TypeError, match="x must be a number, got str"):
        checks.real("x", "1")
    with pytest.raises(TypeError, match="sigma must be a number, got bool"):
        checks.positive_float("sigma", True)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="sigma must be > 0"):
            checks.positive_float("sigma", bad)


def test_boolean_and_one_of():
    assert checks.boolean("flag", np.bool_(True)) is True
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="flag must be True or False"):
            checks.boolean("flag", bad)
    assert checks.one_of("mode", "soft", ("hard", "soft")) == "soft"
    assert checks.one_of("size", 2, (1, 2)) == 2
    with pytest.raises(ValueError, match="mode must be one of 'hard', 'soft'; got 'blur'"):
        checks.one_of("mode", "blur", ("hard", "soft"))
    with pytest.raises(ValueError, match="size must be one of 1, 2; got True"):
        checks.one_of("size", True, (1, 2))
    with pytest.raises(ValueError, match="mode must be one of"):
        checks.one_of("mode", np.zeros(3), ("hard", "soft"))
    with pytest.raises(ValueError, match="mode must be one of"):
        checks.one_of("mode", ["hard"], ("hard", "soft"))
