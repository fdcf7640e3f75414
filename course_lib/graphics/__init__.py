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

Differences from TensorFlow Graphics
------------------------------------

The module layout and most signatures follow TensorFlow Graphics (TFG), but these results and
conventions differ; code ported from TFG must account for them.

- Spherical harmonics (``math.spherical_harmonics``): both evaluate real harmonics from
  associated Legendre polynomials that carry the Condon-Shortley phase ``(-1)^m``. Here that
  phase is cancelled by a factor ``(-1)^m`` (the graphics convention: band 1 is
  ``sqrt(3 / 4 pi) (y, z, x)``); TFG keeps it. So every value with odd ``|m|`` has the opposite
  sign in TFG, and SH coefficients fitted with one library flip sign for odd ``|m|`` in the
  other; ``condon_shortley_phase=True`` gives TFG's values. TFG also asserts ``phi`` in
  ``[0, 2 pi]``.
- ``geometry.transformation.look_at.right_handed`` returns the course camera's `[..., 3, 3]`
  world-to-camera rotation, rows right, *down* and forward (the camera looks down +z with
  image y down, as ``rendering.camera.perspective`` and the rasterizer expect). TFG's function
  of the same name returns OpenGL's `[..., 4, 4]` view matrix (translation included), whose
  camera looks down -z with y up: ``look_at.opengl_view_matrix`` gives that one.
- Euler angles at gimbal lock (``euler.from_rotation_matrix``): both set z = 0 there. TFG
  treats a matrix as locked only when ``|m20| == 1`` exactly and otherwise uses its general
  formula (with an epsilon added to ``m00`` and ``m22``); here the lock is detected when
  ``cos(y) < 1e-6`` (1e-12 in float64), and x is read from ``Rz(z)^T R``, so the angles
  rebuild the matrix exactly near the lock as well.
