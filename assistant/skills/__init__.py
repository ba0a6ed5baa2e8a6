"""skills stage."""
