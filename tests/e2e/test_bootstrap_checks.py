"""bootstrap's checks before entry, through the CLI: figures and thresholds in --json, funding refused above its
limit before any order."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


def _funding_in(sim: Sim, venue: str, rate: str, seconds: int) -> None:
    next_ms = int((time.time() + seconds) * 1000)
    sim.post("/_sim/funding", {"venue": venue, "symbol": "BTC", "rate": rate, "next_funding_ms": next_ms})


def test_a_hold_paying_funding_above_the_limit_is_refused_before_any_order(sim: Sim) -> None:
    # Binance (the long) settles in 10 minutes at 0.1 %: a 1 h hold pays 10 bps; OKX's settlement is hours away.
    _funding_in(sim, "binance", "0.001", 600)
    _funding_in(sim, "okx", "0.0001", 4 * 3600)
    proc = hedgectl(
        "bootstrap", "--notional", "300", "--hold", "3600", "--max-funding-cost-bps", "5", "--yes", "--json"
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert "above --max-funding-cost-bps 5" in doc["error"]
    funding = next(c for c in doc["checks"] if c["name"] == "funding")
    assert Decimal(funding["figure"]) == Decimal("10.00")
    assert funding["threshold"] == "5"
    assert funding["passed"] is False
    assert "binance settles 1x" in funding["detail"]
    assert sim.requests("create_order") == []


def test_every_check_is_in_the_json_with_figure_and_threshold(sim: Sim) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    checks = json.loads(proc.stdout)["checks"]
    assert [(c["name"], c["venue"]) for c in checks] == [
        ("cross_spread", None),
        ("slippage", "binance"),
        ("margin", "binance"),
        ("slippage", "okx"),
        ("margin", "okx"),
        ("funding", None),
        ("volatility", "binance"),
        ("volatility", "okx"),
    ]
    for check in checks:
        assert check["passed"] is True
        assert check["figure"] is not None
    assert [c["threshold"] for c in checks if c["name"] in ("cross_spread", "slippage")] == ["5", "5", "5"]
    assert [(c["threshold"], c["unit"]) for c in checks if c["name"] == "volatility"] == [(None, "%"), (None, "%")]
    funding = checks[5]
    assert (funding["figure"], funding["threshold"], funding["set_by"]) == ("0.00", None, "--max-funding-cost-bps")


def test_the_plan_shows_every_check(sim: Sim) -> None:
    _funding_in(sim, "binance", "0.001", 600)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0")
    assert proc.returncode == 0, proc.stderr
    assert "checks before entry:" in proc.stdout
    assert "cross_spread: " in proc.stdout
    assert (
        "funding: 0.00 bps, no limit, warn only (--max-funding-cost-bps): ok - neither venue settles funding within "
        "the hold" in proc.stdout
    )


def test_a_refused_plan_still_shows_every_check_on_screen(sim: Sim) -> None:
    _funding_in(sim, "binance", "0.001", 600)
    _funding_in(sim, "okx", "0.0001", 4 * 3600)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "3600", "--max-funding-cost-bps", "5", "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "checks before entry:" in proc.stdout
    assert "funding: 10.00 bps, limit 5.00 bps (--max-funding-cost-bps): REFUSED" in proc.stdout
    assert "cross_spread: " in proc.stdout
    assert "above --max-funding-cost-bps 5" in proc.stderr
    assert sim.requests("create_order") == []
