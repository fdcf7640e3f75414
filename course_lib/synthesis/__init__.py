"""Analysis by synthesis: images explained by warping other images, and views synthesized from
a latent that turns with the camera.

- :mod:`.warp`: :func:`~.warp.backproject` (depth map -> camera points) and the differentiable
  :func:`~.warp.inverse_warp` (target pixels back-projected by depth, moved by 3D flow and the
  camera motion, projected into the source frame and sampled bilinearly, with a validity mask).
- :mod:`.losses`: :func:`~.losses.ssim`, :func:`~.losses.photometric_error` and
  :func:`~.losses.photometric_loss` (L1 + SSIM), :func:`~.losses.smoothness_loss` (edge-aware).
- :mod:`.plane_sweep`: :func:`~.plane_sweep.plane_sweep_depth`, classical depth by the same
  warp, without learning.
- :mod:`.depth_flow`: :class:`~.depth_flow.DepthFlowNet` (depth and 3D flow from stereo video)
  and its training by the photometric loss alone (Cao, Kar, Häne, Malik, 2019).
- :mod:`.latent`: :class:`~.latent.LatentViewSynthesis`, the geometry-aware latent of Rhodin,
  Salzmann and Fua (2018) and its no-rotation baseline.
- :mod:`.pretrained`: the shipped checkpoints of both.
"""

from course_lib.synthesis import depth_flow, latent, losses, plane_sweep, pretrained, warp
from course_lib.synthesis.depth_flow import DepthFlowNet, synthesis_loss, train_depth_flow
from course_lib.synthesis.latent import LatentViewSynthesis, relative_rotation, train_latent
from course_lib.synthesis.losses import photometric_error, photometric_loss, smoothness_loss, ssim
from course_lib.synthesis.plane_sweep import plane_sweep_depth
from course_lib.synthesis.warp import backproject, inverse_warp

__all__ = [
    "DepthFlowNet",
    "LatentViewSynthesis",
    "backproject",
    "depth_flow",
    "inverse_warp",
    "latent",
    "losses",
    "photometric_error",
    "photometric_loss",
    "plane_sweep",
    "plane_sweep_depth",
    "pretrained",
    "relative_rotation",
    "smoothness_loss",
    "ssim",
    "synthesis_loss",
    "train_depth_flow",
    "train_latent",
    "warp",
]
