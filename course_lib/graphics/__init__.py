"""Graphics layers in pure TensorFlow, laid out like TensorFlow Graphics.

The course's listings run with only the import root changed
(``tensorflow_graphics`` -> ``course_lib.graphics``)::

    from course_lib.graphics.geometry import transformation
    cube_rotated = transformation.axis_angle.rotate(cube, axis, angle)

Conventions (binding, see ``docs/architecture.md``): quaternions are Hamilton, stored
``[x, y, z, w]``; Euler angles ``[x, y, z]`` in radians with ``R = Rz @ Ry @ Rx``; the pinhole
camera looks down +z; every op broadcasts batch dimensions ``[A1, ..., An, ...]``, checks its
arguments once (``ValueError`` naming the argument) and has finite gradients at its
singularities.
"""
