"""Geometry: transformations and representations."""
