"""Funding payment lists: parsing (signs, ids, strictness) and paging (empty page, page boundary, re-reads).

Binance/Aster income rows and OKX bills are parsed by pure functions; Backpack's funding history is paged by
its venue adapter against mocked HTTP (respx), with the request it sends checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.clock import utc_from_ms
from hedgectl.domain.types import Market
from hedgectl.errors import BadResponse
from hedgectl.venues import income
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.backpack import venue as backpack_venue
from hedgectl.venues.backpack.parse import parse_funding_payment
from hedgectl.venues.ccxt_okx import parse_funding_bills
from tests.venues.test_backpack_venue import BASE, FakeClock, make_config, mock_markets, mock_time

T0 = 1_765_000_000_000  # ms
AMOUNTS = st.decimals(min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=8, allow_nan=False).filter(bool)


def income_row(tran: int | str, at_ms: int, amount: str, kind: str = "FUNDING_FEE", symbol: str = "BTCUSDT") -> Any:
    return {
        "symbol": symbol,
        "incomeType": kind,
        "income": amount,
        "asset": "USDT",
        "info": kind,
        "time": at_ms,
        "tranId": tran,
        "tradeId": "",
    }


def symbol_of(venue_symbol: str) -> str | None:
    return {"BTCUSDT": "BTC", "ETHUSDT": "ETH"}.get(venue_symbol)


# --- Binance / Aster income ------------------------------------------------------------------------------


@given(amount=AMOUNTS)
def test_income_keeps_the_venues_sign_and_decimal(amount: Decimal) -> None:
    [payment] = income.parse_funding_income("aster", [income_row("77", T0, f"{amount:f}")], symbol_of)
    assert (payment.amount, payment.payment_id, payment.symbol, payment.asset) == (amount, "77", "BTC", "USDT")
    assert payment.at == utc_from_ms(T0)


def test_income_skips_other_types_and_unlisted_symbols_and_reads_numeric_ids() -> None:
    rows = [
        income_row(1, T0, "-0.5", kind="COMMISSION"),
        income_row(2, T0, "0.25", symbol="DOGEUSDT"),
        income_row(3, T0, "0.1"),  # a number: the same id as "3"
    ]
    assert [p.payment_id for p in income.parse_funding_income("binance", rows, symbol_of)] == ["3"]


@pytest.mark.parametrize(
    "row",
    [
        income_row("1", T0, "not a number"),
        {**income_row("1", T0, "1"), "time": None},
        {k: v for k, v in income_row("1", T0, "1").items() if k != "tranId"},
        "not an object",
    ],
)
def test_a_broken_income_row_is_a_bad_response(row: Any) -> None:
    with pytest.raises(BadResponse):
        income.parse_funding_income("binance", [row], symbol_of)


async def test_income_pages_forward_across_a_boundary_inside_one_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(income, "INCOME_PAGE", 3)
    # Two payments at T0+2 (two symbols): the first page ends between them.
    rows = [
        income_row("1", T0, "-1"),
        income_row("2", T0 + 1, "-2"),
        income_row("3", T0 + 2, "-3"),
        income_row("4", T0 + 2, "-4", symbol="ETHUSDT"),
        income_row("5", T0 + 5, "6"),
    ]
    starts: list[int] = []

    async def fetch(start_ms: int) -> Any:
        starts.append(start_ms)
        return [r for r in rows if r["time"] >= start_ms][:3]

    payments = await income.read_income("binance", fetch, symbol_of, T0, None)
    assert [p.payment_id for p in payments] == ["1", "2", "3", "4", "5"]
    assert starts == [T0, T0 + 2, T0 + 5]  # a page starts at the millisecond the last one ended in, not after
    assert sum(p.amount for p in payments) == Decimal(-4)


async def test_income_stops_on_an_empty_page_and_honours_until(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(income, "INCOME_PAGE", 2)

    async def empty(start_ms: int) -> Any:
        return []

    assert await income.read_income("aster", empty, symbol_of, T0, None) == []
    rows = [income_row(str(k), T0 + k, "1") for k in range(4)]

    async def fetch(start_ms: int) -> Any:
        return [r for r in rows if r["time"] >= start_ms][:2]

    window = await income.read_income("aster", fetch, symbol_of, T0 + 1, T0 + 3)
    assert [p.payment_id for p in window] == ["1", "2"]


async def test_a_page_that_never_moves_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(income, "INCOME_PAGE", 1)
    monkeypatch.setattr(income, "INCOME_MAX_PAGES", 4)
    calls = 0

    async def fetch(start_ms: int) -> Any:
        nonlocal calls
        calls += 1
        return [income_row(str(start_ms), start_ms, "1")]  # always one more, one ms later

    with pytest.raises(BadResponse):
        await income.read_income("binance", fetch, symbol_of, T0, None)
    assert calls == 4


# --- OKX bills ---------------------------------------------------------------------------------------------

OKX_BTC = Market("okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001"))


def bill(bill_id: str, amount: str, bill_type: str = "8", inst: str = "BTC-USDT-SWAP") -> dict[str, Any]:
    sub = "174" if not amount.startswith("-") else "173"
    return {"billId": bill_id, "type": bill_type, "subType": sub, "instId": inst, "ccy": "USDT", "balChg": amount,
            "ts": str(T0), "sz": "2", "px": "0.0001"}  # fmt: skip


@given(amount=AMOUNTS)
def test_okx_bill_balance_change_is_the_signed_payment(amount: Decimal) -> None:
    [payment] = parse_funding_bills([bill("9", f"{amount:f}")], {"BTC-USDT-SWAP": OKX_BTC})
    assert (payment.amount, payment.payment_id, payment.symbol, payment.asset) == (amount, "9", "BTC", "USDT")


def test_okx_bills_of_other_types_or_instruments_are_not_funding() -> None:
    rows = [bill("1", "-1", bill_type="2"), bill("2", "1", inst="DOGE-USDT-SWAP"), bill("3", "0.5")]
    assert [p.payment_id for p in parse_funding_bills(rows, {"BTC-USDT-SWAP": OKX_BTC})] == ["3"]
    with pytest.raises(BadResponse):
        parse_funding_bills([{**bill("4", "1"), "ts": ""}], {"BTC-USDT-SWAP": OKX_BTC})


# --- Backpack funding history ------------------------------------------------------------------------------


def bp_row(at: str, amount: str, symbol: str = "BTC_USDC_PERP", subaccount: int | None = 0) -> dict[str, Any]:
    return {"fundingRate": "0.0000125", "intervalEndTimestamp": at, "quantity": amount, "subaccountId": subaccount,
            "symbol": symbol, "userId": 1}  # fmt: skip


@given(amount=AMOUNTS)
def test_backpack_quantity_is_the_signed_payment_and_its_id_is_stable(amount: Decimal) -> None:
    row = bp_row("2026-12-07T10:00:00", f"{amount:f}")
    first, again = parse_funding_payment(row, "BTC", "USDC"), parse_funding_payment(dict(row), "BTC", "USDC")
    assert first.amount == amount
    assert first.at == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert first.payment_id == again.payment_id
    assert first.rate == Decimal("0.0000125")
    other = parse_funding_payment(bp_row("2026-12-07T11:00:00", f"{amount:f}"), "BTC", "USDC")
    assert other.payment_id != first.payment_id


@pytest.fixture
async def bp() -> AsyncIterator[BackpackVenue]:
    v = BackpackVenue(make_config(), clock=FakeClock())
    yield v
    await v.close()


async def test_backpack_pages_newest_first_until_a_page_reaches_back_past_since(
    bp: BackpackVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backpack_venue, "FUNDING_PAGE", 2)
    pages = [
        [bp_row("2026-12-07T12:00:00", "0.3"), bp_row("2026-12-07T11:00:00", "-0.2")],
        [bp_row("2026-12-07T10:00:00", "0.1"), bp_row("2026-12-07T09:00:00", "5")],  # reaches past `since`
    ]
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_markets(mock)
        mock_time(mock)
        route = mock.get(BASE + "/wapi/v1/history/funding").mock(
            side_effect=[respx.MockResponse(200, json=page) for page in pages]
        )
        payments = await bp.funding_payments("BTC", datetime(2026, 12, 7, 10, tzinfo=UTC))
    assert [p.amount for p in payments] == [Decimal("0.1"), Decimal("-0.2"), Decimal("0.3")]  # oldest first
    assert {(p.symbol, p.asset) for p in payments} == {("BTC", "USDC")}
    sent = [dict(call.request.url.params) for call in route.calls]
    assert sent == [
        {"symbol": "BTC_USDC_PERP", "limit": "2", "sortDirection": "Desc"},
        {"symbol": "BTC_USDC_PERP", "limit": "2", "offset": "2", "sortDirection": "Desc"},
    ]
    assert all("X-Signature" in call.request.headers for call in route.calls)


async def test_backpack_empty_history_and_spot_rows_read_as_no_payments(bp: BackpackVenue) -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_markets(mock)
        mock_time(mock)
        mock.get(BASE + "/wapi/v1/history/funding").mock(
            side_effect=[
                respx.MockResponse(200, json=[]),
                respx.MockResponse(200, json=[bp_row("2026-12-07T12:00:00", "1", symbol="SOL_USDC")]),
            ]
        )
        assert await bp.funding_payments(None, datetime(2026, 12, 1, tzinfo=UTC)) == []
        assert await bp.funding_payments(None, datetime(2026, 12, 1, tzinfo=UTC)) == []


async def test_backpack_a_broken_row_is_a_bad_response(bp: BackpackVenue) -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_markets(mock)
        mock_time(mock)
        mock.get(BASE + "/wapi/v1/history/funding").respond(200, json=[bp_row("yesterday", "1")])
        with pytest.raises(BadResponse):
            await bp.funding_payments("BTC", datetime(2026, 12, 1, tzinfo=UTC))
