"""Rendering: cameras and reflectance."""
