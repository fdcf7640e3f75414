"""Math for graphics: vectors, spherical harmonics, interpolation."""
