"""Helpers shared by the benches: a simulator on loopback, its control API, percentiles, the CLI as a process."""

from __future__ import annotations

import os
import re
import signal
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
    """A simulator in its own process (`hedgectl sim serve`, so the bench's polling never competes with it for
    the GIL), an httpx client for /_sim/, and `env` to run hedgectl against it."""

    def __init__(self, seed: int = 5) -> None:
        self._server = subprocess.Popen(
            [sys.executable, "-m", "hedgectl", "sim", "serve", "--port", "0", "--seed", str(seed)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ),
        )
        assert self._server.stdout is not None
        line = self._server.stdout.readline()
        match = re.search(r"listening on (\S+)", line)
        if match is None:
            self._server.kill()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.url = match.group(1).rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.home = Path(tempfile.mkdtemp())
        self.env = dict(os.environ, HEDGECTL_SIM_URL=self.url, HEDGECTL_HOME=str(self.home))

    def requests(self) -> list[dict[str, Any]]:
        payload = self.http.get("/_sim/requests").json()
        return list(payload["requests"] if isinstance(payload, dict) else payload)

    def freeze_market(self, *, symbol: str = "ASTER", far_ms: int = 2 * 3600 * 1000) -> None:
        """Stop the price walk (nothing fills by itself) and push funding far out (no funding pause)."""
        self.http.post("/_sim/clock", json={"frozen": True}).raise_for_status()
        later = int(time.time() * 1000) + far_ms
        for venue in ("backpack", "aster"):
            self.http.post("/_sim/funding", json={"venue": venue, "symbol": symbol, "rate": "0.0001",
                                                  "next_funding_ms": later}).raise_for_status()

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
        self._server.send_signal(signal.SIGTERM)
        self._server.communicate(timeout=30)


def wait_for(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.01)
    raise TimeoutError("condition not met")
