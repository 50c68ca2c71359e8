"""Ctrl+C during the bootstrap hold -> both close orders at the simulator, with 50 ms on each venue.

Figure: time from SIGINT to the later of the two close orders arriving (target <= 1 RTT + 50 ms = 100 ms).
Run: python -m bench.interrupt_close [--runs 10]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import time

from bench.figures import Figure, table
from bench.simlib import BenchSim, percentile, wait_for

LATENCY_MS = 50


def measure(runs: int = 10) -> list[Figure]:
    """SIGINT during the hold -> the later of the two close orders at the simulator."""
    sim = BenchSim()
    figures = []
    try:
        sim.latency("binance", LATENCY_MS)
        sim.latency("okx", LATENCY_MS)
        for _ in range(runs):
            seen = len(sim.requests())
            proc = sim.spawn("bootstrap", "--notional", "300", "--hold", "60", "--json")
            wait_for(lambda seen=seen: sum(r["op"] == "create_order" for r in sim.requests()[seen:]) >= 2)
            time.sleep(0.3 + 0.05 * (len(figures) % 5))  # land at different points of the hold loop
            sent_ns = time.time_ns()
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
            creates = [r for r in sim.requests()[seen:] if r["op"] == "create_order"]
            closes = [r["received_ns"] for r in creates if r["received_ns"] > sent_ns][:2]
            if len(closes) == 2 and proc.returncode == 130:
                figures.append((max(closes) - sent_ns) / 1e6)
    finally:
        sim.close()
    p50 = statistics.median(figures)
    return [Figure(f"Ctrl+C during hold -> both close orders at the simulator ({LATENCY_MS} ms venues)", p50,
                   percentile(figures, 0.99), "ms", f"<= 1 RTT + 50 ms ({2 * LATENCY_MS} ms)", p50 <= 2 * LATENCY_MS)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
