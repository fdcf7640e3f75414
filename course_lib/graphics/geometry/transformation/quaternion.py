"""Unit quaternions: Hamilton convention, stored ``[x, y, z, w]`` (scalar last).

The unit quaternion ``q = [sin(a/2) axis, cos(a/2)]`` rotates by the angle ``a`` about ``axis``;
``q`` and ``-q`` are the same rotation. ``multiply(q1, q2)`` is the rotation ``q2`` followed by
``q1`` (as the matrix product ``R1 @ R2``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.geometry.transformation import _rotation_matrix, rotation_matrix_3d
from course_lib.graphics.math import vector
from course_lib.graphics.util import asserts, safe_ops, shape

__all__ = [
    "between_two_vectors_3d",
    "conjugate",
    "from_axis_angle",
    "from_euler",
    "from_euler_with_small_angles_approximation",
    "from_rotation_matrix",
    "inverse",
    "is_normalized",
    "multiply",
    "normalize",
    "normalized_random_uniform",
    "normalized_random_uniform_initializer",
    "relative_angle",
    "rotate",
]


def from_axis_angle(
    axis: tf.Tensor, angle: tf.Tensor, name: str = "quaternion_from_axis_angle"
) -> tf.Tensor:
    """Quaternions ``[sin(a/2) axis, cos(a/2)]``.

    Args:
        axis: `[A1, ..., An, 3]` unit-length rotation axes.
        angle: `[A1, ..., An, 1]` angles in radians.

    Returns:
        `[A1, ..., An, 4]` unit quaternions.

    Raises:
        ValueError: if a last dimension is not 3 (``axis``) or 1 (``angle``), a dtype is not
            floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        axis, angle = shape.checked(axis=(axis, 3), angle=(angle, 1))
        axis = asserts.assert_normalized(axis, "axis")
        half = 0.5 * angle
        xyz = axis * tf.sin(half)
        w = tf.broadcast_to(tf.cos(half), tf.concat([tf.shape(xyz)[:-1], [1]], axis=0))
        return tf.concat([xyz, w], axis=-1)


