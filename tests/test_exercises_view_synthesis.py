"""View synthesis exercises: references pass, mistakes get specific feedback, stubs and hostile
answers are noticed.

The tables (``REFERENCES``, ``CORRECT``, ``WRONG``) are run by test_exercises_common.py. The
independent answers are NumPy point by point and TensorFlow (back-projection), SciPy's
``map_coordinates`` and a pixel loop (warp), SciPy's ``uniform_filter`` and TensorFlow's
``avg_pool2d`` (photometric loss).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy import ndimage

from course_lib import grading
from course_lib.grading.exercises import view_synthesis as exercises

REFERENCES = {
    "view_synthesis.backproject": exercises.backproject_reference,
    "view_synthesis.warp": exercises.warp_reference,
    "view_synthesis.photometric_loss": exercises.photometric_loss_reference,
}

_B = "view_synthesis.backproject"
_W = "view_synthesis.warp"
_L = "view_synthesis.photometric_loss"


# --- independent answers -----------------------------------------------------------------------


def _backproject_loop(depth, K, offset=0.5, swap=False, inverse=True, scale=True):
    """Pixel by pixel with np.linalg.solve; the keywords make the typical mistakes."""
    depth, K = np.asarray(depth, np.float64), np.asarray(K, np.float64)
    height, width = depth.shape
    points = np.zeros((height, width, 3))
    for i, j in np.ndindex(height, width):
        u, v = j + offset, i + offset
        if swap:
            u, v = v, u
        pixel = np.array([u, v, 1.0])
        ray = np.linalg.solve(K, pixel) if inverse else K @ pixel
        points[i, j] = ray * depth[i, j] if scale else ray
    return points


def _backproject_tf(depth, K):
    """TensorFlow in float32, the pixels as rows."""
    depth, K = tf.cast(depth, tf.float32), tf.cast(K, tf.float32)
    height, width = depth.shape
    rows, cols = tf.meshgrid(tf.range(height, dtype=tf.float32) + 0.5,
                             tf.range(width, dtype=tf.float32) + 0.5, indexing="ij")  # fmt: skip
    pixels = tf.stack([cols, rows, tf.ones_like(rows)], -1)
    return depth[..., None] * tf.matmul(pixels, tf.linalg.inv(K), transpose_b=True)


def _project(depth, K, R, t):
    """Pixels [H, W, 2] and camera z [H, W] of the target pixels in the source camera."""
    K, R, t = (np.asarray(a, np.float64) for a in (K, R, t))
    points = _backproject_loop(depth, K)
    moved = np.einsum("ij,hwj->hwi", R, points) + t
    image = np.einsum("ij,hwj->hwi", K, moved)
    return image[..., :2] / image[..., 2:], moved[..., 2]


def _valid(pixels, z, height, width):
    u, v = pixels[..., 0], pixels[..., 1]
    return (z > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)


def _warp_scipy(source, depth, K, R, t):
    """SciPy's linear interpolation with edge replication at (v - 0.5, u - 0.5), then the mask."""
    source = np.asarray(source, np.float64)
    height, width, channels = source.shape
    pixels, z = _project(depth, K, R, t)
    coordinates = np.stack([pixels[..., 1] - 0.5, pixels[..., 0] - 0.5])
    warped = np.stack(
        [
            ndimage.map_coordinates(source[..., c], coordinates, order=1, mode="nearest")
            for c in range(channels)
        ],
        -1,
    )
    return warped, _valid(pixels, z, height, width).astype(np.float64)


def _clamped_bilinear(source, x, y):
    height, width = source.shape[:2]
    x, y = min(max(x, 0.0), width - 1), min(max(y, 0.0), height - 1)
    j, i = int(np.floor(x)), int(np.floor(y))
    j1, i1 = min(j + 1, width - 1), min(i + 1, height - 1)
    a, b = y - i, x - j
    return (
        (1 - a) * (1 - b) * source[i, j]
        + (1 - a) * b * source[i, j1]
        + a * (1 - b) * source[i1, j]
        + a * b * source[i1, j1]
    )


def _warp_loop(source, depth, K, R, t, sample=None, mask="both", motion=None):
    """Pixel by pixel; ``sample(source, u, v)``, the masking and the motion replaceable."""
    source = np.asarray(source, np.float64)
    K, R, t = (np.asarray(a, np.float64) for a in (K, R, t))
    if motion is not None:
        R, t = motion(R, t)
    height, width = source.shape[:2]
    sample = sample or (lambda s, u, v: _clamped_bilinear(s, u - 0.5, v - 0.5))
    warped = np.zeros_like(source)
    valid = np.zeros((height, width))
    inverse = np.linalg.inv(K)
    for i, j in np.ndindex(height, width):
        point = depth[i, j] * (inverse @ np.array([j + 0.5, i + 0.5, 1.0]))
        moved = R @ point + t
        u, v, w = K @ moved
        u, v = u / w, v / w
        inside = 0 <= u < width and 0 <= v < height
        ok = {"both": moved[2] > 0 and inside, "image": inside, "front": moved[2] > 0}.get(mask, 1)
        valid[i, j] = float(ok)
        warped[i, j] = sample(source, u, v)
    return warped, valid


