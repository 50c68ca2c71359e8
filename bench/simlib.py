"""Helpers shared by the benches: a simulator on loopback, its control API, percentiles, the CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class BenchSim:
    """An embedded simulator plus an httpx client for /_sim/; `env` runs hedgectl against it."""

    def __init__(self, seed: int = 5) -> None:
        from hedgectl.sim.embedded import EmbeddedSimulator

        self._server = EmbeddedSimulator(None, seed=seed)
        self.url = self._server.start().rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.home = Path(tempfile.mkdtemp())
        self.env = dict(os.environ, HEDGECTL_SIM_URL=self.url, HEDGECTL_HOME=str(self.home))

    def requests(self) -> list[dict[str, Any]]:
        payload = self.http.get("/_sim/requests").json()
        return list(payload["requests"] if isinstance(payload, dict) else payload)

    def latency(self, venue: str, ms: int) -> None:
        self.http.post("/_sim/latency", json={"venue": venue, "ms": ms}).raise_for_status()

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "hedgectl", *args], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hedgectl", *args], env=self.env, text=True,
                              capture_output=True, check=False, timeout=120)

    def close(self) -> None:
        self.http.close()
        self._server.stop()


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise TimeoutError("condition not met")
