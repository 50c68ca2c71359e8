"""Shared fixtures: every test runs in an empty directory with an isolated HEDGECTL_HOME and no real keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_PREFIXES = ("HEDGECTL_", "BINANCE_", "OKX_", "BACKPACK_", "ASTER_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No settings leak in from the developer's shell or a .env in the checkout."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "hedgectl-home"
    monkeypatch.setenv("HEDGECTL_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    yield home
