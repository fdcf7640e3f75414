"""Rendering: cameras, reflectance, lights, a ray-traced sphere and a differentiable rasterizer."""
