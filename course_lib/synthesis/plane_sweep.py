"""Plane-sweep stereo: the classical, learning-free way to get depth from the same warp.

For each candidate depth ``z_k`` the other image is warped into the target as if every pixel
were at depth ``z_k`` (:func:`~.warp.inverse_warp` of a fronto-parallel plane); the depth of a
pixel is the candidate whose warp explains it best, judged by :func:`~.losses.photometric_error`
averaged over a small window (winner takes all). It is analysis by synthesis without a network
and without training: the baseline a learnt depth should beat.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from course_lib import checks
from course_lib.synthesis.losses import photometric_error
from course_lib.synthesis.warp import inverse_warp


def plane_sweep_depth(
    target: np.ndarray,
    source: np.ndarray,
    K: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    depths: np.ndarray,
    window: int = 1,
) -> np.ndarray:
    """The depth of every target pixel chosen among ``depths`` by the photometric error.

    Args:
        target, source: `[B, H, W, 3]` images in [0, 1].
        K: `[B, 3, 3]` intrinsics; R `[B, 3, 3]`, t `[B, 3]` the target-to-source motion.
        depths: `[D]` candidate depths, all > 0.
        window: the odd side of the box over which each pixel's error is averaged (>= 1; 1:
            the pixel's own error, which already looks at 3 x 3 through SSIM).

    Returns:
        float32 `[B, H, W]` depths, each one of ``depths``. Pixels that no candidate maps
        inside the source get the largest candidate.
    """
    depths = np.asarray(depths, np.float32)
    if depths.ndim != 1 or not len(depths) or not np.all(depths > 0):
        raise ValueError(f"depths must be a non-empty 1-D array of positive depths, got {depths}")
    window = checks.integer("window", window, minimum=1)
    if window % 2 == 0:
        raise ValueError(f"window must be odd, got {window}")
    target = tf.convert_to_tensor(target, tf.float32)
    source = tf.convert_to_tensor(source, tf.float32)
    costs = []
    for depth in depths:
        plane = tf.fill(tf.shape(target)[:3], depth)
        warped, mask = inverse_warp(source, plane, K, R, t)
        error = photometric_error(target, warped)
        error = tf.where(mask > 0, error, 1.0)  # the largest error: leaving the image never wins
        costs.append(tf.nn.avg_pool2d(error[..., None], window, 1, "SAME")[..., 0])
    return depths[tf.argmin(tf.stack(costs, -1), axis=-1).numpy()]
