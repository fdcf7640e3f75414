"""Trains the shipped analysis-by-synthesis checkpoints (``course_lib.synthesis.pretrained``).

Usage::

    python scripts/train_synthesis_checkpoints.py [depth_flow_32] [latent_rotation_32]
        [latent_baseline_32] [--steps N] [--seed S] [--out DIR]

Without ``--out`` the weights and their JSON (test figures, data, settings) replace the shipped
ones in ``course_lib/zoo/weights/``. oneDNN's CPU kernels are switched on here (faster
training); the figures hold with either setting (the tests re-measure them with it off).
"""

import os
import sys

os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from course_lib.synthesis import pretrained  # noqa: E402  (after the environment is set)

if __name__ == "__main__":
    sys.exit(pretrained.main())
