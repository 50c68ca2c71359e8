"""Exchange adapters behind one protocol, and the registry that builds them from settings and mode."""
