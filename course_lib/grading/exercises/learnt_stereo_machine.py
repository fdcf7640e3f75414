"""Exercises of the chapter "Learnt Stereo Machine" (book/part2/07_learnt_stereo_machine).

- ``project_voxel_centres(resolution, K, R, t)``: the centres of the ``R^3`` grid over
  ``[-0.5, 0.5]^3`` projected into a camera ``x_cam = R x + t``: pixels `[R, R, R, 2]`
  (``(K x_cam)[:2] / z``, x = column, y = row) and depths `[R, R, R]` (camera z);
- ``unproject_features(features, K, R, t, resolution)``: a feature map `[H, W, C]` lifted into
  the grid `[R, R, R, C]`, each voxel centre's projection sampled bilinearly between the four
  nearest pixel centres (clamped to the border pixels inside the image), zero outside the image
  or behind the camera;
- ``voxel_iou(predicted, target)``: the intersection over union of two occupancy grids
  `[R, R, R]`, or the mean of the per-shape IoUs of `[N, R, R, R]` batches; 1 where both are
  empty.

Expected answers come from ``course_lib.lsm.unprojection`` (``voxel_centres``,
``project_points``, ``unproject``) and ``course_lib.lsm.training.voxel_iou``, on cameras of
``course_lib.data.shapes3d.random_cameras`` and on edge cases drawn from the seeded generator:
a camera inside the grid (voxels behind it), grids partly outside the image, a 2 x 3 image,
empty, full and disjoint grids.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.data import shapes3d
from course_lib.grading.cases import (
    Mistake,
    bilinear_variant,
    not_finite,
    other_shape,
    reference_cases,
    shapes,
    wrong_answers,
)
from course_lib.grading.check import compare_values, float_array, matches
from course_lib.grading.exercise import Case, define
from course_lib.lsm import training, unprojection

TOPIC = "learnt_stereo_machine"

#: The smallest |camera z| of a voxel centre, and the smallest distance of a projection from the
#: image's border (pixels), in the drawn cases: rounding never decides a case.
_MIN_DEPTH = 0.02
_MIN_BORDER = 1e-3


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3x3 rotation (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _grid(resolution: int, offset: float = 0.5, indexing: str = "ij") -> np.ndarray:
    """float64 `[R, R, R, 3]` points ``-0.5 + (idx + offset) / R`` (offset 0.5: the centres)."""
    axis = -0.5 + (np.arange(resolution) + offset) / resolution
    return np.stack(np.meshgrid(axis, axis, axis, indexing=indexing), -1)


def _to_camera(points: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray):
    """Camera coordinates `[..., 3]` and their image `K x_cam` `[..., 3]` (float64)."""
    camera = points @ np.asarray(R, np.float64).T + np.asarray(t, np.float64)
    return camera, camera @ np.asarray(K, np.float64).T


def _projected(resolution: int, K: Any, R: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
    camera, image = _to_camera(_grid(resolution), K, R, t)
    return image[..., :2] / image[..., 2:], camera[..., 2]


def _well_posed(resolution: int, K: Any, R: Any, t: Any, height: int, width: int) -> bool:
    """No voxel centre near the camera plane or the image's border, where rounding would decide."""
    pixels, depth = _projected(resolution, K, R, t)
    near_border = [
        np.abs(pixels[..., 0]),
        np.abs(pixels[..., 0] - width),
        np.abs(pixels[..., 1]),
        np.abs(pixels[..., 1] - height),
    ]
    return np.min(np.abs(depth)) > _MIN_DEPTH and min(np.min(d) for d in near_border) > _MIN_BORDER


def _shapes3d_camera(rng: np.random.Generator, image_size: int) -> tuple[np.ndarray, ...]:
    """A camera of :func:`shapes3d.random_cameras` (float32 K, R, t) from a drawn seed."""
    cameras = shapes3d.random_cameras(int(rng.integers(0, 2**31)), 1, image_size)
    return cameras.K[0], cameras.R[0], cameras.t[0]


