"""Maker fill -> taker hedge order at the simulator, in the bp-aster loop, with streams on and forced off.

The simulator's clock is frozen (no fill happens by itself); for each leg the bench fills the resting Backpack
order with POST /_sim/fill (which reports the fill's `filled_ns`) and finds the Aster order that hedges it in
/_sim/requests (`received_ns`). Targets with streams on: <= 3 ms p50, <= 10 ms p99; polling is for contrast.
Run: python -m bench.hedge_reaction [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.figures import Figure, table
from bench.simlib import BenchSim, percentile, wait_for


def _open_backpack_orders(sim: BenchSim) -> list[dict[str, object]]:
    return list(sim.http.get("/_sim/state").json()["venues"]["backpack"]["open_orders"])


def _reactions(legs: int, *, streams: bool) -> list[float]:
    sim = BenchSim()
    try:
        sim.freeze_market()
        cycles = (legs + 1) // 2
        proc = sim.spawn("bp-aster", "loop", "--qty", "10", "--cycles", str(cycles), "--requote-after", "60",
                         "--between-legs", "0", "--cycle-sleep", "0", "--stop-before-funding", "0", "--json",
                         "--streams" if streams else "--no-streams")
        out: list[float] = []
        try:
            for _ in range(cycles * 2):
                wait_for(lambda: bool(_open_backpack_orders(sim)), timeout=60)
                time.sleep(0.05)  # let the order settle on the book and the stream subscribe
                fills = sim.http.post("/_sim/fill", json={"venue": "backpack", "all": True, "ratio": "1"}).json()
                rows = fills["fills"] if isinstance(fills, dict) else fills
                filled_ns = min(int(f["filled_ns"]) for f in rows)
                # Only Aster's requests since the fill: a cheap poll, so the bench does not keep the simulator
                # busy rendering its whole request log while the hedge is on its way.
                hedges: list[dict[str, object]] = []

                def hedged(since: int = filled_ns, found: list[dict[str, object]] = hedges) -> bool:
                    found[:] = [r for r in sim.http.get("/_sim/requests", params={"venue": "aster", "since_ns": since})
                                .json() if r["op"] == "create_order"]
                    return bool(found)

                wait_for(hedged, timeout=30)
                out.append((int(str(hedges[0]["received_ns"])) - filled_ns) / 1e6)
        finally:
            proc.communicate(timeout=120)
        return out
    finally:
        sim.close()


def measure(legs: int = 50) -> list[Figure]:
    on = _reactions(legs, streams=True)
    off = _reactions(max(6, legs // 5), streams=False)
    p50, p99 = statistics.median(on), percentile(on, 0.99)
    return [
        Figure("maker fill -> taker hedge order at the simulator, streams on", p50, p99, "ms",
               "<= 3 ms p50, <= 10 ms p99", p50 <= 3 and p99 <= 10),
        Figure("same with streams forced off (polling, for contrast)", statistics.median(off),
               percentile(off, 0.99), "ms", "reported", None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
