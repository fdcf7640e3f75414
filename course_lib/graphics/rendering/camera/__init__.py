"""Cameras: the orthographic and the pinhole (perspective) projection.

Camera coordinates: the camera sits at the origin and looks down +z; x goes right and y goes
down in the image, so pixel coordinates are ``(x', y')`` with ``x'`` the column::

    import course_lib.graphics.rendering.camera as tfg_camera
    pixels = tfg_camera.perspective.project(point_3d, focal, principal_point)
"""

from course_lib.graphics.rendering.camera import orthographic, perspective

__all__ = ["orthographic", "perspective"]
