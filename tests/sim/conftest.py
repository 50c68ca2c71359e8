"""The simulator tests use the `sim_server` and `control` fixtures of tests/conftest.py."""
