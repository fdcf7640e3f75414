"""Exercise definitions, one module per chapter topic; each module registers its exercises.

The registry (:mod:`course_lib.grading.exercise`) imports ``<topic>.py`` when that topic is
graded. Every module here follows one layout:

- Imports at the top of the module, none inside functions: a topic's dependencies load when
  its module does, which is only when that topic is graded.
- No ``__all__``: a module is imported for what it registers. Its names without a leading
  underscore (``TOPIC``, the course's constants, the reference functions the tests use) are
  the ones others may import; everything else starts with ``_``.
- One section per exercise, in the order of the docstring's list: the hint, the cases
  (:func:`course_lib.grading.cases.reference_cases` where the reference computes what each
  case expects), how a wrong answer is explained
  (:func:`~course_lib.grading.cases.numeric_compare`,
  :func:`~course_lib.grading.cases.mistake_explainer`), then
  :func:`course_lib.grading.exercise.define` (``model_cases.define_classifier`` for a Keras
  classifier).
"""
