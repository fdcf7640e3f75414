"""Interpolation: spherical linear interpolation (slerp) and uniform B-splines.

- :mod:`slerp`: ``interpolate(vector1, vector2, percent, method)`` between quaternions (shorter
  path) or vectors (great arc), and the weights it blends with.
- :mod:`bspline`: ``knot_weights`` and ``interpolate`` for uniform B-splines of degree 0 to 4,
  open or cyclical.
"""

from course_lib.graphics.math.interpolation import bspline, slerp

__all__ = ["bspline", "slerp"]
