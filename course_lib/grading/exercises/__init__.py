"""Exercise definitions, one module per chapter topic; each module registers its exercises."""
