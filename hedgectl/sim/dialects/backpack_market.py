"""Backpack public market-data endpoints of the /backpack dialect: route handlers of one `Call` each."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hedgectl.sim import candles as sim_candles
from hedgectl.sim.dialects import backpack_errors, backpack_wire
from hedgectl.sim.dialects.backpack_errors import BackpackError
from hedgectl.sim.dialects.base import Call, json_response
from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import Reason, SimError

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
MARKET_TYPES = ("SPOT", "PERP", "IPERP", "DATED", "PREDICTION", "RFQ")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def error(err: BackpackError) -> web.Response:
    """Backpack's `{"code", "message"}` error reply with its HTTP status."""
    status, code, message = err
    return json_response(backpack_wire.error_body(code, message), status=status)


def instrument(engine: Engine, venue: str, symbol: str) -> Instrument:
    """The market `symbol` names; unknown -> SimError(UNKNOWN_SYMBOL), Backpack's INVALID_SYMBOL."""
    inst = engine.instruments[venue].get(symbol)
    if inst is None:
        raise SimError(Reason.UNKNOWN_SYMBOL, symbol, symbol=symbol)
    return inst


def _symbol(call: Call) -> Instrument:
    return instrument(call.engine, call.venue, call.require("symbol"))


def _all(call: Call) -> list[Instrument]:
    return list(call.engine.instruments[call.venue].values())


def time_(call: Call) -> web.StreamResponse:
    """GET /api/v1/time: a bare integer of ms as text/plain."""
    return web.Response(text=str(now_ms()), content_type="text/plain")


def status(call: Call) -> web.StreamResponse:
    """GET /api/v1/status."""
    return json_response({"status": "Ok", "message": None})


def ping(call: Call) -> web.StreamResponse:
    """GET /api/v1/ping."""
    return web.Response(text="pong", content_type="text/plain")


def assets(call: Call) -> web.StreamResponse:
    """GET /api/v1/assets: the collateral asset and every base asset listed."""
    symbols = ["USDC", *dict.fromkeys(inst.base for inst in _all(call))]
    return json_response([backpack_wire.render_asset(symbol) for symbol in symbols])


def markets(call: Call) -> web.StreamResponse:
    """GET /api/v1/markets (`marketType` may repeat); the simulator lists PERP markets only."""
    wanted = call.request.query.getall("marketType", [])
    if any(kind not in MARKET_TYPES for kind in wanted):
        return error(backpack_errors.client_request("Invalid value for `marketType`"))
    if wanted and "PERP" not in wanted:
        return json_response([])
    return json_response([backpack_wire.render_market(inst) for inst in _all(call)])


def market(call: Call) -> web.StreamResponse:
    """GET /api/v1/market."""
    return json_response(backpack_wire.render_market(_symbol(call)))


def securities(call: Call) -> web.StreamResponse:
    """GET /api/v1/securities: ccxt's default load_markets asks for tokenized stocks; there are none."""
    return json_response([])


def _ticker(call: Call, inst: Instrument) -> dict[str, Any]:
    last = call.engine.mark_price(call.venue, inst.symbol)
    first = call.engine.open_price_24h(call.venue, inst.symbol)
    return backpack_wire.render_ticker(inst, first, last, max(first, last), min(first, last), inst.max_qty / 20)


def ticker(call: Call) -> web.StreamResponse:
    """GET /api/v1/ticker."""
    return json_response(_ticker(call, _symbol(call)))


def tickers(call: Call) -> web.StreamResponse:
    """GET /api/v1/tickers."""
    return json_response([_ticker(call, inst) for inst in _all(call)])


def depth(call: Call) -> web.StreamResponse:
    """GET /api/v1/depth: `limit` levels a side, `timestamp` in microseconds."""
    inst = _symbol(call)
    limit = call.integer("limit", required=False) or 1000
    if limit not in DEPTH_LIMITS:
        return error(backpack_errors.client_request("Invalid value for `limit`"))
    book = call.engine.book(call.venue, inst.symbol)
    ts_us = time.time_ns() // 1000
    return json_response(backpack_wire.render_depth(book.bids, book.asks, limit, book.tick + 1, ts_us))


