"""Images: capability table (models), preparation (prepare), spoken regions (regions),
requests (service), saving (store), construction (factory)."""
