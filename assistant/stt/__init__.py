"""stt stage."""
