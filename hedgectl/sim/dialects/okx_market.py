"""OKX v5 public market-data endpoints of the /okx dialect: route handlers of one `Call` each."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from hedgectl.sim import candles as sim_candles
from hedgectl.sim.dialects import okx_errors, okx_wire
from hedgectl.sim.dialects.base import Call, json_response
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import Reason, SimError

INST_TYPES = ("SWAP", "ANY")  # instType values a list query answers (the simulator lists SWAPs only)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ok(data: Iterable[Any], code: str = "0", msg: str = "") -> web.Response:
    """An OKX envelope reply (HTTP 200)."""
    return json_response(okx_wire.envelope(list(data), code, msg))


def fail(code: str, msg: str, status: int = 200) -> web.Response:
    """A request-level OKX failure: non-zero code, empty data."""
    return json_response(okx_wire.error_body(code, msg), status=status)


def instrument(call: Call) -> Instrument:
    """The instrument `instId` names (required); unknown -> SimError(UNKNOWN_SYMBOL), OKX's 51001."""
    inst_id = call.require("instId")
    inst = call.engine.instruments[call.venue].get(inst_id)
    if inst is None:
        raise SimError(Reason.UNKNOWN_SYMBOL, inst_id, symbol=inst_id)
    return inst


def time_(call: Call) -> web.StreamResponse:
    """GET /api/v5/public/time."""
    return ok([{"ts": str(now_ms())}])


def instruments(call: Call) -> web.StreamResponse:
    """GET /api/v5/public/instruments: the simulator lists SWAPs only (other types answer [])."""
    if call.require("instType") != "SWAP":
        return ok([])
    inst_id = call.get("instId")
    family = call.get("instFamily") or call.get("uly")
    rows = [
        okx_wire.render_instrument(inst)
        for inst in call.engine.instruments[call.venue].values()
        if (inst_id is None or inst.symbol == inst_id) and (family is None or family == f"{inst.base}-{inst.quote}")
    ]
    return ok(rows)


def _ticker(call: Call, inst: Instrument) -> dict[str, Any]:
    engine = call.engine
    book = engine.book(call.venue, inst.symbol)
    last = engine.mark_price(call.venue, inst.symbol)
    opened = engine.open_price_24h(call.venue, inst.symbol)
    volume = inst.max_qty / 20
    return okx_wire.render_ticker(
        inst, book.bids, book.asks, last, opened, max(opened, last), min(opened, last), volume, now_ms()
    )


def ticker(call: Call) -> web.StreamResponse:
    """GET /api/v5/market/ticker."""
    return ok([_ticker(call, instrument(call))])


def tickers(call: Call) -> web.StreamResponse:
    """GET /api/v5/market/tickers."""
    if call.require("instType") != "SWAP":
        return ok([])
    return ok([_ticker(call, inst) for inst in call.engine.instruments[call.venue].values()])


def books(call: Call) -> web.StreamResponse:
    """GET /api/v5/market/books: `sz` levels a side (OKX's default is 1, max 400)."""
    inst = instrument(call)
    depth = call.integer("sz", required=False) or 1
    if not 1 <= depth <= 400:
        return fail(*okx_errors.param_error("sz"), status=400)
    book = call.engine.book(call.venue, inst.symbol)
    return ok([okx_wire.render_books(inst, book.bids, book.asks, depth, now_ms())])


def trades(call: Call) -> web.StreamResponse:
    """GET /api/v5/market/trades: recent public trades, newest first; `side` is the taker's, `sz` in contracts."""
    inst = instrument(call)
    limit = call.integer("limit", required=False) or 100
    if not 1 <= limit <= 500:
        return fail(*okx_errors.param_error("limit"), status=400)
    rows = [
        {
            "instId": inst.symbol,
            "tradeId": t.trade_id,
            "px": f"{t.price:f}",
            "sz": f"{(t.qty / inst.contract_value).normalize():f}",
            "side": t.taker,
            "source": "0",
            "ts": str(t.time_ms),
        }
        for t in reversed(call.engine.public_trades(call.venue, inst.symbol, limit))
    ]
    return ok(rows)


def mark_price(call: Call) -> web.StreamResponse:
    """GET /api/v5/public/mark-price."""
    if call.require("instType") != "SWAP":
        return ok([])
    insts = [instrument(call)] if call.get("instId") else list(call.engine.instruments[call.venue].values())
    now = now_ms()
    return ok([okx_wire.render_mark_price(i, call.engine.mark_price(call.venue, i.symbol), now) for i in insts])


def funding_rate(call: Call) -> web.StreamResponse:
    """GET /api/v5/public/funding-rate: the current rate settles at `fundingTime`."""
    inst = instrument(call)
    state = call.engine.funding_state(call.venue, inst.symbol)
    return ok([okx_wire.render_funding_rate(inst, state.rate, state.next_ms, state.interval_ms, now_ms())])


_MINUTE_MS = 60_000
BARS_MS: dict[str, int] = {
    "1m": _MINUTE_MS, "3m": 3 * _MINUTE_MS, "5m": 5 * _MINUTE_MS, "15m": 15 * _MINUTE_MS, "30m": 30 * _MINUTE_MS,
    "1H": 60 * _MINUTE_MS, "2H": 120 * _MINUTE_MS, "4H": 240 * _MINUTE_MS, "1D": 1440 * _MINUTE_MS,
}  # fmt: skip


def candles(call: Call) -> web.StreamResponse:
    """GET /api/v5/market/candles: [ts, o, h, l, c, vol (contracts), volCcy (base), volCcyQuote, confirm],
    newest first, every value a string; `confirm` "0" for the candle still forming. `after` pages to older
    candles (ts below it), `before` to newer; `limit` up to 300 (default 100)."""
    inst = instrument(call)
    bar_ms = BARS_MS.get(call.get("bar") or "1m")
    limit = call.integer("limit", required=False) or 100
    if bar_ms is None:
        return fail(*okx_errors.param_error("bar"), status=400)
    if not 1 <= limit <= 300:
        return fail(*okx_errors.param_error("limit"), status=400)
    after = call.integer("after", required=False)
    before = call.integer("before", required=False)
    engine = call.engine
    now = sim_candles.now_ms(engine)
    end = now if after is None else after - 1
    rows = sim_candles.candles(engine, inst, bar_ms, limit=limit, end_ms=end)
    if before is not None:
        rows = [c for c in rows if c.open_ms > before]
    current = now // bar_ms * bar_ms
    return ok(
        [
            str(c.open_ms), str(c.open), str(c.high), str(c.low), str(c.close),
            str((c.volume / inst.contract_value).quantize(inst.venue_step)), str(c.volume),
            str(c.quote_volume.quantize(inst.tick_size)), "0" if c.open_ms == current else "1",
        ]
        for c in reversed(rows)
    )  # fmt: skip
