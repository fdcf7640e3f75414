"""Neural style transfer (Part 1): TensorFlow's tutorial method on VGG19 or the course model.

- :mod:`.transfer`: the course's settings (``COURSE_*``) and the CPU ones beside them,
  :class:`~.transfer.StyleExtractor` (:func:`~.transfer.load_style_extractor`: VGG19 online,
  ``shapes_cnn`` offline), the losses (Gram-matrix style and content losses from
  ``lucid.misc.style``, total variation) and :class:`~.transfer.StyleTransfer`, Adam on the
  image with a compiled step.
"""

from course_lib.style.transfer import (
    StyleExtractor,
    StyleTransfer,
    Targets,
    fit_image,
    load_style_extractor,
    losses,
    make_extractor,
    shapes_extractor,
    targets,
    total_variation_loss,
    vgg19_extractor,
    vgg19_preprocess,
)

__all__ = [
    "StyleExtractor",
    "StyleTransfer",
    "Targets",
    "fit_image",
    "load_style_extractor",
    "losses",
    "make_extractor",
    "shapes_extractor",
    "targets",
    "total_variation_loss",
    "vgg19_extractor",
    "vgg19_preprocess",
]
