"""Model loaders: ImageNet models when their weights can be had, small course models offline.

- :func:`load_imagenet_model`: Keras' InceptionV3 with ImageNet weights (cached or downloaded);
  offline it raises :class:`ModelUnavailableError` at once.
- :func:`load_model_for_visualization`: InceptionV3 when it loads, else the course's
  ``shapes_cnn`` (announced in one line), with the layers to dream with and the input range.
- :func:`imagenet_class_names`, :func:`decode_predictions`: ImageNet's 1,000 class names, shipped.
- :func:`seeded_inception_v3`: InceptionV3's architecture with seeded weights, the online path
  tested offline (``COURSE_IMAGENET_WEIGHTS=seeded``); :func:`load_vgg19`, :func:`seeded_vgg19`:
  the same for VGG19's convolutional base (style transfer).
- :func:`free_size_model`: a fixed-input-size model (InceptionV3 with its classifier) copied onto
  an input of any image size, same weights.
- :mod:`.features`: the one home for unwrapping (a ``VisualizationModel`` and its value range),
  checking (the single image input, layer names) and cutting Keras models at named layers
  (``feature_extractor``, ``layer_model``), used by ``lucid``, ``dream`` and style transfer.
- :func:`list_course_models`, :func:`load_course_model`: models trained for the course and shipped
  with the package (``"shapes_cnn"`` on procedural shapes, ``"digits_cnn"`` on digits), retrained
  with ``python -m course_lib.zoo.train NAME``.
"""

from course_lib.zoo.course_models import (
    CourseModelSpec,
    build_course_model,
    course_model_info,
    course_model_spec,
    course_test_set,
    list_course_models,
    load_course_model,
    measure_course_model,
)
from course_lib.zoo.features import free_size_model
from course_lib.zoo.imagenet import (
    ModelUnavailableError,
    VisualizationModel,
    decode_predictions,
    imagenet_class_names,
    imagenet_wnids,
    load_imagenet_model,
    load_model_for_visualization,
    load_vgg19,
    seeded_inception_v3,
    seeded_vgg19,
)

__all__ = [
    "CourseModelSpec",
    "ModelUnavailableError",
    "VisualizationModel",
    "build_course_model",
    "course_model_info",
    "course_model_spec",
    "course_test_set",
    "decode_predictions",
    "free_size_model",
    "imagenet_class_names",
    "imagenet_wnids",
    "list_course_models",
    "load_course_model",
    "load_imagenet_model",
    "load_model_for_visualization",
    "load_vgg19",
    "measure_course_model",
    "seeded_inception_v3",
    "seeded_vgg19",
]
