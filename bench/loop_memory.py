"""RSS growth of `hedgectl bp-aster loop` over many cycles with zero sleeps (target: < 10 MB over 1,000 cycles).

A filler thread fills every resting Backpack order as soon as it appears (the simulator's clock is frozen);
the loop's own JSON Lines give the cycle count; psutil samples the loop process's RSS. Growth is measured from
cycle 10% (warm: imports, connections, caches) to the last cycle.
Run: python -m bench.loop_memory [--runs 1000]   (runs = cycles)
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import psutil

from bench.figures import Figure, table
from bench.simlib import BenchSim


def measure(cycles: int = 1000) -> list[Figure]:
    sim = BenchSim()
    stop = threading.Event()
    try:
        sim.freeze_market()

        def filler() -> None:
            while not stop.is_set():
                sim.http.post("/_sim/fill", json={"venue": "backpack", "all": True, "ratio": "1"})
                time.sleep(0.002)

        thread = threading.Thread(target=filler, daemon=True)
        thread.start()
        proc = sim.spawn("bp-aster", "loop", "--qty", "10", "--cycles", str(cycles), "--requote-after", "30",
                         "--between-legs", "0", "--cycle-sleep", "0", "--stop-before-funding", "0", "--json")
        ps = psutil.Process(proc.pid)
        warm_at = max(1, cycles // 10)
        rss_warm = rss_end = 0
        done = 0
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if event.get("event") == "cycle" and event.get("action", "end") == "end":
                done += 1
                if done == warm_at:
                    rss_warm = ps.memory_info().rss
                if done == cycles:
                    rss_end = ps.memory_info().rss
        proc.communicate(timeout=120)
    finally:
        stop.set()
        sim.close()
    growth_mb = (rss_end - rss_warm) / 2**20
    return [Figure(f"{cycles} bp-aster cycles, zero sleeps: RSS growth (cycle {warm_at} -> {cycles})", growth_mb,
                   None, "MB", "< 10 MB", growth_mb < 10)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
