"""Course models for other runtimes.

- :func:`save_tfjs_layers_model`: a Keras model as a TensorFlow.js "layers-model" folder
  (``model.json`` and binary weight shards), loaded with ``tf.loadLayersModel``; the book's
  *Beyond Python* page runs the course's ``digits_cnn`` this way.
- ``python -m course_lib.export NAME FOLDER``: a course model (``zoo.list_course_models()``)
  exported to ``FOLDER``.
"""

from course_lib.export.tfjs import save_tfjs_layers_model, tfjs_topology

__all__ = ["save_tfjs_layers_model", "tfjs_topology"]
