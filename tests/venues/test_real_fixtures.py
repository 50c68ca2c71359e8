"""Every reply recorded from the real venues (../shared/real_fixtures) through the parser that reads it.

The folder is other people's data and lives beside the clone (CI has it); without it these tests skip.
Each file is mapped by name to the parser of its endpoint or to the reason hedgectl does not read it, and a
file with no entry fails the run, so a new recording cannot be silently ignored. OKX's recordings are read in
test_okx_real_fixtures.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.domain.types import Market, OrderType
from hedgectl.errors import OrderNotFound
from hedgectl.venues.aster import client as aster_client
from hedgectl.venues.aster import parse as aster
from hedgectl.venues.backpack import parse as backpack
from hedgectl.venues.backpack import parse_orders as backpack_orders
from hedgectl.venues.backpack import stream as backpack_stream
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.binance_family.stream import parse_order_trade_update, unwrap
from hedgectl.venues.kit.wire import error_code

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_fixtures"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"no recorded replies at {FIXTURES}")

D = Decimal


def _market(venue: str, venue_symbol: str, contract_size: str = "1") -> Market:
    base = venue_symbol.split("-")[0].split("_")[0].removesuffix("USDT")
    return Market(
        venue=venue, symbol=base, venue_symbol=venue_symbol, base=base, quote="USDT",
        tick_size=D("0.01"), step_size=D("0.001"), min_qty=D("0.001"), contract_size=D(contract_size),
    )  # fmt: skip


def _rows(response: Any) -> list[Any]:
    return response if isinstance(response, list) else [response]


# ---- Aster -------------------------------------------------------------------------------------------

ASTER_PREMIUM = {"markPrice": "100.5", "lastFundingRate": "0.0001", "nextFundingTime": 1_750_176_000_000, "time": 1}
ASTER_BOOK = {"bidPrice": "100", "askPrice": "101", "time": 1_750_000_000_000}
ASTER_DAY = {"lastPrice": "100.2"}


def _aster_markets(response: Any) -> None:
    info = {"symbols": response} if isinstance(response, list) else response
    markets, broken = aster.parse_markets(info)
    if "serverTime" in info:
        assert aster.parse_server_time_ms(info) > 0
    for market in markets.values():
        assert market.tick_size > 0
        assert market.step_size > 0
    assert markets or broken or not info.get("symbols")


def _aster_order(response: Any) -> None:
    for row in _rows(response):
        order = aster.parse_order(row, str)
        assert order.order_id.isdigit()
        assert order.qty > 0
        if row.get("type") == "TRAILING_STOP_MARKET":
            assert order.type is OrderType.MARKET


def _aster_ws(response: Any) -> None:
    message = response if "e" in response else {"e": "ORDER_TRADE_UPDATE", "E": 1, "o": response}
    event = parse_order_trade_update(unwrap(message), {"BTCUSDT": _market("aster", "BTCUSDT")}, "aster")
    assert event is not None
    assert event.order.type is OrderType.MARKET


def _aster_batch_error(response: Any) -> None:
    for row in response:
        assert isinstance(aster_client.map_error(400, error_code(row), row["msg"], aster_client.Kind.WRITE),
                          OrderNotFound)  # fmt: skip


ASTER: dict[str, Callable[[Any], object] | str] = {
    "balance_v3_docs": lambda r: aster.parse_balances(r),
    "balance_v3_rec": lambda r: aster.parse_balances(r),
    "batch_cancel_error_rec": _aster_batch_error,
    "book_ticker_docs": lambda r: aster.parse_quote("BTC", r, ASTER_PREMIUM, ASTER_DAY, None),
    "cancel_all_docs": aster.parse_ack,
    "cancel_all_rec": aster.parse_ack,
    "depth_docs": lambda r: aster.parse_book(r, "BTC"),
    "depth_rec": lambda r: aster.parse_book(r, "BTC"),
    "exchange_info_docs": _aster_markets,
    "exchange_info_head_rec": _aster_markets,
    "exchange_info_symbols_ccxt": _aster_markets,
    "funding_info_docs": aster.parse_funding_intervals,
    "funding_info_rec": lambda r: aster.parse_funding_intervals([r]),
    "funding_info_rec2": aster.parse_funding_intervals,
    "income_docs": lambda r: aster.parse_funding_payments(r, str),  # TRANSFER and COMMISSION rows only
    "listen_key_docs": lambda r: isinstance(r["listenKey"], str) or pytest.fail("no listenKey"),
    "open_orders_docs": lambda r: aster.parse_orders(r, str),
    "order_cancel_docs": _aster_order,
    "order_get_docs": _aster_order,
    "order_post_docs": _aster_order,
    "order_post_rec": _aster_order,
    "position_risk_v3_docs": lambda r: aster.parse_positions(r, str),
    "premium_index_docs": lambda r: aster.parse_quote("BTC", ASTER_BOOK, r, ASTER_DAY, None),
    "premium_index_rec": lambda r: aster.parse_quote("BTC", ASTER_BOOK, r, ASTER_DAY, None),
    "ticker_24hr_docs": lambda r: aster.parse_quote("BTC", ASTER_BOOK, ASTER_PREMIUM, r, None),
    "ticker_24hr_rec": lambda r: aster.parse_quote("BTC", ASTER_BOOK, ASTER_PREMIUM, r, None),
    "time_docs": aster.parse_server_time,
    "time_rec": aster.parse_server_time,
    "user_trades_docs": lambda r: aster.parse_fills(r, str),
    "user_trades_rec": lambda r: aster.parse_fills([r], str),
    "ws_order_trade_update_ccxt_o": _aster_ws,
    "ws_order_trade_update_docs": _aster_ws,
}

# ---- Binance -----------------------------------------------------------------------------------------

BINANCE_MARKETS = {m.symbol: m for m in (_market("binance", s) for s in ("BTCUSDT", "WLDUSDT", "NOTUSDT", "BNBUSDT"))}


BINANCE = FamilyParser("binance")


def _binance_symbol(venue_symbol: str) -> str:
    return venue_symbol.removesuffix("USDT")


def _decoded(response: Any) -> Any:
    """The reply as the client decodes it (floats as Decimal)."""
    return json.loads(json.dumps(response), parse_float=Decimal)


def _binance_fills(response: Any) -> None:
    for row in _rows(response):
        fill = BINANCE.fill(_decoded(row), _binance_symbol)
        assert fill.fee == D(row["commission"])  # negative: a maker rebate


def _binance_order(response: Any) -> None:
    for row in _rows(response):
        order = BINANCE.order(_decoded(row), _binance_symbol)
        if row["type"] == "TRAILING_STOP_MARKET":
            assert order.type is OrderType.MARKET  # not a LIMIT


def _binance_markets(response: Any) -> None:
    markets, broken = BINANCE.markets(_decoded(response))
    assert markets
    assert not broken
    assert all(m.max_market_qty is not None for m in markets.values())  # MARKET_LOT_SIZE read


def _binance_quote(book: Any, premium: Any, funding: Any = ()) -> None:
    intervals = BINANCE.funding_intervals(_decoded(list(funding)))
    quote = BINANCE.quote("BTC", _decoded(book), _decoded(premium), intervals.get("BTCUSDT"))
    assert quote.bid > 0
    assert quote.mark is not None


def _binance_income(response: Any) -> None:
    rows = _decoded(response)
    payments = BINANCE.funding_payments(rows, _binance_symbol)
    assert len(payments) == sum(1 for r in rows if r["incomeType"] == "FUNDING_FEE")


BINANCE_BOOK = {"symbol": "BTCUSDT", "bidPrice": "100", "askPrice": "101", "time": 1}
BINANCE_PREMIUM = {"symbol": "BTCUSDT", "markPrice": "100.5", "lastFundingRate": "0.0001", "nextFundingTime": 1}


def _binance_ws(response: Any) -> None:
    message = unwrap(response)
    event = parse_order_trade_update(message, by_venue(BINANCE_MARKETS), "binance")
    assert event is not None
    if message["o"]["x"] == "TRADE":
        assert event.fill is not None
        assert event.fill.fee == D(message["o"]["n"])
    if message["o"].get("ot", message["o"]["o"]) == "TRAILING_STOP_MARKET":
        assert event.order.type is OrderType.MARKET


def by_venue(markets: dict[str, Market]) -> dict[str, Market]:
    return {m.venue_symbol: m for m in markets.values()}


BINANCE_FILES: dict[str, Callable[[Any], object] | str] = {
    "account_v2_rec": lambda r: BINANCE.account_balances(_decoded(r)),
    "account_v3_docs": lambda r: BINANCE.account_balances(_decoded(r)),
    "balance_v3_docs": "hedgectl reads balances from /fapi/v3/account",
    "book_ticker_docs": lambda r: _binance_quote(r, BINANCE_PREMIUM),
    "book_ticker_rec": lambda r: _binance_quote(r, BINANCE_PREMIUM),
    "cancel_all_docs": lambda r: error_code(r) == 200 or pytest.fail("not a confirmation"),
    "depth_docs": lambda r: BINANCE.book(_decoded(r), "BTC", 5),
    "exchange_info_docs": _binance_markets,
    "funding_info_docs": lambda r: _binance_quote(BINANCE_BOOK, BINANCE_PREMIUM, r),
    "funding_info_rec": lambda r: _binance_quote(BINANCE_BOOK, BINANCE_PREMIUM, [r]),
    "income_docs": _binance_income,  # TRANSFER and COMMISSION rows: no funding payment among them
    "listen_key_docs": lambda r: isinstance(r["listenKey"], str) or pytest.fail("no listenKey"),
    "open_orders_docs": _binance_order,
    "order_cancel_docs": _binance_order,
    "order_get_docs": _binance_order,
    "order_get_rec": _binance_order,
    "order_post_docs": _binance_order,
    "order_post_rec_swap": _binance_order,
    "order_rec_edit": _binance_order,
    "position_risk_v2_docs": lambda r: BINANCE.positions(_decoded(r), _binance_symbol),
    "position_risk_v3_docs": lambda r: BINANCE.positions(_decoded(r), _binance_symbol),
    "position_risk_v3_rec": lambda r: BINANCE.positions(_decoded(r), _binance_symbol),
    "premium_index_docs": lambda r: _binance_quote(BINANCE_BOOK, r),
    "premium_index_rec": lambda r: _binance_quote(BINANCE_BOOK, r),
    "time_docs": lambda r: BINANCE.server_time_ms(_decoded(r)),
    "user_trades_docs": lambda r: _binance_fills(r),
    "user_trades_rec_maker_rebate": lambda r: _binance_fills(r),
    "user_trades_rec_pm": lambda r: _binance_fills(r),
    "ws_order_trade_update_ccxt": _binance_ws,
    "ws_order_trade_update_docs": _binance_ws,  # inside the {stream, data} envelope
    "ws_order_trade_update_rec_1": _binance_ws,
    "ws_order_trade_update_rec_17": _binance_ws,
    "ws_order_trade_update_rec_18": _binance_ws,
    "ws_order_trade_update_rec_3": _binance_ws,
    "ws_order_trade_update_rec_4": _binance_ws,
    "ws_order_trade_update_rec_5": _binance_ws,
}

# ---- Backpack ----------------------------------------------------------------------------------------

BACKPACK_CANONICAL = {"ETH_USDC": "ETH", "ETH_USDC_PERP": "ETH", "SOL_USDC": "SOL", "SOL_USDC_PERP": "SOL"}


def _backpack_ws(response: Any) -> None:
    data = response.get("data", response)
    event = backpack_stream.parse_order_update(data, BACKPACK_CANONICAL)
    # A trigger order sized in percent ("Y": "80%") that executed nothing is no order of ours: no event.
    assert event is not None or (str(data.get("Y", "")).endswith("%") and data["z"] == "0")
    assert event is None or event.order.qty > 0


def _backpack_statuses(response: Any) -> None:
    assert set(response["values"]) <= set(backpack_orders.ORDER_STATUSES)


BACKPACK: dict[str, Callable[[Any], object] | str] = {
    "capital_ccxt": backpack.parse_capital,
    "collateral_schema": "a schema, not a reply",
    "depth_schema": "a schema, not a reply",
    "fill_ccxt": lambda r: backpack_orders.parse_fill(r, "ETH"),
    "fill_schema": "a schema, not a reply (tradeId optional: see the samples)",
    "funding_history_ccxt": lambda r: (
        backpack_orders.parse_funding_payment(r, "ETH", "USDC").amount < 0
        or pytest.fail("the recorded payment was paid")
    ),
    "funding_rates_ccxt": "hedgectl reads funding from markPrices",
    "mark_prices_ccxt": lambda r: backpack.parse_mark_price([r], r["symbol"]),
    "markets_ccxt": lambda r: backpack.parse_markets(r)["SOL"][1] is not None or pytest.fail("no funding interval"),
    "open_order_ccxt": lambda r: backpack_orders.parse_order(r, "ETH"),
    "order_history_ccxt": lambda r: backpack_orders.parse_order(r, "ETH"),  # quantity null: a trigger order
    "order_post_market_ccxt": lambda r: backpack_orders.parse_order(r, "ETH"),
    "order_status_enum": _backpack_statuses,
    "position_ccxt": lambda r: backpack.parse_position(r, "ETH"),
    "position_schema": "a schema, not a reply",
    "ticker_ccxt": backpack.parse_last_price,
    "time_ccxt": lambda r: backpack.parse_server_time(str(r)),
    "ws_order_accepted_ccxt": _backpack_ws,
    "ws_order_fill_ccxt": _backpack_ws,
    "ws_order_update_rust_1": _backpack_ws,  # a trigger order: q "0", its size in Y
    "ws_order_update_rust_2": _backpack_ws,
    "ws_order_update_rust_3": _backpack_ws,
    "ws_order_update_schema": "a schema, not a reply",
}

TABLES = {"aster": ASTER, "binance": BINANCE_FILES, "backpack": BACKPACK}
ELSEWHERE = {"okx"}  # tests/venues/test_okx_real_fixtures.py reads them through the native OKX adapter


def _files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*.json") if p.parent.name not in ELSEWHERE) if FIXTURES.is_dir() else []


def test_every_recorded_reply_has_a_parser_or_a_reason() -> None:
    unmapped = [f"{p.parent.name}/{p.stem}" for p in _files() if p.stem not in TABLES.get(p.parent.name, {})]
    assert not unmapped


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_recorded_reply_parses(path: Path) -> None:
    fixture = json.loads(path.read_text(), parse_float=Decimal)
    check = TABLES[path.parent.name].get(path.stem)
    if check is None or isinstance(check, str):
        pytest.skip(check or "unmapped")
    assert fixture["venue"] == path.parent.name
    check(fixture["response"])
