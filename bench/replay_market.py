"""Replay cost: the engine catching up one second of a busy recorded market (books every 100 ms, 200 trades a
second) with resting orders on the book; p50 and p99 over many seconds.

Run: python -m bench.replay_market [--seconds 120]  (target: <= 25 ms p99, a tenth of a 250 ms tick)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.figures import Figure, table
from bench.simlib import percentile
from hedgectl.sim.core import Simulator
from hedgectl.sim.market_source import MarketSpec, recording
from hedgectl.sim.market_source.records import Snapshot, Trade
from hedgectl.sim.model import OrderRequest, OrderType, Side, TimeInForce

D = Decimal
TICK_MS = 250


def _recording(path: Path, seconds: int) -> Path:
    rng = random.Random(7)
    t0 = 1_765_000_000_000
    with path.open("w", encoding="utf-8") as fh:
        writer = recording.Writer(fh, recording.Header(t0, ("aster",), ("ASTER",)))
        mid = D("1.2000")
        for ms in range(0, seconds * 1000, 5):
            if ms % 100 == 0:
                mid += D(rng.choice((-1, 0, 1))) / 10_000
                bids = tuple((mid - D(i + 1) / 10_000, D(500 + 100 * i)) for i in range(20))
                asks = tuple((mid + D(i + 1) / 10_000, D(500 + 100 * i)) for i in range(20))
                writer.write(Snapshot("aster", "ASTER", bids, asks, t0 + ms))
            taker = rng.choice(("buy", "sell"))
            price = mid + (D(rng.randint(1, 4)) / 10_000) * (1 if taker == "buy" else -1)
            writer.write(Trade("aster", "ASTER", str(ms), price, D(rng.randint(1, 400)), taker, t0 + ms))
    return path


def measure(seconds: int = 120) -> list[Figure]:
    """p50/p99 of one second of replay (four ticks' sync) with ten resting orders refreshed as they fill."""
    path = _recording(Path(tempfile.mkdtemp()) / "busy.jsonl", seconds)
    sim = Simulator(0, tick_ms=TICK_MS, frozen=True, market=MarketSpec("replay", path=path))
    engine = sim.engine
    times = []
    for _ in range(seconds - 1):
        book = engine.book("aster", "ASTERUSDT")
        while len(engine.open_orders("aster")) < 10:
            side = Side.BUY if len(engine.open_orders("aster")) % 2 else Side.SELL
            price = book.bids[2].price if side is Side.BUY else book.asks[2].price
            req = OrderRequest("ASTERUSDT", side, OrderType.LIMIT, D(10), price, TimeInForce.POST_ONLY)
            engine.place_order("aster", req)
        t0 = time.perf_counter()
        for _ in range(1000 // TICK_MS):
            engine.clock.step(1)
            engine.sync()
        times.append((time.perf_counter() - t0) * 1000)
    p99 = percentile(times, 0.99)
    return [
        Figure(
            "replay: one second of a busy market (200 trades/s, 10 resting)",
            statistics.median(times),
            p99,
            "ms",
            "<= 25 ms p99",
            p99 <= 25.0,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    print(table(measure(args.seconds)))


if __name__ == "__main__":
    main()
