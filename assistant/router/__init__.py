"""router stage."""
