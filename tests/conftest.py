"""Shared fixtures: every test runs in an empty directory with an isolated HEDGECTL_HOME and no real keys."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from hedgectl.sim.server import Running

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
    return home


@pytest.fixture
def sim_seed() -> int:
    """The simulator seed for `sim_server`; a test module may override this fixture."""
    return 7


@pytest.fixture
async def sim_server(sim_seed: int) -> AsyncIterator[Running]:
    """A simulator on 127.0.0.1:0 in the test's event loop, with a frozen price clock (prices move only
    when a test says so)."""
    from hedgectl.sim.core import Simulator
    from hedgectl.sim.server import start

    running = await start(Simulator(sim_seed, frozen=True), "127.0.0.1", 0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def control(sim_server: Running) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the simulator's /_sim/ control API."""
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10.0) as client:
        yield client