def _box(image, mode):
    return ndimage.uniform_filter(np.asarray(image, np.float64), size=(3, 3, 1), mode=mode)


def _error_scipy(target, warped, mode="mirror", alpha=0.85, halve=True):
    """The per-pixel error map `[H, W]`; scipy's "mirror" border is np.pad's "reflect" (the
    edge pixel not repeated)."""
    x, y = np.asarray(target, np.float64), np.asarray(warped, np.float64)
    mx, my = _box(x, mode), _box(y, mode)
    sx, sy, sxy = _box(x * x, mode) - mx**2, _box(y * y, mode) - my**2, _box(x * y, mode) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sx + sy + c2))
    dssim = np.clip((1 - ssim) / 2 if halve else 1 - ssim, 0, 1)
    return np.mean(alpha * dssim + (1 - alpha) * np.abs(x - y), axis=-1)


def _loss_scipy(target, warped, mask, mode="mirror", alpha=0.85, halve=True, use_mask=True):
    """The masked mean of :func:`_error_scipy`."""
    mask = np.asarray(mask, np.float64)
    error = _error_scipy(target, warped, mode, alpha, halve)
    if not use_mask:
        return float(error.mean())
    return float(np.sum(error * mask) / max(np.sum(mask), 1.0))


def _loss_tf(target, warped, mask):
    """TensorFlow: reflect-padded avg_pool2d, in float64 (as the learner may well do)."""
    x = tf.cast(target, tf.float64)[None]
    y = tf.cast(warped, tf.float64)[None]
    mask = tf.cast(mask, tf.float64)

    def box(a):
        return tf.nn.avg_pool2d(
            tf.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT"), 3, 1, "VALID"
        )

    mx, my = box(x), box(y)
    sx, sy, sxy = box(x * x) - mx * mx, box(y * y) - my * my, box(x * y) - mx * my
    ssim = ((2 * mx * my + 1e-4) * (2 * sxy + 9e-4)) / (
        (mx * mx + my * my + 1e-4) * (sx + sy + 9e-4)
    )
    error = tf.reduce_mean(
        0.85 * tf.clip_by_value((1 - ssim) / 2, 0, 1) + 0.15 * tf.abs(x - y), axis=-1
    )[0]
    return tf.reduce_sum(error * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


CORRECT = {
    _B: [_backproject_loop, _backproject_tf],
    _W: [_warp_scipy, _warp_loop],
    _L: [_loss_scipy, _loss_tf],
}


# --- wrong answers ------------------------------------------------------------------------------


def _nearest(source, u, v):
    height, width = source.shape[:2]
    return source[
        min(max(int(np.floor(v)), 0), height - 1), min(max(int(np.floor(u)), 0), width - 1)
    ]


def _zero_padded(source, u, v):
    padded = np.pad(source, ((1, 1), (1, 1), (0, 0)))
    return _clamped_bilinear(padded, u + 0.5, v + 0.5)


def _swapped(source, u, v):
    height, width = source.shape[:2]
    return _clamped_bilinear(source, min(v - 0.5, width - 1), min(u - 0.5, height - 1))


def _warp_without_divide(source, depth, K, R, t):
    source = np.asarray(source, np.float64)
    height, width = source.shape[:2]
    points = _backproject_loop(depth, K)
    moved = points @ np.asarray(R, np.float64).T + np.asarray(t, np.float64)
    pixels = (moved @ np.asarray(K, np.float64).T)[..., :2]
    warped = np.zeros_like(source)
    for i, j in np.ndindex(height, width):
        u, v = pixels[i, j]
        warped[i, j] = _clamped_bilinear(source, u - 0.5, v - 0.5)
    return warped, _valid(pixels, moved[..., 2], height, width)


def _warp_corners(source, depth, K, R, t):
    """The target pixels' corners back-projected (and the rest right)."""
    source = np.asarray(source, np.float64)
    height, width = source.shape[:2]
    K, R, t = (np.asarray(a, np.float64) for a in (K, R, t))
    points = _backproject_loop(depth, K, offset=0.0)
    moved = points @ R.T + t
    image = moved @ K.T
    pixels = image[..., :2] / image[..., 2:]
    warped = np.zeros_like(source)
    for i, j in np.ndindex(height, width):
        warped[i, j] = _clamped_bilinear(source, pixels[i, j, 0] - 0.5, pixels[i, j, 1] - 0.5)
    return warped, _valid(pixels, moved[..., 2], height, width)


def _ssim_edge_loss(target, warped, mask):
    return _loss_scipy(target, warped, mask, mode="nearest")


def _loss_nan_when_empty(target, warped, mask):
    error = _error_scipy(target, warped)
    with np.errstate(all="ignore"):
        return float(np.sum(error * mask) / np.sum(mask))


def _loss_map(target, warped, mask):
    return _error_scipy(target, warped) * np.asarray(mask)


WRONG = [
    (_B, lambda d, K: _backproject_loop(d, K, offset=0.0), "corners were back-projected"),
    (_B, lambda d, K: _backproject_loop(d, K, offset=1.0), "not (j + 1"),
    (_B, lambda d, K: _backproject_loop(d, K, swap=True), "rows and columns are swapped"),
    (_B, lambda d, K: _backproject_loop(d, K, inverse=False), "instead of K^-1"),
    (_B, lambda d, K: _backproject_loop(d, K, scale=False), "not scaled by the depth"),
    (
        _B,
        lambda d, K: (
            np.asarray(d)[..., None] * (exercises._centres(*np.shape(d)) @ np.linalg.inv(K))
        ),
        "K^-1 is transposed",
    ),
    (
        _B,
        lambda d, K: (
            np.asarray(d)[..., None]
            * _backproject_loop(np.ones_like(d), K)
            / np.linalg.norm(_backproject_loop(np.ones_like(d), K), axis=-1, keepdims=True)
        ),
        "not the distance along the ray",
    ),
    (
        _B,
        lambda d, K: (
            np.stack(
                [
                    (np.mgrid[0 : np.shape(d)[0], 0 : np.shape(d)[1]][1] + 0.5 - K[0][2]) / K[0][0],
                    (np.mgrid[0 : np.shape(d)[0], 0 : np.shape(d)[1]][0] + 0.5 - K[1][2]) / K[1][1],
                    np.ones(np.shape(d)),
                ],
                -1,
            )
            * np.asarray(d)[..., None]
        ),
        "skew term",
    ),
    (_B, lambda d, K: np.moveaxis(_backproject_loop(d, K), -1, 0), "coordinates go last"),
    (_B, lambda d, K: _backproject_loop(d, K).reshape(-1, 3), "flattened"),
    (_B, lambda d, K: _backproject_loop(d, K)[..., :2], "all three coordinates"),
    (_B, lambda d, K: _backproject_loop(d, K)[None], "no batch axis"),
    (_B, lambda d, K: "points", "got shape ()"),
    (
        _W,
        lambda s, d, K, R, t: (_warp_loop(s, d, K, R, t)[0], np.ones(np.shape(d))),
        "nothing is masked",
    ),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, mask="image"),
        "misses the points behind the source camera",
    ),
    (_W, lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, mask="front"), "outside the image"),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, motion=lambda R, t: (R.T, t)),
        "rotation is transposed",
    ),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, motion=lambda R, t: (R.T, -R.T @ t)),
        "the motion is inverted",
    ),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, motion=lambda R, t: (R, -t)),
        "wrong sign",
    ),
    (_W, lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, sample=_nearest), "nearest-pixel"),
    (_W, _warp_without_divide, "not divided by z"),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, sample=_clamped_bilinear),
        "off by half a pixel",
    ),
    (_W, _warp_corners, "pixel corners"),
    (_W, lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, sample=_swapped), "rows and columns"),
    (
        _W,
        lambda s, d, K, R, t: _warp_loop(s, d, K, R, t, sample=_zero_padded),
        "blends with zeros",
    ),
    (_W, lambda s, d, K, R, t: _warp_loop(s, np.ones_like(d), K, R, t), "depth is not used"),
    (
        _W,
        lambda s, d, K, R, t: (_warp_scipy(s, d, K, R, t)[0], 1 - _warp_scipy(s, d, K, R, t)[1]),
        "mask is inverted",
    ),
    (_W, lambda s, d, K, R, t: _warp_scipy(s, d, K, R, t)[0], "return the mask too"),
    (_W, lambda s, d, K, R, t: (*_warp_scipy(s, d, K, R, t), 0.0), "a tuple of 3 items"),
    (
        _W,
        lambda s, d, K, R, t: (
            _warp_scipy(s, d, K, R, t)[0],
            _warp_scipy(s, d, K, R, t)[1][..., None],
        ),
        "trailing axis of 1",
    ),
    (
        _W,
        lambda s, d, K, R, t: (_warp_scipy(s, d, K, R, t)[0][None], _warp_scipy(s, d, K, R, t)[1]),
        "no batch axis",
    ),
    (_W, lambda s, d, K, R, t: ("warped", "mask"), "warped: expected"),
    (_W, lambda s, d, K, R, t: None, "got NoneType"),
    (_W, lambda s, d, K, R, t: {"warped": s, "mask": d}, "got dict"),
    (
        _W,
        lambda s, d, K, R, t: (np.full(np.shape(s), np.nan), _warp_scipy(s, d, K, R, t)[1]),
        "warped: expected",
    ),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, alpha=0.0), "only the L1 term"),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, alpha=1.0), "only the SSIM term"),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, alpha=0.15), "weights are swapped"),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, halve=False), "not halved"),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, use_mask=False), "the mask is ignored"),
    (
        _L,
        lambda x, y, m: float(np.mean(_loss_map(x, y, m))),
        "averaged over all H x W pixels",
    ),
    (_L, _ssim_edge_loss, "repeat the edge pixel"),
    (_L, lambda x, y, m: _loss_scipy(x, y, m, mode="constant"), "padded with zeros"),
    (_L, _loss_nan_when_empty, "max(sum(mask), 1)"),
    (_L, _loss_map, "per-pixel error map"),
    (_L, lambda x, y, m: np.array([_loss_scipy(x, y, m)]), "not an array holding it"),
    (_L, lambda x, y, m: "0.1", "expected dtype"),
]


