"""Non-rigid surface deformation: the as-rigid-as-possible (ARAP) energy and its solver."""
