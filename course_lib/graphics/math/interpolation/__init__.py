"""Interpolation: slerp, uniform B-splines and weighted sums of indexed points.

- :mod:`slerp`: ``interpolate(vector1, vector2, percent, method)`` between quaternions (shorter
  path) or vectors (great arc), and the weights it blends with.
- :mod:`bspline`: ``knot_weights`` and ``interpolate`` for uniform B-splines of degree 0 to 4
  (``bspline.Degree``), open or cyclical.
- :mod:`weighted`: ``interpolate`` (weighted sums of points picked by index) and
  ``get_barycentric_coordinates`` of pixels in 2-D triangles.
"""

from course_lib.graphics.math.interpolation import bspline, slerp, weighted

__all__ = ["bspline", "slerp", "weighted"]
