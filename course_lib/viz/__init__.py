"""Pictures of the course: the opening figure each chapter saves of its own result.

- :func:`save_opening_figure`: a chapter's final figure, written to ``book/images/<topic>.png``
  by ``make figures`` so that the chapter can open with the picture of where it ends.
"""

from course_lib.viz.figures import FIGURES_ENV, opening_figure_path, save_opening_figure

__all__ = ["FIGURES_ENV", "opening_figure_path", "save_opening_figure"]
