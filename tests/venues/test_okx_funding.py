"""OkxVenue.funding_payments over respx: GET /api/v5/account/bills?instType=SWAP&type=8, every page, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from okx_samples import D, funding_bill, instrument, ok
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import BadResponse
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.okx import OkxVenue

BASE = "https://www.okx.com"
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
CREDS = {"api_key": "okx-test-key", "api_secret": "okx-test-secret-0123", "passphrase": "okx-test-pass"}


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return 0.0


def _venue() -> OkxVenue:
    config = VenueConfig("okx", Mode.LIVE, BASE, {k: SecretStr(v) for k, v in CREDS.items()})
    return OkxVenue(config, clock=FixedClock())  # type: ignore[arg-type]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _bills(count: int, newest_id: int, newest_at: datetime, **over: str) -> list[dict[str, str]]:
    """`count` funding bills, newest first (as OKX pages them), eight hours apart."""
    return [
        funding_bill(str(newest_id - i), _ms(newest_at - timedelta(hours=8 * i)), "-0.01", **over) for i in range(count)
    ]


@pytest.fixture
def mock() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        router.get("/api/v5/public/time").respond(json=ok([{"ts": str(_ms(datetime.now(UTC)))}]))
        router.get("/api/v5/public/instruments").respond(json=ok([instrument(), instrument("ETH")]))
        yield router


async def test_an_empty_page_is_no_payment(mock: Any) -> None:
    bills = mock.get("/api/v5/account/bills").respond(json=ok([]))
    venue = _venue()
    assert await venue.funding_payments("BTC", NOW - timedelta(days=1)) == []
    params = bills.calls.last.request.url.params
    assert (params["instType"], params["type"], params["limit"], params["instId"]) == (
        "SWAP",
        "8",
        "100",
        "BTC-USDT-SWAP",
    )
    assert params["begin"] == str(_ms(NOW - timedelta(days=1)))
    assert bills.call_count == 1
    await venue.close()


async def test_a_full_page_is_read_on_after_its_last_bill_and_a_short_page_ends(mock: Any) -> None:
    since = NOW - timedelta(days=6)
    first = _bills(100, 5000, NOW - timedelta(hours=1))
    second = _bills(3, 4900, NOW - timedelta(hours=1) - timedelta(hours=800))
    pages = mock.get("/api/v5/account/bills").mock(
        side_effect=[httpx.Response(200, json=ok(first)), httpx.Response(200, json=ok(second))]
    )
    venue = _venue()
    payments = await venue.funding_payments(None, since)
    assert pages.call_count == 2
    assert pages.calls[1].request.url.params["after"] == "4901"  # the last billId of the full page
    assert "instId" not in pages.calls[0].request.url.params
    in_period = [b["billId"] for b in first + second if int(b["ts"]) >= _ms(since)]
    assert sorted(p.payment_id for p in payments) == sorted(in_period)
    assert [p.at for p in payments] == sorted(p.at for p in payments)
    assert {p.symbol for p in payments} == {"BTC"}
    await venue.close()


async def test_a_bill_read_twice_across_pages_is_reported_once(mock: Any) -> None:
    page = _bills(100, 5000, NOW - timedelta(hours=1))
    overlap = [page[-1], *_bills(2, 4900, NOW - timedelta(hours=900))]  # OKX moved on between two reads
    mock.get("/api/v5/account/bills").mock(
        side_effect=[httpx.Response(200, json=ok(page)), httpx.Response(200, json=ok(overlap))]
    )
    venue = _venue()
    payments = await venue.funding_payments("BTC", NOW - timedelta(days=6, hours=23))
    ids = [p.payment_id for p in payments]
    assert len(ids) == len(set(ids))
    await venue.close()


async def test_a_period_older_than_seven_days_reads_the_archive(mock: Any) -> None:
    recent = mock.get("/api/v5/account/bills").respond(json=ok([]))
    archive = mock.get("/api/v5/account/bills-archive").respond(json=ok(_bills(2, 10, NOW - timedelta(days=20))))
    venue = _venue()
    until = NOW - timedelta(days=10)
    payments = await venue.funding_payments("BTC", NOW - timedelta(days=30), until)
    assert [p.payment_id for p in payments] == ["9", "10"]
    assert (payments[0].amount, payments[0].asset) == (D("-0.01"), "USDT")
    assert archive.calls.last.request.url.params["end"] == str(_ms(until))
    assert not recent.called
    await venue.close()


async def test_bills_of_instruments_we_do_not_trade_are_skipped(mock: Any) -> None:
    rows = [*_bills(1, 2, NOW - timedelta(hours=1)), *_bills(1, 1, NOW - timedelta(hours=2), instId="DOGE-USDT-SWAP")]
    mock.get("/api/v5/account/bills").respond(json=ok(rows))
    venue = _venue()
    assert [p.payment_id for p in await venue.funding_payments(None, NOW - timedelta(days=1))] == ["2"]
    await venue.close()


async def test_an_endless_history_is_refused_rather_than_read_forever(
    mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hedgectl.venues.okx import venue as venue_module

    monkeypatch.setattr(venue_module, "MAX_BILL_PAGES", 3)
    calls = iter(range(10**6))
    mock.get("/api/v5/account/bills").mock(
        side_effect=lambda _r: httpx.Response(200, json=ok(_bills(100, 10**6 - 100 * next(calls), NOW)))
    )
    venue = _venue()
    with pytest.raises(BadResponse, match="pages"):
        await venue.funding_payments("BTC", NOW - timedelta(days=1))
    await venue.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.integers(0, 250), repeat=st.integers(0, 3))
def test_every_bill_of_any_history_is_read_exactly_once(total: int, repeat: int) -> None:
    """Pages of 100, newest first, paged by `after`; the venue may repeat the last bills of a page on the next."""
    import asyncio

    history = _bills(total, 10_000, NOW - timedelta(minutes=1))

    def page(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        start = 0 if after is None else next(i for i, b in enumerate(history) if b["billId"] == after) + 1
        start = max(0, start - repeat) if after is not None else 0
        return httpx.Response(200, json=ok(history[start : start + 100]))

    async def run() -> list[str]:
        with respx.mock(base_url=BASE, assert_all_mocked=True) as router:
            router.get("/api/v5/public/time").respond(json=ok([{"ts": str(_ms(datetime.now(UTC)))}]))
            router.get("/api/v5/public/instruments").respond(json=ok([instrument()]))
            router.get("/api/v5/account/bills-archive").mock(side_effect=page)
            venue = _venue()
            try:
                return [p.payment_id for p in await venue.funding_payments("BTC", NOW - timedelta(days=90))]
            finally:
                await venue.close()

    ids = asyncio.run(run())
    assert sorted(ids) == sorted(b["billId"] for b in history)
    assert len(ids) == len(set(ids))
