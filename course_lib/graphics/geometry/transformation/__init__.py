"""Rotations in four representations and the conversions between them.

Modules: ``rotation_matrix_2d``, ``rotation_matrix_3d``, ``euler``, ``quaternion``,
``axis_angle`` and ``look_at``. Conventions: quaternions Hamilton ``[x, y, z, w]``; Euler
angles ``[x, y, z]`` in radians with ``R = Rz @ Ry @ Rx``; axis-angle as a unit ``axis``
`[..., 3]` and an ``angle`` `[..., 1]` in radians; matrices act on column vectors.

The course's listing runs as written, with only the import root changed::

    import course_lib.graphics.geometry.transformation as tfg_transformation
    cube_rotated = tfg_transformation.axis_angle.rotate(cube, axis, angle)
"""

from course_lib.graphics.geometry.transformation import (
    axis_angle,
    euler,
    look_at,
    quaternion,
    rotation_matrix_2d,
    rotation_matrix_3d,
)

__all__ = [
    "axis_angle",
    "euler",
    "look_at",
    "quaternion",
    "rotation_matrix_2d",
    "rotation_matrix_3d",
]
