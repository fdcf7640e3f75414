"""Convolutions on graphs and meshes (feature-steered convolution, edge convolutions)."""
