"""A differentiable triangle rasterizer in pure TensorFlow (no compiled ops; CPU and GPU).

One import for the whole rasterizer; each part has its own module:

- :mod:`.triangle_rasterizer`: ``rasterize`` (pinhole cameras), ``rasterize_orthographic`` and
  their output ``Rasterized`` (depth, triangle index, perspective-correct barycentrics, mask),
  with exact gradients through the barycentrics of the visible surfaces; the conventions
  (camera, pixel centres, winding, near plane) are in its docstring;
- :mod:`.interpolate`: ``interpolate`` per-vertex attributes (normals, colours, UVs) into
  per-pixel ones;
- :mod:`.texture_map`: ``sample_texture``, bilinear lookups in UV-mapped textures;
- :mod:`.soft_silhouette`: ``soft_silhouette`` (after SoftRas), a smooth coverage image with
  gradients at silhouettes, which the hard rasterizer does not give.

The hard and soft rasterizers share the chunked enumeration of (triangle, pixel) pairs in
:mod:`._triangle_pairs`, so memory grows with the pixels plus one chunk, not with the
triangles. Called eagerly, every public function here runs as a ``tf.function`` with relaxed
shapes (:mod:`._compile`: traced at most twice per dtype, batch rank and Python option,
whatever the image and mesh sizes), so an eager call costs about what a call inside a compiled
function does; inside the caller's own ``tf.function`` they are plain graph code. Gradients
flow through both.
"""

from __future__ import annotations

# The private ``_*_compiled`` functions are re-exported for the tests, which count their traces.
from course_lib.graphics.rendering._triangle_pairs import CHUNK
from course_lib.graphics.rendering.interpolate import (
    _interpolate_compiled,  # noqa: F401
    interpolate,
)
from course_lib.graphics.rendering.soft_silhouette import (
    SOFT_CUTOFF,
    _soft_silhouette_compiled,  # noqa: F401
    soft_silhouette,
)
from course_lib.graphics.rendering.texture_map import (
    _sample_texture_compiled,  # noqa: F401
    sample_texture,
)
from course_lib.graphics.rendering.triangle_rasterizer import (
    EDGE_TOLERANCE,
    NEAR,
    Rasterized,
    _rasterize_compiled,  # noqa: F401
    rasterize,
    rasterize_orthographic,
)

__all__ = [
    "CHUNK",
    "EDGE_TOLERANCE",
    "NEAR",
    "SOFT_CUTOFF",
    "Rasterized",
    "interpolate",
    "rasterize",
    "rasterize_orthographic",
    "sample_texture",
    "soft_silhouette",
]
