"""`hedgectl flatten` with 50 ms on each venue: command start -> both close orders at the simulator.

Two figures per run: from the process being spawned (Python start-up and imports included), and from the
command's start as the journal records it (the run row's started_at: settings loaded, journal opened).
Markets are cached (a first flatten warms the cache). Target: <= 1 RTT + 50 ms from the command's start.
Run: python -m bench.flatten_latency [--runs 8]
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import statistics
import time
from datetime import datetime

from bench.figures import Figure, table
from bench.simlib import BenchSim, percentile, wait_for

LATENCY_MS = 50


def _run_started_ns(sim: BenchSim) -> int:
    conn = sqlite3.connect(sim.home / "journal.sqlite")
    try:
        row = conn.execute("SELECT started_at FROM runs WHERE command='flatten' ORDER BY started_at DESC").fetchone()
    finally:
        conn.close()
    return int(datetime.fromisoformat(row[0]).timestamp() * 1e9)


def _open_both(sim: BenchSim) -> None:
    seen = len(sim.requests())
    proc = sim.spawn("bootstrap", "--notional", "300", "--hold", "120", "--json")
    wait_for(lambda: sum(r["op"] == "create_order" for r in sim.requests()[seen:]) >= 2)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def measure(runs: int = 8) -> list[Figure]:
    """flatten: command start (and process spawn) -> both close orders at the simulator."""
    sim = BenchSim()
    from_spawn, from_start = [], []
    try:
        sim.latency("binance", LATENCY_MS)
        sim.latency("okx", LATENCY_MS)
        for i in range(runs + 1):
            _open_both(sim)
            seen = len(sim.requests())
            t0 = time.time_ns()
            done = sim.run("flatten", "--venue", "binance", "--venue", "okx", "--yes", "--json")
            assert done.returncode == 0, done.stderr
            closes = [r["received_ns"] for r in sim.requests()[seen:] if r["op"] == "create_order"][:2]
            if i == 0 or len(closes) < 2:
                continue  # warm-up: the market cache
            from_spawn.append((max(closes) - t0) / 1e6)
            from_start.append((max(closes) - _run_started_ns(sim)) / 1e6)
    finally:
        sim.close()
    start50 = statistics.median(from_start)
    return [
        Figure(f"flatten: command start -> both close orders ({LATENCY_MS} ms venues)", start50,
               percentile(from_start, 0.99), "ms", f"<= 1 RTT + 50 ms ({2 * LATENCY_MS} ms)",
               start50 <= 2 * LATENCY_MS),
        Figure("flatten: process spawn -> both close orders (Python start-up included)", statistics.median(from_spawn),
               percentile(from_spawn, 0.99), "ms", "reported", None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
