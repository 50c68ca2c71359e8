"""`hedgectl report` of one long loop run: reading the journal and building the page (series, figures, HTML).

Run: python -m bench.report_build [--fills 10000] [--repeat 3]  (reported: seconds per report)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.figures import Figure, table
from hedgectl.domain.types import Fill, Side
from hedgectl.journal import Journal
from hedgectl.report.page import render_html
from hedgectl.report.series import build_report


def _journal(folder: Path, fills: int) -> tuple[Journal, str]:
    """A loop run's fills (maker on backpack in USDC, hedges on aster) and its hedge events."""
    journal = Journal(folder / "journal.sqlite")
    run = journal.start_run("bp-aster loop", "paper")
    start = datetime.now(UTC) - timedelta(seconds=fills)
    for i in range(fills):
        maker = i % 2 == 0
        journal.record_fill(
            run,
            Fill(
                venue="backpack" if maker else "aster",
                symbol="ASTER/USDT",
                order_id=f"o{i}",
                trade_id=f"t{i}",
                side=Side.SELL if (i // 2) % 2 == 0 else Side.BUY,
                qty=Decimal(10),
                price=Decimal("1.2") + Decimal(i % 50) / 1000,
                fee=Decimal("0.0024"),
                fee_asset="USDC" if maker else "USDT",
                at=start + timedelta(seconds=i),
            ),
        )
        if not maker:
            journal.event(run, "loop.hedge", {"reaction_ms": 3.0 + i % 7})
    return journal, run


def measure(repeat: int = 3, fills: int = 10_000) -> list[Figure]:
    import plotly.offline

    library = plotly.offline.get_plotlyjs()
    with tempfile.TemporaryDirectory() as tmp:
        journal, run_id = _journal(Path(tmp), fills)
        run = journal.run(run_id)
        assert run is not None
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            render_html(build_report(journal, [run], datetime.now(UTC)).document(), library)
            times.append(time.perf_counter() - t0)
        journal.close()
    return [
        Figure(
            f"report of a {fills:,}-fill loop run: journal -> page",
            statistics.median(times),
            None,
            "s",
            "reported",
            None,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fills", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(table(measure(args.repeat, args.fills)))


if __name__ == "__main__":
    main()
