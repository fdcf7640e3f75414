"""Exercise definitions, one module per chapter topic; each module exports its exercises.

The registry (:mod:`course_lib.grading.exercise`) imports ``<topic>.py`` when that topic is
graded and reads its ``EXERCISES`` (no module changes any state of the grader's). Every
module here follows one layout:

- Imports at the top of the module, none inside functions: a topic's dependencies load when
  its module does, which is only when that topic is graded.
- No ``__all__``: a module is imported for its ``EXERCISES`` (the :class:`Exercise` objects,
  each also a constant named after the exercise, e.g. ``AXIS_ANGLE_ROTATE``). Its names without
  a leading underscore (``TOPIC``, the course's constants, the reference functions the tests
  use) are the ones others may import; everything else starts with ``_``.
- One section per exercise, in the order of the docstring's list: the hint, the cases
  (:func:`course_lib.grading.cases.reference_cases` where the reference computes what each
  case expects), the mistakes the feedback recognizes, then
  ``NAME = define(...)`` (:func:`course_lib.grading.exercise.define`;
  ``model_cases.define_classifier`` for a Keras classifier); ``EXERCISES`` at the end.
- Mistakes are data: a ``_<NAME>_MISTAKES`` dict, explanation -> the wrong answer, passed as
  ``define(..., mistakes=...)``, which makes the exercise's ``compare`` from it
  (:func:`~course_lib.grading.cases.numeric_compare` of
  :func:`~course_lib.grading.cases.mistake_explainer`; ``as_floats=False`` where the dtype's
  kind is part of the answer). A wrong answer is a function called as the learner's is, float
  arrays as float64; :class:`~course_lib.grading.cases.Mistake` declares one that needs the
  whole case (``uses="case"``), several wrong answers for one explanation, one recognized by its
  shape (``match="shape"``) or by a property of the result (``match=not_finite``, ``other_shape``
  or a function: checks of the result, e.g. NaN, a wrong shape, weights that do not sum to 1,
  go in the dict too, in the order they are tried), numbers in the explanation (``fields``).
  Explanations are tried in the dict's order, the first recognized is shown.
- Every declared mistake is proven recognized by ``tests/test_exercises_common.py``, which
  grades an answer returning each wrong answer; one that no answer can show on the drawn cases
  is listed there, with the reason.
- A ``compare`` of its own only where the check is of another kind (a model's layers, a
  ``tf.function``'s traces, random crops, answers of several parts or that are counts); it
  declares its mistakes the same way (``mistakes=`` with its ``compare``) and recognizes them
  with :func:`~course_lib.grading.cases.wrong_answers`,
  :func:`~course_lib.grading.cases.first_match` or
  :func:`~course_lib.grading.cases.exact_mistake`, not loops of its own.
"""
