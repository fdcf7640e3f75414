"""Layers built on the graphics ops (graph convolution)."""