- The rasterizer (``rendering.rasterizer``) is pure TensorFlow (no compiled op; CPU and GPU),
  while TFG's ``rasterization_backend.rasterize`` calls a compiled kernel (an OpenGL/EGL op or a
  C++ CPU op). Its inputs differ: here vertices are already in camera coordinates, with a
  pinhole ``focal`` and ``principal_point`` in pixels (or ``rasterize_orthographic``'s scale
  and offset), and ``image_size`` is ``(height, width)``; TFG takes vertices with `[batch, 4,
  4]` OpenGL view-projection matrices and ``image_size`` as ``(width, height)``. Its outputs
  differ: here ``triangle_index`` is -1 on the background (TFG: 0, which is also triangle 0's
  id, so TFG's mask must be used), depth and barycentrics are 0 there, and the images are
  `[A1, ..., An, H, W(, 3)]` (TFG's framebuffer adds a layer dimension: `[batch, layers, H, W,
  C]`). Back faces are drawn unless ``cull_backfaces=True`` (TFG culls them by default,
  ``enable_cull_face=True``). Pixel ``(i, j)`` is sampled at its centre ``(j + 0.5, i + 0.5)``.
- Eager calls of the rasterizer's public functions run compiled (each is a ``tf.function``
  with relaxed shapes, traced at most twice per dtype, batch rank and option, whatever the
  image and mesh sizes); inside a caller's ``tf.function`` they are plain graph code.
- Graph convolution (``geometry.convolution``): an isolated vertex (an empty row of
  ``neighbors``) outputs the bias in ``feature_steered_convolution`` and zeros in
  ``edge_convolution_template``, and an empty pooling window pools to zeros
  (``graph_pooling.pool``); TFG requires every vertex and window to have a neighbour. Padded
  vertices beyond ``sizes`` output zeros, and duplicate edges add their weights.
  ``nn.layer.graph_convolution.feature_steered_convolution_layer`` takes ``sizes=None`` by
  default (TFG requires the argument), as the course's slide calls it.
- Quaternion slerp (``math.interpolation.slerp``) between quaternions in opposite hemispheres
  (``q1 . q2 < 0``): here ``q2`` is negated, so the path starts exactly at ``q1`` and ends at
  ``-q2``; TFG negates ``q1`` (from ``-q1`` to ``q2``). Same rotations, opposite signs: pass
  ``flip="quaternion1"`` to ``interpolate`` or ``quaternion_weights`` for TFG's signs.
- ``quaternion.relative_angle`` returns `[A1, ..., An, 1]` (as TFG documents); TFG's code
  returns `[A1, ..., An]`: pass ``keepdims=False`` for that.
- Batch dimensions broadcast everywhere here; several TFG functions (e.g.
  ``perspective.unproject``, ``matrix_from_intrinsics``, ``perspective.right_handed``,
  ``look_at.right_handed``) require identical ones and raise ``ValueError`` for shapes that
  broadcast.
- Value checks (unit quaternions and axes, rotation matrices, ranges such as ``near > 0``) are
  off by default in both. TFG switches them on with its absl flag ``tfg_add_asserts_to_graph``
  (its own tests do); here ``with util.asserts.enabled():`` (or ``set_enabled(True)``) does,
  and they raise ``tf.errors.InvalidArgumentError`` as TFG's do. Only shape and dtype errors
  (``ValueError``) are always raised; their messages name the argument and then repeat TFG's
  wording (e.g. "must have exactly 3 dimensions in axis -1").
- ``geometry.transformation.rotation_matrix_3d.assert_rotation_matrix_normalized`` always
  checks (TFG's is a pass-through unless the flag is set).
- ``rendering.camera.perspective.random_rays`` and ``random_patches`` cast each ray through
  the pixel's centre (``[x + 0.5, y + 0.5]``, as ``pixel_rays`` and the rasterizer); TFG's go
  through the integer position ``[x, y]``. Both take a ``seed`` for reproducible draws, and
  ``random_patches`` keeps the whole patch inside the image for any ``scale``.
- ``math.math_helpers.cartesian_to_spherical_coordinates`` has finite (zero) gradients on the z
  axis and at the origin, where TFG's are NaN; its ``eps`` argument is accepted and unused.
  ``math_helpers.factorial`` is evaluated in float64 (exact for whole numbers up to 10 in
  float32).
- ``math.interpolation.bspline.interpolate_with_weights`` broadcasts batch dimensions: knots
  `[A1, ..., An, C, K]` with weights `[A1, ..., An, K]` give `[A1, ..., An, C]`; TFG contracts
  knots `[B1, ..., Bk, K]` with weights `[A1, ..., An, K]` into `[A1, ..., An, B1, ..., Bk]`.
  The two agree for one curve (knots `[C, K]`).
- ``rendering.camera.perspective.intrinsics_from_matrix`` returns ``(focal, principal_point)``;
  TFG's returns the skew as a third value: pass ``return_skew=True`` for it.
  ``matrix_from_intrinsics`` takes TFG's ``skew`` argument (default 0).
- ``geometry.transformation.euler.inverse`` returns the Euler angles of the inverse rotation;
  TFG's returns ``-euler_angle``, which is that only when at most one angle is non-zero.
- Spherical-harmonic degrees and orders must be integers known when the op is built (NumPy
  arrays, lists or constant tensors such as ``generate_l_m_permutations``'s); out-of-range ones
  raise at once, checks on or off, ``util.asserts.InvalidValueError``, which is both a
  ``ValueError`` and the ``InvalidArgumentError`` TFG raises at run time.
- Zonal coefficients (``spherical_harmonics.tile_zonal_coefficients``,
  ``rotate_zonal_harmonics``) may have batch dimensions, `[A1, ..., An, L + 1]`; TFG takes only
  `[L + 1]`.
- BRDF albedos (``rendering.reflectance``) may have any number of channels, `[A1, ..., An, C]`
  (1 for grey images); TFG requires 3. The directions and the normal are normalized inside;
  with value checks on they must already have unit length and the albedo lie in ``[0, 1]``,
  as TFG requires.
- Slerp's ``percent`` is `[A1, ..., An, 1]` or a scalar; TFG reads a tensor ``percent`` as
  batch dimensions `[A1, ..., An]`.
- ``quaternion.normalized_random_uniform`` and its initializer take ``seed`` and ``dtype``
  (float64 too; TFG: float32 only).
"""