# --- the cases ----------------------------------------------------------------------------------


def _cases(exercise_id, seed=0):
    return grading.get_exercise(exercise_id).make_cases(np.random.default_rng(seed))


def test_warp_cases_are_well_posed_and_cover_the_edge_cases():
    """No projection within 1e-3 px of the border nor moved point near the camera plane; some
    points behind the camera project into the image, some leave it, some land between the
    border pixel centres and the image's edge (where clamping decides)."""
    for seed in (0, 7):
        behind_inside = leaving = border = False
        for case in _cases(_W, seed):
            source, depth, K, R, t = case.args
            height, width = np.shape(depth)
            pixels, z = _project(depth, K, R, t)
            u, v = pixels[..., 0], pixels[..., 1]
            gaps = [np.abs(u), np.abs(u - width), np.abs(v), np.abs(v - height)]
            assert np.min(gaps) > 1e-3 and np.min(np.abs(z)) > 0.05, case.description
            in_image = (u >= 0) & (u < width) & (v >= 0) & (v < height)
            behind_inside |= bool(np.any(in_image & (z < 0)))
            leaving |= bool(np.any(~in_image & (z > 0)))
            rim = (u < 0.5) | (u > width - 0.5) | (v < 0.5) | (v > height - 0.5)
            border |= bool(np.any(rim & in_image & (z > 0)))
            assert np.any(case.expected[1] > 0), case.description
        assert behind_inside and leaving and border


