"""Differentiable Graphics with TensorFlow 2: the course library.

Subpackages follow the parts of the course (``basics``, ``data``, ``grading``, ...). TensorFlow is
an optional dependency so that Colab keeps its preinstalled GPU build; install the ``cpu`` or
``gpu`` extra elsewhere.
"""

import importlib.util as _importlib_util

from course_lib import config as _config

_config.quiet_tensorflow()

if _importlib_util.find_spec("tensorflow") is None:
    raise ImportError(
        "course_lib needs TensorFlow, which is not installed. Install it with the package's "
        "extra: `pip install 'course_lib[cpu]'` (CPU) or `pip install 'course_lib[gpu]'` (CUDA). "
        "In Colab TensorFlow is already installed; do not install a second one."
    )

__version__ = "0.1.0"
