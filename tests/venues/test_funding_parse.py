"""Funding payment lists: parsing (signs, ids, strictness) and paging (empty page, page boundary, re-reads).

Binance/Aster income rows (the Binance-family parser) and OKX bills (okx/parse.py) are parsed by pure
functions; Backpack's funding history is paged by its venue adapter against mocked HTTP (respx), with the
request it sends checked.
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
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.backpack import history as backpack_history
from hedgectl.venues.backpack.parse_orders import parse_funding_payment
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.okx.parse_orders import parse_funding_bills
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


def symbol_of(venue_symbol: str) -> str:
    return venue_symbol.removesuffix("USDT")


# --- Binance / Aster income ------------------------------------------------------------------------------


@pytest.mark.parametrize("venue", ["binance", "aster"])
@given(amount=AMOUNTS)
def test_income_keeps_the_venues_sign_and_decimal(venue: str, amount: Decimal) -> None:
    [payment] = FamilyParser(venue).funding_payments([income_row("77", T0, f"{amount:f}")], symbol_of)
    assert (payment.amount, payment.payment_id, payment.symbol, payment.asset) == (amount, "77", "BTC", "USDT")
    assert payment.at == utc_from_ms(T0)


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
        FamilyParser("binance").funding_payments([row], symbol_of)


# Paging of the income endpoint (page boundaries, repeats, an endless history) is tested against the adapter
# in test_binance_venue.py; other income types are skipped in test_binance_family_parse.py.


# --- OKX bills ---------------------------------------------------------------------------------------------

OKX_BTC = Market("okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", Decimal("0.1"), Decimal("0.0001"), Decimal("0.0001"))
MARKETS = {"BTC": OKX_BTC}
SINCE = utc_from_ms(T0)


def bill(bill_id: str, amount: str, bill_type: str = "8", inst: str = "BTC-USDT-SWAP") -> dict[str, Any]:
    sub = "174" if not amount.startswith("-") else "173"
    return {"billId": bill_id, "type": bill_type, "subType": sub, "instId": inst, "ccy": "USDT", "balChg": amount,
            "ts": str(T0), "sz": "2", "px": "0.0001"}  # fmt: skip


@given(amount=AMOUNTS)
def test_okx_bill_balance_change_is_the_signed_payment(amount: Decimal) -> None:
    [payment] = parse_funding_bills([bill("9", f"{amount:f}")], MARKETS, SINCE, None)
    assert (payment.amount, payment.payment_id, payment.symbol, payment.asset) == (amount, "9", "BTC", "USDT")


def test_okx_bills_of_other_instruments_are_skipped_and_a_broken_one_is_a_bad_response() -> None:
    # the adapter asks for type=8 (funding) bills only; bills of instruments we do not trade are set aside
    rows = [bill("2", "1", inst="DOGE-USDT-SWAP"), bill("3", "0.5")]
    assert [p.payment_id for p in parse_funding_bills(rows, MARKETS, SINCE, None)] == ["3"]
    with pytest.raises(BadResponse):
        parse_funding_bills([{**bill("4", "1"), "ts": ""}], MARKETS, SINCE, None)


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
    monkeypatch.setattr(backpack_history, "FUNDING_PAGE", 2)
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
