"""Carry's pure parts: durations, the view's figures, the exit rules, the re-hedge choice, the breaker, alerts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.cli.breaker_cmd import record_trip
from hedgectl.domain.types import Position, Quote
from hedgectl.engine.carry.breaker import BreakerLimits, ErrorBurst, check_daily_loss, realised_today, refuse_if_tripped
from hedgectl.engine.carry.config import CarryConfig, parse_duration
from hedgectl.engine.carry.exits import CLOSED_OUTSIDE, WatchState, exit_reason, rehedge_order
from hedgectl.engine.carry.notify import Notifier, display_url, request_body
from hedgectl.engine.carry.view import CarryView, leg_view, spread_apr
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import BreakerTripped, UsageError
from hedgectl.journal import Journal

D = Decimal
T0 = datetime(2026, 12, 7, 12, tzinfo=UTC)
CONFIG = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000))


def quote(venue: str, mark: str, rate: str | None = "0.0001", hours: int = 8) -> Quote:
    m = D(mark)
    return Quote(
        venue=venue, symbol="BTC", bid=m - 1, ask=m + 1, mark=m, funding_rate=None if rate is None else D(rate),
        funding_interval=timedelta(hours=hours), next_funding_at=T0 + timedelta(hours=1),
    )  # fmt: skip


def view(
    long_qty: str = "0.01", short_qty: str = "-0.01", *, long_mark: str = "100000", short_mark: str = "100000",
    liq: str | None = None, funding: str | None = "0", fees: str = "0", long_rate: str = "0.0001",
    short_rate: str = "0.0001", entry: str = "100000",
) -> CarryView:  # fmt: skip
    lq, sq = quote("binance", long_mark, long_rate), quote("okx", short_mark, short_rate)
    long_pos = [Position("binance", "BTC", D(long_qty), entry_price=D(entry))] if D(long_qty) else []
    short_pos = (
        [Position("okx", "BTC", D(short_qty), entry_price=D(entry), liquidation_price=D(liq) if liq else None)]
        if D(short_qty)
        else []
    )
    return CarryView(
        symbol="BTC", target_qty=D("0.01"), notional=D(1000), long=leg_view("binance", long_pos, lq),
        short=leg_view("okx", short_pos, sq), fees=D(fees), funding=None if funding is None else D(funding),
        spread_apr_pct=spread_apr(lq, sq),
    )  # fmt: skip


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(["s", "m", "h", "d", ""]))
def test_a_duration_reads_as_its_seconds(value: int, unit: str) -> None:
    seconds = value * {"s": 1, "m": 60, "h": 3600, "d": 86_400, "": 1}[unit]
    if seconds > 366 * 86_400:
        with pytest.raises(UsageError):
            parse_duration(f"{value}{unit}")
    else:
        assert parse_duration(f"{value}{unit}") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "-5m", "1w", "h", "5 hours", "nan"])
def test_a_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_the_config_survives_the_journal_round_trip() -> None:
    config = CarryConfig(
        symbol="ETH", long_venue="okx", short_venue="aster", notional_usdt=D("250.5"), until=timedelta(hours=8),
        take_profit_usdt=D(3), max_loss_pct=D("0.5"), min_liq_distance_pct=D(20), min_funding_apr=D(4),
        min_funding_settlements=3, max_basis_bps=D(30), max_delta_pct=None, on_exit="keep", refresh_s=2.5,
    )  # fmt: skip
    assert CarryConfig.from_args(json.loads(json.dumps(config.as_args()))) == config


def test_a_run_that_is_not_a_carry_cannot_be_resumed() -> None:
    with pytest.raises(UsageError):
        CarryConfig.from_args({"symbol": "BTC", "notional_usdt": "x"})


def test_the_view_values_the_pair_at_the_marks() -> None:
    v = view(long_mark="100100", short_mark="99900", funding="0.5", fees="0.2")
    assert v.delta == 0
    assert v.long.upnl == D("1.0")
    assert v.short.upnl == D("1.0")
    assert v.net == D("2.0") + D("0.5") - D("0.2")
    assert v.basis_bps == D(20)


def test_an_unknown_funding_leaves_the_net_unknown_never_zero() -> None:
    assert view(funding=None).net is None


@given(st.decimals(min_value=D("-0.001"), max_value=D("0.001"), places=6), st.sampled_from([1, 4, 8]))
def test_the_spread_is_the_shorts_rate_less_the_longs_per_hour_annualised(rate: Decimal, hours: int) -> None:
    long_q, short_q = quote("binance", "100", "0.0001", 8), quote("okx", "100", str(rate), hours)
    expected = (rate / hours - D("0.0001") / 8) * 8760 * 100
    assert spread_apr(long_q, short_q) == expected


def test_a_venue_without_a_rate_leaves_the_spread_unknown() -> None:
    assert spread_apr(quote("binance", "100", None), quote("okx", "100")) is None


def test_until_closes_once_the_time_has_passed() -> None:
    config = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000),
                         until=timedelta(hours=1))  # fmt: skip
    state = WatchState(started_at=T0)
    assert exit_reason(view(), config, state, T0 + timedelta(minutes=59)) is None
    assert "--until" in (exit_reason(view(), config, state, T0 + timedelta(hours=1)) or "")


def test_both_legs_read_flat_ends_the_carry_and_one_leg_alone_does_not() -> None:
    """A pair closed outside the carry (a flatten in another shell) left it watching two flat legs for hours."""
    config = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000))
    state = WatchState(started_at=T0)
    assert exit_reason(view("0", "0"), config, state, T0) == CLOSED_OUTSIDE
    assert exit_reason(view("0", "-0.01"), config, state, T0) is None  # a delta: re-hedged, not ended
    assert exit_reason(view(), config, state, T0) is None


def test_a_leg_near_liquidation_closes_and_an_unknown_liquidation_price_does_not() -> None:
    config = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000),
                         min_liq_distance_pct=D(10))  # fmt: skip
    state = WatchState(started_at=T0)
    assert exit_reason(view(liq="115000"), config, state, T0) is None
    reason = exit_reason(view(liq="105000"), config, state, T0)
    assert reason is not None
    assert reason.startswith("okx: liquidation 5.00% away")
    assert exit_reason(view(liq=None), config, state, T0) is None


def test_loss_and_profit_limits_judge_the_net_with_funding_and_fees() -> None:
    config = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000),
                         max_loss_pct=D(1), take_profit_usdt=D(5))  # fmt: skip
    state = WatchState(started_at=T0)
    assert exit_reason(view(funding="-9", fees="1"), config, state, T0) is None  # -10: exactly the limit
    assert "--max-loss-pct" in (exit_reason(view(funding="-9", fees="1.01"), config, state, T0) or "")
    assert "--take-profit" in (exit_reason(view(funding="6", fees="1"), config, state, T0) or "")


def test_a_low_spread_closes_after_that_many_settlements_of_one_venue_in_a_row() -> None:
    config = CarryConfig(symbol="BTC", long_venue="binance", short_venue="okx", notional_usdt=D(1000),
                         min_funding_apr=D(5), min_funding_settlements=2)  # fmt: skip
    state = WatchState(started_at=T0)
    low, high = view(long_rate="0.0005", short_rate="0.0001"), view(long_rate="0.0001", short_rate="0.0005")
    state.settled("binance", low, config)
    state.settled("okx", low, config)
    assert exit_reason(low, config, state, T0) is None  # one settlement on each venue: not two in a row
    state.settled("binance", high, config)  # the spread recovered: binance's run starts again
    state.settled("okx", low, config)
    assert "--min-funding-apr" in (exit_reason(low, config, state, T0) or "")


@pytest.mark.parametrize(
    ("long_qty", "short_qty", "venue", "qty"),
    [
        ("0.01", "0", "okx", "-0.01"),  # the short leg was closed outside: sell it again on okx
        ("0.02", "-0.01", "binance", "-0.01"),  # the long grew: cut it back on binance
        ("0.004", "-0.01", "binance", "0.006"),  # the long was cut (an ADL): top it up
        ("0.01", "-0.013", "okx", "0.003"),
    ],
)
def test_the_re_hedge_is_on_the_leg_that_restores_the_pair(long_qty: str, short_qty: str, venue: str, qty: str) -> None:
    assert rehedge_order(view(long_qty, short_qty), CONFIG) == (venue, D(qty))


def test_a_delta_within_the_limit_is_left_alone() -> None:
    assert rehedge_order(view("0.01", "-0.0096"), CONFIG) is None  # 0.0004 BTC = 4 % of 1000 USDT
    assert rehedge_order(view("0.01", "-0.0094"), CONFIG) is not None


def test_the_breaker_trips_once_on_the_daily_loss_and_refuses_until_reset(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    limits = BreakerLimits(daily_loss_usdt=D(5))
    now = datetime.now(UTC)
    for net in ("-3", "-2.5"):
        run = journal.start_run("carry", "paper")
        journal.end_run(run, status="ok", exit_code=0, net_pnl=D(net))
    assert realised_today(journal, now) == D("-5.5")
    record = record_trip(journal)
    check_daily_loss(journal, limits, now, record)
    check_daily_loss(journal, limits, now, record)
    assert len(journal.breaker_trips()) == 1
    with pytest.raises(BreakerTripped) as raised:
        refuse_if_tripped(journal, limits, now, record)
    assert raised.value.exit_code == 4
    assert "daily_loss" in str(raised.value)
    assert journal.reset_breaker() == 1
    refuse_if_tripped(journal, limits, datetime.now(UTC), record)  # the losses before the reset no longer count
    journal.close()


def test_a_run_that_passes_the_daily_loss_trips_the_breaker_through_its_dispatcher(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("carry", "paper")
    dispatcher = Dispatcher(journal, run)
    limits = BreakerLimits(daily_loss_usdt=D(5))
    assert check_daily_loss(journal, limits, datetime.now(UTC), dispatcher.trip_breaker, pending=D("-4")) is None
    reason = check_daily_loss(journal, limits, datetime.now(UTC), dispatcher.trip_breaker, pending=D("-6"))
    assert reason is not None
    assert [(t["kind"], t["run_id"], t["reason"]) for t in journal.breaker_trips()] == [("daily_loss", run, reason)]
    journal.close()


def test_an_error_burst_is_that_many_errors_within_the_window() -> None:
    burst = ErrorBurst(BreakerLimits(error_burst=3, error_window_s=10))
    assert not burst.record(0)
    assert not burst.record(5)
    assert not burst.record(20)  # the first two fell out of the window
    assert not burst.record(21)
    assert burst.record(22)


def test_a_telegram_url_gets_telegrams_body_and_is_shown_without_its_token() -> None:
    url = "https://api.telegram.org/bot123456:SECRETxyz/sendMessage?chat_id=-100777"
    body = request_body(url, {"kind": "close", "text": "closed BTC"})
    assert body == {"chat_id": "-100777", "text": "hedgectl carry close: closed BTC"}
    assert display_url(url) == "https://api.telegram.org/…"
    assert request_body("https://example.test/hook", {"kind": "open", "text": "x"}) == {"kind": "open", "text": "x"}


def test_alerts_are_posted_in_the_background_and_a_failing_endpoint_is_one_warning() -> None:
    seen: list[tuple[str, dict[str, object]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, json.loads(request.content)))
        return httpx.Response(500 if request.url.host == "down.test" else 200)

    warnings: list[str] = []

    async def main() -> None:
        notifier = Notifier(
            ["https://hooks.test/T0KEN123456", "https://down.test/other-token-9876"],
            warn=warnings.append,
            transport=httpx.MockTransport(handler),
        )
        notifier.start()
        notifier.send("open", "opened", qty=D("0.003"))
        notifier.send("close", "closed", net=D("-0.5"))
        await notifier.aclose()

    asyncio.run(main())
    assert [(h, b["kind"]) for h, b in seen if h == "hooks.test"] == [("hooks.test", "open"), ("hooks.test", "close")]
    assert seen[0][1]["qty"] == "0.003"
    assert warnings == ["alert to https://down.test/… failed (HTTP 500); trading goes on, further failures not shown"]


def test_a_full_queue_drops_instead_of_blocking() -> None:
    async def main() -> Notifier:
        notifier = Notifier(["https://hooks.test/x"], queue_max=2)  # not started: nothing drains it
        for n in range(5):
            notifier.send("rehedge", f"#{n}")
        return notifier

    assert asyncio.run(main()).dropped == 3


def test_a_url_that_is_not_http_is_refused_without_echoing_it() -> None:
    with pytest.raises(UsageError) as raised:
        Notifier(["ftp://host/SECRET"])
    assert "SECRET" not in str(raised.value)
