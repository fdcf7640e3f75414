"""Camera orientation from a position, a target and an up direction.

The course's pinhole camera looks down its +z axis (``perspective.project`` divides by z), so
the rotation here gives camera axes

- z: forward, from the camera toward the target;
- x: right, ``normalize(forward x up)``;
- y: down, ``z x x`` (image rows grow downward, as in OpenCV),

and a world point ``p`` has camera coordinates ``R @ (p - camera_position)``. This differs
from OpenGL's ``gluLookAt``, whose camera looks down -z with y up: :func:`opengl_view_matrix`
gives that `[..., 4, 4]` matrix, which is what TensorFlow Graphics' ``right_handed`` returns.
"""

from __future__ import annotations

import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.util import safe_ops, shape

__all__ = ["opengl_view_matrix", "right_handed"]


def right_handed(
    camera_position: tf.Tensor,
    look_at: tf.Tensor,
    up_vector: tf.Tensor,
    name: str = "look_at_right_handed",
) -> tf.Tensor:
    """World-to-camera rotations of cameras at ``camera_position`` looking at ``look_at``.

    The rows of the result are the camera's x (right), y (down) and z (forward) axes in world
    coordinates; the camera frame is right-handed (``x x y = z``).

    Args:
        camera_position: `[A1, ..., An, 3]` camera centres.
        look_at: `[A1, ..., An, 3]` points the cameras look at.
        up_vector: `[A1, ..., An, 3]` world up directions (any length, not parallel to the
            viewing direction; if it is, the rows are zero but gradients stay finite).

    Returns:
        `[A1, ..., An, 3, 3]` rotation matrices ``R`` with ``R @ (p - camera_position)`` the
        camera coordinates of ``p``.

    Raises:
        ValueError: if a last dimension is not 3, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        camera_position, look_at, up_vector = shape.checked(
            camera_position=(camera_position, 3), look_at=(look_at, 3), up_vector=(up_vector, 3)
        )
        forward = safe_ops.normalize(look_at - camera_position)
        forward, up_vector = shape.broadcast_batch((forward, 1), (up_vector, 1))
        right = safe_ops.normalize(vector.cross(forward, up_vector))
        down = vector.cross(forward, right)
        return tf.stack([right, down, forward], axis=-2)


def opengl_view_matrix(
    camera_position: tf.Tensor,
    look_at: tf.Tensor,
    up_vector: tf.Tensor,
    name: str = "look_at_opengl_view_matrix",
) -> tf.Tensor:
    """OpenGL's view matrices (``gluLookAt``; TensorFlow Graphics' ``look_at.right_handed``).

    The camera looks down its -z axis with y up: the rows of the rotation are right,
    up and backward, and the last column moves ``camera_position`` to the origin.

    Args:
        camera_position: `[A1, ..., An, 3]` camera centres.
        look_at: `[A1, ..., An, 3]` points the cameras look at.
        up_vector: `[A1, ..., An, 3]` world up directions (not parallel to the viewing
            direction).

    Returns:
        `[A1, ..., An, 4, 4]` matrices ``V`` with ``V @ [p, 1]`` the homogeneous OpenGL camera
        coordinates of ``p``.

    Raises:
        ValueError: as :func:`right_handed`.
    """
    with tf.name_scope(name):
        rotation = right_handed(camera_position, look_at, up_vector)
        # Course camera (right, down, forward) -> OpenGL camera (right, up, backward).
        rotation = rotation * tf.constant([[1.0], [-1.0], [-1.0]], rotation.dtype)
        position = tf.convert_to_tensor(camera_position, rotation.dtype)
        translation = -tf.linalg.matvec(rotation, position + tf.zeros_like(rotation[..., 0]))
        top = tf.concat([rotation, translation[..., tf.newaxis]], axis=-1)
        bottom = tf.zeros_like(top[..., :1, :]) + tf.constant([0.0, 0.0, 0.0, 1.0], top.dtype)
        return tf.concat([top, bottom], axis=-2)