def trades(call: Call) -> web.StreamResponse:
    """GET /api/v1/trades: recent public trades, oldest first (`limit` up to 1000, default 100)."""
    inst = _symbol(call)
    limit = call.integer("limit", required=False) or 100
    if not 1 <= limit <= 1000:
        return error(backpack_errors.client_request("Invalid value for `limit`"))
    rows = [
        {
            "id": int(t.trade_id),
            "price": f"{t.price:f}",
            "quantity": f"{t.qty:f}",
            "quoteQuantity": f"{t.price * t.qty:f}",
            "timestamp": t.time_ms,
            "isBuyerMaker": t.taker == "sell",
        }
        for t in call.engine.public_trades(call.venue, inst.symbol, limit)
    ]
    return json_response(rows)


def mark_prices(call: Call) -> web.StreamResponse:
    """GET /api/v1/markPrices: mark, index and the current interval's funding rate."""
    symbol = call.get("symbol")
    insts = [instrument(call.engine, call.venue, symbol)] if symbol else _all(call)
    rows = []
    for inst in insts:
        state = call.engine.funding_state(call.venue, inst.symbol)
        mark = call.engine.mark_price(call.venue, inst.symbol)
        index = call.engine.index_price(call.venue, inst.symbol)
        rows.append(backpack_wire.render_mark_price(inst, mark, index, state.rate, state.next_ms))
    return json_response(rows)


def funding_rates(call: Call) -> web.StreamResponse:
    """GET /api/v1/fundingRates: settled intervals, newest first."""
    inst = _symbol(call)
    limit = min(call.integer("limit", required=False) or 100, 10_000)
    offset = call.integer("offset", required=False) or 0
    state = call.engine.funding_state(call.venue, inst.symbol)
    # The simulator keeps one rate per market: past intervals are reported at the current rate.
    ends = (state.next_ms - (k + 1) * state.interval_ms for k in range(offset, offset + limit))
    return json_response([backpack_wire.render_funding_rate(inst, state.rate, end) for end in ends])


_MINUTE_MS = 60_000
KLINE_INTERVALS_MS: dict[str, int] = {
    "1m": _MINUTE_MS, "3m": 3 * _MINUTE_MS, "5m": 5 * _MINUTE_MS, "15m": 15 * _MINUTE_MS, "30m": 30 * _MINUTE_MS,
    "1h": 60 * _MINUTE_MS, "2h": 120 * _MINUTE_MS, "4h": 240 * _MINUTE_MS, "1d": 1440 * _MINUTE_MS,
}  # fmt: skip
KLINES_MAX = 1000


def klines(call: Call) -> web.StreamResponse:
    """GET /api/v1/klines: candles from `startTime` (seconds, required) to `endTime` (seconds, default now),
    oldest first; `start`/`end` as "YYYY-MM-DD HH:MM:SS" UTC, every number a string."""
    inst = _symbol(call)
    interval_ms = KLINE_INTERVALS_MS.get(call.require("interval"))
    if interval_ms is None:
        return error(backpack_errors.client_request("Invalid value for `interval`"))
    start_s = call.integer("startTime")
    end_s = call.integer("endTime", required=False)
    rows = sim_candles.candles(
        call.engine,
        inst,
        interval_ms,
        limit=KLINES_MAX,
        start_ms=start_s * 1000,
        end_ms=None if end_s is None else end_s * 1000 - 1,
    )
    return json_response(
        [
            {
                "start": _stamp(c.open_ms),
                "end": _stamp(c.open_ms + interval_ms),
                "open": str(c.open),
                "high": str(c.high),
                "low": str(c.low),
                "close": str(c.close),
                "volume": str(c.volume),
                "quoteVolume": str(c.quote_volume.quantize(inst.tick_size)),
                "trades": str(c.trades),
            }
            for c in rows
        ]
    )


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
