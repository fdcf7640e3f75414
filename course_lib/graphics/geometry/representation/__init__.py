"""Meshes and procedural shapes."""
