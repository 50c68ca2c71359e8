"""The venue kit's figures (issue "One venue kit"), in one run against the simulator with 50 / 80 ms venues.

Every time is measured at the simulator (its request log's `received_ns`) from the moment the process is
spawned, so Python start-up and imports count, as a user feels them:
- spawn -> first request at a venue, as a ratio to `hedgectl --help`'s wall time in the same run (<= 1.5);
- first request at a venue -> both opening orders there (<= the slower venue's RTT + 30 ms);
- spawn -> both opening orders, hedgectl vs bench/peer_ccxt.py, the seed's flow in plain ccxt (ratio <= 0.5);
- `flatten --all` spawn -> both close orders, vs the same peer reading positions and closing (ratio <= 0.5).
The market cache is warm (a first, unmeasured run fills it), as it is for a user after their first command.

Run: python -m bench.venue_kit [--runs 8]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bench.figures import Figure, table
from bench.simlib import BenchSim, percentile, wait_for
from bench.startup import wall

LATENCY_MS = {"binance": 50, "okx": 80}
SLOWER_RTT_MS = max(LATENCY_MS.values())
OPEN = ("bootstrap", "--notional", "300", "--hold", "600", "--yes", "--json", "--max-slippage-bps", "100")


def _orders_after(sim: BenchSim, seen: int) -> list[dict]:
    return [r for r in sim.requests()[seen:] if r["op"] == "create_order"]


def _venue_requests_after(sim: BenchSim, seen: int) -> list[dict]:
    return [r for r in sim.requests()[seen:] if r.get("venue") in LATENCY_MS]


def _timed(
    sim: BenchSim, start: Callable[[], subprocess.Popen[str]], *, orders: int = 2, stop: bool = False
) -> tuple[float, float]:
    """Spawn a process; return (spawn -> first venue request, spawn -> `orders`-th order) in ms."""
    seen = len(sim.requests())
    t0 = time.time_ns()
    proc = start()
    try:
        wait_for(lambda: len(_orders_after(sim, seen)) >= orders, timeout=60)
    finally:
        if stop:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    first = min(r["received_ns"] for r in _venue_requests_after(sim, seen))
    last_order = sorted(r["received_ns"] for r in _orders_after(sim, seen))[orders - 1]
    return (first - t0) / 1e6, (last_order - t0) / 1e6


def _peer(sim: BenchSim, what: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.peer_ccxt", "--url", sim.url, what],
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def measure(runs: int = 8) -> list[Figure]:
    sim = BenchSim(seed=17)
    first_req: list[float] = []
    first_to_orders: list[float] = []
    ours_open: list[float] = []
    peer_open: list[float] = []
    ours_flat: list[float] = []
    peer_flat: list[float] = []
    try:
        for venue, ms in LATENCY_MS.items():
            sim.latency(venue, ms)
        help_ms = statistics.median(wall([sys.executable, "-m", "hedgectl", "--help"], max(5, runs)))
        flatten_all = ("flatten", "--all", "--yes", "--json")
        for i in range(runs + 1):
            first, both = _timed(sim, lambda: sim.spawn(*OPEN), stop=True)
            _, ours_close = _timed(sim, lambda: sim.spawn(*flatten_all))
            _, peer_both = _timed(sim, lambda: _peer(sim, "open"))
            _, peer_close = _timed(sim, lambda: _peer(sim, "flatten"))
            if i == 0:
                continue  # warm-up: file cache, bytecode, the market cache
            first_req.append(first)
            first_to_orders.append(both - first)
            ours_open.append(both)
            ours_flat.append(ours_close)
            peer_open.append(peer_both)
            peer_flat.append(peer_close)
    finally:
        sim.close()
    spawn_ratio = statistics.median(first_req) / help_ms
    to_orders = statistics.median(first_to_orders)
    open_ratio = statistics.median(ours_open) / statistics.median(peer_open)
    flat_ratio = statistics.median(ours_flat) / statistics.median(peer_flat)
    return [
        Figure(
            "spawn -> first request at a venue / `hedgectl --help` wall",
            spawn_ratio,
            None,
            "x",
            "<= 1.5",
            spawn_ratio <= 1.5,
        ),
        Figure(
            "spawn -> first request at a venue",
            statistics.median(first_req),
            percentile(first_req, 0.99),
            "ms",
            "reported",
            None,
        ),
        Figure("`hedgectl --help` wall", help_ms, None, "ms", "reported", None),
        Figure(
            "first request at a venue -> both opening orders there",
            to_orders,
            percentile(first_to_orders, 0.99),
            "ms",
            f"<= slower RTT + 30 ms ({SLOWER_RTT_MS + 30} ms)",
            to_orders <= SLOWER_RTT_MS + 30,
        ),
        Figure(
            "spawn -> both opening orders: hedgectl / plain-ccxt peer",
            open_ratio,
            None,
            "x",
            "<= 0.5",
            open_ratio <= 0.5,
        ),
        Figure(
            "spawn -> both opening orders, hedgectl",
            statistics.median(ours_open),
            percentile(ours_open, 0.99),
            "ms",
            "reported",
            None,
        ),
        Figure(
            "spawn -> both opening orders, peer",
            statistics.median(peer_open),
            percentile(peer_open, 0.99),
            "ms",
            "reported",
            None,
        ),
        Figure(
            "`flatten --all` spawn -> both close orders: hedgectl / peer",
            flat_ratio,
            None,
            "x",
            "<= 0.5",
            flat_ratio <= 0.5,
        ),
        Figure(
            "`flatten --all` spawn -> both close orders, hedgectl",
            statistics.median(ours_flat),
            percentile(ours_flat, 0.99),
            "ms",
            "reported",
            None,
        ),
        Figure(
            "`flatten --all` spawn -> both close orders, peer",
            statistics.median(peer_flat),
            percentile(peer_flat, 0.99),
            "ms",
            "reported",
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.venue_kit")
    parser.add_argument("--runs", type=int, default=8)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
