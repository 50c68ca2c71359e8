"""The command line: a thin Typer layer over the engine. Only render.py imports rich."""
