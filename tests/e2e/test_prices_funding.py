"""`prices` shows each venue's funding interval and the rate per hour and annualised."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

from tests.e2e.conftest import Sim, hedgectl


def test_prices_normalises_an_hourly_and_an_eight_hourly_rate(sim: Sim) -> None:
    # The same 0.03 % a day: 0.01 % every 8 h on Binance, 0.00125 % every hour on Backpack.
    sim.post("/_sim/funding", {"venue": "binance", "symbol": "BTC", "rate": "0.0001"})
    sim.post("/_sim/funding", {"venue": "backpack", "symbol": "BTC", "rate": "0.0000125"})
    sim.post("/_sim/funding", {"venue": "aster", "symbol": "BTC", "rate": "-0.0002"})
    proc = hedgectl(
        "prices", "--symbol", "BTC", "--venue", "binance", "--venue", "backpack", "--venue", "aster", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    venues = json.loads(proc.stdout)["venues"]
    assert venues["binance"]["funding_interval_s"] == 8 * 3600
    assert venues["backpack"]["funding_interval_s"] == 3600
    for name in ("binance", "backpack"):
        assert Decimal(venues[name]["funding_rate_per_hour"]) == Decimal("0.0000125")
        assert Decimal(venues[name]["funding_apr_pct"]) == Decimal("10.95")
    assert Decimal(venues["aster"]["funding_rate_per_hour"]) == Decimal("-0.000025")
    assert Decimal(venues["aster"]["funding_apr_pct"]) == Decimal("-21.90")
    # Long where longs are paid (Aster, -0.0025 %/h), short on either 0.00125 %/h venue: 0.00375 %/h, 32.85 % APR.
    best = json.loads(proc.stdout)["best_funding_spread"]
    assert best["long"] == "aster"
    assert best["short"] in ("binance", "backpack")
    assert (Decimal(best["per_hour"]), Decimal(best["apr_pct"])) == (Decimal("0.0000375"), Decimal("32.85"))


def test_prices_table_shows_interval_per_hour_and_apr(sim: Sim) -> None:
    sim.post("/_sim/funding", {"venue": "backpack", "symbol": "ETH", "rate": "0.0000125"})
    proc = hedgectl("prices", "--symbol", "ETH", "--venue", "backpack")
    assert proc.returncode == 0, proc.stderr
    for column in ("every", "per hour", "APR"):
        assert column in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if "backpack" in line)
    for cell in ("1h", "0.00125%", "10.95%"):
        assert cell in row


def test_every_adapter_reports_the_venues_own_interval_and_next_settlement(sim: Sim) -> None:
    # The simulator settles ASTER every 4 h on Aster, every hour on Backpack, every 8 h elsewhere; each venue's
    # next settlement is set here, a different minute each, so that none can be a computed default.
    base_ms = (int(time.time()) // 60 + 17) * 60_000
    expected = {}
    for i, venue in enumerate(("binance", "okx", "backpack", "aster")):
        next_ms = base_ms + i * 60_000
        sim.post("/_sim/funding", {"venue": venue, "symbol": "ASTER", "rate": "0.0001", "next_funding_ms": next_ms})
        expected[venue] = datetime.fromtimestamp(next_ms / 1000, tz=UTC)
    proc = hedgectl("prices", "--symbol", "ASTER", "--json")
    assert proc.returncode == 0, proc.stderr
    venues = json.loads(proc.stdout)["venues"]
    hours = {"binance": 8, "okx": 8, "backpack": 1, "aster": 4}
    for venue, quote in venues.items():
        assert quote["funding_interval_s"] == hours[venue] * 3600, venue
        assert datetime.fromisoformat(quote["next_funding_at"]) == expected[venue], venue
        assert Decimal(quote["funding_rate_per_hour"]) == Decimal("0.0001") / hours[venue], venue
