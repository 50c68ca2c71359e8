"""Journal intent write (durable before send: WAL + synchronous=FULL): p50 and p99 over many writes.

Run: python bench/journal_write.py [--writes 2000] [--dir PATH]  (target: <= 1 ms p99)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import OrderRequest, OrderType, Side
from hedgectl.journal import Journal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="Where the journal lives (default: a temp dir).")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp())
    journal = Journal(folder / "journal.sqlite")
    run = journal.start_run("bench", "paper")
    times = []
    for _ in range(args.writes):
        request = OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.003"),
                               client_order_id=new_client_order_id())
        t0 = time.perf_counter()
        journal.record_intent(run, "binance", request, "open")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p99 = times[int(0.99 * len(times)) - 1]
    print(f"journal intent write ({folder}): p50 {statistics.median(times):.3f} ms, p99 {p99:.3f} ms "
          f"over {args.writes} writes (target <= 1 ms p99)")


if __name__ == "__main__":
    main()
