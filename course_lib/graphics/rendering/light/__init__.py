"""Lights: a point light, and environment lighting expressed in spherical harmonics."""

from course_lib.graphics.rendering.light import environment, point_light

__all__ = ["environment", "point_light"]