def test_the_warp_reference_reproduces_the_source_without_motion():
    rng = np.random.default_rng(1)
    source = rng.random((5, 7, 2))
    K = np.array([[6.0, 0.0, 3.5], [0.0, 6.0, 2.5], [0.0, 0.0, 1.0]])
    warped, mask = exercises.warp_reference(
        source, rng.uniform(1, 3, (5, 7)), K, np.eye(3), np.zeros(3)
    )
    np.testing.assert_allclose(warped, source, atol=1e-12)
    assert mask.min() == 1.0


def test_only_valid_pixels_of_the_warp_are_graded():
    """Any value where the mask is 0 passes (the library's is the border pixel (0, 0))."""

    def noisy_outside(source, depth, K, R, t):
        warped, mask = _warp_scipy(source, depth, K, R, t)
        return np.where(mask[..., None] > 0, warped, np.nan), mask.astype(bool)

    result = grading.grade(grading.get_exercise(_W), noisy_outside, seed=0)
    assert result.status == "passed", result.feedback


def test_backprojection_cases_include_float32_a_tiny_image_and_skew():
    cases = _cases(_B)
    assert any(np.asarray(c.args[0]).dtype == np.float32 for c in cases)
    assert any(np.shape(c.args[0]) == (2, 3) for c in cases)
    assert any(np.asarray(c.args[1])[0, 1] != 0 for c in cases)
    for case in cases:
        np.testing.assert_allclose(case.expected[..., 2], case.args[0], rtol=1e-6)


def test_loss_cases_include_an_empty_mask_and_the_references_agree():
    cases = _cases(_L)
    assert any(not np.any(c.args[2]) and float(c.expected) == 0.0 for c in cases)
    for case in cases:
        want = exercises.photometric_loss_reference(*case.args)
        assert float(want) == float(case.expected)
        np.testing.assert_allclose(_loss_scipy(*case.args), want, rtol=1e-6, atol=1e-9)