def _inside_camera(
    rng: np.random.Generator, resolution: int, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A wide-angle camera at a random point inside the grid, looking a random way: voxels
    behind it, some of which project into the image (z < 0 flips them through the centre)."""
    K = np.array([[0.4 * size, 0.0, size / 2], [0.0, 0.4 * size, size / 2], [0.0, 0.0, 1.0]])
    while True:
        R = _random_rotation(rng)
        t = -R @ rng.uniform(-0.2, 0.2, 3)
        if _well_posed(resolution, K, R, t, size, size):
            return K, R, t


def _camera_cases(rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """``(resolution, K, R, t, height, width, description)`` of the cameras both projecting
    exercises use: random_cameras, an off-centre narrow camera, one inside the grid, a small
    non-square image."""
    settings = []
    for resolution, size in ((8, 32), (5, 64)):
        while True:
            K, R, t = _shapes3d_camera(rng, size)
            if _well_posed(resolution, K, R, t, size, size):
                break
        settings.append(
            (resolution, K, R, t, size, size, f"R = {resolution}, a random {size} x {size} camera")
        )
    # A longer focal length and a principal point off the centre: part of the grid is outside.
    resolution, height, width = 6, 24, 40
    while True:
        _, R, t = _shapes3d_camera(rng, height)
        focal = rng.uniform(1.6, 2.2) * height
        K = np.array([[focal, 0.0, 0.3 * width], [0.0, focal, 0.6 * height], [0.0, 0.0, 1.0]])
        if _well_posed(resolution, K, R, t, height, width):
            break
    settings.append(
        (resolution, K, R.astype(np.float64), t.astype(np.float64), height, width,
         f"R = {resolution}, a narrow off-centre camera, {height} x {width} image: some voxels "
         "project outside it")
    )  # fmt: skip
    resolution = 7
    K, R, t = _inside_camera(rng, resolution, 16)
    settings.append(
        (resolution, K, R, t, 16, 16,
         f"R = {resolution}, the camera inside the grid: some voxels are behind it (z < 0)")
    )  # fmt: skip
    resolution, height, width = 4, 2, 3
    while True:
        R = _random_rotation(rng)
        t = np.array([0.0, 0.0, rng.uniform(1.6, 2.4)]) + rng.uniform(-0.1, 0.1, 3)
        K = np.array([[2.0, 0.0, 1.5], [0.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
        if _well_posed(resolution, K, R, t, height, width):
            break
    settings.append(
        (resolution, K, R, t, height, width, f"R = {resolution}, a tiny {height} x {width} image")
    )
    return settings


# --- project_voxel_centres ---------------------------------------------------------------------

_PROJECT_HINT = (
    "Build the centres with np.meshgrid(axis, axis, axis, indexing='ij') of the 1-D centres "
    "-0.5 + (idx + 0.5) / R, move them into the camera (rotate by R, add t), multiply by K and "
    "divide the first two coordinates by the third; the depth is the camera z. Return the pair "
    "(pixels [R, R, R, 2], depth [R, R, R])."
)


def project_voxel_centres_reference(
    resolution: int, K: Any, R: Any, t: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The library's ``(pixels [R, R, R, 2], depth [R, R, R])`` in float64."""
    centres = tf.reshape(unprojection.voxel_centres(resolution, dtype=tf.float64), [-1, 3])
    pixels, depth = unprojection.project_points(
        centres, *(tf.constant(a, tf.float64) for a in (K, R, t))
    )
    grid = (resolution,) * 3
    return np.reshape(pixels.numpy(), grid + (2,)), np.reshape(depth.numpy(), grid)


def _project_cases(rng: np.random.Generator) -> list[Case]:
    settings = [(r, K, R, t, text) for r, K, R, t, _, _, text in _camera_cases(rng)]
    return reference_cases(
        settings, project_voxel_centres_reference, hint=_PROJECT_HINT, rtol=1e-4, atol=1e-3
    )


def _pair(camera: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return image[..., :2] / image[..., 2:], camera[..., 2]


def _shifted_pixels(resolution: int, K: Any, R: Any, t: Any, shift: float):
    pixels, depth = _projected(resolution, K, R, t)
    return pixels + shift, depth


def _camera_image(resolution: int, K: Any, R: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
    return _to_camera(_grid(resolution), K, R, t)


#: Wrong answers ``(pixels, depth)``: only the parts of an answer that are wrong are compared.
_PROJECT_MISTAKES = {
    "the voxels' corners, not their centres, were projected: voxel idx has its centre "
    "at -0.5 + (idx + 0.5) / R": (
        lambda resolution, K, R, t: _pair(*_to_camera(_grid(resolution, 0.0), K, R, t))
    ),
    "the first two grid axes are swapped: np.meshgrid's default indexing='xy' puts y "
    "first; grid[i, j, k] must be the point (x_i, y_j, z_k) (indexing='ij')": (
        lambda resolution, K, R, t: _pair(*_to_camera(_grid(resolution, indexing="xy"), K, R, t))
    ),
    "the grid spans [0, 1]^3: it is centred at the origin, [-0.5, 0.5]^3": (
        lambda resolution, K, R, t: _pair(*_to_camera(_grid(resolution) + 0.5, K, R, t))
    ),
    "the pixels are off by half a pixel: with K as given, (K x_cam)[:2] / z is already "
    "the pixel coordinate (pixel (i, j)'s centre is at (j + 0.5, i + 0.5)), so nothing "
    "is added or subtracted": (
        lambda resolution, K, R, t: _shifted_pixels(resolution, K, R, t, -0.5)
    ),
    "the pixels are off by half a pixel: (K x_cam)[:2] / z is already the pixel "
    "coordinate, with pixel centres at j + 0.5; do not add 0.5 again": (
        lambda resolution, K, R, t: _shifted_pixels(resolution, K, R, t, 0.5)
    ),
    "x and y are swapped: the first coordinate is x, the column (u), the second y, the row (v)": (
        lambda resolution, K, R, t: (
            _projected(resolution, K, R, t)[0][..., ::-1],
            _projected(resolution, K, R, t)[1],
        )
    ),
    "the rotation is transposed: x_cam = R x; with points as rows [N, 3] that is "
    "points @ R.T, not points @ R": (
        lambda resolution, K, R, t: _pair(*_camera_image(resolution, K, R.T, t))
    ),
    "the pixels are not divided by z: a pinhole camera divides (K x_cam)[:2] by the depth": (
        lambda resolution, K, R, t: (
            _camera_image(resolution, K, R, t)[1][..., :2],
            _camera_image(resolution, K, R, t)[0][..., 2],
        )
    ),
    "the translation was subtracted before rotating, R (x - t): the camera maps x_cam = R x + t": (
        lambda resolution, K, R, t: _pair(*_to_camera(_grid(resolution) - t, K, R, np.zeros(3)))
    ),
    "the translation t is missing: x_cam = R x + t": (
        lambda resolution, K, R, t: _pair(*_camera_image(resolution, K, R, np.zeros(3)))
    ),
    "the depth is the camera z coordinate, not the distance from the camera": (
        lambda resolution, K, R, t: (
            _projected(resolution, K, R, t)[0],
            np.linalg.norm(_camera_image(resolution, K, R, t)[0], axis=-1),
        )
    ),
}


def _explain_projection(
    pixels: np.ndarray | None, depth: np.ndarray | None, wrong: tuple[bool, bool], case: Case
) -> str | None:
    """The first mistake reproducing the parts (pixels, depth) that are wrong."""
    want_pixels, want_depth = case.expected
    resolution = case.args[0]
    if pixels is not None and wrong[0] and pixels.shape != want_pixels.shape:
        if pixels.shape == (resolution**3, 2):
            return "the pixels were flattened: keep the grid's shape, [R, R, R, 2]"
        if pixels.shape == want_pixels.shape[:-1] + (3,):
            return "keep only the two pixel coordinates (K x_cam)[:2] / z, not the third"
        return f"the pixels must have the shape [R, R, R, 2] = {want_pixels.shape}"
    if depth is not None and wrong[1] and depth.shape != want_depth.shape:
        if depth.shape == want_depth.shape + (1,):
            return "the depth has a trailing axis of 1: return [R, R, R]"
        return f"the depth must have the shape [R, R, R] = {want_depth.shape}"
    with np.errstate(all="ignore"):
        for (wrong_pixels, wrong_depth), text in wrong_answers(_PROJECT_MISTAKES, case):
            if (not wrong[0] or _close(pixels, wrong_pixels, case)) and (
                not wrong[1] or _close(depth, wrong_depth, case)
            ):
                return text
    return None


def _close(have: np.ndarray | None, want: np.ndarray, case: Case) -> bool:
    return matches(have, want, case.rtol, case.atol)


def _compare_projection(got: Any, case: Case) -> str | None:
    want_pixels, want_depth = case.expected
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        have = float_array(got)
        if have is not None and have.shape == want_depth.shape + (3,):
            return (
                f"expected the pair (pixels {want_pixels.shape}, depth {want_depth.shape}), got "
                f"one array of shape {have.shape}: return (pixels, depth) as two arrays"
            )
        shape = f"one array of shape {have.shape}" if have is not None else type(got).__name__
        return (
            f"expected the pair (pixels {want_pixels.shape}, depth {want_depth.shape}), got {shape}"
        )
    parts = [float_array(part) for part in got]
    messages = [
        compare_values(got[k] if parts[k] is None else parts[k], want, case.rtol, case.atol)
        for k, want in enumerate((want_pixels, want_depth))
    ]
    if messages == [None, None]:
        return None
    message = "; ".join(
        f"{name}: {text}" for name, text in zip(("pixels", "depth"), messages, strict=True) if text
    )
    wrong = (messages[0] is not None, messages[1] is not None)
    if any(part is None for part, bad in zip(parts, wrong, strict=True) if bad):
        return message
    explanation = _explain_projection(parts[0], parts[1], wrong, case)
    return f"{message} ({explanation})" if explanation else message


PROJECT_VOXEL_CENTRES = define(
    TOPIC,
    "project_voxel_centres",
    _project_cases,
    _compare_projection,
    mistakes=_PROJECT_MISTAKES,
    title="Project the voxel centres into a camera",
    references=[unprojection.project_points, unprojection.voxel_centres],
)


# --- unproject_features ------------------------------------------------------------------------

_UNPROJECT_HINT = (
    "Project the centres as in exercise 1. A voxel is valid when z > 0, 0 <= u < W and "
    "0 <= v < H; others get zeros. For a valid one, take the continuous pixel indices "
    "col = u - 0.5 and row = v - 0.5 (pixel centres at integers), clamp them to [0, W - 1] and "
    "[0, H - 1], and blend the four pixels around them: floor and floor + 1 on each axis "
    "(floor + 1 clamped to the last pixel), weighted by the fractional parts."
)


def unproject_features_reference(
    features: Any, K: Any, R: Any, t: Any, resolution: int
) -> np.ndarray:
    """The library's unprojection of one view, float64 `[R, R, R, C]`."""
    features, K, R, t = (tf.constant(a, tf.float64) for a in (features, K, R, t))
    grid = unprojection.unproject(
        features[tf.newaxis, tf.newaxis], K, R, t, resolution, depth_channel=False
    )
    return grid[0, 0].numpy()


def _unproject_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    for index, (resolution, K, R, t, height, width, text) in enumerate(_camera_cases(rng)):
        channels = int(rng.integers(1, 5))
        features = rng.normal(size=(height, width, channels))
        if index == 1:
            features = features.astype(np.float32)
            text += ", float32 features"
        settings.append((features, K, R, t, resolution, f"{text}, C = {channels}"))
    return reference_cases(
        settings, unproject_features_reference, hint=_UNPROJECT_HINT, rtol=1e-4, atol=1e-4
    )


def _masks(
    features: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The projected voxel centres `[R, R, R, 2]`, and which project into the image and lie in
    front of the camera, `[R, R, R]` each."""
    height, width = features.shape[:2]
    pixels, depth = _projected(resolution, K, R, t)
    u, v = pixels[..., 0], pixels[..., 1]
    return pixels, (u >= 0) & (u < width) & (v >= 0) & (v < height), depth > 0


def _sampled(features, K, R, t, resolution, keep="both", **sampling: Any) -> np.ndarray:
    """The samples (:func:`~course_lib.grading.cases.bilinear_variant`'s ``sampling``) kept
    where ``keep`` says: ``"both"`` (in the image and in front), ``"image"``, ``"front"``,
    ``"inner"`` (in front, and inside the outermost pixel centres) or ``"all"``."""
    pixels, in_image, in_front = _masks(features, K, R, t, resolution)
    height, width = features.shape[:2]
    u, v = pixels[..., 0], pixels[..., 1]
    inner = (u >= 0.5) & (u <= width - 0.5) & (v >= 0.5) & (v <= height - 0.5)
    kept = {
        "both": in_image & in_front,
        "image": in_image,
        "front": in_front,
        "inner": inner & in_front,
        "all": np.ones_like(in_front),
    }[keep]
    return bilinear_variant(features, pixels, **sampling) * kept[..., None]


def _nan_outside(features, K, R, t, resolution) -> np.ndarray:
    """The samples, NaN (not zero) where a voxel is behind the camera or outside the image."""
    pixels, in_image, in_front = _masks(features, K, R, t, resolution)
    return np.where((in_image & in_front)[..., None], bilinear_variant(features, pixels), np.nan)


def _other_size(have: np.ndarray, case: Case) -> bool:
    return other_shape(have, case) and have.size == np.size(case.expected)


_UNPROJECT_MISTAKES = {
    "one channel too many: no depth channel here, only the C sampled features": Mistake(
        lambda features, K, R, t, resolution: np.concatenate(
            [
                _sampled(features, K, R, t, resolution),
                _projected(resolution, K, R, t)[1][..., None],
            ],
            axis=-1,
        ),
        match="shape",
    ),
    "reshape the samples to the grid, [R, R, R, C] = {want}": Mistake(
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution).reshape(
            -1, features.shape[-1]
        ),
        match=_other_size,
        fields=shapes,
    ),
    "wrong shape: one C-vector per voxel, [R, R, R, C] = {want}": Mistake(
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution)[..., 0],
        match=other_shape,
        fields=shapes,
    ),
    "NaN or Inf: voxels behind the camera or outside the image must get exact zeros": Mistake(
        _nan_outside, match=not_finite
    ),
    "nearest-pixel sampling: blend the four nearest pixel centres bilinearly instead "
    "of taking the one pixel the point falls in": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, nearest=True)
    ),
    "off by half a pixel: pixel (i, j)'s value sits at its centre (j + 0.5, i + 0.5), "
    "so the continuous indices are u - 0.5 and v - 0.5 before the blending": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, shift=0.0)
    ),
    "off by half a pixel the other way: the continuous indices are u - 0.5 and "
    "v - 0.5, not u - 1 and v - 1": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, shift=1.0)
    ),
    "rows and columns are swapped: u (x) runs along the columns (axis 1 of features), "
    "v (y) along the rows (axis 0)": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, swap=True)
    ),
    "the border blends with zeros: within the image, points beyond the outermost pixel "
    "centres take the border pixels' values (clamp the indices), not a blend with 0": (
        lambda features, K, R, t, resolution: _sampled(
            features, K, R, t, resolution, zero_border=True
        )
    ),
    "voxels behind the camera (z <= 0) were sampled: they must get zeros, even when "
    "their projection falls inside the image": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, "image")
    ),
    "voxels projecting outside the image were given the clamped border values: "
    "outside 0 <= u < W, 0 <= v < H they must get zeros": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, "front")
    ),
    "nothing is masked: voxels behind the camera or projecting outside the image must get zeros": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, "all")
    ),
    "the outer half of the border pixels was zeroed: the image covers 0 <= u < W, "
    "0 <= v < H, and between the border pixel centres and the image edge the border "
    "value holds": (
        lambda features, K, R, t, resolution: _sampled(features, K, R, t, resolution, "inner")
    ),
    "the rotation is transposed: x_cam = R x + t, i.e. points @ R.T for rows of points": (
        lambda features, K, R, t, resolution: _sampled(features, K, R.T, t, resolution)
    ),
}


UNPROJECT_FEATURES = define(
    TOPIC,
    "unproject_features",
    _unproject_cases,
    mistakes=_UNPROJECT_MISTAKES,
    title="Unproject a feature map into the voxel grid",
    references=[unprojection.unproject],
)


# --- voxel_iou ---------------------------------------------------------------------------------

_IOU_HINT = (
    "Count the voxels occupied in both grids (logical and) and in either (logical or), per "
    "shape over the last three axes, and divide; where both grids are empty the IoU is 1. For "
    "a batch [N, R, R, R] average the N per-shape IoUs. The result is one number."
)


def voxel_iou_reference(predicted: Any, target: Any) -> np.ndarray:
    """``lsm.training.voxel_iou`` of 0/1 or bool grids `[R, R, R]` or `[N, R, R, R]`: a scalar."""
    predicted, target = np.asarray(predicted), np.asarray(target)
    if predicted.ndim == 3:
        predicted, target = predicted[None], target[None]
    return training.voxel_iou(predicted, target, from_logits=False).numpy()


def _blob(rng: np.random.Generator, resolution: int, fill: float) -> np.ndarray:
    """A random bool grid, smoothed so that it has solid parts (like a shape)."""
    noise = rng.uniform(size=(resolution,) * 3)
    for axis in range(3):
        noise = (noise + np.roll(noise, 1, axis) + np.roll(noise, -1, axis)) / 3
    return noise > np.quantile(noise, 1 - fill)


def _noisy(rng: np.random.Generator, grid: np.ndarray, flip: float) -> np.ndarray:
    return grid ^ (rng.uniform(size=grid.shape) < flip)


def _iou_cases(rng: np.random.Generator) -> list[Case]:
    shape = shapes3d.voxelize(shapes3d.make_shape(int(rng.integers(0, 2**31))), 12)
    prediction = _noisy(rng, shape, 0.08)
    random_a, random_b = rng.uniform(size=(2, 6, 6, 6)) < rng.uniform(0.2, 0.6, (2, 1, 1, 1))
    left = np.zeros((8, 8, 8), bool)
    left[:4] = True
    batch = np.stack([_blob(rng, 8, rng.uniform(0.1, 0.4)) for _ in range(4)])
    predicted_batch = np.stack([_noisy(rng, grid, 0.15) for grid in batch])
    predicted_batch[2] = batch[2] = False  # one shape with nothing in either grid: IoU 1
    predicted_batch[3] = _blob(rng, 8, 0.05)  # a small prediction: the IoUs differ widely
    settings = [
        (prediction, shape, "a voxelized random shape, R = 12, 8% of the voxels flipped"),
        (random_a.astype(np.float32), random_b.astype(np.float32), "random 0/1 float32 grids"),
        (np.zeros((5, 5, 5), bool), np.zeros((5, 5, 5), bool), "both empty: IoU = 1"),
        (np.ones((4, 4, 4), np.int64), np.ones((4, 4, 4), np.int64), "both full, 0/1 integers"),
        (left, ~left, "disjoint halves: IoU = 0"),
        (predicted_batch, batch, "a batch of 4 shapes (the third empty in both): the mean IoU"),
    ]  # fmt: skip
    return reference_cases(settings, voxel_iou_reference, hint=_IOU_HINT, rtol=1e-5, atol=1e-6)


def _ratios(predicted: np.ndarray, target: np.ndarray, empty: float) -> dict[str, np.ndarray]:
    """Per-shape ratios `[N]` of the intersection to various denominators."""
    axes = (1, 2, 3)
    p, t = predicted > 0.5, target > 0.5
    both = np.sum(p & t, axes).astype(np.float64)
    either = np.sum(p | t, axes).astype(np.float64)
    sizes = np.sum(p, axes) + np.sum(t, axes)

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.where(denominator > 0, numerator / np.maximum(denominator, 1), empty)

    return {
        "iou": ratio(both, either),
        "recall": ratio(both, np.sum(t, axes)),
        "precision": ratio(both, np.sum(p, axes)),
        "twice": ratio(both, sizes),
        "dice": ratio(2 * both, sizes),
        "pooled": np.array(np.sum(both) / max(np.sum(either), 1) if np.sum(either) else empty),
    }


def _batch_ratios(predicted: np.ndarray, target: np.ndarray, empty: float) -> dict:
    """:func:`_ratios` of a batch, or of one grid as a batch of one."""
    if predicted.ndim == 3:
        predicted, target = predicted[None], target[None]
    return _ratios(predicted, target, empty)


def _mean_ratio(name: str, empty: float = 1.0):
    """A wrong answer: the mean of the per-shape ratio ``name`` of :func:`_ratios`."""
    return lambda predicted, target: np.mean(_batch_ratios(predicted, target, empty)[name])


def _unguarded_iou(predicted: np.ndarray, target: np.ndarray) -> np.ndarray:
    p, t = predicted > 0.5, target > 0.5
    return np.mean(np.sum(p & t, axis=(-3, -2, -1)) / np.sum(p | t, axis=(-3, -2, -1)))


_IOU_MISTAKES = {
    "NaN: when both grids are empty the union is 0; define the IoU as 1 there": Mistake(
        _unguarded_iou, match=not_finite
    ),
    "average the per-shape IoUs: one number for the batch": Mistake(
        lambda predicted, target: (
            _batch_ratios(predicted, target, 1.0)["iou"] if predicted.ndim == 4 else None
        ),
        match="shape",
    ),
    "return one number (a scalar), not an array holding it": Mistake(
        lambda predicted, target: np.reshape(_mean_ratio("iou")(predicted, target), (1, 1)),
        match=lambda have, case: other_shape(have, case) and have.size == 1,
    ),
    "return one number (a scalar)": Mistake(
        lambda predicted, target: np.full(2, _mean_ratio("iou")(predicted, target)),
        match=other_shape,
    ),
    "where both grids are empty the IoU is defined as 1 (a perfect prediction of "
    "nothing), not 0": _mean_ratio("iou", empty=0.0),
    "divided by the target's occupied voxels only: that is the recall; the union "
    "counts the voxels occupied in either grid": _mean_ratio("recall"),
    "divided by the predicted occupied voxels only: that is the precision; the union "
    "counts the voxels occupied in either grid": _mean_ratio("precision"),
    "the union counts the overlap twice: |A| + |B| includes the intersection twice, "
    "so the union is |A| + |B| - |A and B| (or the count of A or B)": _mean_ratio("twice"),
    "that is the Dice coefficient 2|A and B| / (|A| + |B|), not the IoU": _mean_ratio("dice"),
    "that is 1 - IoU (the Jaccard distance): return the IoU itself": (
        lambda predicted, target: 1.0 - _mean_ratio("iou")(predicted, target)
    ),
    "the intersections and unions of the whole batch were summed before dividing: "
    "compute one IoU per shape, then average them": (
        lambda predicted, target: _batch_ratios(predicted, target, 1.0)["pooled"]
    ),
    "a single grid [R, R, R] was read as a batch of R slices: a 3-D input is one "
    "shape, with one IoU over all its voxels": (
        lambda predicted, target: (
            np.mean(_ratios(predicted[..., None], target[..., None], 1.0)["iou"])
            if predicted.ndim == 3
            else None
        )
    ),
}


VOXEL_IOU = define(
    TOPIC,
    "voxel_iou",
    _iou_cases,
    mistakes=_IOU_MISTAKES,
    title="Intersection over union of voxel grids",
    references=[training.voxel_iou],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (PROJECT_VOXEL_CENTRES, UNPROJECT_FEATURES, VOXEL_IOU)
