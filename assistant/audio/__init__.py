"""Audio in and out. ``sounddevice`` is imported lazily, only where a device is used."""
