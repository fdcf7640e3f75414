"""Learnt Stereo Machine exercises: references pass, mistakes get specific feedback, stubs are
noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py. The
independent answers are NumPy (projection, IoU) and SciPy's ``map_coordinates`` (sampling).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy import ndimage

from course_lib import grading
from course_lib.grading.exercises import learnt_stereo_machine as exercises

REFERENCES = {
    "learnt_stereo_machine.project_voxel_centres": exercises.project_voxel_centres_reference,
    "learnt_stereo_machine.unproject_features": exercises.unproject_features_reference,
    "learnt_stereo_machine.voxel_iou": exercises.voxel_iou_reference,
}


def _centres(resolution, offset=0.5, indexing="ij"):
    axis = -0.5 + (np.arange(resolution) + offset) / resolution
    return np.stack(np.meshgrid(axis, axis, axis, indexing=indexing), -1)


def _project(resolution, K, R, t, centres=None, divide=True):
    """NumPy, point by point with einsum: pixels [R, R, R, 2], depth [R, R, R]."""
    K, R, t = (np.asarray(a, np.float64) for a in (K, R, t))
    points = _centres(resolution) if centres is None else centres
    camera = np.einsum("ij,...j->...i", R, points) + t
    image = np.einsum("ij,...j->...i", K, camera)
    with np.errstate(all="ignore"):  # a wrong camera may put a centre on its plane
        pixels = image[..., :2] / image[..., 2:] if divide else image[..., :2]
    return pixels, camera[..., 2]


def _project_tf(resolution, K, R, t):
    """TensorFlow in float32, the points as rows."""
    axis = -0.5 + (tf.range(resolution, dtype=tf.float32) + 0.5) / resolution
    points = tf.stack(tf.meshgrid(axis, axis, axis, indexing="ij"), -1)
    K, R, t = (tf.cast(a, tf.float32) for a in (K, R, t))
    camera = tf.matmul(tf.reshape(points, [-1, 3]), R, transpose_b=True) + t
    image = tf.matmul(camera, K, transpose_b=True)
    shape = [resolution] * 3
    return tf.reshape(image[:, :2] / image[:, 2:], [*shape, 2]), tf.reshape(camera[:, 2], shape)


def _unproject_scipy(features, K, R, t, resolution):
    """SciPy's linear interpolation with edge clamping at (v - 0.5, u - 0.5), then the mask."""
    features = np.asarray(features, np.float64)
    height, width, channels = features.shape
    pixels, depth = _project(resolution, K, R, t)
    u, v = pixels[..., 0], pixels[..., 1]
    valid = (depth > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    coordinates = np.stack([np.where(valid, v, 0.5) - 0.5, np.where(valid, u, 0.5) - 0.5])
    sampled = np.stack(
        [
            ndimage.map_coordinates(features[..., c], coordinates, order=1, mode="nearest")
            for c in range(channels)
        ],
        -1,
    )
    return np.where(valid[..., None], sampled, 0.0)


def _unproject_loop(features, K, R, t, resolution):
    """Voxel by voxel, with the four neighbours written out."""
    features = np.asarray(features, np.float64)
    height, width, channels = features.shape
    pixels, depth = _project(resolution, K, R, t)
    result = np.zeros((resolution,) * 3 + (channels,))
    for index in np.ndindex(*(resolution,) * 3):
        u, v = pixels[index]
        if depth[index] <= 0 or not (0 <= u < width and 0 <= v < height):
            continue
        x = min(max(u - 0.5, 0.0), width - 1)
        y = min(max(v - 0.5, 0.0), height - 1)
        j, i = int(x), int(y)
        j1, i1 = min(j + 1, width - 1), min(i + 1, height - 1)
        a, b = y - i, x - j
        result[index] = (
            (1 - a) * (1 - b) * features[i, j]
            + (1 - a) * b * features[i, j1]
            + a * (1 - b) * features[i1, j]
            + a * b * features[i1, j1]
        )
    return result


def _iou_numpy(predicted, target):
    predicted = np.asarray(predicted).astype(bool)
    target = np.asarray(target).astype(bool)
    if predicted.ndim == 3:
        predicted, target = predicted[None], target[None]
    ious = []
    for p, t in zip(predicted, target, strict=True):
        union = np.count_nonzero(p | t)
        ious.append(np.count_nonzero(p & t) / union if union else 1.0)
    return float(np.mean(ious))


def _iou_tf(predicted, target):
    p = tf.cast(predicted, tf.float32)
    t = tf.cast(target, tf.float32)
    axes = [-3, -2, -1]
    intersection = tf.reduce_sum(p * t, axes)
    union = tf.reduce_sum(p + t, axes) - intersection
    return tf.reduce_mean(tf.where(union > 0, intersection / tf.maximum(union, 1.0), 1.0))


CORRECT = {
    "learnt_stereo_machine.project_voxel_centres": [_project, _project_tf],
    "learnt_stereo_machine.unproject_features": [_unproject_scipy, _unproject_loop],
    "learnt_stereo_machine.voxel_iou": [_iou_numpy, _iou_tf],
}


# --- wrong answers ------------------------------------------------------------------------------


def _project_with(resolution, K, R, t, **kwargs):
    pixels, depth = _project(resolution, K, R, t, **kwargs)
    return pixels, depth


def _unproject_variant(sample, mask="both"):
    """``_unproject_loop`` with its sampling (x, y, features -> C) and masking replaced."""

    def answer(features, K, R, t, resolution):
        features = np.asarray(features, np.float64)
        height, width, channels = features.shape
        pixels, depth = _project(resolution, K, R, t)
        result = np.zeros((resolution,) * 3 + (channels,))
        for index in np.ndindex(*(resolution,) * 3):
            u, v = pixels[index]
            inside = 0 <= u < width and 0 <= v < height
            if mask in ("both", "front") and depth[index] <= 0:
                continue
            if mask in ("both", "image") and not inside:
                continue
            result[index] = sample(features, u, v)
        return result

    return answer


def _clamped_bilinear(features, x, y):
    height, width = features.shape[:2]
    x, y = min(max(x, 0.0), width - 1), min(max(y, 0.0), height - 1)
    j, i = int(np.floor(x)), int(np.floor(y))
    j1, i1 = min(j + 1, width - 1), min(i + 1, height - 1)
    a, b = y - i, x - j
    return (
        (1 - a) * (1 - b) * features[i, j]
        + (1 - a) * b * features[i, j1]
        + a * (1 - b) * features[i1, j]
        + a * b * features[i1, j1]
    )


def _zero_padded_bilinear(features, x, y):
    padded = np.pad(features, ((1, 1), (1, 1), (0, 0)))
    return _clamped_bilinear(padded, x + 1, y + 1)


def _nearest(features, u, v):
    height, width = features.shape[:2]
    return features[min(int(v), height - 1), min(int(u), width - 1)]


def _swapped(features, u, v):
    height, width = features.shape[:2]
    # the row from u, the column from v, each clamped to that axis's size
    return _clamped_bilinear(features, min(v - 0.5, width - 1), min(u - 0.5, height - 1))


def _unproject_transposed(features, K, R, t, resolution):
    return _unproject_loop(features, K, np.asarray(R).T, t, resolution)


def _iou_over_target(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    return np.count_nonzero(p & t) / max(np.count_nonzero(t), 1) if t.any() else 1.0


def _iou_twice(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    axes = tuple(range(p.ndim - 3, p.ndim))
    both = np.sum(p & t, axes)
    total = np.sum(p, axes) + np.sum(t, axes)
    return np.mean(np.where(total > 0, both / np.maximum(total, 1), 1.0))


def _iou_empty_zero(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    axes = tuple(range(p.ndim - 3, p.ndim))
    union = np.sum(p | t, axes)
    return np.mean(np.where(union > 0, np.sum(p & t, axes) / np.maximum(union, 1), 0.0))


def _iou_nan(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    axes = tuple(range(p.ndim - 3, p.ndim))
    with np.errstate(all="ignore"):
        return np.mean(np.sum(p & t, axes) / np.sum(p | t, axes))


def _iou_per_shape(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    axes = tuple(range(p.ndim - 3, p.ndim))
    union = np.sum(p | t, axes)
    return np.where(union > 0, np.sum(p & t, axes) / np.maximum(union, 1), 1.0)


def _iou_pooled(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    union = np.count_nonzero(p | t)
    return np.count_nonzero(p & t) / union if union else 1.0


def _iou_last_two_axes(predicted, target):
    p, t = np.asarray(predicted) > 0.5, np.asarray(target) > 0.5
    union = np.sum(p | t, (-2, -1))
    return np.mean(np.where(union > 0, np.sum(p & t, (-2, -1)) / np.maximum(union, 1), 1.0))


_P = "learnt_stereo_machine.project_voxel_centres"
_U = "learnt_stereo_machine.unproject_features"
_I = "learnt_stereo_machine.voxel_iou"

WRONG = [
    (
        _P,
        lambda r, K, R, t: _project(r, K, R, t, centres=_centres(r, 0.0)),
        "corners, not their centres",
    ),
    (
        _P,
        lambda r, K, R, t: _project(r, K, R, t, centres=_centres(r, indexing="xy")),
        "indexing='ij'",
    ),
    (_P, lambda r, K, R, t: _project(r, K, R, t, centres=_centres(r) + 0.5), "[0, 1]^3"),
    (_P, lambda r, K, R, t: (_project(r, K, R, t)[0] - 0.5, _project(r, K, R, t)[1]), "half a"),
    (_P, lambda r, K, R, t: (_project(r, K, R, t)[0] + 0.5, _project(r, K, R, t)[1]), "half a"),
    (
        _P,
        lambda r, K, R, t: (_project(r, K, R, t)[0][..., ::-1], _project(r, K, R, t)[1]),
        "x and y are swapped",
    ),
    (_P, lambda r, K, R, t: _project(r, K, np.asarray(R).T, t), "rotation is transposed"),
    (_P, lambda r, K, R, t: _project(r, K, R, t, divide=False), "not divided by z"),
    (
        _P,
        lambda r, K, R, t: _project(r, K, R, np.zeros(3), centres=_centres(r) - t),
        "subtracted before rotating",
    ),
    (_P, lambda r, K, R, t: _project(r, K, R, np.zeros(3)), "translation t is missing"),
    (
        _P,
        lambda r, K, R, t: (
            _project(r, K, R, t)[0],
            np.linalg.norm(_centres(r) @ np.asarray(R, np.float64).T + t, axis=-1),
        ),
        "not the distance",
    ),
    (
        _P,
        lambda r, K, R, t: np.concatenate(
            [_project(r, K, R, t)[0], _project(r, K, R, t)[1][..., None]], -1
        ),
        "two arrays",
    ),
    (
        _P,
        lambda r, K, R, t: (_project(r, K, R, t)[0].reshape(-1, 2), _project(r, K, R, t)[1]),
        "flattened",
    ),
    (
        _P,
        lambda r, K, R, t: (_project(r, K, R, t)[0], _project(r, K, R, t)[1][..., None]),
        "trailing axis",
    ),
    (_U, _unproject_variant(_nearest), "nearest-pixel sampling"),
    (
        _U,
        _unproject_variant(lambda f, u, v: _clamped_bilinear(f, u, v)),
        "off by half a pixel",
    ),
    (_U, _unproject_variant(_swapped), "rows and columns are swapped"),
    (
        _U,
        _unproject_variant(lambda f, u, v: _zero_padded_bilinear(f, u - 0.5, v - 0.5)),
        "blends with zeros",
    ),
    (
        _U,
        _unproject_variant(lambda f, u, v: _clamped_bilinear(f, u - 0.5, v - 0.5), "image"),
        "behind the camera (z <= 0) were sampled",
    ),
    (
        _U,
        _unproject_variant(lambda f, u, v: _clamped_bilinear(f, u - 0.5, v - 0.5), "front"),
        "outside the image were given",
    ),
    (
        _U,
        _unproject_variant(lambda f, u, v: _clamped_bilinear(f, u - 0.5, v - 0.5), "none"),
        "must get zeros",  # the first failing case has no voxel behind the camera
    ),
    (_U, _unproject_transposed, "rotation is transposed"),
    (
        _U,
        lambda f, K, R, t, r: np.concatenate(
            [_unproject_loop(f, K, R, t, r), _project(r, K, R, t)[1][..., None]], -1
        ),
        "no depth channel",
    ),
    (
        _U,
        lambda f, K, R, t, r: _unproject_loop(f, K, R, t, r).reshape(r**3, -1),
        "reshape the samples",
    ),
    (_I, _iou_over_target, "recall"),
    (_I, lambda p, t: _iou_over_target(t, p), "precision"),
    (_I, _iou_twice, "counts the overlap twice"),
    (_I, lambda p, t: 2 * _iou_twice(p, t), "Dice"),
    (_I, lambda p, t: 1.0 - _iou_numpy(p, t), "Jaccard distance"),
    (_I, _iou_empty_zero, "defined as 1"),
    (_I, _iou_nan, "NaN"),
    (_I, _iou_per_shape, "average the per-shape IoUs"),
    (_I, _iou_pooled, "summed before dividing"),
    (_I, _iou_last_two_axes, "batch of R slices"),
]


def _cases(exercise_id, seed=0):
    return grading.get_exercise(exercise_id).make_cases(np.random.default_rng(seed))


def test_cases_include_voxels_behind_the_camera_and_outside_the_image():
    for seed in (0, 7):
        assert any(np.any(case.expected[1] < 0) for case in _cases(_P, seed))
        outside = []
        for case in _cases(_U, seed):
            features, K, R, t, resolution = case.args
            height, width = np.asarray(features).shape[:2]
            pixels, depth = _project(resolution, K, R, t)
            u, v = pixels[..., 0], pixels[..., 1]
            outside.append(np.any(((u < 0) | (u >= width) | (v < 0) | (v >= height)) & (depth > 0)))
        assert any(outside)


def test_unprojection_cases_mask_voxels_that_project_into_the_image_from_behind():
    for seed in (0, 7):
        features, K, R, t, resolution = _cases(_U, seed)[3].args
        height, width = np.asarray(features).shape[:2]
        pixels, depth = _project(resolution, K, R, t)
        u, v = pixels[..., 0], pixels[..., 1]
        in_image = (u >= 0) & (u < width) & (v >= 0) & (v < height)
        assert np.any(in_image & (depth < 0)) and np.any(in_image & (depth > 0))


def test_unprojection_cases_sample_within_the_border_half_pixels():
    """Some voxels fall between a border pixel centre and the image edge, where the rule
    (clamp, not zero) decides."""
    features, K, R, t, resolution = _cases(_U)[4].args
    height, width = np.asarray(features).shape[:2]
    pixels, depth = _project(resolution, K, R, t)
    u, v = pixels[..., 0], pixels[..., 1]
    border = ((u < 0.5) | (u > width - 0.5) | (v < 0.5) | (v > height - 0.5)) & (depth > 0)
    assert np.any(border & (u >= 0) & (u < width) & (v >= 0) & (v < height))


def test_the_library_unprojection_matches_the_projection_exercise():
    """Both exercises' references agree on the grid: the voxel whose centre projects to a pixel
    centre takes that pixel's value."""
    K = np.array([[4.0, 0.0, 2.0], [0.0, 4.0, 2.0], [0.0, 0.0, 1.0]])
    R, t = np.eye(3), np.array([0.0, 0.0, 2.0])
    features = np.arange(16.0).reshape(4, 4, 1)
    pixels, _ = exercises.project_voxel_centres_reference(2, K, R, t)
    grid = exercises.unproject_features_reference(features, K, R, t, 2)
    for index in np.ndindex(2, 2, 2):
        u, v = pixels[index]
        expected = _clamped_bilinear(features, u - 0.5, v - 0.5)
        np.testing.assert_allclose(grid[index], expected, atol=1e-12)


def test_iou_cases_cover_empty_full_disjoint_and_a_batch():
    values = [float(case.expected) for case in _cases(_I)]
    assert 1.0 in values and 0.0 in values
    shapes = [np.asarray(case.args[0]).shape for case in _cases(_I)]
    assert any(len(shape) == 4 for shape in shapes)
    empty = [c for c in _cases(_I) if not np.any(c.args[0]) and not np.any(c.args[1])]
    assert empty and all(float(c.expected) == 1.0 for c in empty)


def test_iou_reference_against_numpy_on_random_batches():
    rng = np.random.default_rng(3)
    predicted = rng.uniform(size=(5, 4, 4, 4)) < 0.4
    target = rng.uniform(size=(5, 4, 4, 4)) < 0.4
    predicted[1] = target[1] = False
    np.testing.assert_allclose(
        exercises.voxel_iou_reference(predicted, target), _iou_numpy(predicted, target), 1e-6
    )
