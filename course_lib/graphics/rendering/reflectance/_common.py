"""Shared pieces of the BRDFs: argument checks, the horizon mask and the specular lobe."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from course_lib.graphics.math import vector
from course_lib.graphics.util import asserts, safe_ops, shape


def prepare(
    direction_incoming_light: Any,
    direction_outgoing_light: Any,
    surface_normal: Any,
    albedo: Any,
    shininess: Any = None,
) -> tuple[tf.Tensor, ...]:
    """Checked, normalized ``(to_light, to_viewer, normal, albedo, shininess, visible)``.

    With value checks on (:mod:`course_lib.graphics.util.asserts`) the directions and the normal
    must have unit length and the albedo lie in ``[0, 1]``, as TensorFlow Graphics requires.

    ``visible`` is the `[A1, ..., An, 1]` boolean mask where both the light and the viewer are
    strictly above the surface.
    """
    arguments = {
        "direction_incoming_light": (direction_incoming_light, 3),
        "direction_outgoing_light": (direction_outgoing_light, 3),
        "surface_normal": (surface_normal, 3),
        "albedo": (albedo, (None,)),
    }
    if shininess is not None:
        arguments["shininess"] = (shininess, 1)
    tensors = shape.checked(**arguments)
    incoming, outgoing, normal = (
        asserts.assert_normalized(tensor, name)
        for tensor, name in zip(tensors[:3], list(arguments)[:3], strict=True)
    )
    albedo = asserts.assert_all_in_range(tensors[3], 0.0, 1.0, "albedo")
    to_light = -safe_ops.normalize(incoming)
    to_viewer = safe_ops.normalize(outgoing)
    normal = safe_ops.normalize(normal)
    visible = tf.logical_and(
        vector.dot(normal, to_light) > 0.0, vector.dot(normal, to_viewer) > 0.0
    )
    return (
        to_light,
        to_viewer,
        normal,
        albedo,
        (tensors[4] if shininess is not None else None),
        visible,
    )


def clamped_power(cosine: tf.Tensor, exponent: tf.Tensor) -> tf.Tensor:
    """``max(cosine, 0) ** exponent`` with finite gradients (also in the exponent) at zero."""
    positive = cosine > 0.0
    safe = tf.where(positive, cosine, tf.ones_like(cosine))
    return tf.where(positive, tf.pow(safe, exponent), tf.zeros_like(cosine))


def specular_lobe(
    albedo: tf.Tensor,
    shininess: tf.Tensor,
    cosine: tf.Tensor,
    normalization: float,
    visible: tf.Tensor,
) -> tf.Tensor:
    """``albedo (n + k) / (k pi) max(cosine, 0)^n`` where ``visible``, else 0 (Phong-style lobes).

    ``n`` is the shininess and ``k`` the ``normalization`` (2 for Phong, 8 for Blinn-Phong).
    """
    lobe = clamped_power(cosine, shininess)
    value = albedo * (shininess + normalization) / (normalization * np.pi) * lobe
    return tf.where(visible, value, tf.zeros_like(value))
