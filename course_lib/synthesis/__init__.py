"""Analysis by synthesis (issue 16, in progress): images explained by warping other images.

- :mod:`.warp`: :func:`~.warp.backproject` (depth map -> camera points) and the differentiable
  :func:`~.warp.inverse_warp` (target pixels back-projected by depth, moved by 3D flow and the
  camera motion, projected into the source frame and sampled bilinearly, with a validity mask).
- :mod:`.losses`: :func:`~.losses.ssim`, :func:`~.losses.photometric_error` and
  :func:`~.losses.photometric_loss` (L1 + SSIM), :func:`~.losses.smoothness_loss` (edge-aware).
"""

from course_lib.synthesis import losses, warp
from course_lib.synthesis.losses import photometric_error, photometric_loss, smoothness_loss, ssim
from course_lib.synthesis.warp import backproject, inverse_warp

__all__ = [
    "backproject",
    "inverse_warp",
    "losses",
    "photometric_error",
    "photometric_loss",
    "smoothness_loss",
    "ssim",
    "warp",
]
