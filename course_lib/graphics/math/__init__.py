"""Math for graphics: vectors, spherical harmonics, interpolation, and ``math_helpers``
(spherical coordinates, factorials)."""
