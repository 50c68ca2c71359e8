"""Every reply recorded from OKX (../shared/real_fixtures/okx) through the native adapter's reader of it.

The folder is other people's data and lives beside the clone (CI has it); without it these tests skip. Each
file is mapped by name to the reader of its endpoint or to the reason hedgectl does not read it, and a file
with no entry fails the run, so a new recording cannot be silently ignored.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from hedgectl.domain.types import Market, OrderRequest, OrderType, Side
from hedgectl.errors import BadResponse
from hedgectl.venues.okx import parse, parse_orders
from hedgectl.venues.okx.client import Kind, decode_response
from hedgectl.venues.okx.stream import parse_frame

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_fixtures" / "okx"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"no recorded replies at {FIXTURES}")

D = Decimal


def _market(venue_symbol: str, contract_size: str = "1") -> Market:
    base = venue_symbol.split("-")[0]
    return Market(
        "okx", base, venue_symbol, base, "USDT", D("0.01"), D("0.001"), D("0.001"), contract_size=D(contract_size)
    )


BTC = _market("BTC-USDT-SWAP", "0.01")
MARKETS = {m.symbol: m for m in (BTC, _market("LINK-USDT-SWAP"), _market("XRP-USDT-SWAP", "100"))}
QUOTE_PARTS = {
    "ticker": {"code": "0", "data": [{"instId": "BTC-USDT-SWAP", "bidPx": "1", "askPx": "2", "last": "1.5"}]},
    "funding": {"code": "0", "data": [{"fundingRate": "0.0001", "fundingTime": "1", "nextFundingTime": "2"}]},
    "mark": {"code": "0", "data": [{"markPx": "1.5"}]},
}


def _decoded(response: Any, kind: Kind = Kind.READ) -> Any:
    """The reply as the client decodes it (floats as Decimal; a refusal raised)."""
    return decode_response(httpx.Response(200, content=json.dumps(response, default=str).encode()), kind)


def _quote(part: str) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        parts = {**QUOTE_PARTS, part: response}
        quote = parse.parse_quote(BTC, _decoded(parts["ticker"]), _decoded(parts["funding"]), _decoded(parts["mark"]))
        assert quote.bid > 0

    return check


def _instrument(row: Any) -> None:
    market = parse.parse_market(row, "BTC")
    assert market.max_market_qty == D(row["maxMktSz"]) * D(row["ctVal"])  # maxMktSz, not maxLmtSz
    assert market.max_qty == D(row["maxLmtSz"]) * D(row["ctVal"])


def _orders(response: Any) -> None:
    rows = response.get("data", [response]) if isinstance(response, dict) else response
    for row in rows:
        parse_orders.parse_order(row, parse.by_venue_symbol(MARKETS).get(row["instId"], _market(row["instId"])))


def _ack(response: Any) -> None:
    request = OrderRequest("BTC", Side.BUY, OrderType.MARKET, D("0.01"), "hc1")
    order = parse_orders.parse_order_ack(parse.first(_decoded(response, Kind.WRITE), "trade/order"), BTC, request)
    assert order.order_id


def _ws_orders(response: Any) -> None:
    events = parse_frame(json.dumps(response, default=str), parse.by_venue_symbol(MARKETS), OrderedDict())
    assert events
    for event, row in zip(events, response["data"], strict=True):
        assert (event.fill is not None) == bool(row["tradeId"])
        assert event.order.reduce_only == (row["reduceOnly"] == "true")


def _refused(response: Any) -> None:
    """ccxt's comment example has `"eq": "28 .21006347"`: a garbled figure, refused rather than guessed."""
    with pytest.raises(BadResponse):
        parse.parse_balances(_decoded(response))


OKX: dict[str, Callable[[Any], object] | str] = {
    "balance_ccxt": _refused,
    "balance_docs": lambda r: parse.parse_balances(_decoded(r)),
    "books_docs": lambda r: parse.parse_book(_decoded(r), BTC, 5),
    "cancel_docs": lambda r: parse.first(_decoded(r, Kind.WRITE), "cancel-order"),
    "fills_history_docs": lambda r: parse_orders.parse_fills(_decoded(r), BTC),
    "funding_rate_ccxt": _quote("funding"),
    "funding_rate_docs": _quote("funding"),
    "instrument_swap_rec": _instrument,
    "mark_price_docs": _quote("mark"),
    "order_get_docs": _orders,
    "order_post_docs": _ack,
    "order_post_rec": _ack,
    "order_swap_ccxt": _orders,
    "orders_pending_docs": _orders,
    "position_swap_ccxt": lambda r: parse.parse_position(r, BTC),
    "positions_docs": lambda r: [parse.parse_position(row, _market(row["instId"])) for row in r["data"]],
    "ticker_docs": _quote("ticker"),
    "time_docs": lambda r: parse.parse_server_time_ms(_decoded(r)) > 0 or pytest.fail("no time"),
    "ws_orders_swap_rec_22": _ws_orders,
    "ws_orders_swap_rec_23": _ws_orders,
    "ws_orders_swap_rec_26": _ws_orders,
    "ws_orders_swap_rec_27": _ws_orders,
    "ws_orders_swap_rec_54": _ws_orders,
    "ws_positions_swap_ccxt": "hedgectl reads positions over REST, not the positions channel",
    "ws_positions_swap_rec": "hedgectl reads positions over REST, not the positions channel",
}


def _files() -> list[Path]:
    return sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []


def test_every_recorded_okx_reply_has_a_reader_or_a_reason() -> None:
    assert not [p.stem for p in _files() if p.stem not in OKX]


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.stem)
def test_a_recorded_okx_reply_is_read(path: Path) -> None:
    fixture = json.loads(path.read_text(), parse_float=Decimal)
    check = OKX[path.stem]
    if isinstance(check, str):
        pytest.skip(check)
    assert fixture["venue"] == "okx"
    check(fixture["response"])
