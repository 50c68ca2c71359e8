"""Journal intent write (durable before send: WAL + synchronous=FULL): p50 and p99 over many writes.

Run: python -m bench.journal_write [--writes 2000] [--dir PATH]  (target: <= 1 ms p99)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.figures import Figure, table
from bench.simlib import percentile
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import OrderRequest, OrderType, Side
from hedgectl.journal import Journal


def measure(writes: int = 2000, folder: Path | None = None) -> list[Figure]:
    """p50/p99 of one durable intent write."""
    journal = Journal((folder or Path(tempfile.mkdtemp())) / "journal.sqlite")
    run = journal.start_run("bench", "paper")
    times = []
    for _ in range(writes):
        request = OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.003"),
                               client_order_id=new_client_order_id())
        t0 = time.perf_counter()
        journal.record_intent(run, "binance", request, "open")
        times.append((time.perf_counter() - t0) * 1000)
    journal.close()
    p99 = percentile(times, 0.99)
    return [Figure("journal intent write (durable before send)", statistics.median(times), p99, "ms",
                   "<= 1 ms p99", p99 <= 1.0)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="Where the journal lives (default: a temp dir).")
    args = parser.parse_args()
    print(table(measure(args.writes, args.dir)))


if __name__ == "__main__":
    main()
