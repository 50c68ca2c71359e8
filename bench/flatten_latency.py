"""`hedgectl flatten` with 50 ms on each venue: command start -> both close orders at the simulator.

Two figures per run: from the process being spawned (Python start-up and imports included), and from the
command's start as the journal records it (the run row's started_at: settings loaded, journal opened).
Markets are cached (a first flatten warms the cache). Target: <= 1 RTT + 50 ms from the command's start.
Run: python bench/flatten_latency.py [--runs 8]
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import statistics
import time
from datetime import datetime

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    sim = BenchSim()
    from_spawn, from_start = [], []
    try:
        sim.latency("binance", LATENCY_MS)
        sim.latency("okx", LATENCY_MS)
        for i in range(args.runs + 1):
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
    print(f"flatten, command start -> both closes: p50 {statistics.median(from_start):.1f} ms, "
          f"p99 {percentile(from_start, 0.99):.1f} ms (target <= 1 RTT + 50 ms = {2 * LATENCY_MS} ms)")
    print(f"flatten, process spawn -> both closes: p50 {statistics.median(from_spawn):.1f} ms, "
          f"p99 {percentile(from_spawn, 0.99):.1f} ms (includes Python start-up)")


if __name__ == "__main__":
    main()
