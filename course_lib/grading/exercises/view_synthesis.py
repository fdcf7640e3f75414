"""Exercises of the chapter "View synthesis: analysis by synthesis" (book/part2/08_view_synthesis).

- ``backproject(depth, K)``: every pixel of a depth map `[H, W]` lifted to its camera point
  ``z K^-1 [j + 0.5, i + 0.5, 1]`` (pixel centres): `[H, W, 3]`;
- ``warp(source, depth, K, R, t)``: the inverse warp of a static scene: the source image
  `[H, W, C]` sampled bilinearly (between pixel centres, clamped to the border pixels) where each
  target pixel, back-projected by its depth and moved by ``x' = R x + t``, projects into the
  source camera; and the validity mask `[H, W]` (1 where ``z' > 0`` and the projection is inside
  ``[0, W) x [0, H)``). Warped values where the mask is 0 are not graded;
- ``photometric_loss(target, warped, mask)``: the mean over the valid pixels of
  ``0.85 (1 - SSIM) / 2 + 0.15 |target - warped|`` (channel mean; SSIM over 3 x 3 box windows
  with reflected borders), 0 when no pixel is valid.

Expected answers come from ``course_lib.synthesis`` (``backproject``, ``inverse_warp``,
``photometric_loss``) on a batch of one image, in float64. The drawn cameras keep every
projection at least :data:`_MIN_BORDER` pixels from the image's border and every moved point at
least :data:`_MIN_DEPTH` from the camera plane, so that rounding never decides a case; edge
cases: points that move behind the source camera (and project into the image through the
centre), a 3 x 4 image, float32 inputs, a K with skew, an empty mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

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
from course_lib.synthesis import losses
from course_lib.synthesis import warp as synthesis_warp

TOPIC = "view_synthesis"

#: The smallest |camera z| of a moved point, and the smallest distance of a projection from the
#: image's border (pixels), in the drawn warp cases: rounding never decides a case.
_MIN_DEPTH = 0.05
_MIN_BORDER = 1e-3
#: The weight of the SSIM term in the photometric error.
ALPHA = losses.ALPHA


def _intrinsics(rng: np.random.Generator, height: int, width: int, skew: float = 0.0) -> np.ndarray:
    """A pinhole K: focal lengths about the image's size (fx != fy), principal point off-centre."""
    focal = rng.uniform(0.8, 1.4) * max(height, width)
    fy = focal * rng.uniform(0.85, 1.15)
    cx, cy = rng.uniform(0.35, 0.65) * width, rng.uniform(0.35, 0.65) * height
    return np.array([[focal, skew, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def _rotation(rng: np.random.Generator, degrees: float) -> np.ndarray:
    """A rotation by at most ``degrees`` about a random axis (Rodrigues)."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.radians(rng.uniform(-degrees, degrees))
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * cross + (1.0 - np.cos(angle)) * cross @ cross


def _centres(height: int, width: int, offset: float = 0.5) -> np.ndarray:
    """float64 `[H, W, 3]` homogeneous pixel positions ``(j + offset, i + offset, 1)``."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64) + offset
    return np.stack([cols, rows, np.ones_like(rows)], -1)


# --- backproject -------------------------------------------------------------------------------

_BACKPROJECT_HINT = (
    "Build the pixel centres (u, v, 1) = (j + 0.5, i + 0.5, 1) for row i and column j (e.g. "
    "rows, cols = np.mgrid[0:H, 0:W] + 0.5, then np.stack([cols, rows, ones], axis=-1)), "
    "multiply them by K^-1 (pixels @ np.linalg.inv(K).T for rows of pixels) and scale each ray "
    "by its pixel's depth: depth[..., None] * rays. The result is [H, W, 3] and its z equals "
    "the depth."
)


def backproject_reference(depth: Any, K: Any) -> np.ndarray:
    """The library's camera points `[H, W, 3]` of a depth map `[H, W]`, float64."""
    depth, K = (tf.constant(np.asarray(a, np.float64)) for a in (depth, K))
    return synthesis_warp.backproject(depth[tf.newaxis], K)[0].numpy()


def _backproject_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    height, width = 6, 8
    settings.append(
        (rng.uniform(1.0, 5.0, (height, width)), _intrinsics(rng, height, width),
         f"a random {height} x {width} depth map in [1, 5]")
    )  # fmt: skip
    side = 5
    settings.append(
        (rng.uniform(0.5, 3.0, (side, side)).astype(np.float32),
         _intrinsics(rng, side, side).astype(np.float32),
         f"a {side} x {side} image, float32 depth and K")
    )  # fmt: skip
    settings.append((rng.uniform(1.0, 2.0, (2, 3)), _intrinsics(rng, 2, 3), "a tiny 2 x 3 image"))
    height, width = 12, 7
    settings.append(
        (np.exp(rng.uniform(np.log(0.5), np.log(50.0), (height, width))),
         _intrinsics(rng, height, width),
         f"a {height} x {width} image (taller than wide), depths from 0.5 to 50")
    )  # fmt: skip
    height, width = 4, 6
    K = _intrinsics(rng, height, width, skew=rng.uniform(0.5, 2.0))
    settings.append(
        (rng.uniform(1.0, 4.0, (height, width)), K,
         f"a {height} x {width} image, K with a skew term K[0, 1] = {K[0, 1]:.2f}")
    )  # fmt: skip
    return reference_cases(
        settings, backproject_reference, hint=_BACKPROJECT_HINT, rtol=1e-5, atol=1e-6
    )


def _lifted(depth: np.ndarray, K: np.ndarray, offset: float = 0.5, matrix=None, order=None):
    """``depth * (pixels @ matrix.T)`` of the pixel positions ``(j + offset, i + offset, 1)``
    (``order``: a permutation of those coordinates); ``matrix`` is K^-1 unless given."""
    pixels = _centres(*depth.shape, offset)
    if order is not None:
        pixels = pixels[..., order]
    matrix = np.linalg.inv(K) if matrix is None else matrix
    return depth[..., None] * (pixels @ matrix.T)


def _rays(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """K^-1 [u, v, 1] of every pixel centre: the rays whose z is 1."""
    return _centres(*depth.shape) @ np.linalg.inv(K).T


def _skew_ignored(depth: np.ndarray, K: np.ndarray) -> np.ndarray | None:
    if K[0, 1] == 0.0:
        return None
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    u, v = _centres(*depth.shape)[..., 0], _centres(*depth.shape)[..., 1]
    return depth[..., None] * np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], -1)


_BACKPROJECT_MISTAKES = {
    "the coordinates go last: [H, W, 3] = {want} (np.stack(..., axis=-1))": Mistake(
        lambda depth, K: np.moveaxis(_lifted(depth, K), -1, 0), match="shape", fields=shapes
    ),
    "the points were flattened: keep the image's shape, [H, W, 3] = {want}": Mistake(
        lambda depth, K: _lifted(depth, K).reshape(-1, 3), match="shape", fields=shapes
    ),
    "return all three coordinates (x, y, z), z included (it equals the depth)": Mistake(
        lambda depth, K: _lifted(depth, K)[..., :2], match="shape"
    ),
    "no batch axis: one depth map [H, W] gives [H, W, 3] = {want}": Mistake(
        lambda depth, K: _lifted(depth, K)[None], match="shape", fields=shapes
    ),
    "the result is transposed: row i, column j goes to [i, j], [H, W, 3] = {want}": Mistake(
        lambda depth, K: _lifted(depth, K).transpose(1, 0, 2), match="shape", fields=shapes
    ),
    "one 3-D point per pixel: [H, W, 3] = {want}": Mistake(
        lambda depth, K: _lifted(depth, K)[..., None], match=other_shape, fields=shapes
    ),
    "the pixels' corners were back-projected, not their centres: pixel (i, j) has its "
    "centre at (u, v) = (j + 0.5, i + 0.5)": lambda depth, K: _lifted(depth, K, 0.0),
    "off by half a pixel: pixel (i, j)'s centre is at (j + 0.5, i + 0.5), not (j + 1, "
    "i + 1)": lambda depth, K: _lifted(depth, K, 1.0),
    "rows and columns are swapped: u = j + 0.5 comes from the column (along the width) "
    "and is the first coordinate, v = i + 0.5 from the row": (
        lambda depth, K: _lifted(depth, K, order=[1, 0, 2])
    ),
    "multiplied by K instead of K^-1: K maps camera points to pixels, back-projection "
    "undoes it with np.linalg.inv(K)": lambda depth, K: _lifted(depth, K, matrix=K),
    "the rays are not scaled by the depth: multiply K^-1 [u, v, 1] (whose z is 1) by "
    "each pixel's depth": _rays,
    "K^-1 is transposed (or multiplied from the wrong side): for pixels as rows "
    "[..., 3] the product K^-1 p is pixels @ np.linalg.inv(K).T": (
        lambda depth, K: _lifted(depth, K, matrix=np.linalg.inv(K).T)
    ),
    "the depth is the camera z coordinate, not the distance along the ray: scale "
    "K^-1 [u, v, 1] (whose z is 1) without normalizing it": (
        lambda depth, K: (
            depth[..., None]
            * _rays(depth, K)
            / np.linalg.norm(_rays(depth, K), axis=-1, keepdims=True)
        )
    ),
    "K's skew term K[0, 1] was ignored: x = (u - cx) / fx holds only for a K without "
    "skew; multiply by the full inverse np.linalg.inv(K)": _skew_ignored,
}


BACKPROJECT = define(
    TOPIC,
    "backproject",
    _backproject_cases,
    mistakes=_BACKPROJECT_MISTAKES,
    title="Back-project a depth map to camera points",
    references=[synthesis_warp.backproject],
)


# --- warp --------------------------------------------------------------------------------------

_WARP_HINT = (
    "Back-project the target's pixel centres by their depth (exercise 1), move the points into "
    "the source camera (points @ R.T + t), multiply by K and divide by the third coordinate: "
    "(u, v). The mask is 1 where the moved z > 0 and 0 <= u < W and 0 <= v < H. Sample the "
    "source bilinearly at the continuous indices x = u - 0.5 (column) and y = v - 0.5 (row), "
    "clamped to [0, W - 1] and [0, H - 1]: blend the pixels floor and floor + 1 (clamped) of "
    "each axis with the fractional parts. Return (warped [H, W, C], mask [H, W])."
)


def warp_reference(
    source: Any, depth: Any, K: Any, R: Any, t: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The library's ``inverse_warp`` of one image, float64: ``(warped [H, W, C], mask [H, W])``."""
    source, depth, K, R, t = (
        tf.constant(np.asarray(a, np.float64)) for a in (source, depth, K, R, t)
    )
    warped, mask = synthesis_warp.inverse_warp(
        source[tf.newaxis], depth[tf.newaxis], K, R[tf.newaxis], t[tf.newaxis]
    )
    return warped[0].numpy(), mask[0].numpy()


def _moved(
    depth: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """float64 ``(pixels [H, W, 2], z [H, W])`` of the target pixels in the source camera."""
    K, R, t = (np.asarray(a, np.float64) for a in (K, R, t))
    height, width = np.shape(depth)
    points = np.asarray(depth, np.float64)[..., None] * (
        _centres(height, width) @ np.linalg.inv(K).T
    )
    moved = points @ R.T + t
    image = moved @ K.T
    return image[..., :2] / image[..., 2:], moved[..., 2]


def _well_posed(depth: np.ndarray, K: np.ndarray, R: np.ndarray, t: np.ndarray) -> bool:
    """No moved point near the camera plane, no projection near the image's border."""
    height, width = np.shape(depth)
    pixels, z = _moved(depth, K, R, t)
    u, v = pixels[..., 0], pixels[..., 1]
    border = min(np.min(np.abs(u)), np.min(np.abs(u - width)))
    border = min(border, np.min(np.abs(v)), np.min(np.abs(v - height)))
    return np.min(np.abs(z)) > _MIN_DEPTH and border > _MIN_BORDER


def _drawn(rng: np.random.Generator, draw) -> tuple[np.ndarray, ...]:
    """``draw(rng)`` -> (source, depth, K, R, t), redrawn until it is well posed."""
    while True:
        source, depth, K, R, t = draw(rng)
        if _well_posed(depth, K, R, t):
            return source, depth, K, R, t


def _scene(height: int, width: int, channels: int, degrees: float, shift: float):
    """A draw: a random source, depths in [2, 4], a rotation and a translation of the sizes."""

    def draw(rng: np.random.Generator):
        source = rng.random((height, width, channels))
        depth = rng.uniform(2.0, 4.0, (height, width))
        K = _intrinsics(rng, height, width)
        return source, depth, K, _rotation(rng, degrees), rng.uniform(-shift, shift, 3)

    return draw


def _forward(height: int, width: int, channels: int):
    """A draw whose camera moves 2 units forward: the left half of the target (depth about 1)
    ends up behind it (z' about -1) and projects into the image through the centre; the right
    half (depth 6 to 8) stays in front, partly inside the image."""

    def draw(rng: np.random.Generator):
        source = rng.random((height, width, channels))
        depth = rng.uniform(6.0, 8.0, (height, width))
        depth[:, : width // 2] = rng.uniform(0.8, 1.2, (height, width // 2))
        K = _intrinsics(rng, height, width)
        t = np.array([0.0, 0.0, -2.0]) + rng.uniform(-0.05, 0.05, 3)
        return source, depth, K, _rotation(rng, 2.0), t

    return draw


def _warp_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    source, depth, K, R, t = _drawn(rng, _scene(16, 20, 3, 5.0, 0.3))
    settings.append(
        (source, depth, K, R, t, "a 16 x 20 RGB image, depths in [2, 4], a small camera motion")
    )
    source, depth, K, R, _ = _drawn(rng, _scene(12, 12, 1, 8.0, 0.0))
    settings.append(
        (*(a.astype(np.float32) for a in (source, depth, K, R)), np.zeros(3, np.float32),
         "a 12 x 12 grey image, float32, a pure rotation (t = 0)")
    )  # fmt: skip
    settings.append(
        (*_drawn(rng, _forward(10, 14, 2)),
         "10 x 14, C = 2, the camera moves 2 forward: the near left half (depth about 1) ends "
         "up behind it, and projects into the image through the centre")
    )  # fmt: skip
    settings.append((*_drawn(rng, _scene(3, 4, 3, 3.0, 0.1)), "a tiny 3 x 4 image"))
    source, depth, K, R, _ = _drawn(rng, _scene(9, 15, 3, 2.0, 0.0))
    t = np.array([rng.uniform(0.5, 0.8), rng.uniform(-0.2, 0.2), 0.0])
    while not _well_posed(depth, K, R, t):
        t[2] = rng.uniform(-0.01, 0.01)
    settings.append(
        (source, depth, K, R, t, "9 x 15, a sideways move: a third of the pixels leave the image")
    )
    return reference_cases(settings, warp_reference, hint=_WARP_HINT, rtol=1e-4, atol=1e-4)


def _warp_variant(
    source: np.ndarray,
    depth: np.ndarray,
    K: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    *,
    offset: float = 0.5,
    divide: bool = True,
    front: bool = True,
    inside: bool = True,
    **sampling: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The warp (float64) with one step done differently; ``sampling`` as
    :func:`~course_lib.grading.cases.bilinear_variant`'s."""
    height, width = depth.shape
    points = depth[..., None] * (_centres(height, width, offset) @ np.linalg.inv(K).T)
    moved = points @ R.T + t
    image = moved @ K.T
    z = moved[..., 2]
    pixels = image[..., :2] / image[..., 2:] if divide else image[..., :2]
    u, v = pixels[..., 0], pixels[..., 1]
    valid = np.ones_like(z, dtype=bool)
    if front:
        valid &= z > 0
    if inside:
        valid &= (u >= 0) & (u < width) & (v >= 0) & (v < height)
    return bilinear_variant(source, pixels, **sampling), valid.astype(np.float64)


def _variant(**kwargs: Any):
    """A wrong answer: :func:`_warp_variant` with ``kwargs``."""
    return lambda source, depth, K, R, t: _warp_variant(source, depth, K, R, t, **kwargs)


#: Wrong answers ``(warped, mask)``: only the parts of an answer that are wrong are compared.
_WARP_MISTAKES = {
    "nothing is masked: the mask is 0 where the moved point is behind the source "
    "camera (z <= 0) or projects outside the image": (
        lambda source, depth, K, R, t: (
            _warp_variant(source, depth, K, R, t)[0],
            np.ones_like(depth),
        )
    ),
    "the mask misses the points behind the source camera: where the moved z <= 0 the "
    "mask is 0, even when the projection (divided by a negative z) falls inside the image": (
        _variant(front=False)
    ),
    "the mask misses the points that project outside the image: it is 1 only where "
    "0 <= u < W and 0 <= v < H": _variant(inside=False),
    "the rotation is transposed: a target point x is at R x + t in the source camera, "
    "i.e. points @ R.T + t for rows of points": (
        lambda source, depth, K, R, t: _warp_variant(source, depth, K, R.T, t)
    ),
    "the motion is inverted: R, t map target-camera points into the source camera, "
    "x' = R x + t; R^T (x - t) goes the other way": (
        lambda source, depth, K, R, t: _warp_variant(source, depth, K, R.T, -R.T @ t)
    ),
    "the translation has the wrong sign: x' = R x + t": (
        lambda source, depth, K, R, t: _warp_variant(source, depth, K, R, -t)
    ),
    "the translation t is missing: x' = R x + t": (
        lambda source, depth, K, R, t: _warp_variant(source, depth, K, R, np.zeros(3))
    ),
    "nearest-pixel sampling: blend the four source pixels around (u, v) bilinearly "
    "instead of taking the one pixel it falls in": _variant(nearest=True),
    "the projection is not divided by z: (u, v) = (K x')[:2] / (K x')[2]": _variant(divide=False),
    "the samples are off by half a pixel: pixel (i, j)'s value sits at its centre "
    "(j + 0.5, i + 0.5), so the continuous indices are u - 0.5 and v - 0.5": _variant(shift=0.0),
    "the target's pixel corners were back-projected, not their centres (j + 0.5, i + 0.5)": (
        _variant(offset=0.0)
    ),
    "rows and columns are swapped in the sampling: u runs along the columns (axis 1 of "
    "source), v along the rows (axis 0)": _variant(swap=True),
    "the border blends with zeros: inside the image, beyond the outermost pixel "
    "centres, the border pixels' values hold (clamp the indices to [0, W - 1] and "
    "[0, H - 1])": _variant(zero_border=True),
    "the depth is not used: back-project each pixel's ray K^-1 [u, v, 1] scaled by its "
    "depth (exercise 1) before moving it": (
        lambda source, depth, K, R, t: _warp_variant(source, np.ones_like(depth), K, R, t)
    ),
}


def _valid_only(
    warped: np.ndarray | None, want_warped: np.ndarray, want_mask: np.ndarray
) -> np.ndarray | None:
    """``warped`` with the expected values where the expected mask is 0 (those are not graded)."""
    if warped is None or warped.shape != want_warped.shape:
        return warped
    return np.where(want_mask[..., None] > 0, warped, want_warped)


def _explain_warp(
    warped: np.ndarray | None, mask: np.ndarray | None, wrong: tuple[bool, bool], case: Case
) -> str | None:
    """The first mistake reproducing the parts (warped, mask) that are wrong."""
    want_warped, want_mask = case.expected
    if warped is not None and wrong[0] and warped.shape != want_warped.shape:
        if warped.shape == (1, *want_warped.shape):
            return "no batch axis: one image [H, W, C] gives warped [H, W, C]"
        if warped.shape == want_warped.shape[:2]:
            return "keep the channels: warped is [H, W, C], one value per source channel"
        return f"warped must have the source's shape [H, W, C] = {want_warped.shape}"
    if mask is not None and wrong[1] and mask.shape != want_mask.shape:
        if mask.shape == (*want_mask.shape, 1):
            return "the mask has a trailing axis of 1: return [H, W]"
        if mask.shape == want_warped.shape:
            return "one mask value per pixel, not per channel: [H, W]"
        return f"the mask must have the shape [H, W] = {want_mask.shape}"
    if not wrong[0] and wrong[1] and mask is not None and np.all(np.isin(mask, (0.0, 1.0))):
        inverted = matches(mask, 1.0 - want_mask, case.rtol, case.atol)
        if inverted:
            return "the mask is inverted: 1 marks the valid pixels"
    with np.errstate(all="ignore"):
        for (wrong_warped, wrong_mask), text in wrong_answers(_WARP_MISTAKES, case):
            shown = _valid_only(wrong_warped, want_warped, want_mask)
            if (not wrong[0] or matches(warped, shown, case.rtol, case.atol)) and (
                not wrong[1] or matches(mask, wrong_mask, case.rtol, case.atol)
            ):
                return text
    return None


def _compare_warp(got: Any, case: Case) -> str | None:
    want_warped, want_mask = case.expected
    pair = f"the pair (warped {want_warped.shape}, mask {want_mask.shape})"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        have = float_array(got)
        if have is not None and have.shape == want_warped.shape:
            return f"expected {pair}, got one array of shape {have.shape}: return the mask too"
        shape = f"one array of shape {have.shape}" if have is not None else type(got).__name__
        if isinstance(got, (tuple, list)):
            shape = f"a {type(got).__name__} of {len(got)} items"
        return f"expected {pair}, got {shape}"
    parts = [float_array(part) for part in got]
    shown = [_valid_only(parts[0], want_warped, want_mask), parts[1]]
    messages = [
        compare_values(got[k] if shown[k] is None else shown[k], want, case.rtol, case.atol)
        for k, want in enumerate((want_warped, want_mask))
    ]
    if messages == [None, None]:
        return None
    message = "; ".join(
        f"{name}: {text}" for name, text in zip(("warped", "mask"), messages, strict=True) if text
    )
    if (
        messages[0]
        and not messages[1]
        and (shown[0] is not None and shown[0].shape == want_warped.shape)
    ):
        message += " (only pixels where the mask is 1 are compared)"
    wrong = (messages[0] is not None, messages[1] is not None)
    if any(part is None for part, bad in zip(parts, wrong, strict=True) if bad):
        return message
    explanation = _explain_warp(shown[0], parts[1], wrong, case)
    return f"{message} ({explanation})" if explanation else message


WARP = define(
    TOPIC,
    "warp",
    _warp_cases,
    _compare_warp,
    mistakes=_WARP_MISTAKES,
    title="Inverse-warp a source image into the target view",
    references=[synthesis_warp.inverse_warp],
)


# --- photometric_loss --------------------------------------------------------------------------

_LOSS_HINT = (
    "Per pixel and channel: SSIM from 3 x 3 box means (np.pad(..., mode='reflect') by one pixel, "
    "then the mean of the nine shifted copies) of x, y, x^2, y^2 and x y, with C1 = 0.01^2 and "
    "C2 = 0.03^2; the error is 0.85 * clip((1 - SSIM) / 2, 0, 1) + 0.15 * |target - warped|, "
    "averaged over the channels. The loss is sum(error * mask) / max(sum(mask), 1): one number, "
    "0 when no pixel is valid."
)


def photometric_loss_reference(target: Any, warped: Any, mask: Any) -> np.ndarray:
    """The library's masked photometric loss of one image pair, float64: a scalar."""
    target, warped, mask = (tf.constant(np.asarray(a, np.float64)) for a in (target, warped, mask))
    return losses.photometric_loss(
        target[tf.newaxis], warped[tf.newaxis], mask[tf.newaxis], alpha=ALPHA
    ).numpy()


def _smooth_image(rng: np.random.Generator, height: int, width: int, channels: int) -> np.ndarray:
    """A smooth random image in [0, 1] (a few sinusoids per channel)."""
    rows, cols = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.zeros((height, width, channels))
    for _ in range(3):
        fr, fc = rng.uniform(1.0, 4.0, 2)
        phase = rng.uniform(0, 2 * np.pi, channels)
        image += np.sin(2 * np.pi * (fr * rows + fc * cols)[..., None] + phase)
    return np.clip(0.5 + image / 6.0, 0.0, 1.0)


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    settings = []
    target = rng.random((10, 12, 3))
    warped = np.clip(target + rng.normal(0.0, 0.1, target.shape), 0.0, 1.0)
    mask = (rng.random((10, 12)) < 0.7).astype(np.float64)
    settings.append((target, warped, mask, "10 x 12 RGB, noisy copy, 70% of the pixels valid"))
    target = _smooth_image(rng, 8, 8, 1)
    settings.append(
        (target, 0.8 * target + 0.1, np.ones((8, 8)),
         "8 x 8 grey, a brightness change (0.8 x + 0.1), every pixel valid")
    )  # fmt: skip
    target = _smooth_image(rng, 9, 11, 3)
    warped = np.roll(target, 1, axis=1)
    mask = np.ones((9, 11))
    mask[:, : int(rng.integers(2, 4))] = 0.0
    settings.append(
        (target.astype(np.float32), warped.astype(np.float32), mask.astype(np.float32),
         "9 x 11 RGB, float32, shifted by a pixel, the left columns invalid")
    )  # fmt: skip
    target = rng.random((2, 3, 3))
    settings.append(
        (target, rng.random((2, 3, 3)), np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]),
         "a tiny 2 x 3 image")
    )  # fmt: skip
    target = rng.random((6, 7, 2))
    settings.append(
        (target, rng.random((6, 7, 2)), np.zeros((6, 7)), "no valid pixel: the loss is 0")
    )
    return reference_cases(
        settings, photometric_loss_reference, hint=_LOSS_HINT, rtol=1e-5, atol=1e-7
    )


def _box(image: np.ndarray, mode: str) -> np.ndarray:
    height, width = image.shape[:2]
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode=mode)
    return sum(padded[i : i + height, j : j + width] for i in range(3) for j in range(3)) / 9.0


def _ssim(x: np.ndarray, y: np.ndarray, mode: str = "reflect") -> np.ndarray:
    mx, my = _box(x, mode), _box(y, mode)
    sx, sy = _box(x * x, mode) - mx * mx, _box(y * y, mode) - my * my
    sxy = _box(x * y, mode) - mx * my
    c1, c2 = losses.SSIM_C1, losses.SSIM_C2
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2))


def _error(
    target: np.ndarray,
    warped: np.ndarray,
    *,
    alpha: float = ALPHA,
    halve: bool = True,
    clip: bool = True,
    mode: str = "reflect",
    channels: str = "mean",
) -> np.ndarray:
    dssim = 1.0 - _ssim(target, warped, mode)
    if halve:
        dssim = dssim / 2.0
    if clip:
        dssim = np.clip(dssim, 0.0, 1.0)
    error = alpha * dssim + (1.0 - alpha) * np.abs(target - warped)
    return error.sum(-1) if channels == "sum" else error.mean(-1)


def _masked_mean(error: np.ndarray, mask: np.ndarray) -> float:
    return float(np.sum(error * mask) / max(np.sum(mask), 1.0))


def _masked(**options: Any):
    """A wrong answer: the masked mean of :func:`_error` with ``options``."""
    return lambda target, warped, mask: _masked_mean(_error(target, warped, **options), mask)


_LOSS_MISTAKES = {
    "NaN or Inf: when no pixel is valid, sum(mask) is 0; divide by max(sum(mask), 1)": Mistake(
        lambda target, warped, mask: np.sum(_error(target, warped) * mask) / np.sum(mask),
        match=not_finite,
    ),
    "that is the per-pixel error map: return its masked mean, one number": Mistake(
        lambda target, warped, mask: _error(target, warped) * mask, match="shape"
    ),
    "return one number (a scalar), not an array holding it": Mistake(
        lambda target, warped, mask: np.reshape(_masked_mean(_error(target, warped), mask), (1, 1)),
        match=lambda have, case: other_shape(have, case) and have.size == 1,
    ),
    "return one number (a scalar)": Mistake(
        lambda target, warped, mask: _error(target, warped).mean(axis=0), match=other_shape
    ),
    "only the L1 term: the error is 0.85 (1 - SSIM) / 2 + 0.15 |target - warped|": (
        lambda target, warped, mask: _masked_mean(np.abs(target - warped).mean(-1), mask)
    ),
    "only the SSIM term: add 0.15 |target - warped| to 0.85 (1 - SSIM) / 2": _masked(alpha=1.0),
    "the weights are swapped: 0.85 goes to the SSIM term, 0.15 to the L1 term": (
        _masked(alpha=1.0 - ALPHA)
    ),
    "the SSIM term is not halved: (1 - SSIM) / 2 maps SSIM in [-1, 1] to [0, 1]": Mistake(
        _masked(halve=False), _masked(halve=False, clip=False)
    ),
    "the mask is ignored: average the error over the valid pixels only (mask 1)": (
        lambda target, warped, mask: float(np.mean(_error(target, warped)))
    ),
    "the masked error was averaged over all H x W pixels: divide sum(error * mask) by "
    "the number of valid pixels, sum(mask)": (
        lambda target, warped, mask: float(np.mean(_error(target, warped) * mask))
    ),
    "the SSIM windows at the border repeat the edge pixel (np.pad mode 'symmetric' or "
    "'edge', scipy's mode 'reflect'): reflect without repeating it, np.pad(..., "
    "mode='reflect')": _masked(mode="symmetric"),
    "the SSIM windows at the border are padded with zeros: reflect the image instead, "
    "np.pad(..., mode='reflect')": _masked(mode="constant"),
    "the channels were summed: average the error over the channels": _masked(channels="sum"),
}


PHOTOMETRIC_LOSS = define(
    TOPIC,
    "photometric_loss",
    _loss_cases,
    mistakes=_LOSS_MISTAKES,
    title="The masked photometric loss (SSIM + L1)",
    references=[losses.photometric_loss, losses.photometric_error, losses.ssim],
)

#: What this module exports to the exercise registry, in the chapter's order.
EXERCISES = (BACKPROJECT, WARP, PHOTOMETRIC_LOSS)
