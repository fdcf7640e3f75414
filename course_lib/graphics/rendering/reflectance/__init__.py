"""Reflectance models (BRDFs): Lambertian, Phong and Blinn-Phong.

Every model has ``brdf(direction_incoming_light, direction_outgoing_light, surface_normal,
[shininess,] albedo)``:

- ``direction_incoming_light`` points from the light TOWARD the surface (the direction to the
  light is its opposite); ``direction_outgoing_light`` points from the surface toward the viewer;
- the three directions need not be unit length: they are normalized inside;
- the value is zero wherever the light or the viewer is below the surface (``n . l <= 0`` or
  ``n . v <= 0``), with finite gradients exactly at the horizon;
- the models are energy-normalized: Lambertian ``albedo / pi``, Phong
  ``albedo (n + 2) / (2 pi) max(r . v, 0)^n``, Blinn-Phong ``albedo (n + 8) / (8 pi)
  max(n . h, 0)^n``.

The BRDF does not include the cosine ``n . l`` of the rendering equation; multiply by it (and by
the light's radiance) to shade a point, as ``course_lib.graphics.rendering.light`` does.
"""

from course_lib.graphics.rendering.reflectance import blinn_phong, lambertian, phong

__all__ = ["blinn_phong", "lambertian", "phong"]
