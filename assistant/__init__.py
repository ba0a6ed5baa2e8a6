"""assistant — an always-on voice assistant daemon."""

__version__ = "0.1.0"
