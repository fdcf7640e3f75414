"""Tools for running the course as a workshop: slides, rehearsal, publishing."""
