"""The Learnt Stereo Machine (Kar, Häne, Malik, NIPS 2017) in TensorFlow 2.

- :mod:`.unprojection`: voxel centres, projection of world points with ``K [R | t]``, and
  unprojection of per-view image features into a voxel grid along the camera rays (bilinear
  sampling, camera depth as an extra channel, validity mask);
- :mod:`.gru`: the 3D convolutional GRU (:class:`~.gru.ConvGRU3D`) and :func:`~.gru.fuse_views`,
  which fuses any number of unprojected views into one grid;
- :mod:`.models`: the image encoder, the voxel decoder, the LSM, the depth LSM's projection
  (:func:`~.models.project_depth`) and the 2D-only baseline;
- :mod:`.training`: voxel IoU and loss, the training loop, evaluation by number of views;
- :mod:`.pretrained`: the shipped 16³ LSM and 2D-baseline checkpoints, the protocol that trained
  both (``scripts/train_lsm_checkpoints.py``) and ``load_pretrained``.
"""

from course_lib.lsm import gru, models, pretrained, training, unprojection
from course_lib.lsm.gru import ConvGRU3D, fuse_views
from course_lib.lsm.models import (
    Baseline2D,
    ImageEncoder,
    LearntStereoMachine,
    VoxelDecoder,
    count_params,
    project_depth,
)
from course_lib.lsm.training import (
    evaluate_depth,
    evaluate_iou,
    shape_ious,
    train,
    voxel_iou,
    voxel_loss,
)
from course_lib.lsm.unprojection import project_points, unproject, voxel_centres

__all__ = [
    "Baseline2D",
    "ConvGRU3D",
    "ImageEncoder",
    "LearntStereoMachine",
    "VoxelDecoder",
    "count_params",
    "evaluate_depth",
    "evaluate_iou",
    "fuse_views",
    "gru",
    "models",
    "pretrained",
    "project_depth",
    "project_points",
    "shape_ious",
    "train",
    "training",
    "unproject",
    "unprojection",
    "voxel_centres",
    "voxel_iou",
    "voxel_loss",
]
