"""OKX v5 public market-data endpoints of the /okx dialect: route handlers of one `Call` each."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from hedgectl.sim.dialects import okx_errors, okx_wire
from hedgectl.sim.dialects.base import Call, json_response
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import Reason, SimError


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
