"""check(): specific feedback for a learner's answer, on the demo exercises."""

from __future__ import annotations

import collections
import importlib
from pathlib import Path

import numpy as np
import pytest

from course_lib import grading
from course_lib.grading.check import auto_hint, float_array, matches

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"
check_module = importlib.import_module(
    "course_lib.grading.check"
)  # the package's check is the function


@pytest.fixture(autouse=True)
def demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises")
    monkeypatch.setattr(check_module, "_failures", collections.Counter())


def add(a, b):
    return a + b


def test_a_correct_answer_passes_with_full_marks(capsys):
    result = grading.check("demo.add", add)
    assert result.passed and result.status == "passed"
    assert (result.score, result.max_score) == (2.0, 2.0)
    assert (result.cases_passed, result.cases_total) == (3, 3)
    assert capsys.readouterr().out.strip() == "✓ demo.add: 3/3 cases passed"


def test_a_partly_wrong_answer_names_the_case_expected_got_and_the_mistake():
    def scale(x, factor):
        return x * factor if len(x) < 4 else x * 2 * factor

    result = grading.check("demo.scale", scale)
    assert result.status == "failed" and not result.passed
    assert (result.cases_passed, result.cases_total) == (2, 4)
    assert result.score == pytest.approx(0.5)
    lines = result.feedback.splitlines()
    assert lines[0] == "✗ demo.scale: 2/4 cases passed"
    assert lines[1].startswith("  case 3 (x of shape (4, 2), factor=")
    assert "expected [" in lines[1] and "got [" in lines[1]
    assert "8 of 8 values differ; first at index [0, 0]" in lines[1]
    assert "It looks like the result is off by a constant factor of about 2." in result.feedback
    assert "(1 more case(s) failed.)" in result.feedback
    assert "Hint:" not in result.feedback and result.hint == "multiply every value by `factor`"
    assert "after 2 more tries, check() adds a hint" in result.feedback


def test_the_hint_comes_after_repeated_failures_and_goes_with_a_pass(monkeypatch, tmp_path):
    def scale(x, factor):
        return x * 2 * factor

    feedback = [grading.check("demo.scale", scale).feedback for _ in range(4)]
    assert "after 1 more try" in feedback[1] and "Hint:" not in feedback[1]
    for later in feedback[2:]:
        assert "Hint: multiply every value by `factor`" in later and "after" not in later
    assert grading.check("demo.scale", lambda x, factor: x * factor).passed
    assert "Hint:" not in grading.check("demo.scale", scale).feedback
    # The batch grader's judgement never shows it.
    exercise = grading.get_exercise("demo.scale")
    cases = grading.draw_cases(exercise, seed=7)
    result = grading.judge(exercise, grading.run_answer(exercise, scale, cases), cases)
    assert result.status == "failed" and result.hint
    assert "Hint:" not in result.feedback and "check() adds a hint" not in result.feedback


def test_a_shape_difference_names_both_shapes_and_dtypes():
    result = grading.check("demo.add", lambda a, b: (a + b)[..., None])
    assert "expected shape (3,) (float32), got shape (3, 1) (float32)" in result.feedback
    assert "an axis of size 1 is extra or missing" in result.feedback
    assert "Hint:" not in result.feedback


def test_a_dtype_difference_names_both_dtypes():
    result = grading.check("demo.add", lambda a, b: np.round(a + b).astype(np.int64))
    assert "expected dtype float32 (float values), got dtype int64 (integer values)" in (
        result.feedback
    )
    assert "tf.cast(x, tf.float32)" in result.feedback


def test_a_value_difference_shows_the_first_differing_value():
    result = grading.check("demo.add", lambda a, b: a - b)
    assert "values differ; first at index [0]: expected" in result.feedback


def test_the_stub_is_not_attempted_not_a_traceback(capsys):
    def add(a, b):
        # YOUR CODE HERE
        raise NotImplementedError()

    result = grading.check("demo.add", add)
    assert result.status == "not_attempted" and result.score == 0.0
    assert "not attempted yet" in result.feedback
    assert "Traceback" not in capsys.readouterr().out
    assert grading.check("demo.add", None).status == "not_attempted"


def test_an_exception_in_the_learners_code_is_reported_with_its_message():
    def add(a, b):
        return a + b + undefined_name  # noqa: F821

    result = grading.check("demo.add", add)
    assert result.status == "failed" and result.score == 0.0
    assert "raised NameError: name 'undefined_name' is not defined" in result.feedback
    assert "(in add, line" in result.feedback


def test_sys_exit_in_the_learners_code_fails_the_case_instead_of_stopping_everything():
    def add(a, b):
        raise SystemExit(3)

    assert "raised SystemExit: 3" in grading.check("demo.add", add).feedback


def test_keyboard_interrupt_propagates_so_that_the_batch_grader_can_stop_a_loop():
    def add(a, b):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grading.check("demo.add", add)


def test_a_value_where_a_function_is_expected_is_an_error():
    result = grading.check("demo.add", 42)
    assert result.status == "error"
    assert "`add` should be a function, but it is int 42" in result.feedback


def test_tensorflow_tensors_compare_like_arrays():
    import tensorflow as tf

    assert grading.check("demo.add", lambda a, b: tf.constant(a) + tf.constant(b)).passed
    assert grading.check("demo.scale", lambda x, f: tf.Variable(x) * f).passed
    wrong = grading.check("demo.add", lambda a, b: tf.transpose(tf.constant(a)[None] - b))
    assert "expected shape (3,) (float32), got shape (3, 1) (float32)" in wrong.feedback


def test_an_unknown_id_raises_key_error_listing_the_known_ones():
    with pytest.raises(
        KeyError, match=r"unknown exercise 'demo.nope'; known: demo.add, demo.scale"
    ):
        grading.check("demo.nope", add)
    with pytest.raises(TypeError):
        grading.check(3, add)


