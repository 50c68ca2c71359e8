"""Reliability fixtures: a private simulator and home per test, the CLI as a real process (see rig.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.rig import Rig, rig


@pytest.fixture
def sim_rig(tmp_path: Path) -> Iterator[Rig]:
    with rig(tmp_path / "rig") as r:
        yield r
