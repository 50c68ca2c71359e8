"""The simulator's replies against the real venues' (../shared/real_fixtures): no field the real venue does not
send, and each shared field of a compatible JSON type.

Where the real venue sends a field as a number in one recording and as a string in another, both are
compatible. null on either side is compatible with anything (venues use it for "none"). The simulator may
omit fields; it may not invent any, or our parsers could come to rely on them. Without the folder these
tests skip. Binance and Aster are signed by hand (HMAC); OKX and Backpack through ccxt, the referee.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.server import Running

from .helpers import binance_query
from .test_ccxt_backpack import make_backpack
from .test_ccxt_okx import make_okx

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real_fixtures"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"no recorded replies at {FIXTURES}"),
]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _objects(response: Any) -> list[dict[str, Any]]:
    """The objects a reply is made of: itself, the rows of a list, OKX's `data` rows."""
    rows = response if isinstance(response, list) else [response]
    out = []
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("data"), list) and "code" in row:
            out += [r for r in row["data"] if isinstance(r, dict)]
        elif isinstance(row, dict):
            out.append(row)
    return out


def _real_shape(venue: str, names: tuple[str, ...]) -> dict[str, set[str]]:
    """Field -> the JSON kinds the real venue was recorded sending, over the named fixtures."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for name in names:
        fixture = json.loads((FIXTURES / venue / f"{name}.json").read_text())
        for row in _objects(fixture["response"]):
            for key, value in row.items():
                kinds[key].add(_kind(value))
    return kinds


# Fields the simulator sends that the recordings lack but the venue's current docs list (the recordings are older).
DOCUMENTED = {
    ("binance", "account_v3_docs"): {"multiAssetsMargin", "tradeGroupId"},  # /fapi/v2/account docs
    ("okx", "funding_rate_docs"): {"impactValue", "interestRate"},  # OKX v5 docs, public/funding-rate
    ("okx", "positions_docs"): {"quoteBal"},  # OKX v5 docs, account/positions (baseBal's sibling, recorded)
    ("aster", "position_risk_v3_docs"): {"notional"},  # ccxt's aster parser reads it (notional or notionalValue)
}


def assert_conformant(venue: str, names: tuple[str, ...], reply: Any) -> None:
    real = _real_shape(venue, names)
    for key in DOCUMENTED.get((venue, names[0]), ()):
        real[key].add("null")
    rows = _objects(reply)
    assert rows, f"the simulator sent nothing to compare for {names}"
    for row in rows:
        extra = sorted(set(row) - set(real))
        assert not extra, f"{venue} {names[0]}: the simulator sends fields the real venue does not: {extra}"
        for key, value in row.items():
            kind, seen = _kind(value), real[key]
            if "null" in seen or kind == "null" or seen == {"null"}:
                continue
            assert kind in seen, f"{venue} {names[0]}.{key}: simulator {kind} {value!r}, real {sorted(seen)}"


# ---- Binance and Aster (one family, HMAC) -----------------------------------------------------------

FAMILY = {
    "binance": ("/binance/fapi", credentials.BINANCE_API_KEY, credentials.BINANCE_API_SECRET),
    "aster": ("/aster/fapi", credentials.ASTER_API_KEY, credentials.ASTER_API_SECRET),
}


async def _family(control: httpx.AsyncClient, venue: str, method: str, path: str, **params: str) -> Any:
    root, key, secret = FAMILY[venue]
    signed = method != "GET" or path.split("/", 1)[1] in {
        "order", "openOrders", "balance", "userTrades", "positionRisk", "account", "allOpenOrders"
    }  # fmt: skip
    query = binance_query(params, secret) if signed else "&".join(f"{k}={v}" for k, v in params.items())
    reply = await control.request(method, f"{root}/{path}?{query}", headers={"X-MBX-APIKEY": key})
    assert reply.status_code == 200, reply.text
    return reply.json()


# (method, path, fixture names) per venue; the order calls run in this sequence on one account.
BINANCE_CASES = [
    ("GET", "v1/time", ("time_docs",)),
    ("GET", "v1/depth", ("depth_docs",)),
    ("GET", "v1/ticker/bookTicker", ("book_ticker_docs", "book_ticker_rec")),
    ("GET", "v1/premiumIndex", ("premium_index_docs", "premium_index_rec")),
    ("GET", "v3/positionRisk", ("position_risk_v3_docs", "position_risk_v3_rec")),
    ("GET", "v3/account", ("account_v3_docs", "account_v2_rec")),
    ("GET", "v1/userTrades", ("user_trades_docs", "user_trades_rec_maker_rebate", "user_trades_rec_pm")),
]
# Signed with the V1 (HMAC) key: the same replies as /fapi/v3 (recorded), which needs EIP-712 signing.
ASTER_CASES = [
    ("GET", "v1/time", ("time_docs", "time_rec")),
    ("GET", "v1/depth", ("depth_docs", "depth_rec")),
    ("GET", "v1/ticker/bookTicker", ("book_ticker_docs",)),
    ("GET", "v1/premiumIndex", ("premium_index_docs", "premium_index_rec")),
    ("GET", "v1/ticker/24hr", ("ticker_24hr_docs", "ticker_24hr_rec")),
    ("GET", "v1/fundingInfo", ("funding_info_docs", "funding_info_rec", "funding_info_rec2")),
    ("GET", "v2/positionRisk", ("position_risk_v3_docs",)),
    ("GET", "v2/balance", ("balance_v3_docs", "balance_v3_rec")),
    ("GET", "v1/userTrades", ("user_trades_docs", "user_trades_rec")),
]
FAMILY_ORDERS = {
    "binance": ("v1", ("order_post_docs", "order_post_rec_swap"), ("order_get_docs", "order_get_rec"),
                ("open_orders_docs",), ("order_cancel_docs",), ("cancel_all_docs",)),
    "aster": ("v1", ("order_post_docs", "order_post_rec"), ("order_get_docs",), ("open_orders_docs",),
              ("order_cancel_docs",), ("cancel_all_docs", "cancel_all_rec")),
}  # fmt: skip


@pytest.mark.parametrize("venue", ["binance", "aster"])
async def test_binance_family_replies_have_only_real_fields_of_real_types(
    control: httpx.AsyncClient, venue: str
) -> None:
    version, post, get, open_orders, cancel, cancel_all = FAMILY_ORDERS[venue]
    # A market order first, so that positions, trades and balances have rows.
    bought = await _family(control, venue, "POST", f"{version}/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                           quantity="0.010", newOrderRespType="RESULT")  # fmt: skip
    assert_conformant(venue, post, bought)
    assert_conformant(venue, get, await _family(control, venue, "GET", f"{version}/order", symbol="BTCUSDT",
                                                 orderId=str(bought["orderId"])))  # fmt: skip
    for method, path, names in BINANCE_CASES if venue == "binance" else ASTER_CASES:
        assert_conformant(venue, names, await _family(control, venue, method, path, symbol="BTCUSDT"))
    resting = await _family(control, venue, "POST", f"{version}/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.100", price="1000", newOrderRespType="RESULT")  # fmt: skip
    assert_conformant(venue, post, resting)
    assert_conformant(venue, open_orders, await _family(control, venue, "GET", f"{version}/openOrders",
                                                         symbol="BTCUSDT"))  # fmt: skip
    assert_conformant(venue, cancel, await _family(control, venue, "DELETE", f"{version}/order", symbol="BTCUSDT",
                                                    orderId=str(resting["orderId"])))  # fmt: skip
    assert_conformant(venue, cancel_all, await _family(control, venue, "DELETE", f"{version}/allOpenOrders",
                                                        symbol="BTCUSDT"))  # fmt: skip


async def test_aster_sends_ids_and_times_both_as_numbers_and_as_strings(control: httpx.AsyncClient) -> None:
    kinds: set[str] = set()
    for _ in range(12):
        reply = await _family(control, "aster", "GET", "v1/exchangeInfo")
        kinds.add(_kind(reply["serverTime"]))
    assert kinds == {"number", "string"}  # a seeded coin per reply: 12 heads in a row would be a broken coin


# ---- OKX ---------------------------------------------------------------------------------------------


async def test_okx_replies_have_only_real_fields_of_real_types(sim_server: Running) -> None:
    okx = make_okx(sim_server.url)
    try:
        inst = {"instId": "BTC-USDT-SWAP"}
        placed = await okx.privatePostTradeOrder(
            {**inst, "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "1", "clOrdId": "conform1"}
        )
        assert_conformant("okx", ("order_post_docs", "order_post_rec"), placed)
        order_id = placed["data"][0]["ordId"]
        got = await okx.privateGetTradeOrder({**inst, "ordId": order_id})
        assert_conformant("okx", ("order_get_docs", "order_swap_ccxt"), got)
        cases = [
            (okx.publicGetPublicTime, {}, ("time_docs",)),
            (okx.publicGetMarketBooks, {**inst, "sz": "5"}, ("books_docs",)),
            (okx.publicGetMarketTicker, inst, ("ticker_docs",)),
            (okx.publicGetPublicMarkPrice, {"instType": "SWAP", **inst}, ("mark_price_docs",)),
            (okx.publicGetPublicFundingRate, inst, ("funding_rate_docs", "funding_rate_ccxt")),
            (okx.publicGetPublicInstruments, {"instType": "SWAP", **inst}, ("instrument_swap_rec",)),
            (
                okx.privateGetAccountPositions,
                {"instType": "SWAP"},
                ("positions_docs", "position_swap_ccxt", "ws_positions_swap_ccxt", "ws_positions_swap_rec"),
            ),
            (okx.privateGetAccountBalance, {}, ("balance_docs", "balance_ccxt")),
            (okx.privateGetTradeFillsHistory, {"instType": "SWAP", **inst}, ("fills_history_docs",)),
        ]
        for call, params, names in cases:
            assert_conformant("okx", names, await call(params))
        resting = await okx.privatePostTradeOrder(
            {**inst, "tdMode": "cross", "side": "buy", "ordType": "limit", "sz": "1", "px": "1000"}
        )
        pending = await okx.privateGetTradeOrdersPending({"instType": "SWAP"})
        assert_conformant("okx", ("orders_pending_docs", "order_swap_ccxt"), pending)
        cancelled = await okx.privatePostTradeCancelOrder({**inst, "ordId": resting["data"][0]["ordId"]})
        assert_conformant("okx", ("cancel_docs",), cancelled)
    finally:
        await okx.close()


# ---- Backpack ----------------------------------------------------------------------------------------


async def test_backpack_replies_have_only_real_fields_of_real_types(sim_server: Running) -> None:
    bp = make_backpack(sim_server.url)
    try:
        symbol = {"symbol": "BTC_USDC_PERP"}
        placed = await bp.privatePostApiV1Order({**symbol, "side": "Bid", "orderType": "Market", "quantity": "0.01"})
        assert_conformant("backpack", ("order_post_market_ccxt",), placed)
        markets = [m for m in await bp.publicGetApiV1Markets({}) if m["marketType"] == "PERP"]
        assert_conformant("backpack", ("markets_ccxt",), markets)
        cases = [
            (bp.publicGetApiV1Ticker, symbol, ("ticker_ccxt",)),
            (bp.publicGetApiV1MarkPrices, symbol, ("mark_prices_ccxt",)),
            (bp.privateGetApiV1Position, {}, ("position_ccxt",)),
            (bp.privateGetWapiV1HistoryFills, {}, ("fill_ccxt",)),
            (bp.privateGetWapiV1HistoryOrders, {}, ("order_history_ccxt",)),
        ]
        for call, params, names in cases:
            assert_conformant("backpack", names, await call(params))
        await bp.privatePostApiV1Order(
            {**symbol, "side": "Bid", "orderType": "Limit", "quantity": "0.01", "price": "1000", "postOnly": True}
        )
        assert_conformant("backpack", ("open_order_ccxt",), await bp.privateGetApiV1Orders(symbol))
    finally:
        await bp.close()