def test_check_stands_aside_in_a_batch_grading_kernel(monkeypatch, capsys):
    monkeypatch.setattr(check_module, "in_batch_kernel", True)
    result = grading.check("demo.add", add)
    assert result.status == "not_attempted" and result.score == 0
    assert "course grade` grades `add` after the notebook's last cell" in capsys.readouterr().out


def test_the_hidden_cases_depend_on_the_seed():
    exercise = grading.get_exercise("demo.add")
    first = exercise.make_cases(np.random.default_rng(0))[0].args[0]
    again = exercise.make_cases(np.random.default_rng(0))[0].args[0]
    other = exercise.make_cases(np.random.default_rng(1))[0].args[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert grading.grade(exercise, add, seed=5).passed


def test_compare_values_handles_sequences_and_plain_values():
    assert grading.compare_values((1.0, np.zeros(2)), (1.0, np.zeros(2))) is None
    assert "item 1: expected shape (2,)" in grading.compare_values((1.0, [0.0]), (1.0, np.zeros(2)))
    assert "expected a sequence of 2 items" in grading.compare_values(3.0, (1.0, np.zeros(2)))
    assert "expected shape (2,)" in grading.compare_values(3.0, (1.0, 2.0))
    assert grading.compare_values("relu", "relu") is None
    assert grading.compare_values("tanh", "relu") == "expected 'relu', got 'tanh'"


@pytest.mark.parametrize(
    ("got", "expected", "clue"),
    [
        (None, np.ones(3), "returned None"),
        (-np.arange(1.0, 5.0), np.arange(1.0, 5.0), "sign is flipped"),
        (np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(2, 3), "axes are swapped"),
        (np.arange(4.0).reshape(2, 2).T, np.arange(4.0).reshape(2, 2), "transposed"),
        (np.arange(1.0, 5.0) + 0.5, np.arange(1.0, 5.0), "constant of about +0.5"),
        (np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0]), "wrong order"),
        (np.array([np.nan, 1.0]), np.array([0.0, 1.0]), "NaN or infinite"),
        (np.ones(3), np.ones((3, 4)), "reduced away"),
        (np.ones(2), np.ones(5), ""),
    ],
)
def test_auto_hints_name_common_mistakes(got, expected, clue):
    hint = auto_hint(got, expected)
    assert clue in hint if clue else hint == ""


def test_exercise_modules_are_hidden_again_when_no_longer_listed(monkeypatch):
    assert "demo.add" in grading.list_exercises()
    monkeypatch.delenv("COURSE_EXERCISE_MODULES")
    assert "demo.add" not in grading.list_exercises()
    with pytest.raises(KeyError):
        grading.get_exercise("demo.add")


def test_a_module_that_cannot_be_imported_is_named(monkeypatch):
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises, no_such_exercise_module")
    with pytest.raises(
        ImportError, match="COURSE_EXERCISE_MODULES names 'no_such_exercise_module'"
    ):
        grading.list_exercises()


def test_float_array_reads_tensors_lists_and_numbers_and_refuses_the_rest():
    import tensorflow as tf

    assert float_array(tf.constant([1, 2], tf.int32)).dtype == np.float64
    np.testing.assert_array_equal(float_array([[1.5, 2.0]]), [[1.5, 2.0]])
    assert float_array(3).shape == ()
    assert float_array("text") is None and float_array([[1.0], [2.0, 3.0]]) is None


def test_matches_needs_the_shape_and_values_and_treats_nan_as_equal():
    assert matches(np.array([1.0, np.nan]), [1.0 + 1e-9, np.nan], 1e-6, 1e-6)
    assert not matches(np.array([1.0, 2.0]), [[1.0, 2.0]], 1e-6, 1e-6)
    assert not matches(np.array([1.0, 2.1]), [1.0, 2.0], 1e-6, 1e-6)
    assert not matches(None, [1.0], 1e-6, 1e-6)


def test_the_exercise_test_helpers_fail_when_they_should():
    from course_lib.conv import output_size
    from course_lib.grading.testing import assert_answer_passes, assert_mistake_hinted

    assert_answer_passes("convolution.output_size", output_size, allow_reference=True)
    with pytest.raises(AssertionError):
        assert_answer_passes("convolution.output_size", lambda *args: 0)
    with pytest.raises(AssertionError):
        assert_mistake_hinted("convolution.output_size", output_size, "anything")
    with pytest.raises(AssertionError):  # a wrong answer, but not the named mistake
        assert_mistake_hinted("convolution.output_size", lambda *args: 0, "no such hint text")


def test_exercises_are_what_modules_export_and_define_changes_nothing(tmp_path, monkeypatch):
    from course_lib.grading import exercise as exercise_module

    made = grading.define("demo", "extra", lambda rng: [], title="not exported")
    assert made.id == "demo.extra" and "demo.extra" not in grading.list_exercises("demo")
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "no_list.py").write_text("X = 1\n")
    (tmp_path / "twice.py").write_text("from demo_exercises import ADD\nEXERCISES = (ADD, ADD)\n")
    with pytest.raises(TypeError, match="no_list must export EXERCISES"):
        exercise_module.module_exercises("no_list")
    with pytest.raises(ValueError, match="'demo.add' is defined twice in twice"):
        exercise_module.module_exercises("twice")
    monkeypatch.setenv("COURSE_EXERCISE_MODULES", "demo_exercises, demo_exercises")
    with pytest.raises(ValueError, match="'demo.add' is defined twice"):
        grading.list_exercises()
    with pytest.raises(ValueError, match="must look like '<topic>.<name>'"):
        grading.define("demo", "not an id", lambda rng: [], title="bad")
