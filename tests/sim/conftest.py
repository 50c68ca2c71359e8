"""Shared fixtures for the simulator tests: a real server on port 0 in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hedgectl.sim.core import Simulator
from hedgectl.sim.server import Running, start

SEED = 7


@pytest.fixture
async def sim_server() -> AsyncIterator[Running]:
    """A simulator on 127.0.0.1:0 with a frozen price clock (prices move only when a test says so)."""
    sim = Simulator(SEED, frozen=True)
    running = await start(sim, "127.0.0.1", 0)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def control(sim_server: Running) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the /_sim/ control API."""
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10.0) as client:
        yield client
