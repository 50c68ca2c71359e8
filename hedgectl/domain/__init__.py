"""Pure values and money math: no I/O, imports nothing of ours but errors."""