def from_euler(angles: tf.Tensor, name: str = "quaternion_from_euler") -> tf.Tensor:
    """Quaternions of Euler angles: ``qz * qy * qx`` (the rotation ``Rz @ Ry @ Rx``).

    Args:
        angles: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        `[A1, ..., An, 4]` unit quaternions.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        return _from_half_angle_sines_cosines(tf.sin(0.5 * angles), tf.cos(0.5 * angles))


def from_euler_with_small_angles_approximation(
    angles: tf.Tensor, name: str = "quaternion_from_euler_with_small_angles_approximation"
) -> tf.Tensor:
    """Quaternions of small Euler angles, with ``sin(h) ~ h`` and ``cos(h) ~ 1 - h^2 / 2``.

    The half angles' sines and cosines are replaced by their Taylor polynomials in
    :func:`from_euler`'s product ``qz * qy * qx``, and the result is normalized. Within 1e-3 of
    :func:`from_euler` for angles up to about 0.3 radians; the smallness is not checked.

    Args:
        angles: `[A1, ..., An, 3]` angles ``[x, y, z]`` in radians.

    Returns:
        `[A1, ..., An, 4]` unit quaternions.

    Raises:
        ValueError: if ``angles`` is not a floating tensor with last dimension 3.
    """
    with tf.name_scope(name):
        (angles,) = shape.checked(angles=(angles, 3))
        half = 0.5 * angles
        return safe_ops.normalize(_from_half_angle_sines_cosines(half, 1.0 - 0.5 * half * half))


def _from_half_angle_sines_cosines(sines: tf.Tensor, cosines: tf.Tensor) -> tf.Tensor:
    """``qz * qy * qx`` from `[..., 3]` sines and cosines of the half Euler angles."""
    sx, sy, sz = tf.unstack(sines, axis=-1)
    cx, cy, cz = tf.unstack(cosines, axis=-1)
    return tf.stack(
        [
            cz * cy * sx - sz * sy * cx,
            cz * sy * cx + sz * cy * sx,
            sz * cy * cx - cz * sy * sx,
            cz * cy * cx + sz * sy * sx,
        ],
        axis=-1,
    )


def from_rotation_matrix(
    matrix: tf.Tensor, name: str = "quaternion_from_rotation_matrix"
) -> tf.Tensor:
    """Quaternions of rotation matrices (Shepperd's method: robust at 180 degrees too).

    The largest of ``|w|, |x|, |y|, |z|`` is found from the diagonal (compare the trace with
    ``m00``, ``m11``, ``m22``); it is computed from a square root of a number at least 1, and
    the other three from off-diagonal sums divided by it, so no branch divides by a small number.

    Args:
        matrix: `[A1, ..., An, 3, 3]` rotation matrices.

    Returns:
        `[A1, ..., An, 4]` unit quaternions (the sign is whichever the chosen branch gives).

    Raises:
        ValueError: if ``matrix``'s last two dimensions are not ``(3, 3)`` or it is not floating.
    """
    with tf.name_scope(name):
        (matrix,) = shape.checked(matrix=(matrix, (3, 3)))
        matrix = _rotation_matrix.assert_rotation(matrix, 3)
        rows = tf.unstack(matrix, axis=-2)
        (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = (tf.unstack(r, axis=-1) for r in rows)
        trace = m00 + m11 + m22
        tiny = tf.constant(1e-6, matrix.dtype)

        def branch(big_squared_times_4: tf.Tensor) -> tf.Tensor:
            # 4 |c| = 2 sqrt(4 c^2), c the largest component; clamped so that the branches not
            # taken stay finite (their values are discarded, their gradients are zero).
            return 2.0 * tf.sqrt(tf.maximum(big_squared_times_4, tiny))

        s = branch(1.0 + trace)  # 4|w|
        from_w = tf.stack([(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s], -1)
        s = branch(1.0 + m00 - m11 - m22)  # 4|x|
        from_x = tf.stack([0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s], -1)
        s = branch(1.0 - m00 + m11 - m22)  # 4|y|
        from_y = tf.stack([(m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s], -1)
        s = branch(1.0 - m00 - m11 + m22)  # 4|z|
        from_z = tf.stack([(m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s], -1)

        largest = tf.argmax(tf.stack([trace, m00, m11, m22], axis=-1), axis=-1)[..., tf.newaxis]
        return tf.where(
            largest == 0,
            from_w,
            tf.where(largest == 1, from_x, tf.where(largest == 2, from_y, from_z)),
        )


def multiply(
    quaternion1: tf.Tensor, quaternion2: tf.Tensor, name: str = "quaternion_multiply"
) -> tf.Tensor:
    """Hamilton products ``q1 * q2``: ``[w1 v2 + w2 v1 + v1 x v2, w1 w2 - v1 . v2]``.

    The product rotates by ``q2`` first, then by ``q1``.

    Args:
        quaternion1: `[A1, ..., An, 4]` quaternions.
        quaternion2: `[A1, ..., An, 4]` quaternions.

    Returns:
        `[A1, ..., An, 4]` products.

    Raises:
        ValueError: if a last dimension is not 4, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        q1, q2 = shape.checked(quaternion1=(quaternion1, 4), quaternion2=(quaternion2, 4))
        v1, w1 = q1[..., :3], q1[..., 3:]
        v2, w2 = q2[..., :3], q2[..., 3:]
        xyz = w1 * v2 + w2 * v1 + vector.cross(v1, v2)
        w = w1 * w2 - vector.dot(v1, v2)
        w = tf.broadcast_to(w, tf.concat([tf.shape(xyz)[:-1], [1]], axis=0))
        return tf.concat([xyz, w], axis=-1)


def conjugate(quaternion: tf.Tensor, name: str = "quaternion_conjugate") -> tf.Tensor:
    """Conjugates ``[-x, -y, -z, w]`` (the inverse rotation, for unit quaternions).

    Args:
        quaternion: `[A1, ..., An, 4]` quaternions.

    Returns:
        `[A1, ..., An, 4]` conjugates.

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        return tf.concat([-quaternion[..., :3], quaternion[..., 3:]], axis=-1)


def inverse(quaternion: tf.Tensor, name: str = "quaternion_inverse") -> tf.Tensor:
    """Inverses ``conjugate(q) / |q|^2`` (zero quaternions map to zero, with finite gradients).

    Args:
        quaternion: `[A1, ..., An, 4]` quaternions.

    Returns:
        `[A1, ..., An, 4]` inverses.

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        squared = tf.reduce_sum(tf.square(quaternion), axis=-1, keepdims=True)
        return safe_ops.divide(conjugate(quaternion), squared)


def normalize(quaternion: tf.Tensor, name: str = "quaternion_normalize") -> tf.Tensor:
    """Unit quaternions ``q / |q|``; the zero quaternion maps to zero with a finite gradient.

    Args:
        quaternion: `[A1, ..., An, 4]` quaternions.

    Returns:
        `[A1, ..., An, 4]` unit quaternions (zero where the input is zero).

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        return safe_ops.normalize(quaternion)


def is_normalized(
    quaternion: tf.Tensor, atol: float = 1e-3, name: str = "quaternion_is_normalized"
) -> tf.Tensor:
    """Whether quaternions have unit length: ``| |q| - 1 | < atol``.

    Args:
        quaternion: `[A1, ..., An, 4]` quaternions.
        atol: the absolute tolerance on the length.

    Returns:
        `[A1, ..., An, 1]` booleans.

    Raises:
        ValueError: if ``quaternion`` is not a floating tensor with last dimension 4.
    """
    with tf.name_scope(name):
        (quaternion,) = shape.checked(quaternion=(quaternion, 4))
        return tf.abs(tf.norm(quaternion, axis=-1, keepdims=True) - 1.0) < atol


def normalized_random_uniform(
    quaternion_shape: Sequence[int],
    seed: int | None = None,
    dtype: tf.DType = tf.float32,
    name: str = "quaternion_normalized_random_uniform",
) -> tf.Tensor:
    """Random unit quaternions, uniformly distributed over the rotations (Haar measure on SO(3)).

    A normalized 4-D standard normal vector is uniform on the unit 3-sphere, which covers every
    rotation twice with equal density.

    Args:
        quaternion_shape: the batch shape ``[A1, ..., An]`` (a list of ints; ``[]`` for one).
        seed: an int for reproducible draws (the same seed gives the same quaternions, through
            ``tf.random.stateless_normal``); None draws from TensorFlow's global generator.
        dtype: ``tf.float32`` or ``tf.float64``.

    Returns:
        `[A1, ..., An, 4]` unit quaternions.

    Raises:
        ValueError: if ``quaternion_shape`` is not a list of non-negative ints, or ``dtype`` is
            not float32 or float64.
    """
    with tf.name_scope(name):
        batch = _shape_list("quaternion_shape", quaternion_shape)
        dtype = tf.as_dtype(dtype)
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype.name}")
        full = [*batch, 4]
        if seed is None:
            gaussian = tf.random.normal(full, dtype=dtype)
        else:
            gaussian = tf.random.stateless_normal(full, seed=[int(seed), 0], dtype=dtype)
        return safe_ops.normalize(gaussian)


def normalized_random_uniform_initializer(
    seed: int | None = None,
) -> Callable[..., tf.Tensor]:
    """An initializer (for ``tf.Variable`` or Keras weights) of uniform random unit quaternions.

    Args:
        seed: as in :func:`normalized_random_uniform`. With an int, every call of the returned
            initializer gives the same values.

    Returns:
        ``initializer(shape, dtype=tf.float32, partition_info=None)``, which returns
        :func:`normalized_random_uniform` of ``shape[:-1]``. It raises ``ValueError`` when
        ``shape``'s last entry is not 4 or ``dtype`` is not float32 or float64
        (``partition_info`` is accepted for the TensorFlow 1 initializer signature, unused).
    """

    def initializer(
        shape: Sequence[int], dtype: tf.DType | None = tf.float32, partition_info: Any = None
    ) -> tf.Tensor:
        del partition_info
        dtype = tf.float32 if dtype is None else tf.as_dtype(dtype)
        if dtype not in (tf.float32, tf.float64):
            raise ValueError(f"'dtype' must be tf.float32 or tf.float64, got {dtype.name}")
        full = _shape_list("shape", shape)
        if not full or full[-1] != 4:
            raise ValueError(f"Last dimension of 'shape' must be 4, got {full}")
        return normalized_random_uniform(full[:-1], seed=seed, dtype=dtype)

    return initializer


def _shape_list(name: str, value: Any) -> list[int]:
    """``value`` (a list, tuple, ``TensorShape`` or 1-D int array) as a list of ints >= 0."""
    if isinstance(value, tf.TensorShape):
        value = value.as_list()
    array = np.asarray(value if not isinstance(value, tf.Tensor) else value.numpy())
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu") or np.any(array < 0):
        raise ValueError(f"{name} must be a list of non-negative ints, got {value!r}")
    return [int(d) for d in array]


def rotate(point: tf.Tensor, quaternion: tf.Tensor, name: str = "quaternion_rotate") -> tf.Tensor:
    """Rotates 3-D points by unit quaternions: ``q * [p, 0] * conj(q)``.

    Computed as ``p + w t + v x t`` with ``t = 2 v x p`` (``v``, ``w``: the quaternion's vector
    and scalar parts). A single `[4]` quaternion is turned into a matrix once and applied to
    every point with one matrix product.

    Args:
        point: `[A1, ..., An, 3]` points.
        quaternion: `[A1, ..., An, 4]` unit quaternions.

    Returns:
        `[A1, ..., An, 3]` rotated points.

    Raises:
        ValueError: if a last dimension is not 3 (``point``) or 4 (``quaternion``), a dtype is
            not floating, or the batch dimensions do not broadcast.
    """
    with tf.name_scope(name):
        point, quaternion = shape.checked(point=(point, 3), quaternion=(quaternion, 4))
        quaternion = asserts.assert_normalized(quaternion, "quaternion")
        if quaternion.shape.rank == 1:
            return rotation_matrix_3d.rotate(point, rotation_matrix_3d.from_quaternion(quaternion))
        v, w = quaternion[..., :3], quaternion[..., 3:]
        t = 2.0 * vector.cross(v, point)
        return point + w * t + vector.cross(v, t)


def relative_angle(
    quaternion1: tf.Tensor,
    quaternion2: tf.Tensor,
    keepdims: bool = True,
    name: str = "quaternion_relative_angle",
) -> tf.Tensor:
    """The angle of the rotation taking ``q1`` to ``q2``, in radians, in ``[0, pi]``.

    Computed as ``2 atan2(|v|, |w|)`` of ``r = conj(q1) * q2``: accurate for small angles too
    (unlike ``2 acos(|q1 . q2|)``) and insensitive to the quaternions' lengths and signs.

    Args:
        quaternion1: `[A1, ..., An, 4]` quaternions.
        quaternion2: `[A1, ..., An, 4]` quaternions.
        keepdims: keep the last dimension (of size 1). TensorFlow Graphics' function drops
            it (its docstring says `[A1, ..., An, 1]`, its code returns `[A1, ..., An]`); pass
            ``keepdims=False`` for that.

    Returns:
        `[A1, ..., An, 1]` angles (`[A1, ..., An]` with ``keepdims=False``).

    Raises:
        ValueError: if a last dimension is not 4, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        q1, q2 = shape.checked(quaternion1=(quaternion1, 4), quaternion2=(quaternion2, 4))
        relative = multiply(conjugate(q1), q2)
        sine = safe_ops.norm(relative[..., :3])
        angle = 2.0 * safe_ops.atan2(sine, tf.abs(relative[..., 3:]))
        return angle if keepdims else angle[..., 0]


def _any_perpendicular(unit: tf.Tensor) -> tf.Tensor:
    """A unit vector perpendicular to each `[..., 3]` unit vector (zero for the zero vector).

    ``[-y, x, 0]`` when ``|x| > |z|``, else ``[0, -z, y]`` (TensorFlow Graphics' choice); for a
    unit vector either has length at least ``sqrt(1/2)`` before normalization.
    """
    x, y, z = tf.unstack(unit, axis=-1)
    zero = tf.zeros_like(x)
    candidate = tf.where(
        (tf.abs(x) > tf.abs(z))[..., tf.newaxis],
        tf.stack([-y, x, zero], axis=-1),
        tf.stack([zero, -z, y], axis=-1),
    )
    return safe_ops.normalize(candidate)


def between_two_vectors_3d(
    vector1: tf.Tensor, vector2: tf.Tensor, name: str = "quaternion_between_two_vectors_3d"
) -> tf.Tensor:
    """The shortest-arc rotations taking the directions of ``vector1`` to those of ``vector2``.

    ``q = normalize([u1 x u2, 1 + u1 . u2])`` with ``u = v / |v|``. For opposite vectors this is
    zero, and a half-turn about an axis perpendicular to ``vector1`` is chosen instead (about
    ``[-y, x, 0]`` if ``|x| > |z|``, else ``[0, -z, y]``, with ``[x, y, z] = u1``, as in
    TensorFlow Graphics).
    Values and gradients are finite for parallel and opposite vectors.

    Args:
        vector1: `[A1, ..., An, 3]` vectors (any non-zero length).
        vector2: `[A1, ..., An, 3]` vectors (any non-zero length).

    Returns:
        `[A1, ..., An, 4]` unit quaternions with ``rotate(u1, q) = u2``.

    Raises:
        ValueError: if a last dimension is not 3, a dtype is not floating, or the batch
            dimensions do not broadcast.
    """
    with tf.name_scope(name):
        v1, v2 = shape.checked(vector1=(vector1, 3), vector2=(vector2, 3))
        v1, v2 = shape.broadcast_batch((v1, 1), (v2, 1))
        u1, u2 = safe_ops.normalize(v1), safe_ops.normalize(v2)
        raw = tf.concat([vector.cross(u1, u2), 1.0 + vector.dot(u1, u2)], axis=-1)
        tolerance = 1e-6 if raw.dtype == tf.float32 else 1e-12
        opposite = safe_ops.norm(raw) < tolerance
        half_turn = tf.concat([_any_perpendicular(u1), tf.zeros_like(raw[..., 3:])], axis=-1)
        safe_raw = tf.where(opposite, tf.ones_like(raw), raw)
        return tf.where(opposite, half_turn, safe_ops.normalize(safe_raw))
