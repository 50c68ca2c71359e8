"""The scan's pure parts: pricing one pair, the ranking, --hold, and where ccxt may be imported."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.cli.scan_cmd import parse_hold
from hedgectl.domain.types import BookLevel, OrderBook, Quote
from hedgectl.engine.scan.pairs import Listing, Opportunity, evaluate, rank, walk_cost
from hedgectl.errors import UsageError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
D = Decimal


def _listing(
    venue: str,
    mid: Decimal,
    *,
    rate: Decimal | None = Decimal("0.0001"),
    interval: timedelta | None = timedelta(hours=8),
    settle: str = "USDT",
    fee: Decimal | None = Decimal("0.0005"),
    half_spread: Decimal = Decimal("0.5"),
    level_qty: Decimal = Decimal(1),
) -> Listing:
    bids = tuple(BookLevel(mid - half_spread - i, level_qty) for i in range(5))
    asks = tuple(BookLevel(mid + half_spread + i, level_qty) for i in range(5))
    quote = Quote(
        venue, "BTC", bids[0].price, asks[0].price, funding_rate=rate, funding_interval=interval,
        next_funding_at=NOW + timedelta(minutes=30),
    )  # fmt: skip
    return Listing(venue, "BTC", settle, quote, OrderBook(venue, "BTC", bids, asks), fee, "default")


mids = st.decimals(min_value=D(100), max_value=D(100_000), places=1)
rates = st.decimals(min_value=D("-0.003"), max_value=D("0.003"), places=6)
notionals = st.decimals(min_value=D(10), max_value=D(1000), places=2)


@given(mid_a=mids, mid_b=mids, rate_a=rates, rate_b=rates, notional=notionals)
def test_a_pair_and_its_mirror_agree_on_cost_and_oppose_on_funding_and_basis(
    mid_a: Decimal, mid_b: Decimal, rate_a: Decimal, rate_b: Decimal, notional: Decimal
) -> None:
    a = _listing("a", mid_a, rate=rate_a, level_qty=D(100))
    b = _listing("b", mid_b, rate=rate_b, interval=timedelta(hours=1), level_qty=D(100))
    ab, ba = evaluate(a, b, notional, timedelta(hours=8), NOW), evaluate(b, a, notional, timedelta(hours=8), NOW)
    assert isinstance(ab, Opportunity)
    assert isinstance(ba, Opportunity)
    assert ab.entry_exit_cost == ba.entry_exit_cost
    assert ab.funding_apr_pct == -ba.funding_apr_pct
    assert ab.basis_bps == -ba.basis_bps
    assert ab.entry_exit_cost >= ab.fees > 0
    assert ab.expected_pnl == ab.funding_carry - ab.entry_exit_cost
    # 8 hourly settlements of b, one 8-hourly of a, within the 8 h hold.
    assert ab.funding_carry == rate_b * notional * 8 - rate_a * notional


def test_the_cost_is_spread_and_fees_on_both_books_in_and_out() -> None:
    # Each book 1 wide around its mid: crossing it in and out costs 1 per unit per venue.
    a, b = _listing("a", D(1000)), _listing("b", D(1000))
    o = evaluate(a, b, D(500), timedelta(hours=8), NOW)
    assert isinstance(o, Opportunity)
    assert o.qty == D("0.5")
    assert o.entry_exit_cost == D("0.5") * 2 + D("0.0005") * 2 * (D("0.5") * D("1000.5") + D("0.5") * D("999.5"))
    assert o.basis_bps == 0


def test_walking_past_the_top_level_averages_the_levels_taken() -> None:
    levels = (BookLevel(D(100), D(1)), BookLevel(D(101), D(2)))
    assert walk_cost(levels, D(2)) == D(201)
    assert walk_cost(levels, D(4)) is None


@pytest.mark.parametrize(
    ("long", "why"),
    [
        (_listing("a", D(1000), interval=None), "a: funding interval not reported"),
        (_listing("a", D(1000), rate=None), "a: funding rate not reported"),
        (_listing("a", D(1000), fee=None), "a: taker fee not known"),
        (_listing("a", D(1000), level_qty=D("0.05")), "a: order book too thin for 500 notional"),
    ],
)
def test_a_pair_that_cannot_be_priced_says_why(long: Listing, why: str) -> None:
    assert evaluate(long, _listing("b", D(1000)), D(500), timedelta(hours=8), NOW) == why


def test_ranking_is_by_expected_result() -> None:
    cheap = _listing("cheap", D(1000), rate=D("-0.001"))
    dear = _listing("dear", D(1000), rate=D("0.001"))
    mid = _listing("mid", D(1000), rate=D(0))
    found = [evaluate(x, y, D(500), timedelta(hours=8), NOW) for x in (cheap, dear, mid) for y in (cheap, dear, mid)]
    ranked = rank([o for o in found if isinstance(o, Opportunity)])
    assert [(o.long.venue, o.short.venue) for o in ranked][:1] == [("cheap", "dear")]
    assert [o.expected_pnl for o in ranked] == sorted((o.expected_pnl for o in ranked), reverse=True)


@pytest.mark.parametrize(
    ("text", "hours"), [("8h", 8), ("30m", 0.5), ("1d", 24), ("1h30m", 1.5), ("90s", 0.025), ("2", 2)]
)
def test_hold_durations(text: str, hours: float) -> None:
    assert parse_hold(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "soon", "8x", "-1h", "0h", "400d", "h8"])
def test_bad_hold_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--hold"):
        parse_hold(text)


def test_no_trading_command_imports_the_scans_ccxt_reader_and_ccxt_loads_lazily() -> None:
    code = (
        "import sys\n"
        "import hedgectl.cli.bootstrap_cmd, hedgectl.cli.bp_aster_cmd, hedgectl.cli.flatten_cmd\n"
        "import hedgectl.engine.hedge, hedgectl.engine.maker_taker, hedgectl.engine.flatten\n"
        "assert 'hedgectl.venues.ccxt_public' not in sys.modules, 'a trading module imports ccxt_public'\n"
        "assert 'hedgectl.engine.scan.reads' not in sys.modules, 'a trading module imports the scan'\n"
        "before = 'ccxt' in sys.modules\n"
        "import hedgectl.venues.ccxt_public, hedgectl.engine.scan.reads, hedgectl.cli.scan_cmd\n"
        "assert ('ccxt' in sys.modules) == before, 'importing the scan imported ccxt'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
